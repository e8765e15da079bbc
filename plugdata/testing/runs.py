"""Synthetic run directories, laid out as ``plugdata build`` writes them, for tests and
benchmarks of what reads a run (the report): any number of pairs, made in seconds.

Texts are words drawn with a seed, with Alpaca-like lengths (a few long outputs); about one
pair in eight is rejected with one or two sub-reasons and, with ``evidence``, an excerpt of
what failed; ``lid_*`` and ``adequacy_*`` scores are drawn around the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
import yaml

VOCABULARY = (
    "the model answers every request in three short steps while the data keeps its numbers code "
    "names and links intact across languages so that training sees clean pairs"
)
WORDS = tuple(VOCABULARY.split())
REASONS = (
    "langid:wrong_language",
    "untranslated:word_overlap",
    "structure:numbers",
    "length_ratio:short",
    "truncated:mid_sentence",
    "script:low_share",
)
EVIDENCE = pl.List(pl.Struct({"reason": pl.String, "field": pl.String, "text": pl.String}))


def _texts(rng: np.random.Generator, n: int, mean_words: float, long_share: float) -> list[str]:
    lengths = rng.poisson(mean_words, n) + 1
    lengths[rng.random(n) < long_share] *= 12
    words = rng.integers(0, len(WORDS), int(lengths.sum()))
    out, at = [], 0
    for length in lengths:
        out.append(" ".join(WORDS[w] for w in words[at : at + length]) + ".")
        at += length
    return out


def _records(rng: np.random.Generator, n: int) -> pl.DataFrame:
    inputs = _texts(rng, n, 14, 0.0)
    empty = rng.random(n) < 0.6
    return pl.DataFrame(
        {
            "id": [f"{i:012x}" for i in range(n)],
            "instruction": _texts(rng, n, 11, 0.0),
            "input": ["" if e else t for e, t in zip(empty, inputs, strict=True)],
            "output": _texts(rng, n, 60, 0.03),
        }
    )


def _pairs(
    records: pl.DataFrame, lang: str, rng: np.random.Generator, evidence: bool
) -> pl.DataFrame:
    n = records.height
    rejected = rng.random(n) < 0.125
    first = rng.integers(0, len(REASONS), n)
    second = rng.integers(0, len(REASONS), n)
    two = rng.random(n) < 0.3
    reasons = [
        [REASONS[a]] + ([REASONS[b]] if t and b != a else []) if r else []
        for r, a, b, t in zip(rejected, first, second, two, strict=True)
    ]
    frame = records.select(
        "id",
        pl.lit("synthetic").alias("source"),
        pl.lit("en").alias("pivot_lang"),
        pl.lit(lang).alias("target_lang"),
        *[pl.col(f).alias(f"pivot_{f}") for f in ("instruction", "input", "output")],
        *[
            (pl.lit(f"[{lang}] ") + pl.col(f)).alias(f"target_{f}")
            for f in ("instruction", "input", "output")
        ],
    ).with_columns(
        pl.lit("llm").alias("backend"),
        pl.lit("synthetic-model").alias("model"),
        pl.Series("kept", ~rejected),
        pl.Series("reasons", reasons, dtype=pl.List(pl.String)),
        pl.Series(
            "tags",
            [["verbatim_expected"] if v else [] for v in rng.random(n) < 0.02],
            dtype=pl.List(pl.String),
        ),
        *[
            pl.Series(f"lid_target_{f}", np.where(rejected, rng.beta(1, 4, n), rng.beta(8, 1, n)))
            for f in ("instruction", "output")
        ],
        pl.Series("adequacy_output", np.where(rejected, rng.beta(2, 3, n), rng.beta(9, 2, n))),
    )
    if evidence:
        excerpts = [
            [{"reason": r, "field": "output", "text": out.split(".")[0][-40:]} for r in rs]
            for rs, out in zip(reasons, frame["target_output"].to_list(), strict=True)
        ]
        frame = frame.with_columns(pl.Series("evidence", excerpts, dtype=EVIDENCE))
    return frame


def _stats(pairs: pl.DataFrame, langs: Sequence[str]) -> dict:
    languages, funnel = {}, {}
    for lang in langs:
        part = pairs.filter(pl.col("target_lang") == lang)
        kept = int(part["kept"].sum())
        reasons = part.select(pl.col("reasons").explode().drop_nulls().value_counts(sort=True))
        counts = {row["reasons"]: row["count"] for row in reasons.unnest("reasons").to_dicts()}
        tags = int(part["tags"].list.len().sum())
        languages[lang] = {
            "pairs": part.height,
            "kept": kept,
            "rejected": part.height - kept,
            "reasons": counts,
            "cost_usd": 0.0,
        }
        funnel[lang] = {
            "checked": part.height,
            "kept": kept,
            "rejected": part.height - kept,
            "reasons": counts,
            "tags": {"verbatim_expected": tags},
        }
    totals = {k: sum(v[k] for v in languages.values()) for k in ("pairs", "kept", "rejected")}
    return {
        "source_skipped": {},
        "languages": languages,
        "totals": {**totals, "cost_usd": 0.0},
        "formats": {"plug": {lang: languages[lang]["kept"] for lang in langs}},
        "seconds": 0.0,
        "filters": {
            "names": ["langid", "adequacy"],
            "lid_backend": "fasttext",
            "thresholds": {"lid_min_prob": 0.3, "adequacy_min": 0.5},
            "languages": funnel,
        },
    }


def synthetic_run(
    out: str | Path,
    *,
    records: int = 1000,
    langs: Sequence[str] = ("zh", "ko", "it", "es"),
    seed: int = 0,
    evidence: bool = True,
) -> Path:
    """Write a run directory of ``records`` x ``len(langs)`` pairs into ``out``."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    source = _records(rng, records)
    pairs = pl.concat([_pairs(source, lang, rng, evidence) for lang in langs])
    (out / "plug").mkdir(parents=True, exist_ok=True)
    pairs.write_parquet(out / "pairs.parquet")
    pairs.filter(~pl.col("kept")).write_parquet(out / "rejected.parquet")
    for lang in langs:
        kept = pairs.filter(pl.col("kept") & (pl.col("target_lang") == lang))
        messages = [
            [{"role": "user", "content": t}, {"role": "assistant", "content": o}]
            for t, o in zip(kept["target_instruction"], kept["target_output"], strict=True)
        ]
        kept.select("id", pl.lit("plug").alias("format"), "pivot_lang", "target_lang").with_columns(
            pl.Series("messages", messages)
        ).write_parquet(out / "plug" / f"{lang}.parquet")
    stats = _stats(pairs, langs)
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    recipe = {
        "plugdata_version": "synthetic",
        "source": "synthetic",
        "pivot": "en",
        "targets": list(langs),
        "model": "synthetic-model",
        "translator": "llm",
        "source_info": {
            "name": "synthetic",
            "origin": "plugdata.testing.runs",
            "license": "apache-2.0",
            "rows": records,
        },
    }
    (out / "config.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return out
