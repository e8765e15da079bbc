"""The build report: ``report.html`` of a run directory (what ``plugdata build`` writes, or
``plugdata filter``'s output).

It reads ``stats.json``, ``config.yaml``, the pairs and rejected pairs (Parquet or JSON Lines)
and the formatted ``plug`` rows of the examples it shows; counts come from ``stats.json`` as
they are, so the page and the file always agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from plugdata.errors import PlugdataError
from plugdata.languages import LANGUAGES
from plugdata.publish.report.examples import (
    Limits,
    choose,
    formatted_rows,
    pair_view,
    read_rows,
    thinned,
)
from plugdata.publish.report.header import build_header
from plugdata.publish.report.page import MAX_PAGE_BYTES, REPORT_HTML, fit_page, write_page
from plugdata.publish.report.scores import distributions, score_columns

_SMALL = ("id", "target_lang", "kept", "reasons", "tags")


def _scan(run: Path, stem: str) -> pl.LazyFrame | None:
    for ext in ("parquet", "jsonl"):
        path = run / f"{stem}.{ext}"
        if path.is_file() and path.stat().st_size > 0:
            return pl.scan_parquet(path) if ext == "parquet" else pl.scan_ndjson(path)
    return None


def _read_stats(run: Path) -> dict[str, Any]:
    path = run / "stats.json"
    if not path.is_file():
        raise PlugdataError(
            f"no stats.json in {run}: not a run directory written by plugdata "
            "build or plugdata filter"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlugdataError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None


def _read_recipe(run: Path) -> dict[str, Any]:
    path = run / "config.yaml"
    if not path.is_file():
        return {}
    recipe = yaml.safe_load(path.read_text(encoding="utf-8"))
    return recipe if isinstance(recipe, dict) else {}


def funnel(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Pairs, kept, rejected, reasons and tags per language, as ``stats.json`` has them."""
    filters = stats.get("filters") or {}
    checked = filters.get("languages") or {}
    source = stats.get("languages") or {
        lang: {"pairs": row.get("checked", 0), **row} for lang, row in checked.items()
    }
    languages = {
        lang: {
            "pairs": row.get("pairs", 0),
            "kept": row.get("kept", 0),
            "rejected": row.get("rejected", 0),
            "reasons": dict(row.get("reasons") or {}),
            "tags": dict((checked.get(lang) or {}).get("tags") or row.get("tags") or {}),
        }
        for lang, row in source.items()
    }
    totals = stats.get("totals") or {
        k: sum(r[k] for r in languages.values()) for k in ("pairs", "kept", "rejected")
    }
    return {
        "languages": languages,
        "totals": {k: totals.get(k, 0) for k in ("pairs", "kept", "rejected")},
        "skipped": dict(stats.get("source_skipped") or {}),
        "filtered": bool(filters),
    }


def _small(scan: pl.LazyFrame | None, kept: bool | None) -> pl.DataFrame | None:
    if scan is None:
        return None
    names = scan.collect_schema().names()
    frame = scan.with_row_index("_row")
    if kept is not None and "kept" in names:
        frame = frame.filter(pl.col("kept") == kept)
    return frame.select("_row", *[c for c in _SMALL if c in names]).collect()


def _all_scores(
    pairs: pl.LazyFrame | None, rejected: pl.LazyFrame | None, columns: list[str]
) -> pl.DataFrame:
    """Language, verdict and score columns of every pair (kept pairs + rejected pairs)."""
    parts = []
    for scan, kept in ((pairs, True), (rejected, False)):
        if scan is None:
            continue
        names = scan.collect_schema().names()
        cols = [pl.col(c) if c in names else pl.lit(None, pl.Float64).alias(c) for c in columns]
        part = scan.filter(pl.col("kept") == kept) if "kept" in names else scan
        parts.append(part.select("target_lang", pl.lit(kept).alias("kept"), *cols))
    if not parts:
        return pl.DataFrame(schema={"target_lang": pl.String, "kept": pl.Boolean})
    return pl.concat(parts, how="diagonal_relaxed").collect()


