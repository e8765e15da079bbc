"""Distributions of a run's score columns per language, kept and rejected pairs apart, with the
threshold that cuts each one.

Columns come from the filter block of ``stats.json`` (``scores``: column -> threshold field,
value, which side is rejected) when it is there; otherwise every Float column named like a
score (``lid_*``, ``share_*``, ``adequacy_*``, length ratios), with the threshold taken from
``thresholds`` where the column's name says which one applies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

PREFIXES = ("lid_", "share_", "adequacy_", "length_ratio")
BINS = 20
# Without a ``scores`` block: (column prefix, threshold field, the side that is rejected).
_GUESSES = (
    ("lid_target_", "lid_min_prob", "below"),
    ("lid_pivot_instruction", "lid_pivot_min_prob", "below"),
    ("adequacy_", "adequacy_min", "below"),
)


def score_columns(schema: Mapping[str, Any], declared: Mapping[str, Any]) -> list[str]:
    """The score columns of a pairs file: declared ones first, then any named like a score."""
    floats = [name for name, kind in schema.items() if kind in (pl.Float64, pl.Float32)]
    named = [c for c in floats if c.startswith(PREFIXES) or c.endswith("_ratio")]
    return [c for c in dict.fromkeys([*declared, *named]) if c in floats]


def threshold(column: str, filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"name", "value", "reject"}`` of the threshold that cuts ``column``, or None."""
    if not filters:
        return None
    thresholds = filters.get("thresholds") or {}
    declared = (filters.get("scores") or {}).get(column)
    if isinstance(declared, Mapping):
        name = declared.get("threshold")
        value = declared.get("value", thresholds.get(name) if name else None)
        if value is None and name:
            value = thresholds.get(name)
        if isinstance(value, (int, float)) and math.isfinite(value):
            return {
                "name": name,
                "value": float(value),
                "reject": declared.get("reject") or "below",
            }
        return None
    for prefix, name, side in _GUESSES:
        value = thresholds.get(name)
        if column.startswith(prefix) and isinstance(value, (int, float)):
            return {"name": name, "value": float(value), "reject": side}
    return None


def distributions(
    frame: pl.DataFrame, columns: Sequence[str], filters: Mapping[str, Any] | None, bins: int = BINS
) -> list[dict[str, Any]]:
    """Per column: bin edges, and per language kept and rejected counts per bin and nulls.

    ``frame`` holds ``target_lang``, ``kept`` and the columns, for every pair of the run.
    """
    out = []
    for column in columns:
        cut = threshold(column, filters)
        values = frame.select("target_lang", "kept", pl.col(column).cast(pl.Float64).alias("v"))
        finite = values.filter(pl.col("v").is_finite())
        low, high = _range(finite["v"], cut)
        width = (high - low) / bins
        binned = finite.with_columns(
            ((pl.col("v") - low) / width).floor().clip(0, bins - 1).cast(pl.Int64).alias("bin")
        )
        languages: dict[str, Any] = {}
        totals = values.group_by("target_lang", maintain_order=True).agg(
            pl.len().alias("n"), pl.col("v").is_finite().sum().alias("scored")
        )
        for lang, n, scored in totals.iter_rows():
            languages[str(lang)] = {
                "kept": [0] * bins,
                "rejected": [0] * bins,
                "nulls": n - (scored or 0),
                "n": n,
            }
        counts = binned.group_by("target_lang", "kept", "bin").len()
        for lang, kept, index, n in counts.iter_rows():
            languages[str(lang)]["kept" if kept else "rejected"][index] = n
        out.append(
            {
                "column": column,
                "low": low,
                "high": high,
                "bins": bins,
                "threshold": cut,
                "languages": languages,
            }
        )
    return out


def _range(values: pl.Series, cut: Mapping[str, Any] | None) -> tuple[float, float]:
    """[0, 1] for shares and probabilities; else the values' range, the threshold included."""
    points = [float(v) for v in (values.min(), values.max()) if v is not None]
    if cut is not None:
        points.append(cut["value"])
    points = [p for p in points if math.isfinite(p)]
    if not points or (min(points) >= 0 and max(points) <= 1):
        return 0.0, 1.0
    low, high = min(points), max(points)
    return (low, high) if high > low else (low, low + 1.0)
