"""``leakage``: translator chatter or prompt text in the target that the pivot does not have.

Sub-reason: ``leakage:chatter`` (evidence: the chatter). Reads no config field; the phrases are
``patterns.LEAKAGE``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context, no_verdicts, place, verdicts
from plugdata.filters.prepare import FIELDS, col
from plugdata.filters.rows import positions

REASON = "leakage:chatter"


def chatter(
    df: pl.DataFrame, target: pl.Expr, pivot: pl.Expr, pattern: str, name: str, field: str
) -> pl.Series:
    """``name`` where the target matches ``pattern`` (any case) and the pivot does not, with
    the match as evidence; the pivot is only searched where the target matched."""
    pattern = f"(?i){pattern}"  # cheaper than lower-casing every text first
    rows = positions(df, target.str.contains(pattern))
    out = no_verdicts(df.height)
    if not rows.size:
        return out
    part = df[rows].select(target.alias("t"), pivot.alias("p"))
    found = verdicts(
        part,
        [
            (
                name,
                field,
                ~pl.col("p").str.contains(pattern),
                pl.col("t").str.extract(f"({pattern})"),
            )
        ],
    )
    return place(out, rows, found)


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Translator chatter ("Here is the translation:", ``以下是翻译``, ``[[P1]]``, JSON keys)
    in the target where the pivot has none."""
    whole = {
        s: pl.concat_str([col(s, f) for f in FIELDS], separator="\n") for s in ("pivot", "target")
    }
    return chatter(df, whole["target"], whole["pivot"], P.LEAKAGE, REASON, "")


CHECK = Check("leakage", run, reasons=(REASON,))
