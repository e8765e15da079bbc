"""The rejection funnel, summed over chunks: per language, pairs checked, rejected, each
sub-reason and each tag."""

from __future__ import annotations

from typing import Any

import polars as pl


class Funnel:
    """Counts of ``(target_lang, what)``; ``what`` is ``#checked``, ``#rejected``, a
    sub-reason or ``#tag:NAME``."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._counts: pl.DataFrame | None = None

    def add(self, checked: pl.DataFrame) -> None:
        """Add a chunk's verdicts (``target_lang``, ``_new`` evidence lists, ``_tagged``)."""
        failed = checked.filter(pl.col("_new").list.len() > 0)
        reasons = failed.select(
            "target_lang", pl.col("_new").list.eval(pl.element().struct.field("reason")).alias("r")
        ).explode("r")
        rows = pl.concat(
            [
                checked.select("target_lang", pl.lit("#checked").alias("r")),
                failed.select("target_lang", pl.lit("#rejected").alias("r")),
                reasons.drop_nulls(),
                checked.filter("_tagged").select(
                    "target_lang", pl.lit(f"#tag:{self.tag}").alias("r")
                ),
            ]
        )
        counts = rows.group_by("target_lang", "r").len()
        if self._counts is not None:
            counts = (
                pl.concat([self._counts, counts])
                .group_by("target_lang", "r")
                .agg(pl.col("len").sum())
            )
        self._counts = counts

    def languages(self) -> dict[str, dict[str, Any]]:
        """Per language: checked, kept, rejected, reasons (most frequent first) and tags."""
        out: dict[str, dict[str, Any]] = {}
        if self._counts is None or not self._counts.height:
            return out
        for lang, r, n in self._counts.sort("len", "r", descending=[True, False]).iter_rows():
            entry = out.setdefault(
                lang, {"checked": 0, "kept": 0, "rejected": 0, "reasons": {}, "tags": {}}
            )
            if r in ("#checked", "#rejected"):
                entry[r[1:]] = n
            elif r.startswith("#tag:"):
                entry["tags"][r[5:]] = n
            else:
                entry["reasons"][r] = n
        for entry in out.values():
            entry["kept"] = entry["checked"] - entry["rejected"]
        return out
