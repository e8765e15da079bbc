"""``structure``: code, URLs, placeholders, numbers, lists and tables kept.

Sub-reasons: ``structure:code``, ``structure:url``, ``structure:placeholder`` (evidence: what
the pivot has that the target lost), ``structure:numbers`` (evidence: the lost numbers),
``structure:list``, ``structure:table``. Reads ``numbers_min_digits``, ``numbers_min_missing``,
``numbers_max_missing``, ``list_tolerance``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context, add_evidence, place, verdicts
from plugdata.filters.config import FilterConfig
from plugdata.filters.prepare import FIELDS, col
from plugdata.filters.rows import on_rows, per_pivot, positions

READS = ("numbers_min_digits", "numbers_min_missing", "numbers_max_missing", "list_tolerance")
REASONS = tuple(
    f"structure:{n}" for n in ("code", "url", "placeholder", "numbers", "list", "table")
)

# A pivot without these has no list item (patterns.LIST_ITEM, digits read full width too).
LIST_HINT = r"(?m)^[ \t\u3000]*[-*+•]|\d[.)、．。]"
# Comments in code: block and HTML comments, whole lines of a comment (after #, //, or -- and a
# space), a line's rest after a space, # and a space (Python, shell, Ruby), or after ;, { or }
# and // (C and its kin; "(a + b) // 2" in Python is no comment).
CODE_COMMENT = (
    r"(?s:/\*.*?\*/)|(?s:<!--.*?-->)|(?m:^[ \t]*(?:#|//|--[ \t])[^\n]*$)"
    r"|(?m:[ \t]#[ \t][^\n]*$)|(?m:[;{}][ \t]*//[^\n]*$)"
)
# String literals (triple-quoted ones across lines).
CODE_STRING = r'(?s:""".*?"""|' + r"'''.*?''')" + r'|"(?:[^"\\\n]|\\.)*"' + r"|'(?:[^'\\\n]|\\.)*'"
DECADE = r"(?-u:\b)\d{2}(\d0)['’]?s(?-u:\b)"  # 1980s, 1980's (ASCII boundaries, as in NUMBER)
SPANS = {"code": (P.CODE_BLOCK, P.INLINE_CODE), "url": (P.URL,), "placeholder": (P.PLACEHOLDER,)}


def _whole(side: str) -> pl.Expr:
    return pl.concat_str([col(side, f) for f in FIELDS], separator="\n")


def normalise_numbers(expr: pl.Expr) -> pl.Expr:
    """Full-width digits and punctuation as ASCII (``３，２５０`` → ``3,250``)."""
    return expr.str.replace_many(P.WIDTH)


def numbers(expr: pl.Expr, min_digits: int) -> pl.Expr:
    """Numbers as significant digits: "20.4 million" and "2040 万" both give "204", "3，250点"
    and "3,250 points" both give "325", "4:40" and "4.40" both "44", so scale words, units and
    separators do not matter. A decade counts by its two last digits ("the 1980s" is "los años
    80", "80 年代")."""
    text = normalise_numbers(expr.str.replace_all(P.CODE_BLOCK, " "))
    found = text.str.replace_all(DECADE, "$1").str.extract_all(P.NUMBER)
    digits = found.list.eval(pl.element().str.replace_all(r"\D", ""))
    digits = digits.list.eval(pl.element().filter(pl.element().str.len_chars() >= min_digits))
    return digits.list.eval(pl.element().str.strip_chars_end("0"))


def list_items(expr: pl.Expr) -> pl.Expr:
    """List items: bullets opening a line, and numbered items anywhere, so ``1.低成本 2.低排放``
    on one line counts as two items."""
    return normalise_numbers(expr).str.count_matches(P.LIST_ITEM)


def _flag(df: pl.DataFrame, hint: pl.Expr, cond: pl.Expr) -> pl.Series:
    """``cond`` evaluated only where ``hint`` holds (false elsewhere)."""
    (out,) = on_rows(df, hint, [cond.fill_null(False).alias("x")], [pl.lit(False)])
    return out


def _pivot_features(df: pl.DataFrame, cfg: FilterConfig) -> pl.DataFrame:
    """What the checks need of a pivot record alone: its joined text, which shapes it may
    hold, its multi-digit numbers, list items and table lines (each where a hint allows)."""
    p = _whole("pivot")
    df = df.select(p.alias("_p"), p.str.contains(P.SPAN_HINT).alias("_p_spans"))
    p = pl.col("_p")
    digits = cfg.numbers_min_digits
    found = numbers(p, digits).list.unique().alias("_p_numbers")
    (found,) = on_rows(
        df, p.str.contains(rf"\d{{{digits}}}"), [found], [pl.lit([], dtype=pl.List(pl.String))]
    )
    (items,) = on_rows(
        df, p.str.contains(LIST_HINT), [list_items(p).alias("_p_items")], [pl.lit(0, pl.UInt32)]
    )
    (rows,) = on_rows(
        df,
        p.str.contains(r"\|"),
        [p.str.count_matches(P.TABLE_LINE).alias("_p_rows")],
        [pl.lit(0, pl.UInt32)],
    )
    return df.with_columns(found, items, rows)


def _spans(text: pl.Expr, pattern: str, code: bool) -> pl.Expr:
    """The spans of ``pattern`` in each text, sorted; code without its comments and with its
    string literals emptied, spaces squeezed (translators rightly translate comments and the
    messages a program prints: the code itself must stay)."""
    found = text.str.extract_all(pattern)
    if code:
        found = found.list.eval(
            pl.element()
            .str.replace_all(CODE_COMMENT, " ")
            .str.replace_all(CODE_STRING, '""')
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
        )
    return found.list.sort()


def _lost_numbers(numbers_: pl.Expr, t: pl.Expr) -> pl.Expr:
    """The pivot's numbers (``numbers_``) the target text does not hold."""
    return numbers_.list.set_difference(numbers(t, 1))


def _lost(p: pl.Expr, t: pl.Expr, pattern: str) -> pl.Expr:
    """The pivot's spans of ``pattern`` the target does not hold, joined (null where none)."""
    missing = p.str.extract_all(pattern).list.set_difference(t.str.extract_all(pattern))
    return pl.when(missing.list.len() > 0).then(missing.list.join(" ")).otherwise(None)


def _conditions(
    p: pl.Expr, t: pl.Expr, numbers_: pl.Expr, items: pl.Expr, rows: pl.Expr, cfg: FilterConfig
) -> dict[str, pl.Expr]:
    """Each sub-reason's condition, from the pivot and target texts and the pivot's multi-digit
    numbers, list items and table lines. Translations rewrite some numbers ("1930s" -> "20 世纪
    30 年代", "three" for "3"), so only losing most of the pivot's numbers, and several, counts."""
    out = {
        f"structure:{name}": pl.any_horizontal(
            [
                _spans(p, pattern, name == "code") != _spans(t, pattern, name == "code")
                for pattern in patterns
            ]
        ).fill_null(False)
        for name, patterns in SPANS.items()
    }
    missing = _lost_numbers(numbers_, t)
    out["structure:numbers"] = (missing.list.len() >= cfg.numbers_min_missing) & (
        missing.list.len() > numbers_.list.len() * cfg.numbers_max_missing
    )
    # (counts are unsigned: signed before they are subtracted, or fewer items wrap round)
    pc, tc = items.cast(pl.Int64), list_items(t).cast(pl.Int64)
    out["structure:list"] = (pc >= 2) & (
        (tc - pc).abs() > pl.max_horizontal((pc * cfg.list_tolerance).floor(), 1)
    )
    pr, tr = rows.cast(pl.Int64), t.str.count_matches(P.TABLE_LINE).cast(pl.Int64)
    out["structure:table"] = (pr >= 2) & ((tr - pr).abs() > (pr * cfg.list_tolerance).floor())
    return out


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Code blocks, inline code, URLs, placeholders, numbers and list/table shape kept; each
    compared only on the rows where a cheap hint says it can occur, over the record's fields
    joined (the verdict names the first field whose own comparison fails). The pivot's side
    is worked out once per distinct pivot record. Translations rewrite some numbers ("1930s"
    -> "20 世纪 30 年代", "three" for "3"), so only losing most of the pivot's numbers, and
    several, counts."""
    cfg = ctx.config
    pivot = per_pivot(df, lambda frame: _pivot_features(frame, cfg))
    pairs, df = df, pivot.with_columns(df.select(_whole("target").alias("_t"))[:, 0])
    p, t, pn = pl.col("_p"), pl.col("_t"), pl.col("_p_numbers")
    items, rows = pl.col("_p_items"), pl.col("_p_rows")
    cond = _conditions(p, t, pn, items, rows, cfg)
    maybe = pl.col("_p_spans") | t.str.contains(P.SPAN_HINT)
    spans = [cond[f"structure:{name}"].alias(f"structure:{name}") for name in SPANS]
    flags = {s.name: s for s in on_rows(df, maybe, spans, [pl.lit(False)] * len(spans))}
    hints = {
        "structure:numbers": pn.list.len() >= cfg.numbers_min_missing,
        "structure:list": items >= 2,
        "structure:table": rows >= 2,
    }
    for name, hint in hints.items():
        flags[name] = _flag(df, hint, cond[name])
    frame = pl.DataFrame(flags).with_columns(df.select("_p", "_t", "_p_numbers"))
    found = verdicts(frame, [(name, "", pl.col(name), None) for name in flags])
    evidence = {f"structure:{n}": _lost(p, t, "|".join(SPANS[n])) for n in SPANS}
    evidence["structure:numbers"] = _lost_numbers(pn, t).list.join(" ")
    found = add_evidence(frame, found, evidence)
    return _name_fields(pairs, found, cfg)


def _name_fields(df: pl.DataFrame, found: pl.Series, cfg: FilterConfig) -> pl.Series:
    """The failing verdicts with their field: the first field whose own pivot and target fail
    the same comparison, or for numbers, whose target lost one of its pivot's (empty where no
    field does alone: a span moved between fields)."""
    reason = found.struct.field("reason")
    at = positions(df, reason.is_not_null())
    if not at.size:
        return found
    part = df[at].with_columns(reason.gather(at).alias("_reason"))
    name = pl.lit("")
    for f in reversed(FIELDS):  # (the first field wins)
        p, t = col("pivot", f), col("target", f)
        pn = numbers(p, cfg.numbers_min_digits).list.unique()
        items, lines = list_items(p), p.str.count_matches(P.TABLE_LINE)
        cond = _conditions(p, t, pn, items, lines, cfg)
        cond["structure:numbers"] = _lost_numbers(pn, t).list.len() > 0
        fails = pl.lit(False)
        for r, c in cond.items():
            fails = pl.when(pl.col("_reason") == r).then(c.fill_null(False)).otherwise(fails)
        name = pl.when(fails).then(pl.lit(f)).otherwise(name)
    named = part.select(name.alias("field")).to_series()
    fixed = pl.DataFrame({"v": found.gather(at)}).select(
        pl.col("v").struct.with_fields(named.alias("field"))
    )
    return place(found, at, fixed.to_series())


CHECK = Check("structure", run, reasons=REASONS, reads=READS)
