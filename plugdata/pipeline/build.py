"""``build()``: source -> translate (and generate) -> filter -> format -> run directory.

Source chunks stream through the stages: the runner translates them with no barrier, each
finished chunk is filtered, written and formatted on a worker thread while the next ones are
being translated, and statistics are summed as they go. Memory holds a few chunks, however
large the corpus.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugdata.config import BuildConfig
from plugdata.errors import Interrupted, PlugdataError, stopped_by
from plugdata.filters import PairFilter
from plugdata.pipeline.clients import make_clients
from plugdata.pipeline.finish import finish
from plugdata.pipeline.plan import Plan, make_plan
from plugdata.pipeline.sink import ChunkSink
from plugdata.publish import BATCHES_DIR, CACHE_NAME, RunDirectory, push_run
from plugdata.sources import Source, open_source
from plugdata.translate import Translator
from plugdata.translate.batch import BATCH_LEVEL, BatchesPending, Ledger
from plugdata.translate.cache import CacheWriteError, RequestCache
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.pricing import BudgetExceeded, Spend
from plugdata.translate.runner import PairCallback, Runner


class BatchFailures(PlugdataError):
    """Rows failed at the Batch API's batch level: the run is kept, not committed."""


BATCH_FAILURE_SHARE = 0.01  # rows failed at the batch level that a committed run may hold


@dataclass
class BuildResult:
    """Where the run went and what it counted."""

    out: Path
    stats: dict[str, Any]


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

        return build_on_ray(config, on_pair=on_pair, on_start=on_start)
    plan = make_plan(config)
    run = RunDirectory(plan.out, overwrite=config.overwrite)
    with run, RequestCache(run.staging / CACHE_NAME) as cache:
        (run.staging / "identity").write_text(config.identity() + "\n")
        if not config.batch_api:
            _refuse_open_batches(run.staging)
        spend = Spend(config.max_cost, earlier=cache.total_cost())
        sink: ChunkSink | None = None
        try:  # whatever stops the run (an error, Ctrl-C, SIGTERM), paid work is kept
            # Clients first: a missing API key or model fails before the source is read.
            translator, generator = make_clients(
                config, spend, cache, staging=run.staging, notify=on_status
            )
            source = _open_checked(config)
            sink = _sink(run, plan, source, on_rejected)
            if on_start is not None:
                on_start({t.code: source.total for t in plan.targets})
            runner = _runner(plan, translator, generator)
            asyncio.run(_translate(plan, source, sink, runner, on_pair))
            cache.flush()  # every answer is on disk now (a failed write is raised here)
            run.keep = True  # keep them should anything below fail
            sink.close()
            stats = finish(run, plan, source, sink, spend, translator, generator, started)
        except BaseException as exc:
            if sink is not None:
                sink.abort()
            _keep_for_resume(run, cache, config, plan, exc)
        cache.close()
        _refuse_batch_failures(sink, run.staging)
        (run.staging / "identity").unlink(missing_ok=True)
        result = BuildResult(run.commit(), stats)
    return push(result, config)


def push(result: BuildResult, config: BuildConfig) -> BuildResult:
    """Upload a committed run to the Hub when ``push_to_hub`` asks for it (stats say where)."""
    if config.push_to_hub:
        try:
            pushed = push_run(
                result.out,
                config.push_to_hub,
                private=config.private,
                change_visibility=config.change_visibility,
            )
        except KeyboardInterrupt as exc:
            words, code = stopped_by(exc)
            raise Interrupted(
                f"{words} during the upload; the run is complete in {result.out}: "
                f"upload it with `plugdata push {result.out} --repo "
                f"{config.push_to_hub}`",
                code,
            ) from None
        result.stats["pushed"] = {
            "repo": pushed.repo_id,
            "files": len(pushed.files),
            "commit_url": pushed.commit_url,
        }
    return result


def batch_ledgers(out: Path) -> dict[str, Ledger]:
    """The Batch API ledgers of a run (its staging folder while it is unfinished), by role."""
    for root in (out.parent / f".{out.name}.partial", out):
        if ledgers := _ledgers_in(root):
            return ledgers
    return {}


def _refuse_open_batches(staging: Path) -> None:
    """A live resume of a run with requests waiting in batches would pay for them twice."""
    waiting = sum(
        s.requests for ledger in _ledgers_in(staging).values() for s in ledger.open_shards()
    )
    if waiting:
        raise PlugdataError(
            f"this run has {waiting:,} request(s) waiting in submitted Batch API batches: run "
            "the same command with --batch-api to collect them (add --batch-fallback live to "
            f"send what fails live); to drop them, delete {staging / BATCHES_DIR} first (what "
            "they would have answered is then paid again)"
        )


def _refuse_batch_failures(sink: ChunkSink, staging: Path) -> None:
    """Keep the run instead of committing it when a batch failed for good, or when more than
    a small share of its rows failed at the batch level (not for their own content)."""
    stats = sink.tally.stats()
    counts: Counter[str] = Counter()
    for row in stats["languages"].values():
        counts.update({r: n for r, n in row["reasons"].items() if r in BATCH_LEVEL})
    failed, pairs = sum(counts.values()), stats["totals"]["pairs"]
    if not counts["batch_failed"] and failed <= pairs * BATCH_FAILURE_SHARE:
        return
    shards = [s for ledger in _ledgers_in(staging).values() for s in ledger.shards.values()]
    errors = [f"{s.batch_id} ({s.name}) {s.error}" for s in shards if s.error]
    reasons = ", ".join(f"{reason}: {n:,}" for reason, n in counts.most_common())
    raise BatchFailures(
        f"{failed:,} of {pairs:,} pairs failed at the batch level ({reasons})"
        + (f"; {errors[-1]}" if errors else "")
        + f"; the run was not committed: it is kept in "
        f"{staging}; fix the cause and run the same command again (answered requests are "
        "replayed from the cache)"
    )


