"""``untranslated``: the target repeats the pivot.

Sub-reasons: ``untranslated:exact_copy`` (a target field is the pivot's, names, code and quote
marks aside, or holds it whole with at most ``echo_max_extra`` characters more),
``untranslated:copied_sentence`` (a sentence of the pivot, or a run of ``copy_run_words`` of its
words, stands untranslated in the target), ``untranslated:word_overlap`` (between Latin-script
texts, most of the pivot's words are found again). Reads ``echo_min_words``,
``echo_max_extra``, ``echo_foreign_min_prob``, ``sentence_min_words``, ``copy_run_words``,
``copy_min_words``, ``copy_max_overlap``, ``lid_min_prob``.

A copy is not held against a pair where the evidence says it is what the pair needs (see
:mod:`~plugdata.filters.prepare`: code or data by shape, words the target instruction hands
over) or where the pivot text itself is not in the pivot language (a French quote in an English
record); such pairs are tagged ``verbatim_expected``. Words of the instruction are no evidence.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from plugdata.filters import markers
from plugdata.filters.check import Check, Context, verdicts
from plugdata.filters.prepare import FIELDS, OWN_SCRIPT, col, judged, pcol, tcol
from plugdata.filters.rows import PIVOT_ID, on_rows, positions

READS = (
    "echo_min_words",
    "echo_max_extra",
    "echo_foreign_min_prob",
    "sentence_min_words",
    "copy_run_words",
    "copy_min_words",
    "copy_max_overlap",
    "lid_min_prob",
)
_QUOTE = re.compile(r'"[^"\n]+"|“[^”\n]+”|„[^“”\n]+[“”]|「[^」\n]+」|『[^』\n]+』|«[^»\n]+»')
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
LOWER = r"\b\p{Ll}{4,}\b"  # a prose run holds a lower-case word of four letters or more
ASCII_LOWER = r"(?-u:\b)[a-z]{4,}(?-u:\b)"
REASONS = ("untranslated:exact_copy", "untranslated:copied_sentence", "untranslated:word_overlap")
LOWER_WORD = r"(?:^|[^\p{L}\d_])\p{Ll}{3,}(?:$|[^\p{L}\d_])"
PLAIN_WORD = r"^[\"'“‘(¿¡]*\p{L}[\p{L}'’-]*[.,!?;:\"'”’)]*$"  # a word, not an identifier
ITEMS = r"^\s*[^,;.!?\n]{1,30}(?:\s*[,;、]\s*[^,;.!?\n]{1,30}){2,}\.?\s*$"  # "a, b, c"
# Function words: a title-cased headline holds some, a name or a title rarely does.
FUNCTION_WORD = (
    r"(?i)(?:^|[^\p{L}])(?:the|a|an|is|are|was|were|be|it|its|of|to|in|on|at|for|"
    r"with|from|by|and|or|not|no|this|that|what|who|how|why|above|over|after|i|you|"
    r"he|she|we|they)(?:$|[^\p{L}])"
)


def sentence_words(expr: pl.Expr) -> pl.Expr:
    """Plain words of a text that reads as prose: no identifiers, not a bare list of items,
    a lower-case or function word (a copy made only of names or a title may stay)."""
    words = expr.str.split(" ").list.eval(pl.element().str.contains(PLAIN_WORD)).list.sum()
    prose = expr.str.contains(FUNCTION_WORD) | (
        expr.str.contains(LOWER_WORD) & ~expr.str.contains(ITEMS)
    )
    return pl.when(prose).then(words).otherwise(0)


def foreign_pivot(df: pl.DataFrame, ctx: Context, f: str, echo: pl.Series) -> pl.Series:
    """Echoes of a pivot field that is not in the pivot language (a French quote in an English
    record) are what the pair needs: cleared, and added to ``ctx.verbatim`` for the
    ``verbatim_expected`` tag. Short instructions in the pivot language often read as foreign,
    so an instruction counts only where another language is the identifier's sure top label
    (:meth:`~plugdata.filters.check.Context.quoted_instructions`). Needs the language identifier
    (the langid check)."""
    rows = positions(df, echo)
    if ctx.lid is None or not rows.size:
        return echo
    if f == "instruction":
        foreign = ctx.quoted_instructions(df, rows)
    else:
        part = df[rows].select(pcol("pivot", f), "pivot_lang")
        probs = np.array(ctx.lid.probabilities(list(part.iter_rows())))
        foreign = rows[probs < ctx.config.lid_min_prob]
    if not foreign.size:
        return echo
    mark = np.zeros(df.height, dtype=bool)
    mark[foreign] = True
    ctx.verbatim = (
        ctx.verbatim
        if ctx.verbatim is not None
        else pl.Series([False] * df.height, dtype=pl.Boolean)
    ) | pl.Series(mark)
    return echo & ~pl.Series(mark)


def _overlap(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Between Latin-script texts, most of the pivot's lower-case words found in the target
    (names, capitalised, are kept by translators; accented words are not the pivot's). Fields
    the accounting found wholly in the target language are not compared."""
    cfg = ctx.config

    def words_of(side: str) -> pl.Expr:
        columns = [
            pcol(side, f) if side == "pivot" else judged(f) for f in ("instruction", "output")
        ]
        return pl.concat_str(columns, separator=" ").str.extract_all(r"[a-z]{3,}")

    p, t = words_of("pivot"), words_of("target")
    n = p.list.n_unique()
    shared = p.list.set_intersection(t).list.len() / pl.max_horizontal(n, pl.lit(1))
    overlap = ((n >= cfg.copy_min_words) & (shared >= cfg.copy_max_overlap)).fill_null(False)
    compared = ~pl.col("target_lang").is_in(OWN_SCRIPT) & (
        pl.col("pivot_lang") != pl.col("target_lang")
    )
    if ctx.lid is not None:
        whole = (
            ctx.account(df)
            .fields.select(
                pl.all_horizontal(
                    (pl.col(f"share_target_{f}").fill_null(1.0) == 1.0)
                    for f in ("instruction", "output")
                )
            )
            .to_series()
        )
        compared = compared & ~pl.lit(whole)
    (found,) = on_rows(df, compared, [overlap.alias("overlap")], [pl.lit(False)])
    return found


