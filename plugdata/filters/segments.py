"""Fields cut into segments (sentences or lines), for language accounting.

What stays verbatim is set aside first (code, URLs, placeholders and numbers are already out of
the prose columns, see :mod:`~plugdata.filters.prepare`; names and quotes copied from the pivot
are set aside by the accounting where they mislead the identifier). A segment ends
at a sentence end of any script (``.``, ``。``, ``।``, ``؟``, ``។``, ``။``, ...) or a line
break; in Thai, Lao, Khmer and Myanmar text, which have no full stop in use or no spaces between
words, a space after one of their letters ends a phrase too.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from plugdata.filters import patterns as P

SCHEMA = {
    "row": pl.UInt32,
    "field": pl.String,
    "text": pl.String,
    "weight": pl.Int64,
}
CLOSERS = "'\"”’»」』》)\\]）"
# More text after a sentence end, a line break, or a space in Thai, Lao, Khmer or Myanmar text.
HINT = (
    f"[.!?…{P.SENTENCE_MARKS}][{CLOSERS}]*\\s*[^\\s.!?…{P.SENTENCE_MARKS}{CLOSERS}]|\\n"
    "|[\\p{Thai}\\p{Lao}\\p{Khmer}\\p{Myanmar}][ \\t]"
)
ABBREVIATION = r"(^|[\s(])(\p{Lu}\p{Ll}{0,2})\."
# Where a segment ends: Latin-style sentence ends before a space (so "3.5", "U.S" and "e.g"
# inside a word do not end one), full-width and other scripts' ends anywhere, and phrases of
# the scripts without a full stop.
BREAKS = (
    (f"([.!?…]+[{CLOSERS}]*)[ \t]+", "$1\n"),
    (f"([.!?…]+[{CLOSERS}]*)([^\\s\\p{{Latin}}\\d\\p{{P}}])", "$1\n$2"),
    (f"([。！？।॥؟۔។။።]+[{CLOSERS}]*)[ \t]*", "$1\n"),
    (P.SPACED_PHRASE, "$1\n"),
)


def count_chars(text: pl.Expr, chars: str, dense: bool = True) -> pl.Expr:
    """Characters of a class (``\\p{X}`` or ``[...]``) in each text. Where they are most of
    it (``dense``: letters, a language's own script), counted as the text's length less the
    others: fewer matches, under half the time."""
    if not dense:
        return text.str.count_matches(chars).cast(pl.Int64)
    others = "[^" + chars[1:] if chars.startswith("[") else "\\P" + chars[2:]
    return (text.str.len_chars() - text.str.count_matches(others)).cast(pl.Int64)


def weight(text: pl.Expr) -> pl.Expr:
    """Letters, a CJK, kana or Hangul one counting three (as in the length checks)."""
    return count_chars(text, r"\p{L}") + 2 * count_chars(text, P.WIDE, dense=False)


def key(text: pl.Expr) -> pl.Expr:
    """A segment's letters in lower case, for comparing segments across sides."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}]+", "")


def _cut(text: pl.Expr) -> pl.Expr:
    """The text with a line break at every segment end, split into segments. The full stop
    of a short capitalised abbreviation ("St.", "Mr.", "Dr.") ends nothing."""
    text = text.str.replace_all(ABBREVIATION, "$1$2\u2024")
    for pattern, to in BREAKS:
        text = text.str.replace_all(pattern, to)
    return text.str.split("\n").list.eval(pl.element().str.replace_all("\u2024", ".", literal=True))


def split(df: pl.DataFrame, texts: dict[str, pl.Expr], min_weight: int = 0) -> pl.DataFrame:
    """One row per segment of each text (``field`` names it; ``row``: its row in ``df``), with
    its ``weight``; segments without letters are left out. A segment lighter
    than ``min_weight`` (an abbreviation's "Mr.", a short exclamation) joins the next one.
    Only texts where a cheap hint says more text follows a sentence end are cut."""
    ones, many = [], []
    for name, text in texts.items():
        base = df.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
            pl.lit(name).alias("field"),
            text.alias("text"),
            text.str.contains(HINT).alias("_cut"),
        )
        ones.append(base.filter(~pl.col("_cut")).drop("_cut"))
        cut = base.filter(pl.col("_cut")).drop("_cut")
        many.append(cut.with_columns(_cut(pl.col("text"))).explode("text"))
    if not ones:
        return pl.DataFrame(schema=SCHEMA)

    def weighed(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(pl.col("text").str.strip_chars())
        frame = frame.with_columns(weight(pl.col("text")).alias("weight"))
        return frame.filter(pl.col("weight") > 0)

    cut = weighed(pl.concat(many))
    if min_weight and cut.height:
        cut = _merge(cut, min_weight)
    return pl.concat([weighed(pl.concat(ones)), cut])


def _merge(segs: pl.DataFrame, min_weight: int) -> pl.DataFrame:
    """Light segments joined to the next segment of their field (the last ones to the one
    before), where a field has several segments and a light one (``segs``: each field's
    segments in a row, in order, as :func:`split` cuts them)."""
    if not segs.height:
        return segs
    light = pl.col("weight") < min_weight
    # A field's segments are contiguous: numbered by run, counted with numpy (a polars window
    # over some 70,000 small groups costs fifty times as much).
    text, is_light = segs.select(pl.struct("row", "field").rle_id(), light).get_columns()
    text = text.to_numpy()
    several = np.bincount(text)[text] > 1
    has_light = np.zeros(int(text.max()) + 1, dtype=bool)
    has_light[text[is_light.to_numpy()]] = True
    touched = pl.Series(several & has_light[text])
    todo, done = segs.filter(touched), segs.filter(~touched)
    if not todo.height:
        return segs
    group = (~light).cum_sum().shift(1, fill_value=0).over("row", "field")
    todo = todo.with_columns(group.alias("_g"))
    # trailing light segments (after the last heavy one) go with the one before
    last = pl.col("_g") == pl.col("_g").max().over("row", "field")
    heavy_in = (~light).any().over("row", "field", "_g")
    todo = todo.with_columns(
        pl.when(last & ~heavy_in & (pl.col("_g") > 0))
        .then(pl.col("_g") - 1)
        .otherwise(pl.col("_g"))
        .alias("_g")
    )
    merged = todo.group_by("row", "field", "_g", maintain_order=True).agg(
        pl.col("text").str.join(" "), pl.col("weight").sum()
    )
    return pl.concat([done, merged.drop("_g")]).sort("row", "field", maintain_order=True)
