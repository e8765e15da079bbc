"""``report.html`` of a judged comparison: the rates of ``report.json`` (every one of them), and
per language each pair with both answers, both orders' verdicts and the judge's raw replies.

Pairs that need reading come first (errors, position flips, losses, ties, then wins), so when
the page must shrink to stay small, wins are what it leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.eval.aggregate import lenient, strict
from plugdata.eval.answers import Answer, read_folder
from plugdata.eval.benchmark import read_json_rows
from plugdata.eval.report import read_report, title
from plugdata.publish.report import MAX_PAGE_BYTES, REPORT_HTML, clip, fit_page, write_page

JUDGMENTS = "judgments.jsonl"
_ORDER = {"error": 0, "flip": 1, "loss": 2, "tie": 3, "win": 4}
Pairs = Mapping[str, Sequence[tuple[Answer, Answer]]]


def _find_answers(folder: Path, meta: Mapping[str, Any]) -> tuple[Pairs, str | None]:
    """The two answer folders named in ``report.json``, read again (as given, or beside the
    report's folder); a note instead when they are gone."""
    sides = []
    for key in ("a", "b"):
        given = Path(str(meta.get(key) or ""))
        places = (given, folder.parent / given, folder.parent.parent / given)
        found = next((p for p in places if str(given) and p.is_dir()), None)
        if found is None:
            return {}, f"answer folder {given} not found: answers are not shown"
        try:
            sides.append(read_folder(found))
        except PlugdataError as exc:
            return {}, f"answers are not shown: {exc}"
    a, b = sides
    return {
        lang: [(a[lang][i], b[lang][i]) for i in a[lang] if i in b.get(lang, {})]
        for lang in a
        if lang in b
    }, None


def _verdict(j: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if j is None:
        return None
    return {k: j.get(k) for k in ("verdict", "outcome", "source", "error", "raw", "attempts")}


def _pair(
    lang: str, pid: str, orders: Mapping[str, Any], answers: tuple[Answer, Answer] | None
) -> dict[str, Any]:
    ab, ba = orders.get("ab"), orders.get("ba")
    outcomes = [o.get("outcome") if o else None for o in (ab, ba)]
    error = None in outcomes
    first, second = outcomes
    a, b = answers if answers else (None, None)
    return {
        "id": pid,
        "lang": lang,
        "instruction": a.instruction if a else "",
        "a": a.answer if a else None,
        "b": b.answer if b else None,
        "a_wrong": bool(a and a.wrong_language),
        "b_wrong": bool(b and b.wrong_language),
        "orders": {"ab": _verdict(ab), "ba": _verdict(ba)},
        "strict": None if error else strict(first, second),  # type: ignore[arg-type]
        "lenient": None if error else lenient(first, second),  # type: ignore[arg-type]
        "flip": not error and first != second,
        "error": error,
    }


def _interest(pair: Mapping[str, Any]) -> int:
    key = "error" if pair["error"] else "flip" if pair["flip"] else pair["strict"]
    return _ORDER.get(key, 5)


def eval_page_data(
    folder: str | Path,
    report: Mapping[str, Any] | None = None,
    judgments: Sequence[Mapping[str, Any]] | None = None,
    pairs: Pairs | None = None,
) -> dict[str, Any]:
    """Everything the eval page shows, with texts in full (see :func:`shape_eval_data`)."""
    folder = Path(folder)
    report = dict(report if report is not None else read_report(folder))
    if judgments is None:
        path = folder / JUDGMENTS
        judgments = [row for _, row in read_json_rows(path)] if path.is_file() else []
    note = None
    if pairs is None:
        pairs, note = _find_answers(folder, report.get("meta") or {})
    answers = {(lang, a.id): (a, b) for lang, part in pairs.items() for a, b in part}
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for j in judgments:
        grouped.setdefault((str(j.get("lang")), str(j.get("id"))), {})[str(j.get("order"))] = j
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for (lang, pid), orders in grouped.items():
        by_lang.setdefault(lang, []).append(_pair(lang, pid, orders, answers.get((lang, pid))))
    for items in by_lang.values():
        items.sort(key=_interest)  # stable: the benchmark's order within each outcome
    meta = report.get("meta") or {}
    return {
        "kind": "eval",
        "title": f"plugdata eval report: {title(report)}",
        "report": report,
        "pairs": by_lang,
        "note": note,
        "systems": {"a": str(meta.get("a", "A")), "b": str(meta.get("b", "B"))},
        "totals": {lang: len(items) for lang, items in by_lang.items()},
    }


def shape_eval_data(data: Mapping[str, Any], chars: int, share: float) -> dict[str, Any]:
    """``data`` with texts cut to ``chars`` characters and that share of each language's pairs."""
    pairs = {}
    for lang, items in data["pairs"].items():
        keep = items[: max(1, round(len(items) * share))] if items else []
        pairs[lang] = [_clipped(p, chars) for p in keep]
    return {**data, "pairs": pairs, "limits": {"chars": chars, "share": share}}


def _clipped(pair: Mapping[str, Any], chars: int) -> dict[str, Any]:
    orders = {
        k: ({**v, "raw": clip(v.get("raw"), chars)} if v else None)
        for k, v in pair["orders"].items()
    }
    return {
        **pair,
        "instruction": clip(pair["instruction"], chars),
        "a": clip(pair["a"], chars),
        "b": clip(pair["b"], chars),
        "orders": orders,
    }


def write_eval_page(
    folder: str | Path,
    report: Mapping[str, Any] | None = None,
    judgments: Sequence[Mapping[str, Any]] | None = None,
    pairs: Pairs | None = None,
    max_bytes: int = MAX_PAGE_BYTES,
) -> Path:
    """Write ``report.html`` into a judged folder and return its path."""
    data = eval_page_data(folder, report, judgments, pairs)
    page = fit_page(
        "eval",
        data["title"],
        lambda chars, share: shape_eval_data(data, chars, share),
        max_bytes=max_bytes,
    )
    return write_page(Path(folder) / REPORT_HTML, page)
