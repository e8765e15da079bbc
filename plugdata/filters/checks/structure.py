"""``structure``: code, URLs, placeholders, numbers, lists and tables kept.

Sub-reasons: ``structure:code``, ``structure:url``, ``structure:placeholder`` (evidence: what
the pivot has that the target lost), ``structure:numbers`` (evidence: the lost numbers),
``structure:list``, ``structure:table``. Reads ``numbers_min_digits``, ``numbers_min_missing``,
``numbers_max_missing``, ``list_tolerance``.
"""

from __future__ import annotations

import polars as pl

from plugdata.filters import patterns as P
from plugdata.filters.check import Check, Context, add_evidence, verdicts
from plugdata.filters.config import FilterConfig
from plugdata.filters.prepare import FIELDS, col
from plugdata.filters.rows import on_rows, per_pivot

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


def _lost(p: pl.Expr, t: pl.Expr, pattern: str) -> pl.Expr:
    """The pivot's spans of ``pattern`` the target does not hold, joined (null where none)."""
    missing = p.str.extract_all(pattern).list.set_difference(t.str.extract_all(pattern))
    return pl.when(missing.list.len() > 0).then(missing.list.join(" ")).otherwise(None)


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """Code blocks, inline code, URLs, placeholders, numbers and list/table shape kept; each
    compared only on the rows where a cheap hint says it can occur. The pivot's side is worked
    out once per distinct pivot record. Translations rewrite some numbers ("1930s" -> "20 世纪
    30 年代", "three" for "3"), so only losing most of the pivot's numbers, and several, counts."""
    cfg = ctx.config
    pivot = per_pivot(df, lambda frame: _pivot_features(frame, cfg))
    df = pivot.with_columns(df.select(_whole("target").alias("_t"))[:, 0])  # joined once
    p, t = pl.col("_p"), pl.col("_t")
    maybe = pl.col("_p_spans") | t.str.contains(P.SPAN_HINT)
    spans = [
        pl.any_horizontal(
            [
                _spans(p, pattern, name == "code") != _spans(t, pattern, name == "code")
                for pattern in patterns
            ]
        )
        .fill_null(False)
        .alias(f"structure:{name}")
        for name, patterns in SPANS.items()
    ]
    flags = {s.name: s for s in on_rows(df, maybe, spans, [pl.lit(False)] * len(spans))}
    pn = pl.col("_p_numbers")
    missing = pn.list.set_difference(numbers(t, 1))
    lost = (missing.list.len() >= cfg.numbers_min_missing) & (
        missing.list.len() > pn.list.len() * cfg.numbers_max_missing
    )
    flags["structure:numbers"] = _flag(df, pn.list.len() >= cfg.numbers_min_missing, lost)
    # (counts are unsigned: signed before they are subtracted, or fewer items wrap round)
    pc, tc = pl.col("_p_items").cast(pl.Int64), list_items(t).cast(pl.Int64)
    changed = (pc >= 2) & (
        (tc - pc).abs() > pl.max_horizontal((pc * cfg.list_tolerance).floor(), 1)
    )
    flags["structure:list"] = _flag(df, pc >= 2, changed)
    pr, tr = pl.col("_p_rows").cast(pl.Int64), t.str.count_matches(P.TABLE_LINE).cast(pl.Int64)
    changed = (pr >= 2) & ((tr - pr).abs() > (pr * cfg.list_tolerance).floor())
    flags["structure:table"] = _flag(df, pr >= 2, changed)
    frame = pl.DataFrame(flags).with_columns(df.select("_p", "_t", "_p_numbers"))
    found = verdicts(frame, [(name, "", pl.col(name), None) for name in flags])
    evidence = {f"structure:{n}": _lost(p, t, "|".join(SPANS[n])) for n in SPANS}
    evidence["structure:numbers"] = missing.list.join(" ")
    return add_evidence(frame, found, evidence)


CHECK = Check("structure", run, reasons=REASONS, reads=READS)
