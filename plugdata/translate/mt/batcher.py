"""Gather concurrent translate calls into batches for a model running on a worker thread.

The runner calls the translator for many records at once with no barrier; each call hands its
sentences here and waits. Sentences for the same (model, language) wait a few milliseconds
(or until enough are queued), then run as one deduplicated batch on the worker thread; while
it runs, new calls queue up for the next batch. Nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from plugdata.translate.mt.engines import Result

RunBatch = Callable[[str, str, list[str]], list[Result]]


class Batcher:
    """Micro-batches (model, language, sentence) requests for a blocking ``run`` function."""

    def __init__(self, run: RunBatch, *, max_segments: int = 512, linger: float = 0.005) -> None:
        self._run = run
        self.max_segments = max_segments
        self.linger = linger
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugdata-mt")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[tuple[str, str], list[tuple[str, asyncio.Future[Result]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._busy = False  # a batch is running on the worker thread
        self.batches = 0  # how many batches ran (for tests and benchmarks)

    async def submit(self, model: str, lang: str, texts: Sequence[str]) -> list[Result]:
        """Translations of ``texts`` by ``model`` into ``lang``, batched with other callers."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (asyncio.run again): start afresh
            self._loop, self._pending, self._task = loop, {}, None
        futures = [loop.create_future() for _ in texts]
        self._pending.setdefault((model, lang), []).extend(zip(texts, futures, strict=True))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return list(await asyncio.gather(*futures))

    def _queued(self) -> int:
        return sum(len(items) for items in self._pending.values())

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if self._queued() < self.max_segments:
                await asyncio.sleep(self.linger)
            key = max(self._pending, key=lambda k: len(self._pending[k]))
            items = self._pending.pop(key)
            texts = list(dict.fromkeys(text for text, _ in items))
            try:
                results = await loop.run_in_executor(self._pool, self._work, key[0], key[1], texts)
            except Exception as exc:
                for _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            by_text = dict(zip(texts, results, strict=True))
            for text, future in items:
                if not future.done():
                    future.set_result(by_text[text])

    def _work(self, model: str, lang: str, texts: list[str]) -> list[Result]:
        self._busy = True
        try:
            return self._run(model, lang, texts)
        finally:
            self._busy = False

    async def close(self) -> bool:
        """Stop batching and release the worker thread; returns whether it was idle.

        A batch still running (the run was interrupted) is not waited for: a model can take
        many seconds over one, and its result is not wanted any more.
        """
        if (
            self._task is not None
            and not self._task.done()
            and self._loop is asyncio.get_running_loop()
        ):
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        idle = not self._busy
        self._pool.shutdown(wait=idle, cancel_futures=True)
        return idle

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn`` on the worker thread (where the models live) and wait for it."""
        return self._pool.submit(fn, *args).result()
