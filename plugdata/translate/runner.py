"""Run a translator (and optional generator) over every (record, target language) item.

Up to ``concurrency`` items are in flight at once, each its own task, so one slow request never
holds up the others and there is no barrier between chunks. Results come back one source chunk
at a time, in order; at most ``window`` chunks are open at once, so memory stays bounded
however long the stream. A fatal server error stops everything at once; a spending cap lets
the requests in flight finish (and be cached) before it stops the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from plugdata.languages import Language
from plugdata.schema import FIELDS
from plugdata.translate.base import Outcome, Translator
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.pricing import BudgetExceeded

Generate = Literal["pivot", "target"]
PairCallback = Callable[[dict[str, Any]], None]


@dataclass
class _Chunk:
    """One source chunk in flight: its rows, its results and when it is done."""

    rows: list[dict[str, Any]]
    results: list[dict[str, Any] | None]
    done: asyncio.Future[None]
    left: int
    pivots: dict[int, asyncio.Task[Outcome]] = field(default_factory=dict)


# One item of a chunk: (chunk, row index, target language) -> its pair row.
_Work = Callable[[_Chunk, int, Language], Awaitable[dict[str, Any]]]


class _Flow:
    """The queues of one stream: a producer opens chunks (at most ``window`` at once) and
    queues their items, ``workers`` tasks work them off, and done chunks leave in order."""

    def __init__(self, langs: list[Language], workers: int, window: int) -> None:
        self.langs, self.workers = langs, workers
        self.jobs: asyncio.Queue[tuple[_Chunk, int] | None] = asyncio.Queue(workers * 2)
        self.ordered: asyncio.Queue[_Chunk | None] = asyncio.Queue()
        self.slots = asyncio.Semaphore(window)
        self.halted: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        self.tasks: list[asyncio.Future[None]] = []

    def start(
        self,
        chunks: Iterable[Sequence[Mapping[str, Any]]],
        one: _Work,
        on_pair: PairCallback | None,
    ) -> None:
        """Start the producer and the workers, and watch them for a fatal error."""
        self.producer = asyncio.ensure_future(self._produce(chunks))
        self.crew = [asyncio.ensure_future(self._work(one, on_pair)) for _ in range(self.workers)]
        self.failed = asyncio.ensure_future(_first_failure([self.producer, *self.crew]))
        self.tasks = [self.producer, *self.crew, self.failed]

    async def next_done(self) -> _Chunk | None:
        """The next chunk in order once all its items are done; None after the last. A fatal
        error (ServerError) surfaces here at once, a spending cap once the requests in flight
        have landed in the cache."""
        chunk = await self.ordered.get()
        if chunk is None:
            return None
        await asyncio.wait(
            {chunk.done, self.halted, self.failed}, return_when=asyncio.FIRST_COMPLETED
        )
        if self.failed.done():
            self.failed.result()
        if not chunk.done.done():
            await self._halt()
            raise self.halted.result()
        self.slots.release()
        return chunk

    async def join(self) -> None:
        """Wait for the producer and the workers to finish."""
        await asyncio.gather(self.producer, *self.crew)

    async def close(self) -> None:
        """Cancel whatever still runs."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _produce(self, chunks: Iterable[Sequence[Mapping[str, Any]]]) -> None:
        for rows in chunks:
            await self.slots.acquire()
            n = len(rows) * len(self.langs)
            done = self.halted.get_loop().create_future()
            chunk = _Chunk([dict(r) for r in rows], [None] * n, done, n)
            await self.ordered.put(chunk)
            if n == 0:
                chunk.done.set_result(None)
            for k in range(n):
                await self.jobs.put((chunk, k))
        await self.ordered.put(None)
        for _ in range(self.workers):
            await self.jobs.put(None)

    async def _work(self, one: _Work, on_pair: PairCallback | None) -> None:
        while not self.halted.done() and (job := await self.jobs.get()) is not None:
            chunk, k = job
            lang, index = self.langs[k // len(chunk.rows)], k % len(chunk.rows)
            try:
                pair = await one(chunk, index, lang)
            except BudgetExceeded as exc:  # let the other requests in flight finish
                if not self.halted.done():
                    self.halted.set_result(exc)
                return
            chunk.results[k] = pair
            if on_pair is not None:
                on_pair(pair)
            chunk.left -= 1
            if chunk.left == 0:
                chunk.done.set_result(None)

    async def _halt(self) -> None:
        """Stop issuing work and wait for the requests in flight (they land in the cache)."""
        self.producer.cancel()
        while not self.jobs.empty():
            self.jobs.get_nowait()
        for _ in self.crew:
            self.jobs.put_nowait(None)
        await asyncio.gather(*self.crew, return_exceptions=True)


@dataclass
class Runner:
    """Translation (and optional generation) of source rows into pair rows.

    ``generate="pivot"`` replaces each pivot response with the generator's answer before
    translating; ``generate="target"`` translates only instruction and input and has the
    generator answer the target instruction directly.
    """

    translator: Translator
    generator: LLMGenerator | None = None
    generate: Generate | None = None
    concurrency: int = 8
    window: int = 4

    def __post_init__(self) -> None:
        if self.generate is not None and self.generator is None:
            raise ValueError("generate needs a generator")

    async def stream(
        self,
        chunks: Iterable[Sequence[Mapping[str, Any]]],
        targets: Sequence[Language],
        pivot: Language,
        on_pair: PairCallback | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pair rows per source chunk, in chunk order; within a chunk grouped by target."""

        async def one(chunk: _Chunk, index: int, lang: Language) -> dict[str, Any]:
            return await self._one(chunk, index, pivot, lang)

        flow = _Flow(list(targets), max(1, self.concurrency), max(1, self.window))
        flow.start(chunks, one, on_pair)
        try:
            while (chunk := await flow.next_done()) is not None:
                yield [pair for pair in chunk.results if pair is not None]
            await flow.join()
        finally:
            await flow.close()

    async def run(
        self,
        rows: Sequence[Mapping[str, Any]],
        targets: Sequence[Language],
        pivot: Language,
        on_pair: PairCallback | None = None,
    ) -> list[dict[str, Any]]:
        """Pair rows for every row and target, grouped by target in source order."""
        out: list[dict[str, Any]] = []
        async for part in self.stream([rows], targets, pivot, on_pair):
            out += part
        return out

    async def _pivot_answer(
        self, chunk: _Chunk, index: int, pivot: Language
    ) -> tuple[Outcome, bool]:
        """The generated pivot answer of a row, made once and shared by every language."""
        owner = index not in chunk.pivots
        if owner:
            row = chunk.rows[index]
            assert self.generator is not None
            chunk.pivots[index] = asyncio.ensure_future(
                self.generator.generate(row["instruction"], row["input"], pivot)
            )
        return await chunk.pivots[index], owner

    async def _one(
        self, chunk: _Chunk, index: int, pivot: Language, lang: Language
    ) -> dict[str, Any]:
        row = dict(chunk.rows[index])
        spent = Outcome()
        if self.generate == "pivot":
            generated, owner = await self._pivot_answer(chunk, index, pivot)
            if owner:
                spent.absorb(generated)
            if generated.fields is None:
                return self._pair(row, pivot, lang, None, generated.reason, spent)
            row["output"] = generated.fields["output"]
        fields = {name: row[name] for name in FIELDS}
        if self.generate == "target":
            fields.pop("output")
        translated = await self.translator.translate(fields, pivot, lang)
        spent.absorb(translated)
        if translated.fields is None:
            return self._pair(row, pivot, lang, None, translated.reason, spent)
        target = dict(translated.fields)
        if self.generate == "target":
            assert self.generator is not None
            answer = await self.generator.generate(target["instruction"], target["input"], lang)
            spent.absorb(answer)
            if answer.fields is None:
                return self._pair(row, pivot, lang, None, answer.reason, spent)
            target["output"] = answer.fields["output"]
        return self._pair(row, pivot, lang, target, None, spent)

    def _pair(
        self,
        row: Mapping[str, Any],
        pivot: Language,
        target: Language,
        fields: Mapping[str, str] | None,
        reason: str | None,
        spent: Outcome,
    ) -> dict[str, Any]:
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
            backend=self.translator.backend,
            model=spent.model or self.translator.model,
            prompt_version=self.translator.prompt_version,
            generated=self.generate or "",
            finish_reason=spent.finish_reason,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
            cost_usd=spent.cost_usd,
            attempts=spent.sent + spent.cached,
            cached=spent.cached,
            kept=fields is not None,
            reasons=[] if fields is not None else [reason or "failed"],
        )
        return pair


async def _first_failure(tasks: list[asyncio.Task[None]]) -> None:
    """Finish when any task raises (re-raising it); never finish otherwise."""
    for task in asyncio.as_completed(tasks):
        await task
    await asyncio.Event().wait()
