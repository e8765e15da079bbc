"""The language-fidelity gate: is each answer written in the language it was asked in?

Language ID runs on every answer (fastText lid.176, as the filters use). A row records the most
likely language (``lid_lang``), the probability of the target language (``lid_target``) and
``wrong_language``: true when that probability is under the threshold, null when there is no
answer to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plugdata.filters.langid import LanguageIdentifier, make_identifier

DEFAULT_THRESHOLD = 0.5
# Labels lid.176 gives to text that a reader of the key language reads as their own.
VARIETIES: dict[str, tuple[str, ...]] = {"zh": ("wuu", "yue", "gan", "hak", "nan"), "id": ("ms",),
                                         "ms": ("id",)}  # fmt: skip


def language_gate(
    rows: Sequence[dict[str, Any]],
    target: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    identifier: LanguageIdentifier | None = None,
) -> int:
    """Add ``lid_lang``, ``lid_target`` and ``wrong_language`` to each row in place.

    Returns how many answers are not in ``target``.
    """
    lid = identifier or make_identifier("fasttext")
    texts = [row["answer"] for row in rows if row.get("answer")]
    probabilities = iter(lid.probabilities([(text, target) for text in texts]))
    tops = iter(lid.distributions(texts)) if hasattr(lid, "distributions") else None
    varieties = VARIETIES.get(target, ())
    wrong = 0
    for row in rows:
        if not row.get("answer"):
            row.update(lid_lang=None, lid_target=None, wrong_language=None)
            continue
        top = next(tops) if tops is not None else {}
        p = min(1.0, next(probabilities) + sum(top.get(v, 0.0) for v in varieties))
        row["lid_lang"] = max(top, key=top.__getitem__) if top else None
        row["lid_target"] = round(p, 4)
        row["wrong_language"] = p < threshold
        wrong += row["wrong_language"]
    return wrong
