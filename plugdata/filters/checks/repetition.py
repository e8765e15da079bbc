"""``repetition``: the target loops.

Sub-reason: ``repetition:loop`` (evidence: the repeated piece). Reads ``repetition_min_chars``,
``repetition_min_excess``, ``repetition_long_chars``, ``repetition_ngram``,
``repetition_min_share``, ``repetition_over_pivot``.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from plugdata.filters.check import Check, Context, verdict_column
from plugdata.filters.prepare import col, relative_size

READS = (
    "repetition_min_chars",
    "repetition_min_excess",
    "repetition_long_chars",
    "repetition_ngram",
    "repetition_min_share",
    "repetition_over_pivot",
)


def repeated_share(text: str, n: int) -> float:
    """Share of character n-grams that already occurred earlier in the text."""
    text = " ".join(text.split())
    total = len(text) - n + 1
    if total <= 0:
        return 0.0
    return 1 - len({text[i : i + n] for i in range(total)}) / total


def _piece(text: str, n: int) -> str:
    """The most repeated n-gram, as evidence."""
    text = " ".join(text.split())
    grams = Counter(text[i : i + n] for i in range(len(text) - n + 1))
    return grams.most_common(1)[0][0] if grams else ""


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Much of the target output repeats itself (character n-grams seen before) where the
    pivot does not; only outputs longer than expected, or long ones, are examined (in Python,
    on those few)."""
    cfg = ctx.config
    _, t, relative = relative_size("output")
    candidate = (relative >= cfg.repetition_min_excess) | (t >= cfg.repetition_long_chars)
    rows = df.with_row_index("_i").filter(
        candidate & (col("target", "output").str.len_chars() >= cfg.repetition_min_chars)
    )
    n = cfg.repetition_ngram
    out: list[dict | None] = [None] * df.height
    for i, pivot, target in rows.select(
        "_i", col("pivot", "output"), col("target", "output")
    ).iter_rows():
        share = repeated_share(target, n)
        if (
            share >= cfg.repetition_min_share
            and share >= repeated_share(pivot, n) + cfg.repetition_over_pivot
        ):
            out[i] = {"reason": "repetition:loop", "field": "output", "text": _piece(target, n)}
    return verdict_column(out)


CHECK = Check("repetition", run, reasons=("repetition:loop",), reads=READS)
