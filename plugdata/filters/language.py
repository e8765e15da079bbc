"""The language checks: untranslated, script and langid, on the translatable remainder."""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.checks import Context, reason
from plugdata.filters.verbatim import FIELDS, OWN_SCRIPT, copied_letters, judged, pcol, tcol

LOWER_WORD = r"(?:^|[^\p{L}\d_])\p{Ll}{3,}(?:$|[^\p{L}\d_])"
PLAIN_WORD = r"^[\"'“‘(¿¡]*\p{L}[\p{L}'’-]*[.,!?;:\"'”’)]*$"  # a word, not an identifier
ITEMS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){2,}\.?\s*$"  # "a, b, c"
NOUNS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){3,}\.?\s*$"  # "a, b, c, d"


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


def untranslated(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The target repeats the pivot: an exact copy of a text of ``echo_min_words`` words or
    more (code and names aside), or, between Latin-script texts, most of the pivot's words.
    A copy the pair needs (``_verbatim_*``) is not held against it."""
    cfg = ctx.config
    latin = ~pl.col("target_lang").is_in(OWN_SCRIPT)
    cases = []
    for f in FIELDS:
        keep = pl.col(f"_verbatim_{f}") if f != "instruction" else pl.lit(False)
        words = sentence_words(tcol(f))
        same = (pcol("pivot", f) == pcol("target", f)) & (words >= cfg.echo_min_words)
        cases.append(("untranslated:exact_copy", same & ~keep))

    def words_of(side: str) -> pl.Expr:
        # Lower-case ASCII words: names (capitalised) are kept by translators, and words with
        # accents are already not the pivot's.
        if side == "pivot":
            text = pl.concat_str([pcol(side, f) for f in ("instruction", "output")], separator=" ")
        else:
            text = pl.concat_str([judged(f) for f in ("instruction", "output")], separator=" ")
        return text.str.extract_all(r"[a-z]{3,}").list.unique()

    p, t = words_of("pivot"), words_of("target")
    shared = p.list.set_intersection(t).list.len() / pl.max_horizontal(p.list.len(), pl.lit(1))
    overlap = latin & (pl.col("pivot_lang") != pl.col("target_lang"))
    overlap = overlap & (p.list.len() >= cfg.copy_min_words) & (shared >= cfg.copy_max_overlap)
    cases.append(("untranslated:word_overlap", overlap))
    return reason(df, cases)


def script(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Languages with their own script must be mostly written in it, counting only what should
    have been translated (code, names and quotes aside); Chinese without kana."""
    cfg = ctx.config
    text = pl.concat_str([judged(f) for f in ("instruction", "input", "output")], separator=" ")
    copied = sum(
        (pl.when(pl.col(f"_verbatim_{f}")).then(0).otherwise(copied_letters(f)) if f != "instruction"
         else copied_letters(f)) for f in FIELDS
    )  # fmt: skip
    letters = text.str.count_matches(r"\p{L}").cast(pl.Int64)
    judged_letters = pl.max_horizontal(letters - copied, pl.lit(0))
    cases = []
    for lang in set(df["target_lang"].unique().to_list()) & set(P.SCRIPTS):
        mine = pl.col("target_lang") == lang
        own = text.str.count_matches(P.SCRIPTS[lang])
        share = own / pl.max_horizontal(judged_letters, pl.lit(1))
        low = mine & (judged_letters >= cfg.script_min_letters) & (share < cfg.script_min_share)
        cases.append(("script:low_share", low))
        if lang == "zh":
            kana = text.str.count_matches(P.KANA)
            cases.append(("script:kana", mine & (kana > letters * 0.05) & (kana >= 2)))
    return reason(df, cases)


def _remainders(df: pl.DataFrame) -> dict[str, list[str]]:
    """Per target field, the translatable remainder without the tokens copied from the pivot
    (removed in Python: a per-row set of literal tokens)."""
    out = {}
    for f in FIELDS:
        texts = df.select(judged(f).str.replace_all(r"[’‘`´]", "'"))[:, 0].to_list()
        copied = df[f"_copied_{f}"].to_list()
        for i, tokens in enumerate(copied):
            if tokens:
                text = texts[i]
                for token in sorted(tokens, key=len, reverse=True):  # quotes before their words
                    text = text.replace(token, " ")
                texts[i] = " ".join(text.split())
        out[f] = texts
    return out


def _count(texts: list[str], pattern: str) -> list[int]:
    return pl.Series(texts, dtype=pl.String).str.count_matches(pattern).to_list()


def langid(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Target fields in the target language (and source instructions in the pivot language).

    Judged on the translatable remainder. Texts of ``short_min_words`` to ``short_max_words``
    words are judged against the target language's confusable neighbours (it/es/pt/ca/fr):
    fastText and a short-text identifier must together find a neighbour likelier by
    ``short_margin``. Longer texts fail below ``lid_min_prob`` where their pivot field is
    confidently in the pivot language (quoted foreign text, as in translation tasks, stays
    foreign). Languages with their own script are left to the script check. Probabilities of
    the expected language are kept as ``lid_*`` columns.
    """
    from plugdata.filters.langid import NEIGHBOURS

    cfg, lid = ctx.config, ctx.lid
    lid.prepare(df.height)
    target = _remainders(df)
    pivot = {f: df.select(pcol("pivot", f).str.replace_all(f"{P.VERBATIM}|{P.QUOTED}", " ")
                          .str.replace_all(r"[’‘`´]", "'"))[:, 0].to_list() for f in FIELDS}  # fmt: skip
    plang, tlang = df["pivot_lang"].to_list(), df["target_lang"].to_list()
    out: list[str | None] = [None] * df.height
    scores: dict[str, list[float | None]] = {f"lid_{s}_{f}": [None] * df.height
                                             for s in ("pivot", "target") for f in FIELDS}  # fmt: skip

    def identify(side: str, f: str, rows: list[int]) -> list[float]:
        texts, langs = (pivot, plang) if side == "pivot" else (target, tlang)
        probs = lid.probabilities([(texts[f][i], langs[i]) for i in rows])
        for i, p in zip(rows, probs, strict=True):
            scores[f"lid_{side}_{f}"][i] = p
        return probs

    letters = _count(pivot["instruction"], r"\p{L}")
    rows = [i for i in range(df.height) if letters[i] >= 40]
    for i, p in zip(rows, identify("pivot", "instruction", rows), strict=True):
        if p < cfg.lid_pivot_min_prob:
            out[i] = "langid:pivot_not_pivot"  # the source instruction is not in the pivot language
    latin = [i for i in range(df.height) if tlang[i] not in P.SCRIPTS]
    for f in FIELDS:
        words, letters = _count(target[f], r"\p{L}+"), _count(target[f], r"\p{L}")
        items = _count(target[f], NOUNS)  # a bare list of nouns says little about its language
        long = [i for i in latin if words[i] > cfg.short_max_words and letters[i] >= cfg.lid_min_letters]  # fmt: skip
        failed = [i for i, p in zip(long, identify("target", f, long), strict=True)
                  if p < cfg.lid_min_prob]  # fmt: skip
        identify("pivot", f, [i for i in failed if scores[f"lid_pivot_{f}"][i] is None])
        for i in failed:
            if out[i] is None and scores[f"lid_pivot_{f}"][i] >= cfg.lid_min_prob:  # type: ignore[operator]
                out[i] = "langid:wrong_language"
        short = [i for i in latin if cfg.short_min_words <= words[i] <= cfg.short_max_words
                 and tlang[i] in NEIGHBOURS and not items[i]]  # fmt: skip
        for i, verdict, p in _short(ctx, [(target[f][i], tlang[i], plang[i]) for i in short]):
            scores[f"lid_target_{f}"][short[i]] = p
            if verdict and out[short[i]] is None:
                out[short[i]] = verdict
    for name, values in scores.items():
        ctx.scores[name] = pl.Series(name, values, dtype=pl.Float64)
    return pl.Series("x", out, dtype=pl.String)


def _short(ctx: Context, queries: list[tuple[str, str, str]]) -> list[tuple[int, str | None, float]]:  # fmt: skip
    """Short texts against the expected language's neighbours: (index, verdict, probability
    of the expected language, averaged over the identifiers)."""
    from plugdata.filters.langid import NEIGHBOURS

    if not queries:
        return []
    fast = ctx.lid.distributions([text for text, _, _ in queries])
    slow = ctx.short.distributions([text for text, _, _ in queries]) if ctx.short else None
    margin = ctx.config.short_margin
    out = []
    for i, (_, expected, pivot_lang) in enumerate(queries):
        def score(lang: str, i: int = i) -> float:
            return fast[i].get(lang, 0.0) + (slow[i].get(lang, 0.0) if slow else 0.0)

        mine = score(expected)
        verdict = None
        if max((score(n) for n in NEIGHBOURS[expected]), default=0.0) > mine + margin:
            verdict = "langid:neighbour"
        elif pivot_lang != expected and score(pivot_lang) > mine + margin + 0.6:
            verdict = "langid:pivot_language"
        out.append((i, verdict, mine / (2 if slow else 1)))
    return out
