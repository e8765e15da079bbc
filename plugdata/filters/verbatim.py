"""What should have been translated, and what may legitimately stay as it was.

:func:`prepare` adds helper columns to the pair frame, computed once and shared by the checks:

- ``_prose_{side}_{field}``: the text without code, URLs, e-mails, placeholders and digits;
- ``_trans_target_{field}``: the target prose also without unfenced code, the translatable
  remainder (what it copied from the pivot is removed where needed, see ``_copied_{field}``:
  quoted text, names, titles and identifiers found verbatim in the pivot record);
- ``_bound``: the instruction's answer is bound to the words given (a translation request, an
  operation on given words, code, a regex or a formula, an answer copied from the input, ...);
- ``_verbatim_{field}`` (input, output): the target field repeats the pivot field where that is
  what the pair needs, so it is not held against the pair and the pair is tagged.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P

SIDES = ("pivot", "target")
FIELDS = ("instruction", "input", "output")
OWN_SCRIPT = list(P.SCRIPTS)


def col(side: str, name: str) -> pl.Expr:
    """A text field, nulls as empty strings."""
    return pl.col(f"{side}_{name}").fill_null("")


def pcol(side: str, name: str) -> pl.Expr:
    """The prose helper column of a field."""
    return pl.col(f"_prose_{side}_{name}")


def tcol(name: str) -> pl.Expr:
    """The translatable remainder of a target field."""
    return pl.col(f"_trans_target_{name}")


def _squeeze(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars()


def _bound(df: pl.DataFrame) -> pl.Expr:
    """The pivot record asks for an answer that stays in the words it was given."""
    instruction = col("pivot", "instruction").str.to_lowercase()
    output, given = col("pivot", "output"), col("pivot", "input")
    out_prose = pcol("pivot", "output")
    # An output mostly made of code, a regex or a formula: little prose once they are removed.
    out_letters = output.str.count_matches(r"\p{L}")
    prose_letters = out_prose.str.replace_all(P.VERBATIM, " ").str.count_matches(r"\p{L}")
    code_like = (out_letters > 0) & (prose_letters * 3 < out_letters)
    words = r"\p{L}[\p{L}'-]*"
    out_words = out_prose.str.to_lowercase().str.extract_all(words)
    in_words = given.str.to_lowercase().str.extract_all(words)
    copied = (out_words.list.len() > 0) & (
        out_words.list.set_difference(in_words).list.len() == 0
    )
    return instruction.str.contains(P.LANGUAGE_BOUND) | code_like | copied


def prepare(df: pl.DataFrame) -> pl.DataFrame:
    """Add the helper columns the checks share (see the module docstring)."""
    prose = [
        _squeeze(col(side, f).str.replace_all(P.NON_PROSE, " ")).alias(f"_prose_{side}_{f}")
        for side in SIDES
        for f in FIELDS
    ]
    df = df.with_columns(prose)
    own = pl.col("target_lang").is_in(OWN_SCRIPT)
    pivot_tokens = pl.concat_list(
        [pcol("pivot", f).str.extract_all(P.TOKEN) for f in FIELDS]
    ).list.unique()
    helpers = [
        _squeeze(pcol("target", f).str.replace_all(P.VERBATIM, " ")).alias(f"_trans_target_{f}")
        for f in FIELDS
    ]
    df = df.with_columns(_bound(df).fill_null(False).alias("_bound"), *helpers)
    def quotes(expr: pl.Expr) -> pl.Expr:
        found = expr.str.extract_all(P.QUOTED)
        return found.list.eval(pl.element().str.strip_chars(P.QUOTE_MARKS))

    pivot_quotes = pl.concat_list([quotes(pcol("pivot", f)) for f in FIELDS]).list.unique()
    copied = []
    for f in FIELDS:
        tokens = tcol(f).str.extract_all(P.TOKEN)
        names = tokens.list.eval(pl.element().filter(pl.element().str.contains(f"^(?:{P.NAME})$")))
        # Any Latin word copied into a text in another script where the task works on given
        # words; otherwise names, titles and identifiers only.
        every = own & pl.col("_bound")
        mine = pl.when(every).then(tokens).otherwise(names).list.set_intersection(pivot_tokens)
        # Quoted text copied from the pivot (a phrase to explain, a sentence to correct).
        kept = quotes(tcol(f)).list.set_intersection(pivot_quotes)
        copied.append(pl.concat_list(kept, mine).alias(f"_copied_{f}"))
    df = df.with_columns(copied)
    same = {
        f: (pcol("pivot", f) == pcol("target", f)) & (col("pivot", f).str.strip_chars() != "")
        for f in ("input", "output")
    }
    # The input may stay when the task works on it; the output when the answer is bound to it
    # or when the pivot output is not prose at all (code, numbers, names only).
    no_prose = tcol("output").str.count_matches(r"\p{L}") == 0
    return df.with_columns(
        (same["input"] & pl.col("_bound")).alias("_verbatim_input"),
        (same["output"] & (pl.col("_bound") | no_prose)).alias("_verbatim_output"),
    ).with_columns([
        (pcol(side, f).str.len_chars() + 2 * pcol(side, f).str.count_matches(P.WIDE))
        .alias(f"_size_{side}_{f}")
        for side in SIDES for f in ("instruction", "output")
    ])  # fmt: skip


def judged(f: str) -> pl.Expr:
    """The translatable remainder of a target field, empty where it may stay verbatim."""
    if f == "instruction":
        return tcol(f)
    return pl.when(pl.col(f"_verbatim_{f}")).then(pl.lit("")).otherwise(tcol(f))


def copied_letters(f: str) -> pl.Expr:
    """Letters of the tokens a target field copied from the pivot (each token counted once
    per occurrence, approximately: once per distinct token)."""
    return (
        pl.col(f"_copied_{f}").list.eval(pl.element().str.count_matches(r"\p{L}")).list.sum()
    ).fill_null(0).cast(pl.Int64)
