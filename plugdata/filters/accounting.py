"""Language accounting: every segment of every target field identified, and each field judged
by the shares of its prose in the target, the pivot and other languages.

1. Each target field's translatable remainder (code, URLs, placeholders, numbers and quotes set
   aside; a field that may stay a copy of the pivot's left out) is cut into segments
   (:mod:`~plugdata.filters.segments`); segments under ``segment_min_letters`` are not counted.
2. Cheap first: a segment in a script only its language writes (``segment_own_script``: Hangul,
   kana, Thai; Chinese without kana, whose one neighbour writes kana) or holding ``lid_markers``
   more stopwords only its language uses than words only its rivals use, and none only the
   pivot uses (:mod:`~plugdata.filters.markers`), is in the target language. fastText lid.176
   identifies the rest. Each distinct segment (text and languages) is placed once.
3. A segment is **target** where the target language has ``lid_min_prob`` or comes first;
   **neighbour** where a confusable neighbour (:mod:`~plugdata.filters.neighbour_table`) comes
   first with ``neighbour_min_prob`` and leads the target language by ``neighbour_margin``;
   **pivot** or **other** where the pivot or another language comes first with
   ``foreign_min_prob``. Anything less is doubt, and doubt counts for the target. But a
   segment holding
   ``lid_markers`` stopwords only the target uses and none only the identified language uses
   is target (names mislead the identifier). A segment that repeats one of the
   pivot record's in another language than the pivot's is a quote, set aside; one that repeats
   a pivot segment and reads as the pivot is **copied** (``untranslated:copied_sentence``).
4. Per field, weighted by letters (a CJK one counting three): the shares of target and pivot,
   the mean probability of the target over identified segments, and the heaviest foreign
   segment as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.markers import WORD, likely_in, words
from plugdata.filters.neighbour_table import NEIGHBOURS
from plugdata.filters.prepare import CODE_HINT, FIELDS, judged, pcol, set_aside
from plugdata.filters.rows import gather, on_rows, positions
from plugdata.filters.segments import count_chars, key, split

if TYPE_CHECKING:
    from plugdata.filters.check import Context

__all__ = ["Accounting", "account"]

# Code (patterns.VERBATIM) and quotes (patterns.QUOTED) each need one of these.
ASIDE_HINT = f"{CODE_HINT}|[\"“「『«']"
_TEXT = ("text", "target_lang", "pivot_lang")  # what a segment's verdict hangs on

_TOKEN = WORD
_QUOTE = re.compile(
    r'"[^"\n]+"|“[^”\n]+”|„[^“”\n]+[“”]|「[^」\n]+」|『[^』\n]+』|«[^»\n]+»|《[^》\n]+》'
)


@dataclass(frozen=True)
class Accounting:
    """One chunk's language accounting (rows as in the prepared frame).

    ``segments``: one row per counted target segment: ``row``, ``field``, ``text``,
    ``weight``, ``side`` (target, pivot, neighbour, other), ``label`` (the identifier's first
    language, null where settled without it) and ``p_top`` (its probability), ``p_target`` and
    ``copied`` (it repeats a pivot
    segment). ``fields``: one row per pair: ``weight_{f}`` (counted letters),
    ``share_target_{f}``, ``share_pivot_{f}``, ``lid_target_{f}`` (null where nothing was
    identified), ``major_{f}`` (the side with most weight), and of the heaviest segment not in
    the target language, ``foreign_{f}`` (its text), ``label_{f}`` (its language) and
    ``p_foreign_{f}`` (that language's probability). ``pivot_instruction``: the probability
    that each
    pivot instruction is in the pivot language (null where stopwords settled it or it is short).
    """

    segments: pl.DataFrame
    fields: pl.DataFrame
    pivot_instruction: pl.Series


def account(df: pl.DataFrame, ctx: Context) -> Accounting:
    """The accounting of a prepared pair frame (see the module docstring)."""
    cfg = ctx.config
    segs = split(df, {f: judged(f) for f in FIELDS}, cfg.segment_min_letters)
    segs = segs.filter(pl.col("weight") >= cfg.segment_min_letters)
    langs = df.select("target_lang", "pivot_lang").with_row_index("row")
    segs = segs.join(langs.cast({"row": pl.UInt32}), on="row", how="left")
    # A segment's verdict hangs on its text and languages alone: each distinct one is placed
    # once (pivot records, and so their copies, repeat once per target language). Distinct
    # ones are told apart by a 64-bit hash of the three (as duplicate pairs are).
    segs = segs.with_columns(pl.struct(*_TEXT).hash(seed=18).alias("_key"))
    texts = segs.select("_key", *_TEXT, "weight").unique("_key", maintain_order=True)
    ctx.lid.prepare(texts.height)  # (worker processes start, for a large batch)
    texts = _identify(texts.with_columns(_settled(texts, ctx).alias("settled")), ctx)
    found = texts.drop(*_TEXT, "weight")
    segs = segs.join(found, on="_key", how="left", maintain_order="left").drop("_key")
    segs = _names_aside(df, segs, ctx)
    segs = _copies(df, segs)
    return Accounting(segs, _fields(segs, df.height), _pivot_instruction(df, ctx))


def _settled(segs: pl.DataFrame, ctx: Context) -> pl.Series:
    """Per segment, whether its script or its stopwords put it in the target language. Each
    language's unsettled segments are handed to the identifier as soon as they are known, so
    that it works on them while the next language is settled."""
    cfg = ctx.config
    out = pl.Series("settled", [False] * segs.height, dtype=pl.Boolean)
    if not segs.height:
        return out
    for (lang, pivot), part in segs.with_row_index("_i").group_by("target_lang", "pivot_lang"):
        lang, pivot = str(lang), str(pivot)
        rule = _script_rule(lang, cfg.segment_own_script)
        if rule is not None:
            hit = part.select(rule.fill_null(False)).to_series()
        else:
            hit = likely_in(part, pl.col("text"), lang, pivot, cfg.lid_markers, margin=True)
        if hit.any():
            out = out.scatter(part["_i"].filter(hit), True)
        ctx.lid.prefetch(part["text"].filter(~hit).to_list())
    return out


def _script_rule(lang: str, share: float) -> pl.Expr | None:
    """A segment ``share`` in the language's script and holding letters only it writes (or,
    where each of its neighbours writes letters of its own, none of theirs)."""
    if lang not in P.SCRIPTS:
        return None
    text = pl.col("text")
    wide = 3 if lang in ("zh", "ja", "ko") else 1  # as in the weight
    mine = count_chars(text, P.SCRIPTS[lang]) * wide >= pl.col("weight") * share
    if lang in P.OWN_LETTERS:
        return mine & text.str.contains(P.OWN_LETTERS[lang])
    near = NEIGHBOURS.get(lang, ())
    if near and all(n in P.OWN_LETTERS for n in near):
        theirs = "|".join(P.OWN_LETTERS[n] for n in near)
        return mine & ~text.str.contains(theirs)
    return None


def _identify(segs: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """``label``, ``p_target`` and ``side`` of every segment (fastText on the unsettled)."""
    cfg = ctx.config
    open_ = positions(segs, ~pl.col("settled"))
    asked = segs[open_].select("text", "target_lang", "pivot_lang")
    queries = list(asked.select("text", "target_lang").iter_rows())
    probs = ctx.lid.probabilities(queries) if queries else []
    tops = ctx.lid.distributions([t for t, _ in queries]) if queries else []
    labels, top_p = [], []
    for found in tops:
        best = max(found, key=found.__getitem__) if found else None
        labels.append(best)
        top_p.append(found.get(best, 0.0) if best else 0.0)
    height = segs.height
    segs = segs.with_columns(
        gather(pl.Series("label", labels, dtype=pl.String), open_, height),
        gather(pl.Series("p_target", probs, dtype=pl.Float64), open_, height),
        gather(pl.Series("p_top", top_p, dtype=pl.Float64), open_, height),
    )
    near = pl.col("label").is_in(
        pl.col("target_lang").replace_strict(
            {k: list(v) for k, v in NEIGHBOURS.items()}, default=[], return_dtype=pl.List(pl.String)
        )
    )
    sure = pl.col("p_top") >= cfg.foreign_min_prob
    side = (
        pl.when(pl.col("settled") | (pl.col("p_target") >= cfg.lid_min_prob))
        .then(pl.lit("target"))
        .when(pl.col("label").is_null() | (pl.col("label") == pl.col("target_lang")))
        .then(pl.lit("target"))
        .when(near)
        .then(
            pl.when(
                (pl.col("p_top") >= cfg.neighbour_min_prob)
                & (pl.col("p_top") - pl.col("p_target") >= cfg.neighbour_margin)
            )
            .then(pl.lit("neighbour"))
            .otherwise(pl.lit("target"))
        )
        .when(~sure)
        .then(pl.lit("target"))
        .when(pl.col("label") == pl.col("pivot_lang"))
        .then(pl.lit("pivot"))
        .otherwise(pl.lit("other"))
    )
    segs = segs.with_columns(side.alias("side"))
    return _contrast(segs, cfg.lid_markers)


def _contrast(segs: pl.DataFrame, k: int) -> pl.DataFrame:
    """Segments the identifier put in another language that holds a stopword list, but that
    hold ``k`` stopwords only the target language uses (of the two) and none only that other
    language uses, are in the target language: names and loanwords mislead the identifier
    ("Norman Eisen, profesor emérito de la Brookings Institution" reads as English)."""
    rows = positions(segs, (pl.col("side") != "target") & pl.col("label").is_not_null())
    if k <= 0 or not rows.size:
        return segs
    flip = []
    for i, (text, lang, label) in zip(
        rows, segs[rows].select("text", "target_lang", "label").iter_rows(), strict=True
    ):
        mine, theirs = words(lang), words(label)
        if mine and theirs:
            found = set(_TOKEN.findall(text.lower()))
            if len(found & (mine - theirs)) >= k and not found & (theirs - mine):
                flip.append(int(i))
    if not flip:
        return segs
    mask = pl.Series(np.isin(np.arange(segs.height), flip))
    return segs.with_columns(
        pl.when(mask).then(pl.lit("target")).otherwise(pl.col("side")).alias("side")
    )


def _names_aside(df: pl.DataFrame, segs: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Segments found in another language are identified again without the quotes and names
    they copied from the pivot record (capitalised or mixed-case words, "Brookings
    Institution"): in the target language without them, they are target segments."""
    rows = positions(segs, pl.col("side") != "target")
    if not rows.size:
        return segs
    record = pl.concat_str([pcol("pivot", f) for f in FIELDS], separator=" ")
    names = df.select(record).to_series().to_list()
    asked, where = [], []
    for i, row, whole, lang in zip(
        rows, *segs[rows].select("row", "text", "target_lang"), strict=True
    ):
        text = whole
        for quote in _QUOTE.findall(text):
            if quote[1:-1].strip() and quote[1:-1].strip() in names[row]:
                text = text.replace(quote, " ")
        source = set(_TOKEN.findall(names[row]))
        kept = [w for w in _TOKEN.findall(text) if not (w in source and not w.islower())]
        rest = " ".join(kept)
        if (
            rest != " ".join(_TOKEN.findall(whole))
            and sum(map(len, kept)) >= ctx.config.segment_min_letters
        ):
            asked.append((rest, lang))
            where.append(int(i))
    if not asked:
        return segs
    probs = ctx.lid.probabilities(asked)
    tops = ctx.lid.distributions([t for t, _ in asked])
    flip = [
        i
        for i, p, top, (_, lang) in zip(where, probs, tops, asked, strict=True)
        if p >= ctx.config.lid_min_prob or (top and max(top, key=top.__getitem__) == lang)
    ]
    if not flip:
        return segs
    mask = pl.Series(np.isin(np.arange(segs.height), flip))
    return segs.with_columns(
        pl.when(mask).then(pl.lit("target")).otherwise(pl.col("side")).alias("side")
    )


