"""The structure check: code, URLs, placeholders, numbers, lists and tables kept."""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.checks import Context, reason
from plugdata.filters.rows import on_rows, per_pivot
from plugdata.filters.verbatim import FIELDS, col

# A pivot without these has no list item (patterns.LIST_ITEM, digits read full width too).
LIST_HINT = r"(?m)^[ \t\u3000]*[-*+•]|\d[.)、．。]"
SPANS = {"code": (P.CODE_BLOCK, P.INLINE_CODE), "url": (P.URL,), "placeholder": (P.PLACEHOLDER,)}


def _whole(side: str) -> pl.Expr:
    return pl.concat_str([col(side, f) for f in FIELDS], separator="\n")


def normalise_numbers(expr: pl.Expr) -> pl.Expr:
    """Full-width digits and punctuation as ASCII (``３，２５０`` → ``3,250``)."""
    return expr.str.replace_many(P.WIDTH)


def numbers(expr: pl.Expr, min_digits: int) -> pl.Expr:
    """Numbers as significant digits: "20.4 million" and "2040 万" both give "204", "3，250点"
    and "3,250 points" both give "325", so scale words, units and separators do not matter."""
    found = normalise_numbers(expr.str.replace_all(P.CODE_BLOCK, " ")).str.extract_all(P.NUMBER)
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


def _pivot_features(df: pl.DataFrame) -> pl.DataFrame:
    """What the checks need of a pivot record alone: its joined text, which shapes it may
    hold, its multi-digit numbers, list items and table lines (each where a hint allows)."""
    p = _whole("pivot")
    df = df.select(p.alias("_p"), p.str.contains(P.SPAN_HINT).alias("_p_spans"))
    p = pl.col("_p")
    (found,) = on_rows(df, p.str.contains(r"\d{3}"), [numbers(p, 3).list.unique().alias("_p_numbers")],
                       [pl.lit([], dtype=pl.List(pl.String))])  # fmt: skip
    (items,) = on_rows(df, p.str.contains(LIST_HINT), [list_items(p).alias("_p_items")], [pl.lit(0, pl.UInt32)])  # fmt: skip
    (rows,) = on_rows(df, p.str.contains(r"\|"), [p.str.count_matches(P.TABLE_LINE).alias("_p_rows")], [pl.lit(0, pl.UInt32)])  # fmt: skip
    return df.with_columns(found, items, rows)


def structure(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Code blocks, inline code, URLs, placeholders, numbers and list/table shape kept; each
    compared only on the rows where a cheap hint says it can occur. The pivot's side is worked
    out once per distinct pivot record."""
    pivot = per_pivot(df, _pivot_features)
    df = pivot.with_columns(df.select(_whole("target").alias("_t"))[:, 0])  # joined once
    p, t = pl.col("_p"), pl.col("_t")
    maybe = pl.col("_p_spans") | t.str.contains(P.SPAN_HINT)
    spans = [
        pl.any_horizontal([
            p.str.extract_all(pattern).list.sort() != t.str.extract_all(pattern).list.sort()
            for pattern in patterns
        ]).fill_null(False).alias(f"structure:{name}")
        for name, patterns in SPANS.items()
    ]  # fmt: skip
    flags = {s.name: s for s in on_rows(df, maybe, spans, [pl.lit(False)] * len(spans))}
    # Translations legitimately rewrite some numbers ("1930s" -> "20 世纪 30 年代", "£11m" ->
    # "1100 万", "three" for "3"), so only losing most of the pivot's multi-digit numbers, and
    # more than one, counts.
    pn = pl.col("_p_numbers")
    missing = pn.list.set_difference(numbers(t, 1)).list.len()
    lost = (missing >= 2) & (missing * 2 > pn.list.len())
    flags["structure:numbers"] = _flag(df, pn.list.len() >= 2, lost)
    pc, tc = pl.col("_p_items"), list_items(t)
    changed = (pc >= 2) & ((tc - pc).abs() > pl.max_horizontal(pc // 4, 1))
    flags["structure:list"] = _flag(df, pc >= 2, changed)
    pr, tr = pl.col("_p_rows"), t.str.count_matches(P.TABLE_LINE)
    changed = (pr >= 2) & ((tr - pr).abs() > pr // 4)
    flags["structure:table"] = _flag(df, pr >= 2, changed)
    return reason(pl.DataFrame(flags), [(name, pl.col(name)) for name in flags])
