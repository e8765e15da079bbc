"""The langid check: target fields in the target language, source instructions in the pivot
language, short texts against their confusable neighbours.

Cheap first: a text whose function words already say it is in the expected language
(:mod:`markers`) is not identified, and only the remaining rows have the names and quotes they
copied from the pivot set aside (:func:`~plugdata.filters.verbatim.copied_tokens`) and go
through fastText (and lingua for short texts).
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.checks import Context
from plugdata.filters.config import FilterConfig
from plugdata.filters.markers import WORDS, contrasting, likely_in
from plugdata.filters.rows import gather, positions
from plugdata.filters.verbatim import FIELDS, copied_tokens, judged, pcol

NOUNS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){3,}\.?\s*$"  # "a, b, c, d"
QUOTE_FORMS = r"[’‘`´]"
DOUBLE_QUOTES = r"[\"“”„«»「」『』]"  # no sign of a language, and they put fastText off short texts


def _few_words(f: str, cfg: FilterConfig) -> pl.Expr:
    """A field whose translatable text has at most twice ``short_max_words`` words, or quotes."""
    text = judged(f)
    few = text.str.count_matches(r"\s+") < 2 * cfg.short_max_words
    return few | text.str.contains(r"[\"“「『«']")


def settled(df: pl.DataFrame, ctx: Context, questions: tuple[str, ...] = ("pivot", *FIELDS)) -> pl.DataFrame:  # fmt: skip
    """:func:`_settled` for these questions, each worked out once per chunk."""
    for name in questions:
        if f"settled:{name}" not in ctx.chunk:
            ctx.chunk[f"settled:{name}"] = _settled(df, ctx.config.lid_markers, name)
    return pl.DataFrame([ctx.chunk[f"settled:{name}"] for name in questions])


def _settled(df: pl.DataFrame, k: int, name: str) -> pl.Series:
    """Per row, whether function words settle a question: ``pivot`` (the pivot instruction
    is in the pivot language) or a field (the target field is in the target language; an
    empty field or a language with its own script, left to the script check, is settled too).
    Each language's words are looked for in its own rows only."""
    if name == "pivot":
        by, text = "pivot_lang", pcol("pivot", "instruction")
        out = pl.Series(name, [False] * df.height, dtype=pl.Boolean)
    else:
        by, text = "target_lang", judged(name)
        out = df.select((pl.col("target_lang").is_in(list(P.SCRIPTS)) | (text == "")).alias(name))[name]
    for lang in df[by].unique().to_list():
        if lang not in WORDS or lang in P.SCRIPTS:
            continue
        rows = positions(df, (pl.col(by) == lang) & ~out)
        if not rows.size:
            continue
        texts = df[rows].select(text.alias("t"))
        if name == "pivot":  # each distinct text once (pivot texts repeat across languages)
            unique = texts.unique()
            unique = unique.with_columns(likely_in(unique, pl.col("t"), lang, k).alias("hit"))
            hit = texts.join(unique, on="t", how="left", maintain_order="left")["hit"]
        else:
            hit = likely_in(texts, pl.col("t"), lang, k)
        out = out.scatter(rows, hit)
    return out


def pivot_answers(df: pl.DataFrame, ctx: Context, *, wait: bool = True) -> tuple[pl.Series, pl.Series]:  # fmt: skip
    """:func:`_pivot_question` on the pivot instructions function words did not settle,
    worked out once per chunk; ``wait``: for the thread that ``ctx.chunk["pivot_job"]`` says
    is working them out."""
    if wait and (job := ctx.chunk.get("pivot_job")) is not None:
        job.wait()
    if "pivot_answers" not in ctx.chunk:
        ctx.chunk["pivot_answers"] = _pivot_question(df, ctx, ~settled(df, ctx, ("pivot",))["pivot"])
    return ctx.chunk["pivot_answers"]


