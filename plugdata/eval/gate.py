"""The language-fidelity gate: is each answer written in the language it was asked in?

The answer is judged by the filters' language accounting (:mod:`plugdata.filters.accounting`):
cut into segments, each identified (fastText lid.176, stopwords and scripts first), and the
answer's prose weighed by language, so an answer that switches to English half way is caught
whatever its first sentence says. A row records the language with most of its prose
(``lid_lang``), the share of its prose in the target language (``lid_target``) and
``wrong_language``: true when that share is under the threshold, null when there is no answer
to judge. An answer too short for a segment to count is judged by the probability of the
target language instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from plugdata.filters.accounting import account
from plugdata.filters.check import Context
from plugdata.filters.config import FilterConfig
from plugdata.filters.langid import LanguageIdentifier, make_identifier
from plugdata.filters.prepare import prepare

DEFAULT_THRESHOLD = 0.5


def _frame(answers: list[str], target: str, pivot: str) -> pl.DataFrame:
    """The answers as pairs whose target output is the answer (nothing on the pivot side)."""
    n = len(answers)
    empty = [""] * n
    return pl.DataFrame(
        {
            "pivot_lang": [pivot] * n,
            "target_lang": [target] * n,
            "pivot_instruction": empty,
            "pivot_input": empty,
            "pivot_output": empty,
            "target_instruction": empty,
            "target_input": empty,
            "target_output": answers,
        }
    )


def _languages(answers: list[str], target: str, pivot: str, lid: Any) -> tuple[list, list]:
    """Per answer: the share of its counted prose in ``target`` (None where nothing counted)
    and the language with most of its prose."""
    config = FilterConfig()
    ctx = Context(config, lid=lid)
    accounting = account(prepare(_frame(answers, target, pivot), config.code_max_prose), ctx)
    segs = accounting.segments.filter(pl.col("field") == "output").with_columns(
        pl.when(pl.col("side") == "target")
        .then(pl.lit(target))
        .otherwise(pl.col("label"))
        .alias("_lang")
    )
    top = segs.group_by("row", "_lang").agg(pl.col("weight").sum()).sort("weight", descending=True)
    major = dict(top.group_by("row", maintain_order=True).agg(pl.col("_lang").first()).iter_rows())
    shares = accounting.fields["share_target_output"].to_list()
    return shares, [major.get(i) for i in range(len(answers))]


def language_gate(
    rows: Sequence[dict[str, Any]],
    target: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    identifier: LanguageIdentifier | None = None,
    pivot: str = "en",
) -> int:
    """Add ``lid_lang``, ``lid_target`` and ``wrong_language`` to each row in place.

    Returns how many answers are not in ``target``.
    """
    lid = identifier or make_identifier("fasttext")
    answered = [row for row in rows if row.get("answer")]
    texts = [row["answer"] for row in answered]
    shares, majors = _languages(texts, target, pivot, lid) if texts else ([], [])
    short = [i for i, share in enumerate(shares) if share is None]
    probs = dict(zip(short, lid.probabilities([(texts[i], target) for i in short]), strict=True))
    tops = dict(zip(short, lid.distributions([texts[i] for i in short]), strict=True))
    for row in rows:
        if not row.get("answer"):
            row.update(lid_lang=None, lid_target=None, wrong_language=None)
    wrong = 0
    for i, row in enumerate(answered):
        share, lang = shares[i], majors[i]
        if share is None:
            share = probs[i]
            lang = max(tops[i], key=tops[i].__getitem__) if tops[i] else None
        row["lid_lang"] = lang
        row["lid_target"] = round(share, 4)
        row["wrong_language"] = share < threshold
        wrong += row["wrong_language"]
    return wrong
