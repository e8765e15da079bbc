"""What should have been translated, and what may legitimately stay as it was.

:func:`prepare` adds helper columns to the pair frame, computed once and shared by the checks:

- ``_prose_{side}_{field}``: the text without code, URLs, e-mails, placeholders and digits;
- ``_trans_target_{field}``: the target prose also without unfenced code, the translatable
  remainder (what it copied from the pivot is removed where needed, see :func:`copied_tokens`:
  quoted text, names, titles and identifiers found verbatim in the pivot record);
- ``_verbatim_{field}`` (input, output): the target field repeats the pivot field where the
  evidence says that is what the pair needs (:func:`code_like`: code, data, a regex or a
  formula by shape; :func:`given_words`: the target instruction or input hands its words over),
  so it is not held against the pair and the pair is tagged;
- ``_same_{field}``: the target field's prose is the pivot's (double quote marks aside);
- ``_size_{side}_{field}``: lengths, a CJK or Hangul character counting three.

Costly patterns run only on the rows where a cheap hint says they can match (:mod:`rows`).
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.rows import PIVOT_ID, on_rows, per_pivot

SIDES = ("pivot", "target")
FIELDS = ("instruction", "input", "output")
OWN_SCRIPT = list(P.SCRIPTS)
# A text without these holds nothing NON_PROSE removes but digits.
NON_PROSE_HINT = r"[`~{%@\[]|://"
CODE_HINT = P.VERBATIM_HINT  # every shape of unfenced code needs one of these
SQUEEZE_HINT = r"\d|\s\s|[^\S ]|^\s|\s$"  # digits, or spaces that squeezing changes
QUOTES = r'["“”„«»「」『』]'  # double quote marks, which translators change freely


def col(side: str, name: str) -> pl.Expr:
    """A text field, nulls as empty strings."""
    return pl.col(f"{side}_{name}").fill_null("")


def pcol(side: str, name: str) -> pl.Expr:
    """The prose helper column of a field."""
    return pl.col(f"_prose_{side}_{name}")


def tcol(name: str) -> pl.Expr:
    """The translatable remainder of a target field."""
    return pl.col(f"_trans_target_{name}")


def set_aside(text: pl.Expr) -> pl.Expr:
    """The text with unfenced code (``patterns.VERBATIM``) and quotes (``patterns.QUOTED``)
    replaced by a space, one after the other (a single pattern of both runs twenty times
    slower)."""
    return text.str.replace_all(P.VERBATIM, " ").str.replace_all(P.QUOTED, " ")


def _squeeze(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def code_like(side: str, f: str, max_prose: float) -> pl.Expr:
    """A field that is code, data, a regex or a formula by shape: letters, but little prose
    once code, URLs, numbers and the like are set aside (under ``max_prose`` of them)."""
    letters = col(side, f).str.count_matches(r"\p{L}")
    prose = pcol(side, f).str.replace_all(P.VERBATIM, " ").str.count_matches(r"\p{L}")
    return (letters > 0) & (prose < letters * max_prose)


def given_words(f: str) -> pl.Expr:
    """The pivot field's words all occur in the target instruction (or, for the output, the
    target instruction and input): the task hands them over ("sort these words: apple, pear,
    fig"), so copying them is the answer."""
    words = r"\p{L}[\p{L}'-]*"
    mine = pcol("pivot", f).str.to_lowercase().str.extract_all(words)
    sources = ["instruction"] if f == "input" else ["instruction", "input"]
    given = pl.concat_str([col("target", g) for g in sources], separator=" ")
    return (mine.list.len() > 0) & (
        mine.list.set_difference(given.str.to_lowercase().str.extract_all(words)).list.len() == 0
    )


def _prose(df: pl.DataFrame) -> pl.DataFrame:
    """``_prose_*``: where a side's fields hold no hint of code, a URL, an e-mail or a
    placeholder, removing them reduces to removing digits and squeezing spaces, and a text
    needing neither is kept as it is; the full patterns run on the other rows only. Pivot
    records repeat once per target language: each distinct one is worked on once."""
    pivot = [f"pivot_{f}" for f in FIELDS]
    distinct = df.select(pivot).unique(maintain_order=True).with_row_index(PIVOT_ID)
    distinct = _prose_side(distinct, "pivot").with_columns(pl.col(PIVOT_ID).cast(pl.Int64))
    df = df.join(distinct, on=pivot, how="left", maintain_order="left", nulls_equal=True)
    return _prose_side(df, "target")


def _prose_side(df: pl.DataFrame, side: str) -> pl.DataFrame:
    hint = pl.any_horizontal([col(side, f).str.contains(NON_PROSE_HINT) for f in FIELDS])
    full = [
        _squeeze(col(side, f).str.replace_all(P.NON_PROSE, " ")).alias(f"_prose_{side}_{f}")
        for f in FIELDS
    ]
    df = df.with_columns(on_rows(df, hint, full, [col(side, f) for f in FIELDS]))
    for f in FIELDS:  # digits or odd spaces: squeeze those rows
        name = f"_prose_{side}_{f}"
        squeeze = pl.col(name).str.replace_all(r"[\s\d]+", " ").str.strip_chars().alias(name)
        df = df.with_columns(
            on_rows(df, pl.col(name).str.contains(SQUEEZE_HINT), [squeeze], [pl.col(name)])
        )
    return df


def prepare(df: pl.DataFrame, max_prose: float, sizes: bool = True) -> pl.DataFrame:
    """Add the helper columns the checks share (see the module docstring); ``max_prose``:
    :func:`code_like`'s share. Without ``sizes``, the ``_size_*`` columns (which the language
    accounting does not read) are left for :func:`add_sizes`."""
    df = _prose(df)
    # The translatable remainder: unfenced code removed where a character it needs occurs.
    trans = [
        _squeeze(pcol("target", f).str.replace_all(P.VERBATIM, " ")).alias(f"_trans_target_{f}")
        for f in FIELDS
    ]
    hint = pl.any_horizontal([pcol("target", f).str.contains(CODE_HINT) for f in FIELDS])
    df = df.with_columns(on_rows(df, hint, trans, [pcol("target", f) for f in FIELDS]))
    df = df.with_columns(_copies(df))
    same = {
        f: pl.col(f"_same_{f}") & (col("pivot", f).str.strip_chars() != "")
        for f in ("input", "output")
    }
    # A copy is what the pair needs where there is evidence for it: the text is code or data
    # by shape, or the target instruction (or, for the output, the input) hands its words
    # over. Words of the instruction are no evidence. (A pivot text not in the pivot language
    # is the third case: it needs the identifier, see the untranslated check.)
    flags = [
        (same[f] & (code_like("pivot", f, max_prose) | given_words(f))).alias(f"_verbatim_{f}")
        for f in ("input", "output")
    ]
    df = df.with_columns(on_rows(df, same["input"] | same["output"], flags, [pl.lit(False)] * 2))
    return add_sizes(df) if sizes else df


def add_sizes(df: pl.DataFrame) -> pl.DataFrame:
    """The ``_size_*`` columns of a prepared frame."""
    return df.with_columns(_sizes(df))


def _copies(df: pl.DataFrame) -> list[pl.Series]:
    """``_same_{field}``: the target prose is the pivot's, double quote marks aside (a copy
    that only changed ``"`` into ``“`` or ``«`` is still a copy); quotes are set aside only
    where the target has some and the texts differ."""
    out = []
    for f in FIELDS:
        p, t = pcol("pivot", f), pcol("target", f)
        equal = (p == t).fill_null(False)
        quoted = ~equal & t.str.contains(QUOTES)
        bare = (p.str.replace_all(QUOTES, "") == t.str.replace_all(QUOTES, "")).fill_null(False)
        out += on_rows(df, quoted, [bare.alias(f"_same_{f}")], [equal])
    return out


def _sizes(df: pl.DataFrame) -> list[pl.Series]:
    """``_size_*``: characters, a CJK or Hangul one counting three (counted where a text has
    any character outside ASCII)."""

    def sizes(frame: pl.DataFrame, side: str) -> list[pl.Series]:
        out = []
        for f in ("instruction", "output"):
            text = pcol(side, f)
            wide = (text.str.len_chars() + 2 * text.str.count_matches(P.WIDE)).alias(
                f"_size_{side}_{f}"
            )
            out += on_rows(
                frame, text.str.len_bytes() != text.str.len_chars(), [wide], [text.str.len_chars()]
            )
        return out

    pivot = per_pivot(df, lambda frame: pl.DataFrame(sizes(frame, "pivot")))
    return [*pivot.get_columns(), *sizes(df, "target")]


def copied_tokens(
    df: pl.DataFrame, rows: pl.Series | None = None, fields: tuple[str, ...] = FIELDS
) -> pl.DataFrame:
    """Add ``_copied_{field}`` for each of ``fields``: the quoted text, names, titles and
    identifiers the target field copied from the pivot record. Costly: looked for only where
    ``rows`` holds (else everywhere)."""
    # (intersections keep each value once: the pivot's lists need no de-duplicating)
    pivot_tokens = pl.concat_list([pcol("pivot", f).str.extract_all(P.TOKEN) for f in FIELDS])

    def quotes(expr: pl.Expr) -> pl.Expr:
        found = expr.str.extract_all(P.QUOTED)
        return found.list.eval(pl.element().str.strip_chars(P.QUOTE_MARKS))

    pivot_quotes = pl.concat_list([quotes(pcol("pivot", f)) for f in FIELDS])
    mask = pl.lit(True) if rows is None else rows
    copied = []
    for f in fields:
        tokens = tcol(f).str.extract_all(P.TOKEN)
        names = tokens.list.eval(pl.element().filter(pl.element().str.contains(f"^(?:{P.NAME})$")))
        mine = names.list.set_intersection(pivot_tokens)
        kept = quotes(tcol(f)).list.set_intersection(pivot_quotes)
        copied.append(pl.concat_list(kept, mine).alias(f"_copied_{f}"))
    none = [pl.lit([], dtype=pl.List(pl.String))] * len(copied)
    return df.with_columns(on_rows(df, mask, copied, none))


def judged(f: str) -> pl.Expr:
    """The translatable remainder of a target field, empty where it may stay verbatim."""
    if f == "instruction":
        return tcol(f)
    return pl.when(pl.col(f"_verbatim_{f}")).then(pl.lit("")).otherwise(tcol(f))


def copied_letters(f: str) -> pl.Expr:
    """Letters of the tokens a target field copied from the pivot (each token counted once
    per occurrence, approximately: once per distinct token)."""
    return (
        (pl.col(f"_copied_{f}").list.eval(pl.element().str.count_matches(r"\p{L}")).list.sum())
        .fill_null(0)
        .cast(pl.Int64)
    )


def relative_size(f: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Pivot size, target size, and target/pivot size over the ratio expected for the language
    pair (``patterns.CHAR_RATIO``), for field ``f`` (a CJK or Hangul character counts three)."""
    expected = pl.col("target_lang").replace_strict(
        P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64
    ) / pl.col("pivot_lang").replace_strict(P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64)
    p, t = pl.col(f"_size_pivot_{f}"), pl.col(f"_size_target_{f}")
    return p, t, t / pl.max_horizontal(p, pl.lit(1)) / expected
