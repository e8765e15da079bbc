"""The dry run's table for local translation models (``plugdata build --dry-run`` with
``--translator mt``): which model runs where, what it needs to download, and how long it takes."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_mt_estimate(out: Console, plan: dict[str, Any]) -> None:
    """The dry run of local translation models: what runs where, what it needs, how long."""
    table = Table(
        title=f"Dry run: {plan['records']} records, local translation models "
        "(nothing downloaded, no run directory written)"
    )
    for name in (
        "language",
        "model",
        "licence",
        "download",
        "here",
        "runs on",
        "sentences",
        "tokens in",
        "tokens out (est.)",
        "time (est.)",
    ):
        table.add_column(name, justify="left" if name in ("model", "runs on") else "right")
    models = {lang: m for m in plan["models"] for lang in m["languages"]}
    for lang, row in plan["languages"].items():
        m = models[lang]
        table.add_row(
            lang,
            m["model"],
            m["licence"],
            _bytes(m["download_bytes"]),
            "yes" if m["cached"] else "no",
            f"{m['engine']}, {m['device']}, {m['precision']}",
            f"{row['sentences']:,}",
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            _duration(row["seconds"]),
        )
    t = plan["totals"]
    table.add_row(
        "total",
        "",
        "",
        "",
        "",
        "",
        f"{t['sentences']:,}",
        f"{t['input_tokens']:,}",
        f"{t['output_tokens']:,}",
        _duration(t["seconds"]),
    )
    out.print(table)
    for m in plan["models"]:
        why = m["why"] if m["why"].startswith("named") else f"default because {m['why']}"
        out.print(f"{', '.join(m['languages'])}: {m['model']} ({m['licence']}), {why}")
        for line in m["warnings"]:
            out.print(f"Warning: {line}")
    if not all(m["cached"] for m in plan["models"]):
        out.print(
            "Models that are not here are downloaded by the build; their size is unknown "
            "when the Hub does not answer, their tokens are estimated and their time is "
            "measured once they are here. Without internet on this machine see 'No "
            "internet on the build machine' in the README."
        )
    if any(m["cached"] for m in plan["models"]):
        out.print(
            f"Times come from translating {plan['sample_sentences']} sentences per "
            "language on this machine after the model was loaded (and converted for "
            "CTranslate2, once, as the build would)."
        )


def _bytes(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}" if unit == "GB" else f"{n / size:.0f} {unit}"
    return f"{n} B"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    return f"~{seconds / 60:.0f} min" if seconds < 5400 else f"~{seconds / 3600:.1f} h"
