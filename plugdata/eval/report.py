"""The report of a comparison: ``report.json``, ``report.md``, the chart ``report.png`` and a
rich table for the terminal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.eval.aggregate import LENIENT, STRICT
from plugdata.publish import write_text_atomic

REPORT_JSON, REPORT_MD, REPORT_PNG = "report.json", "report.md", "report.png"


def _rows(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return [*report["languages"].items(), ("overall", report["overall"])]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _ci(ci: list[float] | None) -> str:
    return "–" if not ci else f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"


def _length(stats: Mapping[str, Any]) -> str:
    lengths = stats.get("mean_length") or {}
    return f"{lengths.get('a', 0):.0f} / {lengths.get('b', 0):.0f}"


def _wrong(stats: Mapping[str, Any]) -> str:
    wrong = stats.get("wrong_language") or {}
    return f"{wrong.get('a', 0)} / {wrong.get('b', 0)}"


HEADER = [
    "language",
    "n",
    "strict W/T/L",
    "lenient W/sW/T/sL/L",
    "win rate (adj.)",
    "95% CI",
    "PLUG win rate",
    "95% CI (PLUG)",
    "consistency",
    "errors",
    "mean chars A/B",
    "wrong lang A/B",
]


def table_rows(report: Mapping[str, Any]) -> list[list[str]]:
    """One row of strings per language, then overall (the columns of :data:`HEADER`)."""
    out = []
    for name, stats in _rows(report):
        out.append(
            [
                name,
                str(stats["n"]),
                "/".join(str(stats["strict"][k]) for k in STRICT),
                "/".join(str(stats["lenient"][k]) for k in LENIENT),
                _pct(stats["win_rate_adjusted"]),
                _ci(stats["ci95"]),
                _pct(stats.get("plug_win_rate")),
                _ci(stats.get("plug_win_rate_ci95")),
                _pct(stats["position_consistency"]),
                str(stats["errors"]),
                _length(stats),
                _wrong(stats),
            ]
        )
    return out


# The terminal gets the same columns as report.md in three narrow tables (80 columns hold
# each of them whole); the column numbers are those of HEADER.
_TERMINAL = {
    "Outcomes for A (pairs judged in both orders)": (0, 1, 2, 3, 8),
    "Rates for A": (0, 4, 5, 6, 7),
    "Answers and errors": (0, 9, 10, 11),
}


def title(report: Mapping[str, Any]) -> str:
    """``A vs B (judge M)``."""
    meta = report.get("meta") or {}
    return f"{meta.get('a', 'A')} vs {meta.get('b', 'B')} (judge {meta.get('judge_model', '?')})"


def markdown(report: Mapping[str, Any]) -> str:
    """The report as a Markdown table with a short legend."""
    lines = [f"# {title(report)}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    lines += [
        "",
        "Rates are for system A. Strict (FastChat): a win or loss only when both orders "
        "agree. Lenient (PLUG): a win and a tie is a slight win, a win and a loss a tie. "
        "Win rate (adj.) = (win + 0.5·tie) / n over strict counts; PLUG win rate = (win + "
        "slight win) / n over lenient counts, the rate the PLUG paper reports; each with a "
        "95% bootstrap interval. Consistency: share of pairs whose two orders agree.",
        "",
    ]
    return "\n".join(lines)


def rich_table(report: Mapping[str, Any]) -> Any:
    """The report for a terminal: three tables that fit 80 columns, every number kept."""
    from rich.console import Group
    from rich.table import Table

    rows = table_rows(report)
    tables = []
    for caption, columns in _TERMINAL.items():
        table = Table(title=caption, title_justify="left")
        for i in columns:
            table.add_column(HEADER[i], justify="left" if i == 0 else "right", overflow="fold")
        for row in rows:
            table.add_row(*(row[i] for i in columns), style="bold" if row[0] == "overall" else None)
        tables.append(table)
    return Group(title(report), *tables)


def write_chart(path: Path, report: Mapping[str, Any]) -> None:
    """Lenient outcome shares per language (stacked) and the adjusted win rate with its CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _rows(report)
    names = [name for name, _ in rows]
    fig, (stack, rate) = plt.subplots(1, 2, figsize=(11, 4))
    colours = ["#2b8a3e", "#8ce99a", "#ced4da", "#ffa8a8", "#c92a2a"]
    bottom = [0.0] * len(rows)
    for key, colour in zip(LENIENT, colours, strict=True):
        shares = [s["lenient"][key] / s["n"] if s["n"] else 0.0 for _, s in rows]
        stack.bar(names, shares, bottom=bottom, color=colour, label=key.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, shares, strict=True)]
    stack.set_title("Lenient outcomes for A")
    stack.set_ylim(0, 1)
    stack.legend(fontsize=8, loc="upper right")
    width = 0.4
    for k, (key, ci, label, colour) in enumerate(
        (
            ("win_rate_adjusted", "ci95", "adjusted (strict)", "#3b7dd8"),
            ("plug_win_rate", "plug_win_rate_ci95", "PLUG (win + slight win)", "#f08c00"),
        )
    ):
        values = [s.get(key) or 0.0 for _, s in rows]
        bounds = [s.get(ci) or [v, v] for v, (_, s) in zip(values, rows, strict=True)]
        errors = [
            [v - b[0] for v, b in zip(values, bounds, strict=True)],
            [b[1] - v for v, b in zip(values, bounds, strict=True)],
        ]
        where = [i + (k - 0.5) * width for i in range(len(rows))]
        rate.bar(where, values, width, yerr=errors, capsize=3, color=colour, label=label)
    rate.set_xticks(range(len(rows)), names)
    rate.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    rate.set_ylim(0, 1)
    rate.legend(fontsize=8, loc="upper right")
    rate.set_title("Win rates of A, 95% CI")
    fig.suptitle(title(report))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(out: str | Path, report: Mapping[str, Any]) -> Path:
    """Write ``report.json``, ``report.md`` and ``report.png`` into ``out``."""
    folder = Path(out)
    write_text_atomic(folder / REPORT_JSON, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_text_atomic(folder / REPORT_MD, markdown(report))
    write_chart(folder / REPORT_PNG, report)
    return folder / REPORT_JSON


def read_report(out: str | Path) -> dict[str, Any]:
    """The ``report.json`` of a judged folder."""
    path = Path(out) / REPORT_JSON
    if not path.is_file():
        raise PlugdataError(f"no {REPORT_JSON} in {out} (run `plugdata eval judge` first)")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlugdataError(f"{path} is not valid JSON ({exc.msg})") from None
    if not isinstance(report, dict) or "languages" not in report or "overall" not in report:
        raise PlugdataError(f"{path} is not a plugdata eval report")
    return report