def _pivot_words(df: pl.DataFrame) -> dict[tuple[str, str], frozenset[str]]:
    """Per (pivot, target) language pair, the stopwords only the pivot language uses: a
    copied run or sentence holding two of them is in the pivot language (a French quote in an
    English record holds none)."""
    pairs = df.select("pivot_lang", "target_lang").unique().iter_rows()
    return {(p, t): markers.words(p) - markers.words(t) for p, t in pairs}


def _quoted(text: str, field: str) -> bool:
    """Whether ``text`` is what a quote in ``field`` holds, more or less (a quoted sentence to
    work on is left as it is; a copy inside a longer translated quote is not)."""
    text = text.lower()
    return any(text in q.lower() and len(q) <= 2 * len(text) for q in _QUOTE.findall(field))


def _runs(df: pl.DataFrame, ctx: Context) -> dict[int, tuple[str, str]]:
    """Rows whose target field holds a run of ``copy_run_words`` consecutive words of the
    pivot record that reads as prose (see :func:`_prose_run`: a name is no run), wherever
    the segment ends fall: the field and the run. Looked for in Python where the field shares
    two lower-case words of four letters or more with the pivot."""
    k = ctx.config.copy_run_words
    own = _pivot_words(df)
    found: dict[int, tuple[str, str]] = {}
    hits = _sharing(df, ctx)
    for i, f, text, source, p, t in hits.iter_rows():
        if i not in found and (run := _run(text, source, k, own[p, t])):
            found[i] = (f, run)
    return found