def _copies(df: pl.DataFrame, segs: pl.DataFrame) -> pl.DataFrame:
    """``copied``: a foreign segment's letters occur as they are in the pivot record's
    (lower case, letters only, so segment ends and spacing do not matter). Where it reads as
    the pivot it is untranslated; in another language it is a quote the pivot holds too, and
    is set aside."""
    foreign = positions(segs, pl.col("side") != "target")
    if not foreign.size:
        return segs.with_columns(pl.lit(False).alias("copied"))
    record = pl.concat_str([pcol("pivot", f) for f in FIELDS], separator=" ")
    asked = segs[foreign].select("row", key(pl.col("text")).alias("_k"))
    rows = asked["row"].unique()  # the pivot records of the foreign segments, keyed once
    keys = df.select(record.alias("_r"))[rows.to_numpy()].select(key(pl.col("_r")).alias("_pk"))
    asked = asked.join(keys.with_columns(rows), on="row", how="left")
    found = asked.select(
        (pl.col("_k") != "") & pl.col("_pk").str.contains(pl.col("_k"), literal=True)
    ).to_series()
    copied = gather(found.fill_null(False), foreign, segs.height, False).alias("copied")
    marked = segs.with_columns(copied)
    quotes = pl.col("copied") & pl.col("side").is_in(["other", "neighbour"])
    return marked.filter(~quotes)


