"""The language checks on the translatable remainder: untranslated and script (langid is in
:mod:`plugdata.filters.identify`)."""

from __future__ import annotations

import numpy as np
import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.checks import Context, reason
from plugdata.filters.rows import gather, on_rows, positions
from plugdata.filters.verbatim import (
    FIELDS,
    OWN_SCRIPT,
    copied_letters,
    copied_tokens,
    judged,
    pcol,
    tcol,
)

LOWER_WORD = r"(?:^|[^\p{L}\d_])\p{Ll}{3,}(?:$|[^\p{L}\d_])"
PLAIN_WORD = r"^[\"'“‘(¿¡]*\p{L}[\p{L}'’-]*[.,!?;:\"'”’)]*$"  # a word, not an identifier
ITEMS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){2,}\.?\s*$"  # "a, b, c"


# Function words: a title-cased headline holds some, a name or a title rarely does.
FUNCTION_WORD = (r"(?i)(?:^|[^\p{L}])(?:the|a|an|is|are|was|were|be|it|its|of|to|in|on|at|for|"
                 r"with|from|by|and|or|not|no|this|that|what|who|how|why|above|over|after|i|you|"
                 r"he|she|we|they)(?:$|[^\p{L}])")  # fmt: skip


def sentence_words(expr: pl.Expr) -> pl.Expr:
    """Plain words of a text that reads as prose: no identifiers, not a bare list of items,
    a lower-case or function word (a copy made only of names or a title may stay)."""
    words = expr.str.split(" ").list.eval(pl.element().str.contains(PLAIN_WORD)).list.sum()
    function = expr.str.contains(FUNCTION_WORD)
    prose = function | (expr.str.contains(LOWER_WORD) & ~expr.str.contains(ITEMS))
    return pl.when(prose).then(words).otherwise(0)


def _foreign_pivot(df: pl.DataFrame, ctx: Context, f: str, echo: pl.Series) -> pl.Series:
    """Echoes of a pivot field that is not in the pivot language (a French quote in an English
    record) are what the pair needs: cleared, and remembered in ``ctx.chunk["verbatim"]`` for
    the ``verbatim_expected`` tag. Needs the language identifier (the langid check)."""
    rows = positions(df, echo)
    if ctx.lid is None or not rows.size:
        return echo
    part = df[rows].select(pcol("pivot", f).alias("t"), "pivot_lang")
    probs = np.array(ctx.lid.probabilities(list(part.iter_rows())))
    foreign = rows[probs < ctx.config.lid_min_prob]
    if not foreign.size:
        return echo
    mark = np.zeros(df.height, dtype=bool)
    mark[foreign] = True
    ctx.chunk["verbatim"] = ctx.chunk.get("verbatim", pl.Series([False] * df.height)) | pl.Series(mark)
    return echo & ~pl.Series(mark)