def _sharing(df: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """The target fields that hold an unsettled segment (a run holds two stopwords only the
    pivot uses: no segment stopwords settled holds one) and share two lower-case words of
    four letters or more with their pivot record, in field order: ``row``, ``field``, the
    field's text, the record's, and the languages. Each distinct pivot record's words are
    found once (records repeat once per target language)."""
    segs = ctx.account(df).segments
    open_ = segs.filter(~pl.col("settled")).select("row", "field").unique()
    record = pl.concat_str([pcol("pivot", f) for f in FIELDS], separator=" ").alias("p")
    ids = pl.col(PIVOT_ID) if PIVOT_ID in df.columns else pl.int_range(pl.len())
    langs = ("pivot_lang", "target_lang")
    parts = []
    for f in FIELDS:
        rows = np.sort(open_.filter(pl.col("field") == f)["row"].to_numpy())
        part = df.select(ids.cast(pl.Int64).alias("_id"), judged(f).alias("t"), *langs)[rows]
        part = part.with_columns(row=pl.Series(rows, dtype=pl.Int64), field=pl.lit(f))
        parts.append(part.filter(pl.col("t").str.contains(r"\p{Ll}{4}")))  # (a cheap hint)
    asked = pl.concat(parts)
    first = asked.unique("_id")["row"].to_numpy()
    words = df.select(ids.cast(pl.Int64).alias("_id"), record)[first].select(
        "_id",
        pl.col("p").str.extract_all(LOWER).alias("_pw"),
        (pl.col("p").str.len_bytes() == pl.col("p").str.len_chars()).alias("_ascii"),
    )
    asked = asked.join(words, on="_id", how="left", maintain_order="left")
    # An ASCII record's words are ASCII, and ASCII word bounds hold wherever Unicode ones
    # do: fields sharing under two of them by those cheaper bounds share under two.
    ascii_shared = pl.col("t").str.extract_all(ASCII_LOWER).list.set_intersection("_pw")
    asked = asked.filter(~(pl.col("_ascii") & (ascii_shared.list.len() < 2)))
    shared = pl.col("t").str.extract_all(LOWER).list.set_intersection("_pw").list.len() >= 2
    hits = asked.filter(shared)
    texts = df.select(record)[hits["row"].to_numpy()]
    return hits.select("row", "field", "t", texts["p"], *langs)


def _run(text: str, source: str, k: int, pivot_words: frozenset[str]) -> str | None:
    """The first run of ``k`` words of ``text`` found in that order in ``source`` that reads
    as prose in the pivot language, or None."""
    words = _WORD.findall(text)
    grams = {tuple(g) for g in _grams([w.lower() for w in _WORD.findall(source)], k)}
    for start, gram in enumerate(_grams([w.lower() for w in words], k)):
        run = words[start : start + k]
        if (
            tuple(gram) in grams
            and _prose_run(run, pivot_words)
            and not _quoted(" ".join(run), text)
        ):
            return " ".join(run)
    return None


def _prose_run(words: list[str], pivot_words: frozenset[str]) -> bool:
    """Half the words in lower case, one of them of four letters or more ("Agency for the
    Assessment and Application", a name, is no prose; "will vote on whether to" is), and two
    distinct stopwords only the pivot language uses."""
    lower = [w for w in words if w.islower()]
    if len(lower) * 2 < len(words) or not any(len(w) >= 4 for w in lower):
        return False
    return not pivot_words or len({w.lower() for w in words} & pivot_words) >= 2


def _grams(words: list[str], k: int) -> list[list[str]]:
    return [words[i : i + k] for i in range(len(words) - k + 1)]


def _copied_sentences(df: pl.DataFrame, ctx: Context) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Per row, whether a pivot sentence of ``sentence_min_words`` words or more stands in a
    target field untranslated (and not as words the target instruction or input hands over),
    the field and the sentence."""
    segs = ctx.account(df).segments
    hits = segs.filter(pl.col("copied") & (pl.col("side") == "pivot"))
    hits = hits.filter(sentence_words(pl.col("text")) >= ctx.config.sentence_min_words)
    found, fields, texts = [False] * df.height, [None] * df.height, [None] * df.height
    given = df.select(
        pl.concat_str([col("target", "instruction"), col("target", "input")], separator=" ")
    ).to_series()
    fields_text = {f: df.select(col("target", f)).to_series() for f in FIELDS}
    for row, f, text in hits.select("row", "field", "text").iter_rows():
        if (
            found[row]
            or (f == "output" and text in given[row])
            or _quoted(text, fields_text[f][row])
        ):
            continue
        found[row], fields[row], texts[row] = True, f, text
    for row, (f, text) in _runs(df, ctx).items():
        if not found[row] and not (f == "output" and text.lower() in given[row].lower()):
            found[row], fields[row], texts[row] = True, f, text
    return (
        pl.Series(found, dtype=pl.Boolean),
        pl.Series(fields, dtype=pl.String),
        pl.Series(texts, dtype=pl.String),
    )


def held(df: pl.DataFrame, f: str, max_extra: int, min_words: int) -> pl.Series:
    """The target field holds the pivot's text whole (``min_words`` plain words or
    more) and at most ``max_extra`` characters more: ``[zh] Antonym of 'ancient'?``. Worked out
    only on rows whose lengths allow it."""
    p, t = col("pivot", f), col("target", f)
    near = (t.str.len_chars() - p.str.len_chars()).is_between(1, max_extra)
    whole = (sentence_words(p) >= min_words) & t.str.contains(p, literal=True)
    (found,) = on_rows(df, near, [whole.fill_null(False).alias(f)], [pl.lit(False)])
    return found


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """An exact copy of a pivot field of ``echo_min_words`` plain words or more (or the
    pivot text whole with a few characters more); a pivot sentence copied into the target; or,
    between Latin-script texts, most of the pivot's words again. Copies the pair needs are not
    held against it."""
    cfg = ctx.config
    flags = {}
    for f in FIELDS:
        keep = pl.col(f"_verbatim_{f}") if f != "instruction" else pl.lit(False)
        same = pl.col(f"_same_{f}") & ~keep
        echo = (sentence_words(tcol(f)) >= cfg.echo_min_words).fill_null(False)
        (flags[f],) = on_rows(df, same, [echo.alias(f)], [pl.lit(False)])
        copy = held(df, f, cfg.echo_max_extra, cfg.echo_min_words)
        flags[f] |= copy if f == "instruction" else copy & ~df[f"_verbatim_{f}"]
        flags[f] = foreign_pivot(df, ctx, f, flags[f])
    frame = pl.DataFrame(flags).with_columns(df.select(*(tcol(f) for f in FIELDS)))
    if ctx.lid is not None:
        copied, field, text = _copied_sentences(df, ctx)
        frame = frame.with_columns(copied.alias("_c"), field.alias("_cf"), text.alias("_ct"))
    frame = frame.with_columns(_overlap(df, ctx).alias("_o"))
    cases = [(REASONS[0], f, pl.col(f), tcol(f)) for f in FIELDS]
    if "_c" in frame.columns:
        for f in FIELDS:
            cases.append((REASONS[1], f, pl.col("_c") & (pl.col("_cf") == f), pl.col("_ct")))
    cases.append((REASONS[2], "", pl.col("_o"), None))
    return verdicts(frame, cases)


CHECK = Check("untranslated", run, reasons=REASONS, reads=READS, identifies=True)
