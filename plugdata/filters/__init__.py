"""Filters: language ID and quality checks for translated pairs, with a rejection funnel.

Every check returns, per pair, whether it fails; a failing pair is rejected with the check's
name as its reason (all failing checks are listed). Pairs already rejected upstream keep their
reasons and are not checked again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

import polars as pl

from plugdata.errors import PlugdataError
from plugdata.filters.checks import CHECKS, Context, FilterConfig, prepare
from plugdata.langid import make_identifier

DEFAULT_FILTERS: tuple[str, ...] = tuple(CHECKS)

__all__ = [
    "CHECKS",
    "DEFAULT_FILTERS",
    "FilterConfig",
    "filter_frame",
    "filter_pairs",
    "parse_filters",
]


def parse_filters(spec: str | None) -> list[str]:
    """``"langid,structure"`` → names; ``None`` → every check."""
    if spec is None:
        return list(DEFAULT_FILTERS)
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise PlugdataError(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return names


def filter_frame(
    frame: pl.DataFrame,
    names: Iterable[str] | None = None,
    config: FilterConfig | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Run the checks on the kept pairs of ``frame``; return every pair with its verdict.

    Adds ``lid_*`` score columns (probability of the expected language, null where a field
    was not identified) and appends failing checks to ``reasons``.
    """
    names = list(names) if names is not None else list(DEFAULT_FILTERS)
    config = config or FilterConfig()
    if "reasons" not in frame.columns:
        frame = frame.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("reasons"))
    if "kept" not in frame.columns:
        frame = frame.with_columns(pl.lit(True).alias("kept"))
    frame = frame.with_row_index("_row")
    active = prepare(frame.filter(pl.col("kept") & pl.col("target_output").is_not_null()))
    ctx = Context(config, make_identifier(config.lid_backend) if "langid" in names else None)
    try:
        failures = {name: CHECKS[name](active, ctx) for name in names}
    finally:
        if ctx.lid is not None:
            ctx.lid.close()
    new = pl.concat_list([
        pl.when(pl.Series(f"_f{i}", failures[name])).then(pl.lit(name)).otherwise(pl.lit(None, pl.String))
        for i, name in enumerate(names)
    ]).list.drop_nulls() if names else pl.lit([], dtype=pl.List(pl.String))  # fmt: skip
    checked = active.select("_row", new.alias("_new"), *ctx.scores.values())
    out = frame.join(checked, on="_row", how="left").with_columns(
        pl.col("_new").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    out = out.with_columns(
        pl.col("reasons").list.concat(pl.col("_new")).alias("reasons"),
        (pl.col("kept") & (pl.col("_new").list.len() == 0)).alias("kept"),
    ).drop("_row", "_new")
    stats = _funnel(active, failures, names, config)
    return out, stats


def _funnel(active: pl.DataFrame, failures: Mapping[str, pl.Series], names: list[str],
            config: FilterConfig) -> dict[str, Any]:  # fmt: skip
    langs = active["target_lang"].to_list()
    per_lang: dict[str, dict[str, Any]] = {}
    rejected_rows = [False] * len(langs)
    for name in names:
        for i, failed in enumerate(failures[name].to_list()):
            if failed:
                rejected_rows[i] = True
    for lang in dict.fromkeys(langs):
        per_lang[lang] = {"checked": 0, "kept": 0, "rejected": 0, "reasons": Counter()}
    for i, lang in enumerate(langs):
        entry = per_lang[lang]
        entry["checked"] += 1
        entry["rejected" if rejected_rows[i] else "kept"] += 1
    for name in names:
        for lang, failed in zip(langs, failures[name].to_list(), strict=True):
            if failed:
                per_lang[lang]["reasons"][name] += 1
    for entry in per_lang.values():
        entry["reasons"] = dict(entry["reasons"].most_common())
    return {"names": names, "thresholds": asdict(config), "languages": per_lang}


def filter_pairs(
    pairs: Iterable[Mapping[str, Any]],
    names: Iterable[str] | None = None,
    config: FilterConfig | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`filter_frame` for a list of pair dicts (or a ``datasets.Dataset``)."""
    from plugdata.export import PAIR_SCHEMA
    from plugdata.sources import as_rows

    rows = as_rows(pairs)
    schema = {k: v for k, v in PAIR_SCHEMA.items() if rows and k in rows[0]}
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    out, stats = filter_frame(frame, names, config)
    return out.to_dicts(), stats