def langid(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Target fields in the target language (and source instructions in the pivot language).

    Judged on the translatable remainder. Texts of ``short_min_words`` to ``short_max_words``
    words are judged against the target language's confusable neighbours (it/es/pt/ca/fr):
    fastText and a short-text identifier must together find a neighbour likelier by
    ``short_margin``. Longer texts fail below ``lid_min_prob`` where their pivot field is
    confidently in the pivot language (quoted foreign text, as in translation tasks, stays
    foreign). Languages with their own script are left to the script check. Texts holding
    ``lid_markers`` function words of the expected language and none of its neighbours' are
    not identified. Probabilities of the expected language are kept as ``lid_*`` columns (null
    where a text was not identified).
    """
    known = settled(df, ctx, FIELDS)
    rows = positions(df, ~known.select(pl.all_horizontal(FIELDS))[:, 0])
    done = {f: known[f].gather(rows).to_list() for f in FIELDS}
    needed = [c for c in df.columns if c.startswith(("_prose_", "_trans_", "_verbatim_", "_same_", "pivot_"))]
    part = df.select("target_lang", *needed)[rows]
    # Names and quotes copied from the pivot are set aside where a field is open and short
    # enough for them to matter (a long text is identified with them in)
    short = [~known[f].gather(rows) & part.select(_few_words(f, ctx.config))[:, 0] for f in FIELDS]
    open_fields = pl.select(pl.any_horizontal(short)).to_series() if rows.size else None
    pivot_verdict, pivot_score = pivot_answers(df, ctx)
    seed = pivot_score.gather(rows).to_list()
    verdicts, scores = _judge(copied_tokens(part, open_fields), ctx, done, seed) if rows.size else ([], {
        f"lid_{side}_{f}": [] for side in ("pivot", "target") for f in FIELDS})  # fmt: skip
    for name, values in scores.items():
        ctx.scores[name] = gather(pl.Series(name, values, dtype=pl.Float64), rows, df.height)
    ctx.scores["lid_pivot_instruction"] = ctx.scores["lid_pivot_instruction"].fill_null(pivot_score)
    # the pivot's verdict first, as a check names one sub-reason per row
    return pivot_verdict.fill_null(gather(pl.Series("x", verdicts, dtype=pl.String), rows, df.height))


def _pivot_question(df: pl.DataFrame, ctx: Context, open_rows: pl.Series) -> tuple[pl.Series, pl.Series]:  # fmt: skip
    """Source instructions (of 40 letters or more, code and quotes aside) that are not in the
    pivot language, where function words did not settle them: the verdict and the score per
    row. Each distinct pivot instruction is identified once (they repeat across languages)."""
    height = df.height
    rows = positions(df, open_rows)
    if not rows.size:
        return pl.Series("x", [None] * height, dtype=pl.String), pl.Series("s", [None] * height, dtype=pl.Float64)  # fmt: skip
    asked = df[rows].select(pcol("pivot", "instruction").alias("t"), "pivot_lang")
    unique = asked.unique()
    clean = pl.col("t").str.replace_all(f"{P.VERBATIM}|{P.QUOTED}", " ").str.replace_all(QUOTE_FORMS, "'")
    unique = unique.with_columns(clean.alias("c")).filter(pl.col("c").str.count_matches(r"\p{L}") >= 40)
    probs = ctx.lid.probabilities(list(unique.select("c", "pivot_lang").iter_rows()))
    unique = unique.with_columns(pl.Series("s", probs, dtype=pl.Float64))
    score = asked.join(unique, on=["t", "pivot_lang"], how="left", maintain_order="left")["s"]
    verdict = pl.select(pl.when(score < ctx.config.lid_pivot_min_prob)
                        .then(pl.lit("langid:pivot_not_pivot")).otherwise(None).alias("x"))["x"]  # fmt: skip
    return gather(verdict, rows, height), gather(score, rows, height)


class _PivotTexts:
    """Pivot prose without code and quoted text (quoted foreign text, as in translation tasks,
    is not the pivot's language), worked out on first use, per row."""

    def __init__(self, prose: list[str]) -> None:
        self.prose = prose
        self.cache: dict[int, str] = {}

    def __getitem__(self, i: int) -> str:
        if i not in self.cache:
            self.fill([i])
        return self.cache[i]

    def fill(self, rows: list[int]) -> None:
        new = [i for i in rows if i not in self.cache]
        texts = pl.Series([self.prose[i] for i in new], dtype=pl.String)
        clean = texts.str.replace_all(f"{P.VERBATIM}|{P.QUOTED}", " ").str.replace_all(QUOTE_FORMS, "'")
        self.cache.update(zip(new, clean.to_list(), strict=True))


def _remainders(df: pl.DataFrame) -> dict[str, list[str]]:
    """Per target field, the translatable remainder without the tokens copied from the pivot
    (removed in Python: a per-row set of literal tokens)."""
    out = {}
    for f in FIELDS:
        texts = df.select(judged(f).str.replace_all(QUOTE_FORMS, "'").str.replace_all(DOUBLE_QUOTES, " "))[:, 0].to_list()  # fmt: skip
        copied = df[f"_copied_{f}"].to_list()
        for i, tokens in enumerate(copied):
            if tokens:
                text = texts[i]
                for token in sorted(tokens, key=len, reverse=True):  # quotes before their words
                    text = text.replace(token, " ")
                texts[i] = " ".join(text.split())
        out[f] = texts
    return out


def _counts(texts: list[str], rows: list[int]) -> dict[int, tuple[int, int, int]]:
    """Words, letters and bare lists of nouns (0 or 1) of the texts at ``rows``, by row."""
    t = pl.col("t")
    found = pl.DataFrame({"t": [texts[i] for i in rows]}, schema={"t": pl.String}).select(
        t.str.count_matches(r"\p{L}+"), t.str.count_matches(r"\p{L}").alias("l"), t.str.count_matches(NOUNS).alias("n"))  # fmt: skip
    return dict(zip(rows, found.iter_rows(), strict=True))


def _judge(df: pl.DataFrame, ctx: Context, done: dict[str, list[bool]], seed: list[float | None]) -> tuple[list[str | None], dict[str, list[float | None]]]:  # fmt: skip
    """:func:`langid`'s target fields on the rows function words did not settle (``done``:
    per field, per row, whether they did): verdicts and ``lid_*`` scores per row (``seed``:
    the pivot instructions' scores already known)."""
    from plugdata.filters.langid import NEIGHBOURS

    cfg, lid = ctx.config, ctx.lid
    target = _remainders(df)
    prose = {f: df[f"_prose_pivot_{f}"].to_list() for f in FIELDS}
    pivot = {f: _PivotTexts(prose[f]) for f in FIELDS}
    plang, tlang = df["pivot_lang"].to_list(), df["target_lang"].to_list()
    same = {f: df[f"_same_{f}"].to_list() for f in FIELDS}
    out: list[str | None] = [None] * df.height
    scores: dict[str, list[float | None]] = {f"lid_{s}_{f}": [None] * df.height
                                             for s in ("pivot", "target") for f in FIELDS}  # fmt: skip
    scores["lid_pivot_instruction"] = list(seed)

    def identify(side: str, f: str, rows: list[int]) -> list[float]:
        texts, langs = (pivot, plang) if side == "pivot" else (target, tlang)
        if side == "pivot":
            pivot[f].fill(rows)
        probs = lid.probabilities([(texts[f][i], langs[i]) for i in rows])
        for i, p in zip(rows, probs, strict=True):
            scores[f"lid_{side}_{f}"][i] = p
        return probs

    for f in FIELDS:
        latin = [i for i in range(df.height) if not done[f][i]]
        counts = _counts(target[f], latin)  # a bare list of nouns says little about its language
        words = {i: n for i, (n, _, _) in counts.items()}
        long = [i for i in latin if words[i] > cfg.short_max_words and counts[i][1] >= cfg.lid_min_letters]  # fmt: skip
        failed = [i for i, p in zip(long, identify("target", f, long), strict=True)
                  if p < cfg.lid_min_prob]  # fmt: skip
        identify("pivot", f, [i for i in failed if scores[f"lid_pivot_{f}"][i] is None])
        for i in failed:
            if out[i] is None and scores[f"lid_pivot_{f}"][i] >= cfg.lid_min_prob:  # type: ignore[operator]
                out[i] = "langid:wrong_language"
            elif out[i] is None and _neighbour_first(ctx, target[f][i], pivot[f][i], tlang[i]):
                out[i] = "langid:neighbour"
        # two-word texts too, judged against the neighbours only, with a far wider margin
        short = [i for i in latin if min(cfg.short_min_words, 2) <= words[i] <= cfg.short_max_words
                 and tlang[i] in NEIGHBOURS and not counts[i][2]]  # fmt: skip
        queries = [(target[f][i], tlang[i], plang[i], words[i] < cfg.short_min_words) for i in short]
        verdicts = {}
        for i, verdict, p in _short(ctx, queries):
            scores[f"lid_target_{f}"][short[i]] = p
            if verdict and out[short[i]] is None:
                verdicts[short[i]] = verdict
        # a copy of a pivot input or output that is not in the pivot language is what the
        # pair needs (as for untranslated)
        copies = [i for i in verdicts if f != "instruction" and same[f][i]]
        for i, p in zip(copies, identify("pivot", f, copies), strict=True):
            if p < cfg.lid_min_prob:
                del verdicts[i]
        for i, verdict in verdicts.items():
            out[i] = verdict
    return out, scores


def _neighbour_first(ctx: Context, text: str, pivot: str, expected: str) -> bool:
    """fastText puts a confusable neighbour of the expected language first, with at least
    ``neighbour_min_prob``, and the pivot text is not in that language (a swap of close
    languages, such as Spanish in an Italian slot, whatever the pivot)."""
    from plugdata.filters.langid import NEIGHBOURS

    top, source = ctx.lid.distributions([text, pivot])
    best = max(top, key=top.__getitem__, default=None)
    return (best in NEIGHBOURS.get(expected, ()) and top[best] >= ctx.config.neighbour_min_prob
            and source.get(best, 0.0) < ctx.config.lid_min_prob)  # fmt: skip


def _short(ctx: Context, queries: list[tuple[str, str, str, bool]]) -> list[tuple[int, str | None, float]]:  # fmt: skip
    """Short texts against the expected language's neighbours: (index, verdict, probability
    of the expected language, averaged over the identifiers that ran). A query marked as a
    pair of words needs a neighbour likelier by ``pair_margin`` and is not judged against
    the pivot language. The short-text identifier runs only where it could change the verdict:
    its confidences lie in [0, 1], so where fastText puts the expected language ahead by more
    than that, it cannot."""
    from plugdata.filters.langid import NEIGHBOURS

    if not queries:
        return []
    cfg = ctx.config
    fast = ctx.lid.distributions([text for text, *_ in queries])
    # a neighbour's own function words (ones the expected language never uses), with none of
    # the expected language's apart from that neighbour, count for the neighbour
    hints = [contrasting(text, expected) for text, expected, *_ in queries]

    def rivals(i: int, top: dict[str, float], expected: str, pivot_lang: str, pair: bool) -> tuple[float, float]:  # fmt: skip
        neighbour = max((top.get(n, 0.0) + cfg.short_marker_weight * (n in hints[i])
                         for n in NEIGHBOURS[expected]), default=0.0)  # fmt: skip
        pivot = top.get(pivot_lang, 0.0) if pivot_lang != expected and not pair else float("-inf")
        return neighbour - (cfg.pair_margin if pair else cfg.short_margin), pivot - cfg.short_margin - 0.6

    slow: dict[int, dict[str, float]] = {}
    if ctx.short:
        undecided = [i for i, (_, e, p, pair) in enumerate(queries)
                     if max(rivals(i, fast[i], e, p, pair)) + 1 > fast[i].get(e, 0.0)]  # fmt: skip
        found = ctx.short.distributions([queries[i][0] for i in undecided])
        slow = dict(zip(undecided, found, strict=True))
    out = []
    for i, (_, expected, pivot_lang, pair) in enumerate(queries):
        both = {k: fast[i].get(k, 0.0) + slow[i].get(k, 0.0) for k in {*fast[i], *slow[i]}} if i in slow else fast[i]  # fmt: skip
        mine = both.get(expected, 0.0)
        neighbour, pivot = rivals(i, both, expected, pivot_lang, pair)
        verdict = None
        if neighbour > mine:
            verdict = "langid:neighbour"
        elif pivot > mine:
            verdict = "langid:pivot_language"
        out.append((i, verdict, mine / (2 if i in slow else 1)))
    return out
