"""``truncated``: the translation stopped early.

Sub-reasons: ``truncated:length_limit`` (the model stopped on its output limit),
``truncated:mid_sentence`` (short, and no sentence end where the pivot ends one: any script's
full stop counts, and Thai and Lao text, which has none, may end on a letter),
``truncated:unclosed`` (short, with a bracket or quote left open where the pivot closes its
own). Reads ``truncated_max_ratio``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context, verdicts
from plugdata.filters.prepare import col, relative_size
from plugdata.filters.rows import on_rows

REASONS = ("truncated:length_limit", "truncated:mid_sentence", "truncated:unclosed")
TAIL = 60  # characters of the cut text shown as evidence


def unclosed(expr: pl.Expr) -> pl.Expr:
    """A text cut inside brackets or quotes: a bracket left open, or an end just after an
    opening quote (see ``patterns.OPEN_QUOTE_END``)."""
    more = expr.str.count_matches(P.OPEN_BRACKET) > expr.str.count_matches(P.CLOSE_BRACKET)
    return more | expr.str.contains(P.OPEN_QUOTE_END)


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The translation stopped on the output limit; is short and mid-sentence where the pivot
    ends a sentence; or is shorter than expected with a bracket or quote left open where the
    pivot closes all its own (a cut headline or name, which no sentence end reveals)."""
    cases = []
    if "finish_reason" in df.columns:
        cases.append((REASONS[0], "", pl.col("finish_reason") == "length", None))
    for f in ("instruction", "output"):
        _, t, relative = relative_size(f)
        target, pivot = col("target", f), col("pivot", f)
        tail = target.str.slice(-TAIL)
        ends = pivot.str.contains(P.SENTENCE_END) & ~target.str.contains(P.TEXT_END)
        cut = ends & (t > 0) & (relative < ctx.config.truncated_max_ratio)
        cases.append((REASONS[1], f, cut, tail))
        hint = target.str.contains(f'{P.OPEN_BRACKET}|[“「『«"]')
        left_open = unclosed(target) & ~unclosed(pivot) & (t > 0) & (relative < 1)
        (open_,) = on_rows(df, hint, [left_open.alias("u")], [pl.lit(False)])
        cases.append((REASONS[2], f, pl.lit(open_), tail))
    return verdicts(df, cases)


CHECK = Check("truncated", run, reasons=REASONS, reads=("truncated_max_ratio",))