def untranslated(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The target repeats the pivot: an exact copy of a text of ``echo_min_words`` words or
    more (code, names and quote marks aside), or, between Latin-script texts, most of the
    pivot's words. A copy the pair needs (``_verbatim_*``, or of a pivot input or output that
    is not in the pivot language) is not held against it. Words are counted only where a field is a
    copy, and compared only between Latin-script texts."""
    cfg = ctx.config
    latin = ~pl.col("target_lang").is_in(OWN_SCRIPT)
    flags = {}
    for f in FIELDS:
        keep = pl.col(f"_verbatim_{f}") if f != "instruction" else pl.lit(False)
        same = pl.col(f"_same_{f}") & ~keep
        echo = sentence_words(tcol(f)) >= cfg.echo_min_words
        (flags[f],) = on_rows(df, same, [echo.fill_null(False).alias(f)], [pl.lit(False)])
        if f != "instruction":  # (short instructions in the pivot language often read as foreign)
            flags[f] = _foreign_pivot(df, ctx, f, flags[f])

    def words_of(side: str) -> pl.Expr:
        # Lower-case ASCII words: names (capitalised) are kept by translators, and words with
        # accents are already not the pivot's.
        if side == "pivot":
            text = pl.concat_str([pcol(side, f) for f in ("instruction", "output")], separator=" ")
        else:
            text = pl.concat_str([judged(f) for f in ("instruction", "output")], separator=" ")
        return text.str.extract_all(r"[a-z]{3,}")

    p, t = words_of("pivot"), words_of("target")
    n = p.list.n_unique()
    shared = p.list.set_intersection(t).list.len() / pl.max_horizontal(n, pl.lit(1))
    overlap = ((n >= cfg.copy_min_words) & (shared >= cfg.copy_max_overlap)).fill_null(False)
    compared = latin & (pl.col("pivot_lang") != pl.col("target_lang"))
    if ctx.config.lid_markers:
        # A target that function words put in its language holds none of the pivot language's
        # function words, so it cannot hold most of the pivot's words (they are over a fifth
        # of them in prose): not compared.
        from plugdata.filters.identify import settled

        known = settled(df, ctx, FIELDS)
        compared = compared & ~(known["instruction"] & known["output"])
    (flags["overlap"],) = on_rows(df, compared, [overlap.alias("overlap")], [pl.lit(False)])
    cases = [("untranslated:exact_copy", pl.col(f)) for f in FIELDS]
    return reason(pl.DataFrame(flags), [*cases, ("untranslated:word_overlap", pl.col("overlap"))])


def script(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Languages with their own script must be mostly written in it, counting only what should
    have been translated (code, names and quotes aside); Chinese without kana. Names and quotes
    copied from the pivot are looked for only where the share is low without them."""
    cfg = ctx.config
    text = pl.concat_str([judged(f) for f in ("instruction", "input", "output")], separator=" ")
    verdicts = pl.Series("x", [None] * df.height, dtype=pl.String)
    for lang in sorted(set(df["target_lang"].unique().to_list()) & set(P.SCRIPTS)):
        rows = positions(df, pl.col("target_lang") == lang)
        part = df[rows].with_columns(
            text.str.count_matches(r"\p{L}").cast(pl.Int64).alias("_letters"),
            text.str.count_matches(P.SCRIPTS[lang]).alias("_own"),
            pl.lit(0, pl.Int64).alias("_copied"),
        )
        share = pl.col("_own") / pl.max_horizontal(pl.col("_letters") - pl.col("_copied"), pl.lit(1))
        low = ((pl.col("_letters") - pl.col("_copied") >= cfg.script_min_letters)
               & (share < cfg.script_min_share))  # fmt: skip
        again = positions(part, low)  # low even with every letter counted: set copies aside
        if again.size:
            redo = copied_tokens(part[again]).select(_copied_letters().alias("_copied"))["_copied"]
            part = part.with_columns(gather(redo, again, part.height, 0).alias("_copied"))
        part = part.with_columns(pl.lit(None, pl.String).alias("x"))
        found = part.select(pl.when(low).then(pl.lit("script:low_share")).otherwise(None))[:, 0]
        if lang == "zh":
            kana = part.select(text.str.count_matches(P.KANA).alias("k"), "_letters")
            found = found.fill_null(kana.select(pl.when((pl.col("k") > pl.col("_letters") * 0.05)
                                                        & (pl.col("k") >= 2)).then(pl.lit("script:kana")))[:, 0])  # fmt: skip
        verdicts = verdicts.scatter(rows, found) if rows.size else verdicts
    return verdicts


def _copied_letters() -> pl.Expr:
    """Letters the judged fields copied from the pivot (needs :func:`copied_tokens`)."""
    return sum(
        (pl.when(pl.col(f"_verbatim_{f}")).then(0).otherwise(copied_letters(f)) if f != "instruction"
         else copied_letters(f)) for f in FIELDS
    )  # fmt: skip
