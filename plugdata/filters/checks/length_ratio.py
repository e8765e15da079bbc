"""``length_ratio``: the target is far shorter or longer than the language pair leads one to
expect (``patterns.CHAR_RATIO``).

Sub-reasons: ``length_ratio:short``, ``length_ratio:long``. Reads ``length_ratio_low``,
``length_ratio_high``, ``length_min_chars``, ``length_short_chars``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters.check import Check, Context, verdicts
from plugdata.filters.prepare import relative_size

READS = ("length_ratio_low", "length_ratio_high", "length_min_chars", "length_short_chars")


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Instruction or output length off by more than the factors; short texts vary more, so
    below ``length_short_chars`` pivot characters an instruction's factors widen with the
    square root."""
    cfg = ctx.config
    cases = []
    for f in ("instruction", "output"):
        p, t, relative = relative_size(f)
        widen = (cfg.length_short_chars / pl.max_horizontal(p, pl.lit(1))).sqrt().clip(1.0)
        if f == "output":  # a cut answer is short too: only instructions get the wider bounds
            widen = pl.lit(1.0)
        checked = (p >= cfg.length_min_chars) & (t > 0)
        short = checked & (relative * cfg.length_ratio_low * widen < 1)
        cases.append(("length_ratio:short", f, short, None))
        cases.append(
            ("length_ratio:long", f, checked & (relative > cfg.length_ratio_high * widen), None)
        )
    return verdicts(df, cases)


CHECK = Check("length_ratio", run, reasons=("length_ratio:short", "length_ratio:long"), reads=READS)
