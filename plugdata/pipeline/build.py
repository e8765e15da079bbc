"""``build()``: source -> translate (and generate) -> filter -> format -> run directory.

``build()`` runs the recipe on the executor the config names: here, or on Ray Data
(:mod:`plugdata.pipeline.ray_executor`). Both call the same stages
(:mod:`plugdata.pipeline.stages`) and leave the same run directory.

Here, source chunks stream through the stages: the runner translates them with no barrier,
each finished chunk is filtered, formatted and written on a worker thread while the next ones
are being translated, and statistics are summed as they go. Memory holds a few chunks, however
large the corpus.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from plugdata.config import BuildConfig
from plugdata.errors import Interrupted
from plugdata.filters import PairFilter
from plugdata.pipeline.batches import batch_ledgers, refuse_batch_failures, refuse_open_batches
from plugdata.pipeline.plan import Plan
from plugdata.pipeline.stages import (
    BuildResult,
    BuildRun,
    ChunkSink,
    commit_run,
    filter_chunk,
    finish_run,
    format_chunk,
    keep_for_resume,
    make_clients,
    make_filter,
    make_runner,
    open_run,
    open_sink,
    push,
    read_source,
    translate_chunks,
)
from plugdata.schema import pair_frame
from plugdata.sources import Source
from plugdata.translate.cache import RequestCache
from plugdata.translate.pricing import Spend
from plugdata.translate.runner import PairCallback, Runner

__all__ = ["FILTER_ROWS", "BuildResult", "Interrupted", "batch_ledgers", "build"]

# Pairs filtered at once: the filters have a fixed cost per call (and use both cores only on
# large frames), so small translated chunks are gathered first: 4K pairs a call filter at about
# half the speed of 16K.
FILTER_ROWS = 16_384


def build(
    config: BuildConfig | Mapping[str, Any],
    on_pair: PairCallback | None = None,
    on_start: Callable[[dict[str, int | None]], None] | None = None,
    on_status: Callable[[str], None] | None = None,
    on_rejected: Callable[[str, int], None] | None = None,
) -> BuildResult:
    """Run the whole recipe and return the committed run directory and its stats.

    ``config`` is a :class:`BuildConfig` or a plain dict of its fields. ``on_start`` gets the
    expected number of pairs per target language (None where unknown) before translation
    starts; ``on_pair`` gets each pair row as it completes; ``on_status`` gets a line whenever
    the state of the Batch API's batches changes; ``on_rejected`` gets (language, count)
    whenever the filters reject pairs (``on_pair`` reports pairs as they are translated,
    before the filters; on Ray, after them). Re-running the same build after a
    crash, Ctrl-C or a spending cap replays completed requests from the staging folder's
    cache and sends only the rest.
    """
    started = time.monotonic()
    if not isinstance(config, BuildConfig):
        config = BuildConfig.from_dict(config)
    if config.executor == "ray":
        from plugdata.pipeline.ray_executor import build_on_ray

        result = build_on_ray(config, on_pair=on_pair, on_start=on_start, started=started)
    else:
        result = _build_here(config, started, on_pair, on_start, on_status, on_rejected)
    return push(result, config)


def _build_here(
    config: BuildConfig,
    started: float,
    on_pair: PairCallback | None,
    on_start: Callable[[dict[str, int | None]], None] | None,
    on_status: Callable[[str], None] | None,
    on_rejected: Callable[[str, int], None] | None,
) -> BuildResult:
    """The local executor: this process translates; a worker thread filters and writes."""
    run = open_run(config, started=started)
    with run, RequestCache(run.cache_path) as cache:
        if not config.batch_api:
            refuse_open_batches(run.staging)
        spend = Spend(config.max_cost, earlier=cache.total_cost())
        chunks: _Chunks | None = None
        try:  # whatever stops the run (an error, Ctrl-C, SIGTERM), paid work is kept
            # Clients first: a missing API key or model fails before the source is read.
            translator, generator = make_clients(
                config, spend, cache, staging=run.staging, notify=on_status
            )
            source = read_source(config)
            chunks = _Chunks(run.plan, open_sink(run, source), make_filter(run.plan), on_rejected)
            if on_start is not None:
                on_start({t.code: source.total for t in run.plan.targets})
            runner = make_runner(run.plan, translator, generator)
            asyncio.run(_translate(run, source, chunks, runner, on_pair))
            cache.flush()  # every answer is on disk now (a failed write is raised here)
            run.directory.keep = True  # keep them should anything below fail
            funnel = chunks.close()
            stats = finish_run(
                run, source, chunks.sink, spend, translator, generator, funnel=funnel
            )
        except BaseException as exc:
            if chunks is not None:
                chunks.abort()
            keep_for_resume(run, cache, exc)
        cache.close()
        refuse_batch_failures(chunks.sink.tally.stats(), run.staging)
        return commit_run(run, stats)


class _Chunks:
    """What happens to each translated chunk here, on one worker thread and in order: pairs
    are gathered to :data:`FILTER_ROWS` when filtering, then filtered, formatted and written."""

    def __init__(
        self,
        plan: Plan,
        sink: ChunkSink,
        pair_filter: PairFilter | None,
        on_rejected: Callable[[str, int], None] | None,
    ) -> None:
        self.plan, self.sink, self.filter = plan, sink, pair_filter
        self.on_rejected = on_rejected  # (language, pairs the filters rejected) per call
        self.waiting: list[dict[str, Any]] = []  # pairs gathered for the next filter call

    def add(self, pairs: list[dict[str, Any]]) -> None:
        if self.filter is None:
            self._write(pairs)
            return
        self.waiting += pairs
        if len(self.waiting) >= FILTER_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.waiting:
            pairs, self.waiting = self.waiting, []
            self._write(pairs)

    def _write(self, pairs: list[dict[str, Any]]) -> None:
        frame = pair_frame(pairs)
        if self.filter is not None:
            frame, rejected = filter_chunk(self.filter, frame)
            for lang, n in rejected.items():
                if self.on_rejected is not None:
                    self.on_rejected(lang, n)
        self.sink.write(frame, format_chunk(frame, self.plan))

    def close(self) -> dict[str, Any] | None:
        """Write what is gathered, finish every file; the filter funnel (None unfiltered)."""
        self._flush()
        self.sink.close()
        if self.filter is None:
            return None
        self.filter.close()
        return self.filter.stats()

    def abort(self) -> None:
        """Release files and workers after a failure (what was written is rewritten on resume)."""
        self.sink.abort()
        if self.filter is not None:
            with contextlib.suppress(Exception):
                self.filter.close()


async def _translate(
    run: BuildRun, source: Source, chunks: _Chunks, runner: Runner, on_pair: PairCallback | None
) -> None:
    """Translate chunk by chunk; each finished chunk is written on a worker thread, in order."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    stream = translate_chunks(runner, run.plan, source.chunks(run.config.chunk_size), on_pair)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugdata-sink") as pool:
        try:
            async for pairs in stream:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(pool, chunks.add, pairs)
            if pending is not None:
                await pending
        finally:
            await runner.translator.close()
            if runner.generator is not None:
                await runner.generator.close()
