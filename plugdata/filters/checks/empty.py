"""``empty``: a target field is empty where its pivot field was not.

Sub-reasons: ``empty:instruction``, ``empty:input``, ``empty:output``. Reads no config field.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters.check import Check, Context, verdicts
from plugdata.filters.prepare import FIELDS, col


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A target field is empty (or blank) where the pivot field has text."""
    return verdicts(
        df,
        [
            (
                f"empty:{f}",
                f,
                (col("pivot", f).str.strip_chars() != "")
                & (col("target", f).str.strip_chars() == ""),
                None,
            )
            for f in FIELDS
        ],
    )


CHECK = Check("empty", run, reasons=tuple(f"empty:{f}" for f in FIELDS))
