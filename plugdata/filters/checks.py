"""The checks of form: each takes the prepared pair frame and returns, per row, the sub-reason
it fails with (``"structure:numbers"``) or null.

Vectorised with polars; compression-like work (repetition) runs in Python on the few
candidates only. The language checks are in :mod:`plugdata.filters.language`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.config import FilterConfig
from plugdata.filters.rows import on_rows
from plugdata.filters.verbatim import FIELDS, col

__all__ = ["Check", "Context", "reason"]


@dataclass
class Context:
    """What checks share: the config, the language identifiers, the score columns they add,
    what one chunk's checks work out once (``chunk``), and state kept across chunks (hashes of
    the keys seen by ``duplicate``)."""

    config: FilterConfig
    lid: Any = None
    short: Any = None
    scores: dict[str, pl.Series] = field(default_factory=dict)
    seen: dict[str, np.ndarray] = field(default_factory=dict)
    chunk: dict[str, Any] = field(default_factory=dict)  # shared by the checks of one chunk
    models: dict[str, Any] = field(default_factory=dict)  # loaded once per filter; closed with it


Check = Callable[[pl.DataFrame, Context], pl.Series]


def reason(df: pl.DataFrame, cases: list[tuple[str, pl.Expr]]) -> pl.Series:
    """The first sub-reason whose condition holds, per row (null where none does)."""
    if not cases:
        return pl.Series("x", [None] * df.height, dtype=pl.String)
    expr = pl.when(cases[0][1].fill_null(False)).then(pl.lit(cases[0][0]))
    for name, cond in cases[1:]:
        expr = expr.when(cond.fill_null(False)).then(pl.lit(name))
    return df.select(expr.otherwise(pl.lit(None, pl.String)).alias("x"))["x"]


def empty(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A target field is empty where its pivot field was not."""
    return reason(df, [
        (f"empty:{f}",
         (col("pivot", f).str.strip_chars() != "") & (col("target", f).str.strip_chars() == ""))
        for f in FIELDS
    ])  # fmt: skip


