"""What the command line prints: summaries that fit an 80-column terminal or a log file
without losing a number, and usage lines with arguments as they are typed."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand

err = Console(stderr=True)  # progress, warnings and errors
out = Console()  # summaries and results


class PlainUsage(TyperCommand):
    """Usage lines with arguments as they are typed (``FILE``), not typer's ``{FILE}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


def use_plain_usage(*apps: Any) -> None:
    """Give every command of these typer apps :class:`PlainUsage` (call after registering)."""
    for app in apps:
        for info in app.registered_commands:
            if info.cls in (None, TyperCommand):
                info.cls = PlainUsage


def counts_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[str]]) -> Table:
    """A table of short values: the first column left, numbers right, none ever cut."""
    table = Table(title=title)
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def reason_lines(reasons: Mapping[str, Mapping[str, int]], width: int = 80) -> list[str]:
    """Counts per reason, one wrapped paragraph per language (``zh  script:low_share=45, ...``):
    reasons are too long and too many for a table column. No count is ever cut: a wrap only
    falls between two reasons."""
    pad = max((len(lang) for lang in reasons), default=0) + 2
    lines = []
    for lang, counts in reasons.items():
        if counts:
            text = ", ".join(f"{reason}={n:,}" for reason, n in counts.items())
            lines += textwrap.wrap(
                text,
                max(width, pad + 20),
                initial_indent=lang.ljust(pad),
                subsequent_indent=" " * pad,
                break_long_words=False,
                break_on_hyphens=False,
            )
    return lines


def print_summary(console: Console, stats: Mapping[str, Any]) -> None:
    """A build's summary: pairs, kept, rejected, tokens and cost per language, then the
    rejections per reason, token statistics of rendered sets and what was replayed."""
    rows = []
    languages = stats["languages"]
    totals = [*languages.items(), *([("total", stats["totals"])] if len(languages) > 1 else [])]
    for lang, row in totals:
        tokens = row["prompt_tokens"] + row["completion_tokens"]
        rows.append(
            [
                lang,
                f"{row['pairs']:,}",
                f"{row['kept']:,}",
                f"{row['rejected']:,}",
                f"{tokens:,}",
                f"{row['cost_usd']:.4f}",
            ]
        )
    columns = ("language", "pairs", "kept", "rejected", "tokens", "cost (USD)")
    console.print(counts_table("Pairs per language", columns, rows))
    _print_reasons(console, {lang: row["reasons"] for lang, row in languages.items()})
    for fmt, per_lang in stats.get("tokens", {}).items():
        for lang, t in per_lang.items():
            dropped = stats["dropped_too_long"][fmt][lang]
            console.print(
                f"{fmt}-{lang}: {t['rows']} rows, tokens mean {t['mean']}, p95 "
                f"{t['p95']}, max {t['max']}"
                + (f", {dropped} dropped as too long" if dropped else "")
            )
    run = stats.get("this_run", {})
    if run.get("replayed_from_cache"):
        console.print(
            f"Replayed {run['replayed_from_cache']} request(s) from the cache; "
            f"sent {run['requests_sent']}."
        )
    if "filters" not in stats:
        console.print("Filters were not run (--no-filter): every translated pair was kept.")
    for reason, count in stats["source_skipped"].items():
        console.print(f"skipped {count} source record(s): {reason}")


def print_funnel(console: Console, stats: Mapping[str, Any]) -> None:
    """``plugdata filter``'s funnel: checked, kept and rejected per language, then reasons."""
    languages = stats["languages"]
    rows = [
        [lang, f"{row['checked']:,}", f"{row['kept']:,}", f"{row['rejected']:,}"]
        for lang, row in languages.items()
    ]
    console.print(counts_table("Filter funnel", ("language", "checked", "kept", "rejected"), rows))
    _print_reasons(console, {lang: row["reasons"] for lang, row in languages.items()})


def _print_reasons(console: Console, reasons: Mapping[str, Mapping[str, int]]) -> None:
    lines = reason_lines(reasons, console.width)
    if lines:
        console.print("Rejected pairs by reason:", style="bold")
        for line in lines:
            console.print(line, soft_wrap=True, highlight=False, markup=False)
