"""Run model work for every (record, target language) pair, concurrently, into pair rows.

Up to ``concurrency`` pairs are in flight; each pair is its own job, so one slow request never
holds up the others. A fatal server error stops everything at once; a spending cap lets the
requests in flight finish (and be cached) before stopping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from plugdata.asking import Outcome
from plugdata.generate import LLMGenerator
from plugdata.languages import Language, get_language
from plugdata.pricing import BudgetExceeded
from plugdata.sources import FIELDS, as_rows
from plugdata.translate import LLMTranslator

PAIR_COLUMNS = (
    "id", "source", "pivot_lang", "target_lang",
    "pivot_instruction", "pivot_input", "pivot_output",
    "target_instruction", "target_input", "target_output",
    "backend", "model", "prompt_version", "generated", "finish_reason",
    "prompt_tokens", "completion_tokens", "cost_usd", "attempts", "cached", "kept", "reasons",
)  # fmt: skip
Generate = Literal["pivot", "target"]
PairCallback = Callable[[dict[str, Any]], None]


@dataclass
class Engine:
    """Translation (and optional generation) of rows into pair rows.

    ``generate="pivot"`` replaces each pivot response with the generator's answer before
    translating; ``generate="target"`` translates only instruction and input and has the
    generator answer the target instruction directly.
    """

    translator: LLMTranslator
    generator: LLMGenerator | None = None
    generate: Generate | None = None
    concurrency: int = 8

    def __post_init__(self) -> None:
        if self.generate is not None and self.generator is None:
            raise ValueError("generate needs a generator")

    async def run(
        self,
        rows: Iterable[Mapping[str, Any]],
        targets: Sequence[str | Language],
        *,
        pivot: str | Language = "en",
        on_pair: PairCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Pair rows for every row and target, grouped by target in source order."""
        source = as_rows(rows)
        pivot_lang = pivot if isinstance(pivot, Language) else get_language(pivot)
        langs = [t if isinstance(t, Language) else get_language(t) for t in targets]
        jobs = iter([(lang, index) for lang in langs for index in range(len(source))])
        results: dict[tuple[str, int], dict[str, Any]] = {}
        pivots: dict[int, asyncio.Task[Outcome]] = {}
        stopped: list[BaseException] = []

        async def pivot_answer(index: int) -> tuple[Outcome, bool]:
            owner = index not in pivots
            if owner:
                row = source[index]
                assert self.generator is not None
                pivots[index] = asyncio.ensure_future(
                    self.generator.generate(row["instruction"], row["input"], pivot_lang)
                )
            return await pivots[index], owner

        async def one(lang: Language, index: int) -> dict[str, Any]:
            row = dict(source[index])
            spent = Outcome()
            if self.generate == "pivot":
                generated, owner = await pivot_answer(index)
                if owner:
                    spent.absorb(generated)
                if generated.fields is None:
                    return self._pair(row, pivot_lang, lang, None, generated.reason, spent)
                row["output"] = generated.fields["output"]
            fields = {name: row[name] for name in FIELDS}
            if self.generate == "target":
                fields.pop("output")
            translated = await self.translator.translate(fields, pivot_lang, lang)
            spent.absorb(translated)
            if translated.fields is None:
                return self._pair(row, pivot_lang, lang, None, translated.reason, spent)
            target = dict(translated.fields)
            if self.generate == "target":
                assert self.generator is not None
                answer = await self.generator.generate(target["instruction"], target["input"], lang)
                spent.absorb(answer)
                if answer.fields is None:
                    return self._pair(row, pivot_lang, lang, None, answer.reason, spent)
                target["output"] = answer.fields["output"]
            return self._pair(row, pivot_lang, lang, target, None, spent)

        async def worker() -> None:
            for lang, index in jobs:
                if stopped:
                    return
                try:
                    pair = await one(lang, index)
                except BudgetExceeded as exc:
                    stopped.append(exc)
                    return
                results[(lang.code, index)] = pair
                if on_pair is not None:
                    on_pair(pair)

        tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, self.concurrency))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *pivots.values()]:
                task.cancel()
            await asyncio.gather(*tasks, *pivots.values(), return_exceptions=True)
        if stopped:
            raise stopped[0]
        return [results[(lang.code, index)] for lang in langs for index in range(len(source))]

    def _pair(
        self,
        row: Mapping[str, Any],
        pivot: Language,
        target: Language,
        fields: Mapping[str, str] | None,
        reason: str | None,
        spent: Outcome,
    ) -> dict[str, Any]:
        client = self.translator.client
        pair: dict[str, Any] = {
            "id": row["id"],
            "source": row.get("source", ""),
            "pivot_lang": pivot.code,
            "target_lang": target.code,
        }
        for name in FIELDS:
            pair[f"pivot_{name}"] = row[name]
        for name in FIELDS:
            pair[f"target_{name}"] = fields[name] if fields is not None else None
        pair.update(
            backend=client.backend,
            model=client.model,
            prompt_version=self.translator.prompt_version,
            generated=self.generate or "",
            finish_reason=spent.finish_reason,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
            cost_usd=spent.cost_usd,
            attempts=spent.requests + spent.cached,
            cached=spent.cached,
            kept=fields is not None,
            reasons=[] if fields is not None else [reason or "failed"],
        )
        return pair


async def atranslate_rows(
    rows: Iterable[Mapping[str, Any]],
    targets: Sequence[str | Language],
    translator: LLMTranslator,
    *,
    pivot: str | Language = "en",
    concurrency: int = 8,
    on_pair: PairCallback | None = None,
    generator: LLMGenerator | None = None,
    generate: Generate | None = None,
) -> list[dict[str, Any]]:
    """Translate every row into every target language; pair rows grouped by target.

    A :class:`~plugdata.errors.ServerError` stops the whole run.
    """
    engine = Engine(translator, generator, generate, concurrency)
    return await engine.run(rows, targets, pivot=pivot, on_pair=on_pair)


def translate_rows(
    rows: Iterable[Mapping[str, Any]],
    targets: Sequence[str | Language],
    translator: LLMTranslator,
    **options: Any,
) -> list[dict[str, Any]]:
    """Blocking form of :func:`atranslate_rows` for scripts and notebooks without a loop."""

    async def run() -> list[dict[str, Any]]:
        try:
            return await atranslate_rows(rows, targets, translator, **options)
        finally:
            await translator.client.close()
            generator = options.get("generator")
            if generator is not None:
                await generator.client.close()

    return asyncio.run(run())


def generate_responses(
    rows: Iterable[Mapping[str, Any]],
    generator: LLMGenerator,
    *,
    lang: str | Language = "en",
    concurrency: int = 8,
) -> list[dict[str, Any]]:
    """Answer every row's instruction in ``lang``: rows with ``output`` replaced (or rejected).

    Each returned row gains ``kept`` and ``reasons``, like pair rows.
    """
    language = lang if isinstance(lang, Language) else get_language(lang)
    source = as_rows(rows)
    out: list[dict[str, Any] | None] = [None] * len(source)
    jobs = iter(range(len(source)))

    async def worker() -> None:
        for index in jobs:
            row = source[index]
            result = await generator.generate(row["instruction"], row.get("input", ""), language)
            ok = result.fields is not None
            out[index] = {
                **row,
                "output": result.fields["output"] if result.fields else None,
                "kept": ok,
                "reasons": [] if ok else [result.reason or "failed"],
            }

    async def run() -> None:
        try:
            await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
        finally:
            await generator.client.close()

    asyncio.run(run())
    return [row for row in out if row is not None]
