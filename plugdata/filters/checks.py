"""The checks. Each takes the pair frame and returns, per row, whether it fails (True).

Vectorised with polars where the check is a string operation; language ID and compression run
once per distinct text in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl

from plugdata.errors import PlugdataError
from plugdata.filters import patterns as P
from plugdata.langid import LanguageIdentifier

SIDES = ("pivot", "target")
FIELDS = ("instruction", "input", "output")


@dataclass
class FilterConfig:
    """Thresholds of every check; set any of them with ``--thresholds name=value,...``."""

    lid_backend: str = "fasttext"
    lid_min_prob: float = 0.3  # below this probability of the target language: reject
    lid_pivot_min_prob: float = 0.05  # a pivot instruction this unlikely to be pivot: reject
    lid_min_letters: int = 20  # shorter texts are not identified
    script_min_share: float = 0.4  # share of letters in the language's own script
    length_ratio_low: float = 1.9  # shorter than expected by this factor: reject
    length_ratio_high: float = 2.2  # longer than expected by this factor: reject
    length_min_chars: int = 30  # shorter pivot texts are not length-checked
    truncated_max_ratio: float = 0.7  # unfinished and this short (vs expected) is truncated
    copy_min_words: int = 5
    copy_max_overlap: float = 0.8  # share of pivot words found again in the target
    repetition_min_chars: int = 60
    repetition_min_excess: float = 1.3  # only targets this much longer than expected...
    repetition_min_share: float = 0.25  # ...with this share of repeated 12-grams are loops

    @classmethod
    def parse(cls, spec: str | None, **overrides: Any) -> FilterConfig:
        """``"lid_min_prob=0.5,length_ratio_factor=3"`` over the defaults."""
        config = cls(**overrides)
        if not spec:
            return config
        known = {f.name: f.type for f in fields(cls)}
        for part in spec.split(","):
            key, sep, value = (x.strip() for x in part.partition("="))
            if not sep or key not in known:
                raise PlugdataError(f"bad threshold {part!r}; known: {', '.join(known)}")
            kind = type(getattr(config, key))
            try:
                setattr(config, key, kind(value))
            except ValueError:
                raise PlugdataError(
                    f"threshold {key} needs a {kind.__name__}, got {value!r}"
                ) from None
        return config


@dataclass
class Context:
    """What checks share: the config, the language identifier, score columns they add."""

    config: FilterConfig
    lid: LanguageIdentifier | None = None
    scores: dict[str, pl.Series] = field(default_factory=dict)


Check = Callable[[pl.DataFrame, Context], pl.Series]


def col(side: str, name: str) -> pl.Expr:
    return pl.col(f"{side}_{name}").fill_null("")


def whole(side: str) -> pl.Expr:
    """Instruction, input and output of one side as one text."""
    return pl.concat_str([col(side, f) for f in FIELDS], separator="\n")


def prose(expr: pl.Expr) -> pl.Expr:
    """Text with code, URLs, placeholders, markers and digits removed."""
    return expr.str.replace_all(P.NON_PROSE, " ")


def prepare(df: pl.DataFrame) -> pl.DataFrame:
    """Add the helper columns several checks share, computed once: prose text and size."""
    helpers = []
    for side in SIDES:
        for f in FIELDS:
            text = prose(col(side, f)).str.replace_all(r"\s+", " ").str.strip_chars()
            helpers.append(text.alias(f"_prose_{side}_{f}"))
    df = df.with_columns(helpers)
    return df.with_columns([
        (pl.col(f"_prose_{side}_{f}").str.len_chars()
         + 2 * pl.col(f"_prose_{side}_{f}").str.count_matches(P.WIDE)).alias(f"_size_{side}_{f}")
        for side in SIDES for f in ("instruction", "output")
    ])  # fmt: skip


def pcol(side: str, name: str) -> pl.Expr:
    """The prose helper column of a field (see :func:`prepare`)."""
    return pl.col(f"_prose_{side}_{name}")


def _series(df: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    return df.select(expr.fill_null(False).alias("x"))["x"]


def empty(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A target field is empty where its pivot field was not."""
    return _series(df, pl.any_horizontal([
        (col("pivot", f).str.strip_chars() != "") & (col("target", f).str.strip_chars() == "")
        for f in FIELDS
    ]))  # fmt: skip


