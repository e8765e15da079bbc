"""Statistics summed chunk by chunk: pairs, verdicts, reasons, tokens and cost per language."""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any

import polars as pl

_SUMS = ("prompt_tokens", "completion_tokens", "cost_usd", "attempts", "cached")


class Tally:
    """Per-language counts of pair rows, added one chunk at a time."""

    def __init__(self) -> None:
        self.languages: dict[str, dict[str, Any]] = {}
        self.lengths: dict[str, array[int]] = {}  # kept target-response lengths (the chart)

    def add(self, frame: pl.DataFrame) -> None:
        """Count a chunk of pair rows (with ``kept`` and ``reasons``)."""
        if frame.height == 0:
            return
        sums = frame.group_by("target_lang", maintain_order=True).agg(
            pl.len().alias("pairs"),
            pl.col("kept").sum().alias("kept"),
            *[pl.col(c).sum() for c in _SUMS],
        )
        for row in sums.iter_rows(named=True):
            entry = self._entry(row["target_lang"])
            entry["pairs"] += row["pairs"]
            entry["kept"] += row["kept"]
            entry["rejected"] += row["pairs"] - row["kept"]
            for key in _SUMS:
                entry[key] += row[key]
        reasons = frame.select("target_lang", "reasons").explode("reasons").drop_nulls()
        for (lang, reason), n in Counter(reasons.iter_rows()).items():
            self.languages[lang]["reasons"][reason] += n
        kept = frame.filter(pl.col("kept")).select(
            "target_lang", pl.col("target_output").fill_null("").str.len_chars().alias("n")
        )
        for (lang,), part in kept.group_by("target_lang"):
            self.lengths.setdefault(str(lang), array("I")).extend(part["n"].to_list())

    def _entry(self, lang: str) -> dict[str, Any]:
        if lang not in self.languages:
            self.languages[lang] = {
                "pairs": 0,
                "kept": 0,
                "rejected": 0,
                "reasons": Counter(),
                **{key: 0 for key in _SUMS},
            }
        return self.languages[lang]

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per-language figures and their totals, as plain data for ``stats.json``."""
        per_lang: dict[str, Any] = {}
        for lang, entry in self.languages.items():
            per_lang[lang] = {
                "pairs": entry["pairs"],
                "kept": entry["kept"],
                "rejected": entry["rejected"],
                "reasons": dict(entry["reasons"].most_common()),
                "prompt_tokens": entry["prompt_tokens"],
                "completion_tokens": entry["completion_tokens"],
                "cost_usd": round(entry["cost_usd"], 6),
                "requests": entry["attempts"],
                "cached": entry["cached"],
            }
        keys = (
            "pairs",
            "kept",
            "rejected",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "requests",
            "cached",
        )
        totals = {key: sum(v[key] for v in per_lang.values()) for key in keys}
        totals["cost_usd"] = round(totals["cost_usd"], 6)
        return {"languages": per_lang, "totals": totals}