def _ratio(f: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Pivot size, target size, and target/pivot size over the expected ratio, for field f."""
    expected = pl.col("target_lang").replace_strict(
        P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64
    ) / pl.col("pivot_lang").replace_strict(P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64)
    p, t = pl.col(f"_size_pivot_{f}"), pl.col(f"_size_target_{f}")  # a CJK character counts 3
    return p, t, t / pl.max_horizontal(p, pl.lit(1)) / expected


def unclosed(expr: pl.Expr) -> pl.Expr:
    """A text cut inside brackets or quotes: a bracket left open, or an end just after an
    opening quote (see ``patterns.OPEN_QUOTE_END``)."""
    more = expr.str.count_matches(P.OPEN_BRACKET) > expr.str.count_matches(P.CLOSE_BRACKET)
    return more | expr.str.contains(P.OPEN_QUOTE_END)


def truncated(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The translation stopped early: on the output limit; short and mid-sentence where the
    pivot ends a sentence; or shorter than expected with a bracket or quote left open where
    the pivot closes all its own (a cut headline or name, which no sentence end reveals)."""
    cases = []
    if "finish_reason" in df.columns:
        cases.append(("truncated:length_limit", pl.col("finish_reason") == "length"))
    for f in ("instruction", "output"):
        _, t, relative = _ratio(f)
        target, pivot = col("target", f), col("pivot", f)
        ends = pivot.str.contains(P.SENTENCE_END) & ~target.str.contains(P.TEXT_END)
        cut = ends & (t > 0) & (relative < ctx.config.truncated_max_ratio)
        cases.append(("truncated:mid_sentence", cut))
        hint = target.str.contains(f'{P.OPEN_BRACKET}|[“「『«"]')
        (open_,) = on_rows(df, hint, [(unclosed(target) & ~unclosed(pivot) & (t > 0) & (relative < 1)).alias("u")],
                           [pl.lit(False)])  # fmt: skip
        cases.append(("truncated:unclosed", pl.lit(open_)))
    return reason(df, cases)


def length_ratio(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Target length far from what the language pair leads one to expect. Short texts vary
    more, so below ``length_short_chars`` an instruction's factors widen with the square root."""
    cfg = ctx.config
    cases = []
    for f in ("instruction", "output"):
        p, t, relative = _ratio(f)
        widen = (cfg.length_short_chars / pl.max_horizontal(p, pl.lit(1))).sqrt().clip(1.0)
        if f == "output":  # a cut answer is short too: only instructions get the wider bounds
            widen = pl.lit(1.0)
        checked = (p >= cfg.length_min_chars) & (t > 0)
        cases.append(("length_ratio:short", checked & (relative * cfg.length_ratio_low * widen < 1)))
        cases.append(("length_ratio:long", checked & (relative > cfg.length_ratio_high * widen)))
    return reason(df, cases)


def _chatter(df: pl.DataFrame, target: pl.Expr, pivot: pl.Expr, pattern: str, name: str) -> pl.Series:  # fmt: skip
    """``name`` where the target matches ``pattern`` (any case) and the pivot does not; the
    pivot is only searched where the target matched."""
    pattern = f"(?i){pattern}"  # cheaper than lower-casing every text first
    hit = df.select(target.str.contains(pattern).fill_null(False))[:, 0]
    out = pl.Series("x", [None] * df.height, dtype=pl.String)
    if not hit.any():
        return out
    rows = df.with_row_index("_i").filter(hit)
    fresh = rows.filter(~pivot.str.contains(pattern))["_i"]
    return out.scatter(fresh, name) if fresh.len() else out


def leakage(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Translator chatter or prompt text in the target that the pivot does not have."""
    whole = {s: pl.concat_str([col(s, f) for f in FIELDS], separator="\n") for s in ("pivot", "target")}  # fmt: skip
    return _chatter(df, whole["target"], whole["pivot"], P.LEAKAGE, "leakage:chatter")


def refusal(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A refusal in the target where the pivot had none."""
    return _chatter(df, col("target", "output"), col("pivot", "output"), P.REFUSAL, "refusal:refused")  # fmt: skip


def repetition(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Loops: much of the target repeats itself (character n-grams seen before), where the
    pivot does not. Only targets longer than expected, or long ones, are examined."""
    cfg = ctx.config
    _, t, relative = _ratio("output")
    candidate = (relative >= cfg.repetition_min_excess) | (t >= 2000)
    rows = df.with_row_index("_i").filter(
        candidate & (col("target", "output").str.len_chars() >= cfg.repetition_min_chars)
    )
    out = pl.Series("x", [None] * df.height, dtype=pl.String)
    texts = rows.select("_i", col("pivot", "output"), col("target", "output"))
    loops = [
        i
        for i, pivot, target in texts.iter_rows()
        if (share := _repeated_share(target)) >= cfg.repetition_min_share
        and share >= _repeated_share(pivot) + 0.15
    ]
    return out.scatter(loops, "repetition:loop") if loops else out


def _repeated_share(text: str, n: int = 12) -> float:
    """Share of character n-grams that already occurred earlier in the text."""
    text = " ".join(text.split())
    total = len(text) - n + 1
    if total <= 0:
        return 0.0
    return 1 - len({text[i : i + n] for i in range(total)}) / total


def duplicate(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The same target instruction and input as an earlier pair of the same language, in this
    chunk or an earlier one (8-byte hashes of the normalised keys are remembered)."""
    ins, given = col("target", "instruction"), col("target", "input")
    key = pl.concat_str([ins, given], separator="\n").str.replace_all(r"\s+", " ")
    # an instruction alone with no run of spaces needs no squeezing (the same key either way)
    plain = (given == "") & ~ins.str.contains(r"\s\s|[^\S ]")
    (key,) = on_rows(df, ~plain, [key.alias("k")], [ins])
    keyed = df.select(pl.col("target_lang"), key.str.to_lowercase().str.strip_chars().hash(seed=12).alias("k"))  # fmt: skip
    again = keyed.select(~pl.col("k").is_first_distinct().over("target_lang"))[:, 0].to_numpy()
    again = again.copy()
    for (lang,), part in keyed.with_row_index("_i").group_by("target_lang"):
        hashes = part["k"].to_numpy()
        seen = ctx.seen.get(str(lang), np.empty(0, dtype=np.uint64))
        if seen.size:
            pos = np.searchsorted(seen, hashes).clip(max=seen.size - 1)
            again[part["_i"].to_numpy()[seen[pos] == hashes]] = True
        ctx.seen[str(lang)] = np.union1d(seen, hashes)
    flags = pl.Series("x", again, dtype=pl.Boolean)
    return reason(pl.DataFrame({"d": flags}), [("duplicate:same_instruction", pl.col("d"))])
