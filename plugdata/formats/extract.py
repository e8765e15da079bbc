"""Recover the final target-language answer from a PLUG model's output."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from plugdata.languages import Language, get_language

Status = Literal["ok", "label_missing", "pivot_only", "empty"]
STATUSES: tuple[Status, ...] = ("ok", "label_missing", "pivot_only", "empty")


@dataclass(frozen=True)
class Extraction:
    """The answer (``None`` unless the target block was found) and how it went."""

    answer: str | None
    status: Status


@lru_cache(maxsize=256)
def _label_pattern(label: str) -> re.Pattern[str]:
    """A label that tolerates other spacing, case, and full- or half-width colons."""
    base = label.strip().rstrip(":：").strip()
    words = [re.escape(word) for word in base.split()]
    return re.compile(r"\s*".join(words) + r"\s*[:：]\s*", re.IGNORECASE)


def extract_target(text: str, target: str | Language, pivot: str | Language = "en") -> Extraction:
    """The text after the last target response label, up to any pivot label that follows.

    ``pivot_only`` means the model answered in the pivot language only; the pivot text is
    never returned as the answer.
    """
    tgt = target if isinstance(target, Language) else get_language(target)
    piv = pivot if isinstance(pivot, Language) else get_language(pivot)
    if not text.strip():
        return Extraction(None, "empty")
    matches = list(_label_pattern(tgt.response_label).finditer(text))
    if not matches:
        has_pivot = _label_pattern(piv.response_label).search(text)
        return Extraction(None, "pivot_only" if has_pivot else "label_missing")
    answer = text[matches[-1].end() :]
    for label in (piv.instruction_label, piv.response_label):
        cut = _label_pattern(label).search(answer)
        if cut:
            answer = answer[: cut.start()]
    answer = answer.strip()
    return Extraction(answer, "ok") if answer else Extraction(None, "empty")


def extract_rows(
    rows: Iterable[Mapping[str, Any]],
    target: str,
    *,
    pivot: str = "en",
    field: str = "output",
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Add ``answer`` and ``status`` to every row; also return the count of each status."""
    out: list[dict[str, Any]] = []
    counts: Counter[str] = Counter({status: 0 for status in STATUSES})
    tgt, piv = get_language(target), get_language(pivot)
    for row in rows:
        value = row.get(field)
        result = extract_target(value if isinstance(value, str) else "", tgt, piv)
        counts[result.status] += 1
        out.append({**row, "answer": result.answer, "status": result.status})
    return out, dict(counts)
