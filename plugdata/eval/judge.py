"""Pairwise judging: every pair in both orders, through an OpenAI-compatible judge model.

A judgment records the order (``ab``: system A shown first; ``ba``: system B first), the judge's
verdict about the positions (``A``, ``B``, ``C`` for a tie) and what it means for system A
(``outcome``: win, tie or loss). A reply without a verdict is asked again (a new cache entry
each time); after ``max_asks`` it is an error with the judge's text kept.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from plugdata.eval.answers import Answer
from plugdata.languages import LANGUAGES
from plugdata.translate.ask import ask
from plugdata.translate.base import Outcome
from plugdata.translate.chat import ChatClient
from plugdata.translate.prompts import PromptTemplate, load_prompt

Verdict = Literal["A", "B", "C"]
Result = Literal["win", "tie", "loss"]
ORDERS = ("ab", "ba")
DEFAULT_PROMPT = "judge/v1"

# [[A]], [[ B ]], [[c]], [[Tie]], and full-width brackets; the last one in the reply counts.
_VERDICT = re.compile(r"[\[［]\s*[\[［]\s*(A|B|C|TIE)\s*[\]］]\s*[\]］]", re.IGNORECASE)


def parse_verdict(text: str) -> Verdict | None:
    """The last ``[[A]]``/``[[B]]``/``[[C]]`` (``[[tie]]`` = C) in ``text``, or None."""
    found = _VERDICT.findall(text or "")
    if not found:
        return None
    last = found[-1].upper()
    return "C" if last == "TIE" else last  # type: ignore[return-value]


def outcome_for_a(order: str, verdict: Verdict) -> Result:
    """What a positional verdict means for system A."""
    if verdict == "C":
        return "tie"
    a_first = order == "ab"
    return "win" if (verdict == "A") == a_first else "loss"


@dataclass
class Judgment:
    """One judge call (or one rule) about one pair in one order: a row of ``judgments.jsonl``."""

    lang: str
    id: str
    order: str
    verdict: str | None
    outcome: str | None
    source: str = "judge"  # or "wrong_language" when the gate decided
    error: str | None = None
    raw: str = ""
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON row."""
        return asdict(self)


@dataclass
class Judge:
    """Asks ``client`` to compare two answers; ``wrong_language`` is ``loss`` or ``judge``."""

    client: ChatClient
    prompt: str = DEFAULT_PROMPT
    max_asks: int = 3
    max_tokens: int | None = 1024
    concurrency: int = 16
    wrong_language: str = "judge"

    def __post_init__(self) -> None:
        self.template: PromptTemplate = load_prompt(self.prompt)

    def messages(
        self, lang: str, instruction: str, first: str, second: str
    ) -> list[dict[str, str]]:
        """The judge prompt with ``first`` shown as answer A and ``second`` as answer B."""
        known = LANGUAGES.get(lang)
        return self.template.render(
            lang_name=known.name if known else lang,
            lang_code=lang,
            instruction=instruction,
            answer_a=first,
            answer_b=second,
        )

    async def judge_one(self, lang: str, a: Answer, b: Answer, order: str) -> Judgment:
        """One order of one pair."""
        if self.wrong_language == "loss" and (a.wrong_language or b.wrong_language):
            return _by_rule(lang, a, b, order)
        first, second = (a, b) if order == "ab" else (b, a)
        messages = self.messages(lang, a.instruction, first.answer, second.answer)
        outcome = Outcome()
        last: list[str] = []

        def validate(content: str) -> tuple[Verdict] | str:
            last.append(content)
            verdict = parse_verdict(content)
            return (verdict,) if verdict is not None else "no_verdict"

        found = await ask(
            self.client,
            messages,
            outcome,
            validate,
            max_asks=self.max_asks,
            truncated="truncated",
            max_tokens=self.max_tokens,
        )
        raw = last[-1] if last else ""
        attempts = len(last)
        if found is None:
            return Judgment(
                lang,
                a.id,
                order,
                None,
                None,
                error=outcome.reason or "no_verdict",
                raw=raw,
                attempts=attempts,
            )
        (verdict,) = found
        return Judgment(
            lang, a.id, order, verdict, outcome_for_a(order, verdict), raw=raw, attempts=attempts
        )

    async def judge_all(
        self,
        pairs: dict[str, Sequence[tuple[Answer, Answer]]],
        progress: Callable[[int], None] | None = None,
    ) -> list[Judgment]:
        """Every pair in both orders, ``concurrency`` calls at a time, in a stable order."""
        gate = asyncio.Semaphore(max(1, self.concurrency))

        async def one(lang: str, a: Answer, b: Answer, order: str) -> Judgment:
            async with gate:
                result = await self.judge_one(lang, a, b, order)
            if progress is not None:
                progress(1)
            return result

        jobs = [
            one(lang, a, b, order)
            for lang, part in pairs.items()
            for a, b in part
            for order in ORDERS
        ]
        try:
            return list(await asyncio.gather(*jobs))
        finally:
            await self.client.close()


def _by_rule(lang: str, a: Answer, b: Answer, order: str) -> Judgment:
    """``--wrong-language loss``: a wrong-language answer loses; two of them tie."""
    if a.wrong_language and b.wrong_language:
        result: Result = "tie"
    else:
        result = "loss" if a.wrong_language else "win"
    a_first = order == "ab"
    verdict = {"tie": "C", "win": "A" if a_first else "B", "loss": "B" if a_first else "A"}[result]
    return Judgment(lang, a.id, order, verdict, result, source="wrong_language")
