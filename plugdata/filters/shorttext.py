"""Short texts (2 to ``short_max_words`` words) against the expected language's neighbours.

fastText is unsure of a few words, and close languages (es/pt/gl/ca/it/fr, id/ms, ...) share
most of them, so a short text is judged by fastText and lingua together (lingua restricted to
the expected language, its neighbours and the pivot). Names,
titles and quotes the text copied from the pivot are set aside first, and a bare list of nouns
is not judged. lingua runs only where it could change the verdict.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Context
from plugdata.filters.neighbour_table import NEIGHBOURS
from plugdata.filters.prepare import FIELDS, copied_tokens, judged
from plugdata.filters.rows import positions

NOUNS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){3,}\.?\s*$"  # "a, b, c, d"
QUOTE_FORMS = r"[’‘`´]"
DOUBLE_QUOTES = r"[\"“”„«»「」『』]"  # no sign of a language, and they put fastText off

Query = tuple[str, str, str, bool]  # text, expected language, pivot language, two words only


def remainders(df: pl.DataFrame, f: str) -> list[str]:
    """A target field's translatable remainder without the tokens it copied from the pivot
    (``df`` needs ``copied_tokens``; removed in Python: a per-row set of literal tokens)."""
    clean = judged(f).str.replace_all(QUOTE_FORMS, "'").str.replace_all(DOUBLE_QUOTES, " ")
    texts = df.select(clean).to_series().to_list()
    for i, tokens in enumerate(df[f"_copied_{f}"].to_list()):
        if tokens:
            text = texts[i]
            for token in sorted(tokens, key=len, reverse=True):  # quotes before their words
                text = text.replace(token, " ")
            texts[i] = " ".join(text.split())
    return texts


def columns(f: str) -> list[str]:
    """The columns of the prepared frame that :func:`queries` reads for field ``f``."""
    verbatim = [] if f == "instruction" else [f"_verbatim_{f}"]
    pivot = [f"_prose_pivot_{g}" for g in FIELDS]
    return ["target_lang", "pivot_lang", f"_trans_target_{f}", *verbatim, *pivot]


def queries(df: pl.DataFrame, f: str, ctx: Context) -> tuple[list[int], list[Query]]:
    """The rows of ``df`` whose field ``f`` is a short text to judge, and their queries."""
    cfg = ctx.config
    words = judged(f).str.count_matches(r"\p{L}+")
    langs = [
        t for t in df["target_lang"].unique().to_list() if NEIGHBOURS.get(t) and t not in P.SCRIPTS
    ]
    maybe = (words >= min(cfg.short_min_words, 2)) & (words <= 2 * cfg.short_max_words)
    rows = positions(df, maybe & pl.col("target_lang").is_in(langs))
    if not rows.size:
        return [], []
    at, found = _queries(df[rows], f, ctx)
    return [int(rows[j]) for j in at], found


def _queries(df: pl.DataFrame, f: str, ctx: Context) -> tuple[list[int], list[Query]]:
    cfg = ctx.config
    texts = remainders(copied_tokens(df, fields=(f,)), f)
    counts = pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(
        pl.col("t").str.count_matches(r"\p{L}+").alias("w"),
        pl.col("t").str.contains(NOUNS).alias("n"),
    )
    rows, out = [], []
    plang, tlang = df["pivot_lang"].to_list(), df["target_lang"].to_list()
    for i, (words, nouns) in enumerate(counts.iter_rows()):
        short = min(cfg.short_min_words, 2) <= words <= cfg.short_max_words and not nouns
        if short and NEIGHBOURS.get(tlang[i]) and tlang[i] not in P.SCRIPTS:
            rows.append(i)
            out.append((texts[i], tlang[i], plang[i], words < cfg.short_min_words))
    return rows, out


def judge(ctx: Context, asked: list[Query]) -> list[tuple[str | None, float]]:
    """Per query: the verdict (``langid:neighbour``, ``langid:pivot_language`` or None) and the
    probability of the expected language (averaged over the identifiers that ran). A query of
    two words needs a neighbour likelier by ``pair_margin`` and is not judged against the
    pivot. lingua's confidences lie in [0, 1], so where fastText puts the expected language
    ahead of every rival by more than one, lingua cannot change the verdict and is not asked."""
    if not asked:
        return []
    cfg = ctx.config
    fast = ctx.lid.distributions([text for text, *_ in asked])

    def rivals(i: int, top: dict[str, float]) -> tuple[float, float]:
        _, expected, pivot_lang, pair = asked[i]
        neighbour = max((top.get(n, 0.0) for n in NEIGHBOURS[expected]), default=0.0)
        margin = cfg.pair_margin if pair else cfg.short_margin
        pivot = top.get(pivot_lang, 0.0) if pivot_lang != expected and not pair else float("-inf")
        return neighbour - margin, pivot - cfg.short_margin - cfg.short_pivot_margin

    slow: dict[int, dict[str, float]] = {}
    if ctx.short is not None:
        undecided = [
            i
            for i in range(len(asked))
            if max(rivals(i, fast[i])) + 1 > fast[i].get(asked[i][1], 0.0)
        ]
        found = ctx.short.distributions([asked[i][0] for i in undecided])
        slow = dict(zip(undecided, found, strict=True))
    out = []
    for i, (_, expected, _, _) in enumerate(asked):
        both = fast[i]
        if i in slow:
            both = {k: fast[i].get(k, 0.0) + slow[i].get(k, 0.0) for k in {*fast[i], *slow[i]}}
        mine = both.get(expected, 0.0)
        neighbour, pivot = rivals(i, both)
        verdict = None
        if neighbour > mine:
            verdict = "langid:neighbour"
        elif pivot > mine:
            verdict = "langid:pivot_language"
        out.append((verdict, mine / (2 if i in slow else 1)))
    return out


def short_languages(targets: list[str], pivots: list[str]) -> list[str]:
    """The languages lingua is built for: the targets with neighbours, theirs, the pivots."""
    found = [t for t in targets if NEIGHBOURS.get(t) and t not in P.SCRIPTS]
    return list(dict.fromkeys([*found, *(n for t in found for n in NEIGHBOURS[t]), *pivots]))


__all__ = ["FIELDS", "columns", "judge", "queries", "short_languages"]
