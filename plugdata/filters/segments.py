"""Fields cut into segments (sentences or lines), for language accounting.

What stays verbatim is set aside first (code, URLs, placeholders and numbers are already out of
the prose columns, see :mod:`~plugdata.filters.prepare`; quoted text goes here). A segment ends
at a sentence end of any script (``.``, ``。``, ``।``, ``؟``, ``។``, ``။``, ...) or a line
break; in Thai, Lao, Khmer and Myanmar text, which have no full stop in use or no spaces between
words, a space after one of their letters ends a phrase too.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P

SCHEMA = {"row": pl.UInt32, "field": pl.String, "text": pl.String, "weight": pl.Int64,
          "words": pl.UInt32}  # fmt: skip
QUOTE_HINT = r"[\"“「『«']"


def weight(text: pl.Expr) -> pl.Expr:
    """Letters, a CJK, kana or Hangul one counting three (as in the length checks)."""
    return (text.str.count_matches(r"\p{L}") + 2 * text.str.count_matches(P.WIDE)).cast(pl.Int64)


def key(text: pl.Expr) -> pl.Expr:
    """A segment's letters in lower case, for comparing segments across sides."""
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}]+", "")


def split(df: pl.DataFrame, texts: dict[str, pl.Expr]) -> pl.DataFrame:
    """One row per segment of each text (``field`` names it; ``row``: its row in ``df``), with
    its ``weight`` and ``words``; segments without letters are left out."""
    parts = []
    for name, text in texts.items():
        unquoted = (
            pl.when(text.str.contains(QUOTE_HINT))
            .then(text.str.replace_all(P.QUOTED, " "))
            .otherwise(text)
        )
        cut = unquoted.str.replace_all(P.SPACED_PHRASE, "$1\n").str.extract_all(P.SEGMENT)
        frame = df.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
            pl.lit(name).alias("field"),
            cut.alias("text"),
        )
        parts.append(frame.explode("text"))
    if not parts:
        return pl.DataFrame(schema=SCHEMA)
    segs = pl.concat(parts).with_columns(pl.col("text").str.strip_chars())
    segs = segs.with_columns(
        weight(pl.col("text")).alias("weight"),
        pl.col("text").str.count_matches(r"\p{L}+").cast(pl.UInt32).alias("words"),
    )
    return segs.filter(pl.col("weight") > 0)
