"""``script``: languages with a script of their own (``patterns.SCRIPTS``: zh, ja, ko, ru, ar,
hi, th) must be mostly written in it, counting only what should have been translated.

Sub-reasons: ``script:low_share`` (evidence: the text), ``script:kana`` (Chinese with kana),
``script:hanzi`` (Japanese with no kana, in Han characters Japanese does not use: Chinese).
Reads ``script_min_share``, ``script_min_letters``, ``kana_max_share``, ``kana_min_letters``,
``hanzi_min``, ``echo_foreign_min_prob`` (an instruction that quotes another language may stay
in its script, where the language identifier is loaded).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context, no_verdicts, place, verdicts
from plugdata.filters.prepare import FIELDS, copied_letters, copied_tokens, judged
from plugdata.filters.rows import gather, positions
from plugdata.filters.segments import count_chars

READS = (
    "script_min_share",
    "script_min_letters",
    "kana_max_share",
    "kana_min_letters",
    "hanzi_min",
    "echo_foreign_min_prob",
)

REASONS = ("script:low_share", "script:kana", "script:hanzi")


def _copied(part: str) -> pl.Expr:
    """Letters a part copied from the pivot (needs ``copied_tokens``)."""
    out = pl.lit(0, pl.Int64)
    for f in PARTS[part]:
        if f == "instruction":
            out = out + copied_letters(f)
        else:
            out = out + pl.when(pl.col(f"_verbatim_{f}")).then(0).otherwise(copied_letters(f))
    return out


# The request (instruction and input, the data it works on, together) and the answer are
# judged apart: a Chinese request with an English answer is not mostly Chinese.
PARTS = {"request": ("instruction", "input"), "output": ("output",)}


def _text(part: str) -> pl.Expr:
    return pl.concat_str([judged(f) for f in PARTS[part]], separator=" ")


def _language(part: pl.DataFrame, lang: str, ctx: Context) -> pl.Series:
    """The verdicts of one language's rows, request and answer apart."""
    cfg = ctx.config
    cjk = lang in ("zh", "ja", "ko")
    wide = 3 if cjk else 1  # a CJK character counts three, as in sizes
    part = part.with_columns(_text(f).alias(f"_t_{f}") for f in PARTS)  # joined once
    for f in PARTS:
        text = pl.col(f"_t_{f}")
        letters = count_chars(text, r"\p{L}") + 2 * count_chars(text, P.WIDE, dense=cjk)
        part = part.with_columns(
            letters.alias(f"_l_{f}"),
            (count_chars(text, P.SCRIPTS[lang]) * wide).alias(f"_o_{f}"),
            pl.lit(0, pl.Int64).alias(f"_c_{f}"),
        )

    def low(f: str) -> pl.Expr:
        letters = pl.col(f"_l_{f}") - pl.col(f"_c_{f}")
        share = pl.col(f"_o_{f}") / pl.max_horizontal(letters, pl.lit(1))
        return (letters >= cfg.script_min_letters) & (share < cfg.script_min_share)

    again = positions(part, pl.any_horizontal(low(f) for f in PARTS))
    if again.size:  # low even with every letter counted: set copies aside
        redo = copied_tokens(part[again]).select(_copied(f).alias(f"_c_{f}") for f in PARTS)
        part = part.with_columns(gather(c, again, part.height, 0) for c in redo.get_columns())
    cases = [("script:low_share", PARTS[f][0], low(f), pl.col(f"_t_{f}")) for f in PARTS]
    if lang == "zh":
        text = pl.concat_str([judged(f) for f in FIELDS], separator=" ")
        kana = text.str.count_matches(P.KANA)
        letters = sum(pl.col(f"_l_{f}") for f in PARTS)
        many = (kana > letters * cfg.kana_max_share) & (kana >= cfg.kana_min_letters)
        cases.append(("script:kana", "", many, text.str.extract(f"({P.KANA}+)")))
    if lang == "ja":
        for f in PARTS:
            part = part.with_columns(_hanzi(part, f, cfg.hanzi_min).alias(f"_h_{f}"))
            cases.append(("script:hanzi", PARTS[f][0], pl.col(f"_h_{f}"), pl.col(f"_t_{f}")))
    return verdicts(part, cases)


def _hanzi(part: pl.DataFrame, f: str, k: int) -> pl.Series:
    """Whether a Japanese part with no kana holds ``k`` or more Han characters Japanese does
    not use, that is, is Chinese: characters outside JIS X 0208, the Japanese character set
    (through Python's ``cp932`` codec: 们, 这, 说 and most simplified characters). No
    NTREX-128 Japanese sentence holds one, and 99% of its Chinese ones do."""
    text = pl.col(f"_t_{f}")
    rows = positions(part, ~text.str.contains(P.KANA) & text.str.contains(r"\p{Han}"))
    found = np.zeros(part.height, dtype=bool)
    if k > 0:
        for i, value in zip(rows, part[f"_t_{f}"].gather(rows), strict=True):
            found[i] = sum(not _japanese(c) for c in _HAN.findall(value)) >= k
    return pl.Series(found, dtype=pl.Boolean)


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


@cache
def _japanese(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The request's (instruction and input) or the answer's translatable letters (code,
    names and quotes copied from the pivot aside, a CJK character counting three) are under
    ``script_min_share`` in the language's script; Chinese holds kana; "Japanese" is Chinese.
    Copied names and quotes are looked for only where the share is low without them; an
    instruction that is a quote in another language may stay as it is."""
    out = no_verdicts(df.height)
    for lang in sorted(set(df["target_lang"].unique().to_list()) & set(P.SCRIPTS)):
        rows = positions(df, pl.col("target_lang") == lang)
        if rows.size:
            out = place(out, rows, _language(df[rows], lang, ctx))
    return _quotes_kept(df, ctx, out)


def _quotes_kept(df: pl.DataFrame, ctx: Context, out: pl.Series) -> pl.Series:
    """An instruction (with no input) copied from a pivot instruction that the identifier
    surely puts in another language (``echo_foreign_min_prob``: "Ich verstehe nur Bahnhof" for
    a Korean target) is a quote the pair needs, not text left in the wrong script."""
    verdict = pl.col("x").struct
    low = (verdict.field("reason") == "script:low_share") & (
        verdict.field("field") == "instruction"
    )
    copied = pl.col("_same_instruction") & (judged("input") == "")
    rows = positions(df.with_columns(out), (low & copied).fill_null(False))
    kept = ctx.quoted_instructions(df, rows)
    if not kept.size:
        return out
    return place(out, kept, no_verdicts(kept.size))


CHECK = Check("script", run, reasons=REASONS, reads=READS)