def _examples(
    run: Path,
    formats: list[str],
    pairs: pl.LazyFrame | None,
    rejected: pl.LazyFrame | None,
    scores: list[str],
    limits: Limits,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Examples per language (lists of pair keys) and the pairs they name."""
    chosen = choose(_small(pairs, True), _small(rejected, False), limits)
    kept_rows = {r for lang in chosen["sample"].values() for r in lang}
    kept_rows |= {r for lang in chosen["tags"].values() for rows in lang.values() for r in rows}
    rejected_rows = {
        r for lang in chosen["reasons"].values() for rows in lang.values() for r in rows
    }
    views: dict[str, Any] = {}
    for prefix, scan, rows in (("k", pairs, kept_rows), ("r", rejected, rejected_rows)):
        if scan is not None:
            for row, values in read_rows(scan, sorted(rows), scores).items():
                views[f"{prefix}{row}"] = pair_view(values, scores)
    _attach_rows(run, views, formats)
    examples: dict[str, Any] = {}
    for lang in {*chosen["sample"], *chosen["tags"], *chosen["reasons"]}:
        examples[lang] = {
            "sample": [f"k{r}" for r in chosen["sample"].get(lang, [])],
            "tags": {
                t: [f"k{r}" for r in rows] for t, rows in chosen["tags"].get(lang, {}).items()
            },
            "reasons": {
                reason: [f"r{r}" for r in rows]
                for reason, rows in chosen["reasons"].get(lang, {}).items()
            },
            "kept_tags": chosen["tag_counts"].get(lang, {}),
        }
    return examples, views


def _attach_rows(run: Path, views: dict[str, Any], formats: list[str]) -> None:
    """Each kept example's training row as the set holds it: PLUG (``plug/<lang>.*``), or the
    first format the run built when it built no PLUG set."""
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for view in views.values():
        if view["kept"]:
            by_lang.setdefault(str(view["lang"]), []).append(view)
    for lang, shown in by_lang.items():
        files = [
            run / fmt / f"{lang}.{ext}"
            for fmt in dict.fromkeys(["plug", *formats])
            for ext in ("parquet", "jsonl")
        ]
        path = next((p for p in files if p.is_file()), None)
        rows = formatted_rows(path, [v["id"] for v in shown])
        for view in shown:
            if view["id"] in rows:
                view["row"] = rows[view["id"]]
                view["row_format"] = path.parent.name  # type: ignore[union-attr]


def build_report_data(run_dir: str | Path, limits: Limits | None = None) -> dict[str, Any]:
    """Everything the build report shows, with texts in full (see :func:`shape_build_data`)."""
    run = Path(run_dir)
    limits = limits or Limits()
    stats, recipe = _read_stats(run), _read_recipe(run)
    pairs, rejected = _scan(run, "pairs"), _scan(run, "rejected")
    declared = (stats.get("filters") or {}).get("scores") or {}
    schema: dict[str, Any] = {}
    for scan in (pairs, rejected):
        if scan is not None:
            schema.update(scan.collect_schema())
    columns = score_columns(schema, declared)
    examples, views = _examples(
        run, list(stats.get("formats") or {}), pairs, rejected, columns, limits
    )
    counts = funnel(stats)
    langs = list(counts["languages"]) or sorted(examples)
    return {
        "kind": "build",
        "title": _title(recipe, langs),
        "header": build_header(recipe, stats),
        "languages": langs,
        "names": {code: LANGUAGES[code].name for code in langs if code in LANGUAGES},
        "funnel": counts,
        "formats": stats.get("formats") or {},
        "limits": {
            "sample": limits.sample,
            "per_reason": limits.per_reason,
            "per_tag": limits.per_tag,
            "seed": limits.seed,
        },
        "examples": examples,
        "pairs": views,
        "scores": distributions(
            _all_scores(pairs, rejected, columns), columns, stats.get("filters")
        ),
    }


def _title(recipe: Mapping[str, Any], langs: list[str]) -> str:
    source = (recipe.get("source_info") or {}).get("name") or recipe.get("source") or "pairs"
    pivot = recipe.get("pivot") or "en"
    return f"plugdata build report: {source}, {pivot} → {', '.join(langs) or '-'}"


def shape_build_data(data: Mapping[str, Any], chars: int, share: float) -> dict[str, Any]:
    """``data`` with texts cut to ``chars`` characters and that share of the examples."""
    examples, pairs = thinned(data["examples"], data["pairs"], chars, share)
    return {
        **data,
        "examples": examples,
        "pairs": pairs,
        "limits": {**data["limits"], "chars": chars, "share": share},
    }


def write_build_report(
    run_dir: str | Path, *, limits: Limits | None = None, max_bytes: int = MAX_PAGE_BYTES
) -> Path:
    """Write ``report.html`` into a run directory and return its path."""
    data = build_report_data(run_dir, limits)
    page = fit_page(
        "build",
        data["title"],
        lambda chars, share: shape_build_data(data, chars, share),
        max_bytes=max_bytes,
    )
    return write_page(Path(run_dir) / REPORT_HTML, page)