def _fields(segs: pl.DataFrame, height: int) -> pl.DataFrame:
    """Per row and field: counted weight, shares, mean target probability, major side and
    the heaviest foreign segment."""
    out = pl.DataFrame({"row": pl.Series(range(height), dtype=pl.UInt32)})
    w, side = pl.col("weight"), pl.col("side")
    for f in FIELDS:
        part = segs.filter(pl.col("field") == f)
        per_side = part.group_by("row", "side").agg(w.sum().alias("w"))
        major = (  # (on a tie, the foreign side: neighbour, other, pivot, then target)
            per_side.sort("w", "side", descending=[True, False])
            .group_by("row")
            .agg(side.first().alias(f"major_{f}"))
        )
        foreign = part.filter(side != "target").sort("weight", descending=True, maintain_order=True)
        agg = part.group_by("row").agg(
            w.sum().alias(f"weight_{f}"),
            (w * (side == "target")).sum().alias("_t"),
            (w * (side == "pivot")).sum().alias("_p"),
            ((w * pl.col("p_target")).sum() / (w * pl.col("p_target").is_not_null()).sum()).alias(
                f"lid_target_{f}"
            ),
        )
        agg = agg.with_columns(
            (pl.col("_t") / pl.col(f"weight_{f}")).alias(f"share_target_{f}"),
            (pl.col("_p") / pl.col(f"weight_{f}")).alias(f"share_pivot_{f}"),
            pl.col(f"lid_target_{f}").fill_nan(None),
        ).drop("_t", "_p")
        top = foreign.group_by("row").agg(
            pl.col("text").first().alias(f"foreign_{f}"),
            pl.col("label").first().alias(f"label_{f}"),
            pl.col("p_top").first().alias(f"p_foreign_{f}"),
        )
        for extra in (agg, major, top):
            out = out.join(extra, on="row", how="left")
    return out.sort("row")