def _ratio(f: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Pivot size, target size, and target/pivot size over the expected ratio, for field f."""
    expected = pl.col("target_lang").replace_strict(
        P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64
    ) / pl.col("pivot_lang").replace_strict(P.CHAR_RATIO, default=1.0, return_dtype=pl.Float64)
    p, t = pl.col(f"_size_pivot_{f}"), pl.col(f"_size_target_{f}")  # a CJK character counts 3
    return p, t, t / pl.max_horizontal(p, pl.lit(1)) / expected


def truncated(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The translation stopped early: on the output limit, or short and mid-sentence where
    the pivot ends a sentence."""
    cut = []
    for f in ("instruction", "output"):
        _, t, relative = _ratio(f)
        ends = col("pivot", f).str.contains(P.SENTENCE_END) & ~col("target", f).str.contains(
            P.TEXT_END
        )
        cut.append(ends & (t > 0) & (relative < ctx.config.truncated_max_ratio))
    flagged = pl.any_horizontal(cut)
    if "finish_reason" in df.columns:
        flagged = flagged | (pl.col("finish_reason") == "length")
    return _series(df, flagged)


def length_ratio(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Target length far from what the language pair leads one to expect."""
    cfg = ctx.config
    bad = []
    for f in ("instruction", "output"):
        p, t, relative = _ratio(f)
        off = (relative < 1 / cfg.length_ratio_low) | (relative > cfg.length_ratio_high)
        bad.append((p >= cfg.length_min_chars) & (t > 0) & off)
    return _series(df, pl.any_horizontal(bad))


def untranslated(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The target repeats the pivot (exactly, or most of its words), code aside."""
    cfg = ctx.config

    def words(side: str) -> pl.Expr:
        # Lower-case ASCII words: names (capitalised) are kept by translators, and words with
        # accents are already not the pivot's.
        text = pl.concat_str([pcol(side, "instruction"), pcol(side, "output")], separator=" ")
        return text.str.extract_all(r"[a-z]{3,}").list.unique()

    rows = df.with_row_index("_i").filter(pl.col("pivot_lang") != pl.col("target_lang"))
    own_script = pl.col("target_lang").is_in(list(P.SCRIPTS))
    # Word overlap only means something between two Latin-script texts.
    p, t = words("pivot"), words("target")
    shared = p.list.set_intersection(t).list.len() / pl.max_horizontal(p.list.len(), pl.lit(1))
    copied = rows.filter(~own_script).filter(
        (p.list.len() >= cfg.copy_min_words) & (shared >= cfg.copy_max_overlap)
    )
    # An exact echo, however short (in a Latin target, names alone may stay as they are).
    same = rows.filter(
        pl.any_horizontal(
            [pcol("pivot", f) == pcol("target", f) for f in ("instruction", "output")]
        )
    )
    echo = same.filter(pl.any_horizontal([
        (pcol("pivot", f) == pcol("target", f))
        & pl.when(own_script).then(pcol("pivot", f).str.count_matches(r"\p{L}") >= 8)
        .otherwise(pcol("pivot", f).str.count_matches(r"[a-z]{3,}") >= 3)
        for f in ("instruction", "output")
    ]))  # fmt: skip
    hits = pl.concat([copied["_i"], echo["_i"]])
    return pl.Series("x", [False] * df.height, dtype=pl.Boolean).scatter(hits, True)


def structure(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Code blocks, inline code, URLs, placeholders, numbers and markdown shape kept."""
    p, t = whole("pivot"), whole("target")
    rows = df.with_row_index("_i")
    # Spans are compared only where either side could hold one (most pairs have none).
    maybe = p.str.contains(P.SPAN_HINT) | t.str.contains(P.SPAN_HINT)
    spans = pl.any_horizontal([
        p.str.extract_all(pattern).list.sort() != t.str.extract_all(pattern).list.sort()
        for pattern in (P.CODE_BLOCK, P.INLINE_CODE, P.URL, P.PLACEHOLDER)
    ])  # fmt: skip

    def numbers(expr: pl.Expr, min_digits: int) -> pl.Expr:
        """Numbers as significant digits ("20.4 million" and "2040 万" both give "204"), so
        scale words and separators do not matter."""
        found = expr.str.replace_all(P.CODE_BLOCK, " ").str.extract_all(P.NUMBER)
        digits = found.list.eval(pl.element().str.replace_all(r"\D", ""))
        digits = digits.list.eval(pl.element().filter(pl.element().str.len_chars() >= min_digits))
        return digits.list.eval(pl.element().str.strip_chars_end("0"))

    # Translations legitimately rewrite some numbers ("1930s" -> "20 世纪 30 年代", "£11m" ->
    # "1100 万"), so only losing most of the pivot's multi-digit numbers, and more than one,
    # counts.
    pn = numbers(p, 3).list.unique()
    missing = pn.list.set_difference(numbers(t, 1)).list.len()
    lost = (missing >= 2) & (missing * 2 > pn.list.len())
    shapes = []
    for shape in (P.LIST_LINE, P.TABLE_LINE):
        pc, tc = p.str.count_matches(shape), t.str.count_matches(shape)
        shapes.append((pc >= 2) & ((tc - pc).abs() > pc // 4))
    hits = [
        rows.filter(maybe).filter(spans)["_i"],
        rows.filter(p.str.contains(r"\d{3}")).filter(lost)["_i"],
        rows.filter(p.str.contains("\n")).filter(pl.any_horizontal(shapes))["_i"],
    ]
    return _flags(df.height, hits)


def _new_in_target(df: pl.DataFrame, target: pl.Expr, pivot: pl.Expr, pattern: str) -> pl.Series:
    """Rows whose target matches ``pattern`` (lower-cased) and whose pivot does not; the pivot
    is only searched where the target matched."""
    hit = _series(df, target.str.to_lowercase().str.contains(pattern))
    if not hit.any():
        return hit
    rows = df.with_row_index("_i").filter(hit)
    in_pivot = rows.select(pl.col("_i"), pivot.str.to_lowercase().str.contains(pattern).alias("p"))
    out = hit.to_list()
    for i, p in in_pivot.iter_rows():
        out[i] = not p
    return pl.Series("x", out, dtype=pl.Boolean)


def leakage(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Translator chatter or prompt text in the target that the pivot does not have."""
    return _new_in_target(df, whole("target"), whole("pivot"), P.LEAKAGE)


def refusal(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A refusal in the target where the pivot had none."""
    return _new_in_target(df, col("target", "output"), col("pivot", "output"), P.REFUSAL)


def script(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Languages with their own script must be mostly written in it (and Chinese without kana)."""
    text = pl.concat_str([pcol("target", "instruction"), pcol("target", "output")], separator=" ")
    letters = text.str.count_matches(r"\p{L}")
    rows = df.with_row_index("_i")
    hits = []
    for lang in set(df["target_lang"].unique().to_list()) & set(P.SCRIPTS):
        share = text.str.count_matches(P.SCRIPTS[lang]) / pl.max_horizontal(letters, pl.lit(1))
        wrong = share < ctx.config.script_min_share
        if lang == "zh":
            wrong = wrong | (text.str.count_matches(P.KANA) > letters * 0.05)
        subset = rows.filter(pl.col("target_lang") == lang)  # count each row's own script only
        hits.append(subset.filter(wrong & (letters >= 5))["_i"])
    return _flags(df.height, hits)


def _flags(height: int, hits: list[pl.Series]) -> pl.Series:
    """A boolean column, True at the given row indices."""
    out = pl.Series("x", [False] * height, dtype=pl.Boolean)
    return out.scatter(pl.concat(hits), True) if hits else out


def repetition(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Loops: much of the target repeats itself (character n-grams seen before), where the
    pivot does not. Only targets longer than expected, or long ones, are examined: a loop
    always adds text."""
    cfg = ctx.config
    _, t, relative = _ratio("output")
    candidate = _series(df, (relative >= cfg.repetition_min_excess) | (t >= 2000)).to_list()
    out = [False] * df.height
    pivots, targets = df["pivot_output"].fill_null(""), df["target_output"].fill_null("")
    for i in (i for i, c in enumerate(candidate) if c):
        target = targets[i]
        if len(target) < cfg.repetition_min_chars:
            continue
        repeated = _repeated_share(target)
        out[i] = (
            repeated >= cfg.repetition_min_share and repeated >= _repeated_share(pivots[i]) + 0.15
        )
    return pl.Series("x", out, dtype=pl.Boolean)


def _repeated_share(text: str, n: int = 12) -> float:
    """Share of character n-grams that already occurred earlier in the text."""
    text = " ".join(text.split())
    total = len(text) - n + 1
    if total <= 0:
        return 0.0
    return 1 - len({text[i : i + n] for i in range(total)}) / total


def duplicate(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The same target instruction and input as an earlier pair of the same language."""
    key = pl.concat_str([col("target", "instruction"), col("target", "input")], separator="\n")
    key = key.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    return _series(df, ~key.is_first_distinct().over("target_lang"))


def langid(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Target fields in the target language (and source instructions in the pivot language).

    A failing target field counts only where its pivot field is confidently in the pivot
    language (quoted foreign text, as in translation tasks, stays foreign). Languages with
    their own script are left to the script check. Probabilities of the expected language are
    kept as ``lid_*`` columns (pivot fields other than the instruction are only identified
    where a target field failed).
    """
    cfg, lid = ctx.config, ctx.lid
    assert lid is not None
    lid.prepare(df.height)
    texts = df.select(
        *[
            pcol(s, f).str.replace_all(r"[’‘`´]", "'").alias(f"{s}_{f}")
            for s in SIDES
            for f in FIELDS
        ]
    )
    text = {c: texts[c].to_list() for c in texts.columns}
    letters = {c: texts[c].str.count_matches(r"\p{L}").to_list() for c in texts.columns}
    pivot_lang, target_lang = df["pivot_lang"].to_list(), df["target_lang"].to_list()
    bad = [False] * df.height
    scores: dict[str, list[float | None]] = {f"lid_{s}_{f}": [None] * df.height
                                             for s in SIDES for f in FIELDS}  # fmt: skip

    def identify(side: str, f: str, rows: list[int]) -> list[float]:
        langs = pivot_lang if side == "pivot" else target_lang
        probs = lid.probabilities([(text[f"{side}_{f}"][i], langs[i]) for i in rows])
        for i, p in zip(rows, probs, strict=True):
            scores[f"lid_{side}_{f}"][i] = p
        return probs

    enough = cfg.lid_min_letters
    rows = [i for i in range(df.height) if letters["pivot_instruction"][i] >= enough]
    for i, p in zip(rows, identify("pivot", "instruction", rows), strict=True):
        if p < cfg.lid_pivot_min_prob and letters["pivot_instruction"][i] >= 40:
            bad[i] = True  # the source instruction is not in the pivot language at all
    latin = [i for i in range(df.height) if target_lang[i] not in P.SCRIPTS]
    for f in FIELDS:
        rows = [
            i
            for i in latin
            if letters[f"target_{f}"][i] >= enough and letters[f"pivot_{f}"][i] >= enough
        ]
        failed = [
            i
            for i, t in zip(rows, identify("target", f, rows), strict=True)
            if t < cfg.lid_min_prob
        ]
        unknown = [i for i in failed if scores[f"lid_pivot_{f}"][i] is None]
        identify("pivot", f, unknown)
        for i in failed:
            if scores[f"lid_pivot_{f}"][i] >= cfg.lid_min_prob:  # type: ignore[operator]
                bad[i] = True
    for name, values in scores.items():
        ctx.scores[name] = pl.Series(name, values, dtype=pl.Float64)
    return pl.Series("x", bad, dtype=pl.Boolean)


CHECKS: dict[str, Check] = {
    "empty": empty,
    "truncated": truncated,
    "leakage": leakage,
    "refusal": refusal,
    "structure": structure,
    "untranslated": untranslated,
    "length_ratio": length_ratio,
    "script": script,
    "langid": langid,
    "repetition": repetition,
    "duplicate": duplicate,
}
