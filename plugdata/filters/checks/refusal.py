"""``refusal``: the target refuses where the pivot did not.

Sub-reason: ``refusal:refused`` (evidence: the refusal). Reads no config field; the phrases are
``patterns.REFUSAL``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context
from plugdata.filters.checks.leakage import chatter
from plugdata.filters.prepare import col


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A refusal ("I'm sorry, but I can't", ``죄송하지만``) in the target output where the pivot
    output has none."""
    return chatter(
        df, col("target", "output"), col("pivot", "output"), P.REFUSAL, "refusal:refused", "output"
    )


CHECK = Check("refusal", run, reasons=("refusal:refused",))