def _pivot_instruction(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The probability that each pivot instruction is in the pivot language; null where
    stopwords settle it or it has under ``pivot_min_letters`` letters (code and quotes aside).
    Each distinct instruction is worked on once (they repeat across target languages)."""
    cfg = ctx.config
    asked = df.select(pcol("pivot", "instruction").alias("t"), "pivot_lang")
    unique = asked.unique(maintain_order=True)
    clean = set_aside(pl.col("t")).alias("c")
    (clean,) = on_rows(unique, pl.col("t").str.contains(ASIDE_HINT), [clean], [pl.col("t")])
    unique = unique.with_columns(clean).filter(
        count_chars(pl.col("c"), r"\p{L}") >= cfg.pivot_min_letters
    )
    parts = []
    for (pivot,), part in unique.group_by("pivot_lang"):
        settled = likely_in(part, pl.col("c"), str(pivot), str(pivot), cfg.lid_markers)
        parts.append(part.filter(~settled))
    rest = pl.concat(parts) if parts else unique.clear()
    probs = ctx.lid.probabilities(list(rest.select("c", "pivot_lang").iter_rows()))
    rest = rest.select("t", "pivot_lang", pl.Series("p", probs, dtype=pl.Float64))
    found = asked.join(rest, on=["t", "pivot_lang"], how="left", maintain_order="left")
    return found["p"].alias("lid_pivot_instruction")