def _ledgers_in(root: Path) -> dict[str, Ledger]:
    """The Batch API ledgers under one run folder, by role (translate, generate)."""
    return {
        path.parent.name: Ledger(path.parent)
        for path in sorted((root / BATCHES_DIR).glob("*/ledger.json"))
    }


def _open_checked(config: BuildConfig) -> Source:
    """Read the whole source once before anything is sent, so a bad record at the end of a
    big file fails the run for free; then open it again to stream (with an exact total)."""

    def open_() -> Source:
        return open_source(
            config.source,
            columns=config.columns,
            limit=config.limit,
            seed=config.seed,
            split=config.split,
        )

    total = sum(len(chunk) for chunk in open_().chunks(4096))
    source = open_()
    source.total = total
    return source


def _runner(plan: Plan, translator: Translator, generator: LLMGenerator | None) -> Runner:
    """The runner; with the Batch API, enough requests in flight to fill the batches."""
    config = plan.config
    concurrency, window = config.concurrency, 4
    if config.batch_api:
        concurrency = config.batch_inflight
        window = 2 + concurrency // max(1, config.chunk_size * len(plan.targets))
    return Runner(translator, generator, config.generate, concurrency, window)  # type: ignore[arg-type]


def _sink(
    run: RunDirectory,
    plan: Plan,
    source: Source,
    on_rejected: Callable[[str, int], None] | None = None,
) -> ChunkSink:
    config = plan.config
    pair_filter = None
    if plan.filters:
        pair_filter = PairFilter(plan.filters, plan.filter_config, lid_backend=config.lid_backend)
    expected = source.total * len(plan.targets) if source.total is not None else None
    return ChunkSink(
        run,
        targets=list(config.targets),
        formats=list(config.formats),
        ext=config.file_format,
        pair_filter=pair_filter,
        renderer=plan.renderer,
        system_prompt=config.system_prompt,
        no_system=config.no_system,
        seed=config.seed or 0,
        expected_pairs=expected,
        on_rejected=on_rejected,
    )


async def _translate(
    plan: Plan, source: Source, sink: ChunkSink, runner: Runner, on_pair: PairCallback | None
) -> None:
    """Translate chunk by chunk; each finished chunk is sunk on a worker thread, in order."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[None] | None = None
    chunks = source.chunks(plan.config.chunk_size)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugdata-sink") as pool:
        try:
            async for pairs in runner.stream(chunks, plan.targets, plan.pivot, on_pair):
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(pool, sink.add, pairs)
            if pending is not None:
                await pending
        finally:
            await runner.translator.close()
            if runner.generator is not None:
                await runner.generator.close()


def _keep_for_resume(
    run: RunDirectory, cache: RequestCache, config: BuildConfig, plan: Plan, exc: BaseException
) -> None:
    """Keep the staging folder (and its cache) when anything was paid for, and say how to go on."""
    kept = len(cache)
    with contextlib.suppress(CacheWriteError):  # told already, or told below with `exc`
        cache.close()
    waiting = sum(
        s.requests for ledger in _ledgers_in(run.staging).values() for s in ledger.open_shards()
    )
    submitted = any((run.staging / BATCHES_DIR).glob("*/ledger.json"))
    if isinstance(exc, KeyboardInterrupt) and kept == 0 and not submitted:
        how, code = stopped_by(exc)
        raise Interrupted(f"{how} before any request completed; nothing was kept", code) from None
    if kept == 0 and not submitted:
        raise exc
    run.keep = True
    if isinstance(exc, BatchesPending):
        raise BatchesPending(f"{exc} (they are recorded in {run.staging})") from None
    unit = "translated sentence(s)" if config.translator == "mt" else "completed request(s)"
    where = f"{kept} {unit} are kept in {run.staging}"
    how = "run the same command again to resume" + (
        "" if config.out else f" (or pass --out {plan.out})"
    )
    if waiting:
        where += (
            f", and {waiting:,} request(s) wait in Batch API batches still running on the "
            f"server (`plugdata batches {plan.out}` lists them)"
        )
        how = how.replace("to resume", "to collect them and resume")
    if isinstance(exc, KeyboardInterrupt):
        words, code = stopped_by(exc)
        raise Interrupted(f"{words}; {where}; {how}", code) from None
    if isinstance(exc, BudgetExceeded):
        raise BudgetExceeded(f"{exc}; {where}") from None
    if isinstance(exc, PlugdataError) and type(exc).__init__ is PlugdataError.__init__:
        raise type(exc)(f"{exc}; {where}; {how}") from None
    if hasattr(exc, "add_note"):  # an unexpected error: keep its traceback, say what is kept
        exc.add_note(f"plugdata: {where}; {how}")
    raise exc
