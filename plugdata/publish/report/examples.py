"""The examples a build report shows: a seeded sample of kept pairs per language, rejected
pairs grouped by sub-reason, and kept pairs per tag (the tag audit).

Pairs are ranked by a seeded hash of their id, so a report shows the same examples every time
and the same source records in every language. Only the chosen rows' texts are read.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from plugdata.publish.report.page import clip

FIELDS = ("instruction", "input", "output")
TEXTS = tuple(f"{side}_{f}" for side in ("pivot", "target") for f in FIELDS)
EVIDENCE_CHARS = 300


@dataclass(frozen=True)
class Limits:
    """How many examples a report shows per language (kept sample, sub-reason, tag)."""

    sample: int = 50
    per_reason: int = 5
    per_tag: int = 20
    seed: int = 0


def ranked(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``frame`` in a seeded pseudo-random order of its ``id`` column (ties by row)."""
    keys = [
        hashlib.blake2b(f"{seed}\x1f{i}".encode(), digest_size=8).digest()
        for i in frame["id"].cast(pl.String).fill_null("").to_list()
    ]
    return frame.with_columns(pl.Series("_key", keys, dtype=pl.Binary)).sort("_key", "_row")


def choose(
    kept: pl.DataFrame | None, rejected: pl.DataFrame | None, limits: Limits
) -> dict[str, Any]:
    """Rows to show, by file row number: ``{"sample"|"tags"|"reasons": ...}`` per language, and
    ``tag_counts``: kept pairs per language and tag.

    ``kept`` and ``rejected`` hold ``_row, id, target_lang, reasons, tags`` of each file.
    """
    out: dict[str, Any] = {"sample": {}, "tags": {}, "reasons": {}, "tag_counts": {}}
    if kept is not None and kept.height:
        kept = ranked(kept, limits.seed)
        for (lang,), part in _parts(kept, "target_lang"):
            out["sample"][str(lang)] = part["_row"].head(limits.sample).to_list()
        if "tags" in kept.columns:
            tagged = kept.select("_row", "target_lang", "tags").explode("tags").drop_nulls("tags")
            for (lang, tag), part in _parts(tagged, "target_lang", "tags"):
                rows = part["_row"].head(limits.per_tag).to_list()
                out["tags"].setdefault(str(lang), {})[str(tag)] = rows
                out["tag_counts"].setdefault(str(lang), {})[str(tag)] = part.height
    if rejected is not None and rejected.height:
        rejected = ranked(rejected, limits.seed)
        reasons = rejected.select("_row", "target_lang", "reasons").explode("reasons")
        for (lang, reason), part in _parts(reasons.drop_nulls("reasons"), "target_lang", "reasons"):
            rows = part["_row"].head(limits.per_reason).to_list()
            out["reasons"].setdefault(str(lang), {})[str(reason)] = rows
    return out


def _parts(frame: pl.DataFrame, *by: str) -> Any:
    """(key, part) for each group, rows in their order, groups in order of first appearance."""
    return frame.partition_by(*by, maintain_order=True, as_dict=True).items()


def read_rows(
    scan: pl.LazyFrame, rows: Sequence[int], scores: Sequence[str]
) -> dict[int, dict[str, Any]]:
    """The chosen rows of one pairs file, as dicts keyed by row number."""
    if not rows:
        return {}
    names = scan.collect_schema().names()
    wanted = [
        "id",
        "pivot_lang",
        "target_lang",
        "kept",
        "reasons",
        "tags",
        "evidence",
        "model",
        "finish_reason",
        *TEXTS,
        *scores,
    ]
    columns = [c for c in dict.fromkeys(wanted) if c in names]
    picked = scan.with_row_index("_row").filter(pl.col("_row").is_in(list(rows)))
    return {
        row["_row"]: row for row in picked.select("_row", *columns).collect().iter_rows(named=True)
    }


def formatted_rows(path: Path | None, ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    """The formatted rows' messages (e.g. ``plug/zh.parquet``) of ``ids``, by id."""
    if path is None or not ids or not path.is_file() or path.stat().st_size == 0:
        return {}
    scan = pl.scan_parquet(path) if path.suffix == ".parquet" else pl.scan_ndjson(path)
    found = scan.filter(pl.col("id").is_in(list(ids))).select("id", "messages").collect()
    return {row["id"]: row["messages"] or [] for row in found.iter_rows(named=True)}


def pair_view(row: Mapping[str, Any], scores: Sequence[str]) -> dict[str, Any]:
    """One pair as the page shows it: fields side by side, verdict, evidence, scores."""
    evidence = [
        {
            "reason": str(e.get("reason") or ""),
            "field": str(e.get("field") or ""),
            "text": str(e.get("text") or ""),
        }
        for e in (row.get("evidence") or [])
        if isinstance(e, Mapping)
    ]
    values = {c: row.get(c) for c in scores}
    return {
        "id": str(row.get("id")),
        "lang": row.get("target_lang"),
        "pivot_lang": row.get("pivot_lang"),
        "kept": bool(row.get("kept")),
        "pivot": {f: row.get(f"pivot_{f}") or "" for f in FIELDS},
        "target": {f: row.get(f"target_{f}") or "" for f in FIELDS},
        "reasons": list(row.get("reasons") or []),
        "tags": list(row.get("tags") or []),
        "evidence": evidence,
        "has_evidence": "evidence" in row,
        "scores": {
            c: round(v, 4) for c, v in values.items() if isinstance(v, float) and math.isfinite(v)
        },
        "model": row.get("model"),
        "finish_reason": row.get("finish_reason"),
    }


def clipped(pair: Mapping[str, Any], chars: int) -> dict[str, Any]:
    """``pair`` with every text cut to ``chars`` characters."""
    out = dict(pair)
    for side in ("pivot", "target"):
        out[side] = {f: clip(v, chars) for f, v in pair[side].items()}
    out["evidence"] = [
        {**e, "text": clip(e["text"], min(chars, EVIDENCE_CHARS))} for e in pair["evidence"]
    ]
    if "row" in pair:
        out["row"] = [
            {"role": m.get("role"), "content": clip(m.get("content"), chars)} for m in pair["row"]
        ]
    return out


def thinned(
    examples: Mapping[str, Any], pairs: Mapping[str, Any], chars: int, share: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The examples with that share of each list kept, and the pairs they use, clipped."""

    def cut(keys: list[str]) -> list[str]:
        return keys[: max(1, math.ceil(len(keys) * share))] if keys else []

    kept: dict[str, Any] = {}
    for lang, groups in examples.items():
        kept[lang] = {
            "sample": cut(groups["sample"]),
            "reasons": {r: cut(k) for r, k in groups["reasons"].items()},
            "tags": {t: cut(k) for t, k in groups["tags"].items()},
            "kept_tags": groups.get("kept_tags", {}),
        }
    used = {
        key
        for g in kept.values()
        for key in [
            *g["sample"],
            *(k for ks in g["reasons"].values() for k in ks),
            *(k for ks in g["tags"].values() for k in ks),
        ]
    }
    return kept, {key: clipped(pairs[key], chars) for key in sorted(used)}
