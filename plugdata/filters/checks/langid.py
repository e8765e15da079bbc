"""``langid``: every target field in the target language, and the source instruction in the
pivot language.

Sub-reasons: ``langid:pivot_not_pivot`` (the source instruction is not in the pivot language),
``langid:mixed`` (a field is mostly in the target language, but more than ``1 -
lid_min_share`` of its prose is not), ``langid:wrong_language`` (most of it is in the pivot or
another language), ``langid:neighbour`` (most of it is in a confusable neighbour of the target
language), and for short texts ``langid:neighbour`` and ``langid:pivot_language``
(:mod:`~plugdata.filters.shorttext`). Evidence: the heaviest segment in the wrong language.

Reads ``lid_min_share``, ``lid_min_letters``, ``lid_min_prob``, ``lid_pivot_min_prob``,
``short_max_words`` and, through the accounting and short texts, ``lid_markers``,
``segment_min_letters``, ``segment_own_script``, ``neighbour_min_prob``, ``neighbour_margin``,
``foreign_min_prob``, ``short_min_words``,
``short_margin``, ``short_pivot_margin``, ``pair_margin``, ``pivot_min_letters``,
``echo_foreign_min_prob``.

Scores (per field ``f``): ``share_target_f`` and ``share_pivot_f`` (shares of the field's
counted prose), ``lid_target_f`` (mean probability of the target language over its identified
segments, or of a short text), ``lid_pivot_f`` (probability that the pivot field is in the
pivot language, where it was needed), ``lid_pivot_instruction``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters import shorttext
from plugdata.filters.check import Check, Context, Score, verdict_column
from plugdata.filters.prepare import FIELDS, judged, pcol, set_aside
from plugdata.filters.rows import gather, on_rows, positions

READS = (
    "lid_min_share",
    "lid_min_letters",
    "lid_min_prob",
    "lid_pivot_min_prob",
    "short_max_words",
    "lid_markers",
    "segment_min_letters",
    "segment_own_script",
    "neighbour_min_prob",
    "neighbour_margin",
    "foreign_min_prob",
    "short_min_words",
    "short_margin",
    "short_pivot_margin",
    "pair_margin",
    "pivot_min_letters",
    "echo_foreign_min_prob",
)
REASONS = (
    "langid:pivot_not_pivot",
    "langid:mixed",
    "langid:wrong_language",
    "langid:neighbour",
    "langid:pivot_language",
)
SCORES = (
    *(Score(f"share_target_{f}", "lid_min_share") for f in FIELDS),
    *(Score(f"share_pivot_{f}", None, "above") for f in FIELDS),
    *(Score(f"lid_target_{f}", "lid_min_prob") for f in FIELDS),
    Score("lid_pivot_instruction", "lid_pivot_min_prob"),
    *(Score(f"lid_pivot_{f}", None) for f in ("input", "output")),
)
MAJOR = {
    "target": "langid:mixed",
    "pivot": "langid:wrong_language",
    "other": "langid:wrong_language",
    "neighbour": "langid:neighbour",
}


def _words(f: str, n: int) -> pl.Expr:
    """Whether field ``f``'s judged text has ``n`` words (runs of letters) or more: found
    without counting them all (the search stops at the ``n``-th)."""
    if n <= 0:
        return judged(f).str.len_bytes() >= 0  # (a column of trues)
    return judged(f).str.contains(rf"(?:\p{{L}}+\P{{L}}+){{{n - 1}}}\p{{L}}")


def _long(f: str, ctx: Context) -> pl.Expr:
    """Whether a field is long enough for its shares to judge it: ``lid_min_letters`` counted
    and more than ``short_max_words`` words (any number in a script of its own)."""
    scripted = pl.col("target_lang").is_in(list(P.SCRIPTS))
    return _words(f, ctx.config.short_max_words + 1) | scripted


def _same_foreign(
    df: pl.DataFrame, ctx: Context, f: str, rows: list[int], labels: list
) -> dict[int, float]:
    """At ``rows``: the probability that the pivot field is in the pivot language (code and
    quotes aside), or -1 where the pivot field is itself in the language the target field was
    found in (``labels``): foreign text the source already held, no fault of the translation."""
    text = set_aside(pcol("pivot", f))
    asked = df[rows].select(text, "pivot_lang")
    probs = ctx.lid.probabilities(list(asked.iter_rows()))
    tops = ctx.lid.distributions(asked.to_series().to_list())
    out = {}
    for i, p, top in zip(rows, probs, tops, strict=True):
        best = max(top, key=top.__getitem__) if top else None
        out[i] = (
            -1.0 if best is not None and best == labels[i] and p < ctx.config.lid_min_prob else p
        )
    return out


def _field(df: pl.DataFrame, ctx: Context, f: str, out: list[dict | None]) -> None:
    """The accounting's verdicts on field ``f`` (long texts, and short ones confidently in a
    language that is neither a neighbour nor the pivot) and the short-text ones."""
    cfg, fields = ctx.config, ctx.account(df).fields
    for side in ("share_target", "share_pivot", "lid_target"):
        ctx.scores[f"{side}_{f}"] = fields[f"{side}_{f}"]
    sure = (fields[f"major_{f}"] == "other") & (fields[f"p_foreign_{f}"] >= cfg.foreign_min_prob)
    long_ = df.select(_long(f, ctx).alias("long")).to_series()
    enough = (fields[f"weight_{f}"].fill_null(0) >= cfg.lid_min_letters) & (
        long_ | sure.fill_null(False)
    )
    low = enough & (fields[f"share_target_{f}"] < cfg.lid_min_share)
    rows = [int(i) for i in positions(df, low) if out[i] is None]
    labels = fields[f"label_{f}"].to_list()
    pivot = _same_foreign(df, ctx, f, rows, labels) if rows else {}
    majors, foreign = fields[f"major_{f}"].to_list(), fields[f"foreign_{f}"].to_list()
    for i in rows:
        if pivot[i] >= 0:
            out[i] = {"reason": MAJOR[majors[i]], "field": f, "text": foreign[i] or ""}
    if f != "instruction":
        name = f"lid_pivot_{f}"
        known = pl.Series(name, [max(pivot[i], 0.0) for i in rows], dtype=pl.Float64)
        ctx.scores[name] = gather(known, np.array(rows, dtype=np.int64), df.height)
    # the short texts among the rest (their words counted there only)
    short = _words(f, min(cfg.short_min_words, 2)) & ~_words(f, 2 * cfg.short_max_words + 1)
    (few,) = on_rows(df, ~enough, [short.alias("few")], [pl.lit(False)])
    _short(df, ctx, f, positions(df, few), out)


def _short(df: pl.DataFrame, ctx: Context, f: str, rows, out: list[dict | None]) -> None:
    """The short-text verdicts on field ``f`` at ``rows`` (a copy of a pivot input or output
    that is not in the pivot language, or of an instruction surely in another language, is
    what the pair needs, and is not held against it)."""
    cfg = ctx.config
    if not rows.size:
        return
    part = df.select(shorttext.columns(f))[rows]
    at, asked = shorttext.queries(part, f, ctx)
    found = shorttext.judge(ctx, asked)
    hits, where, chances = [], [], []
    for (j, (verdict, p)), query in zip(zip(at, found, strict=True), asked, strict=True):
        i = int(rows[j])
        where.append(i)
        chances.append(p)
        if verdict and out[i] is None:
            hits.append((i, verdict, query[0]))
    copies = [i for i, *_ in hits if df[f"_same_{f}"][i]]
    if f == "instruction":  # (short instructions often read as foreign: be sure)
        keep = set(ctx.quoted_instructions(df, np.array(copies, dtype=np.int64)).tolist())
    else:
        probs = _same_foreign(df, ctx, f, copies, [None] * df.height) if copies else {}
        keep = {i for i, p in probs.items() if p < cfg.lid_min_prob}
    for i, verdict, text in hits:
        if i not in keep:
            out[i] = {"reason": verdict, "field": f, "text": text}
    if where:
        name = f"lid_target_{f}"
        scores = ctx.scores[name].clone()  # (the accounting's column stays as it was)
        ctx.scores[name] = scores.scatter(where, pl.Series(chances, dtype=pl.Float64))


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The source instruction is not in the pivot language; or a target field's prose is not
    (all) in the target language, by the shares of its segments (long texts) or against the
    target language's neighbours (short texts)."""
    accounting = ctx.account(df)
    pivot = accounting.pivot_instruction
    ctx.scores["lid_pivot_instruction"] = pivot
    wrong = (pivot < ctx.config.lid_pivot_min_prob).fill_null(False).to_list()
    out: list[dict | None] = [
        {"reason": REASONS[0], "field": "", "text": ""} if w else None for w in wrong
    ]
    for f in FIELDS:
        _field(df, ctx, f, out)
    return verdict_column(out)


CHECK = Check("langid", run, reasons=REASONS, reads=READS, scores=SCORES, identifies=True)
