"""The build's stages: the one public seam that every executor calls.

An executor opens the run, makes the clients, reads the source, and sends each chunk through
the translate, filter and format stages into the run's sink; then it finishes the run, or keeps
what was paid for when anything stops it::

    with open_run(config) as build:  # the checked plan and the run directory
        translator, generator = make_clients(config, spend, cache)
        source = read_source(config)
        sink = open_sink(build, source)
        runner = make_runner(build.plan, translator, generator)
        frame = await translate_chunk(runner, build.plan, rows)  # for each chunk
        frame, rejected = filter_chunk(make_filter(build.plan), frame)
        sink.write(frame, format_chunk(frame, build.plan))
        stats = finish_run(build, source, sink, spend, translator, generator, funnel=...)
        result = commit_run(build, stats)  # or keep_for_resume(build, cache, exc)
    push(result, config)

Where a stage runs is the executor's business: on this process's event loop and a worker
thread (:mod:`plugdata.pipeline.build`), or in Ray actors whose results the driver writes
(:mod:`plugdata.pipeline.ray_executor`). A worker builds its stages from the config alone
(:func:`worker_plan`), as the driver already ran the pre-flight checks.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, cast

import polars as pl

from plugdata.config import BuildConfig
from plugdata.errors import Interrupted, PlugdataError, stopped_by
from plugdata.filters import PairFilter
from plugdata.formats import format_rows
from plugdata.pipeline.batches import submitted, waiting_requests
from plugdata.pipeline.clients import make_clients
from plugdata.pipeline.finish import finish
from plugdata.pipeline.plan import Plan, chat_renderer, make_plan
from plugdata.pipeline.sink import ChunkSink, Formatted
from plugdata.publish import CACHE_NAME, RunDirectory, push_run
from plugdata.schema import FORMAT_SCHEMA, RENDERED_SCHEMA, REQUIRED_PAIR_COLUMNS, pair_frame
from plugdata.sources import Source, open_source
from plugdata.translate import Translator
from plugdata.translate.batch import BatchesPending
from plugdata.translate.cache import CacheWriteError, RequestCache
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.pricing import BudgetExceeded, Spend
from plugdata.translate.runner import Generate, PairCallback, Runner

__all__ = [
    "BuildResult",
    "BuildRun",
    "ChunkSink",
    "Formatted",
    "commit_run",
    "filter_chunk",
    "finish_run",
    "format_chunk",
    "keep_for_resume",
    "make_clients",
    "make_filter",
    "make_runner",
    "open_run",
    "open_sink",
    "push",
    "read_source",
    "translate_chunk",
    "translate_chunks",
    "worker_plan",
]


@dataclass
class BuildResult:
    """Where the run went and what it counted."""

    out: Path
    stats: dict[str, Any]


@dataclass
class BuildRun:
    """One build being made: its checked plan, its run directory and when it started.

    Use it as a context manager: the run directory is then open (locked, its staging folder
    made) and marked with the recipe's identity, so an interrupted run is found again.
    """

    plan: Plan
    directory: RunDirectory
    started: float = field(default_factory=time.monotonic)

    @property
    def config(self) -> BuildConfig:
        return self.plan.config

    @property
    def staging(self) -> Path:
        """The folder the run is written in until it is committed."""
        return self.directory.staging

    @property
    def cache_path(self) -> Path:
        """The run's request cache (``cache.sqlite`` in the staging folder)."""
        return self.directory.staging / CACHE_NAME

    def __enter__(self) -> BuildRun:
        self.directory.__enter__()
        try:
            (self.directory.staging / "identity").write_text(self.config.identity() + "\n")
        except BaseException as exc:
            self.directory.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.directory.__exit__(exc_type, exc, tb)


def open_run(config: BuildConfig, *, started: float | None = None) -> BuildRun:
    """The plan of ``config`` (every pre-flight check passed) and its run directory."""
    plan = make_plan(config)
    run = RunDirectory(plan.out, overwrite=config.overwrite)
    return BuildRun(plan, run, time.monotonic() if started is None else started)


def worker_plan(config: BuildConfig, *, renderer: bool = False) -> Plan:
    """The plan a worker needs (a Ray actor): no pre-flight checks, which the driver ran; the
    chat template is loaded only when ``renderer`` asks for it (the format stage)."""
    plan = make_plan(config, preflight=False)
    if renderer:
        plan.renderer = chat_renderer(config)
    return plan


def read_source(config: BuildConfig) -> Source:
    """The source, read whole once before anything is sent (a bad record at the end of a big
    file fails the run for free), then opened again to stream, with an exact total."""

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


def make_runner(plan: Plan, translator: Translator, generator: LLMGenerator | None) -> Runner:
    """The runner; with the Batch API, enough requests in flight to fill the batches."""
    config = plan.config
    concurrency, window = config.concurrency, 4
    if config.batch_api:
        concurrency = config.batch_inflight
        window = 2 + concurrency // max(1, config.chunk_size * len(plan.targets))
    generate = cast("Generate | None", config.generate)  # config_checks allows no other value
    return Runner(translator, generator, generate, concurrency, window)


def translate_chunks(
    runner: Runner,
    plan: Plan,
    chunks: Iterable[Sequence[Mapping[str, Any]]],
    on_pair: PairCallback | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Each source chunk's pair rows, in chunk order, with no barrier between chunks."""
    return runner.stream(chunks, plan.targets, plan.pivot, on_pair)


async def translate_chunk(
    runner: Runner, plan: Plan, rows: Sequence[Mapping[str, Any]]
) -> pl.DataFrame:
    """One source chunk's pair rows (every target language) as a pair frame."""
    return pair_frame(await runner.run(rows, plan.targets, plan.pivot))


def make_filter(plan: Plan) -> PairFilter | None:
    """The plan's filters (None when it filters nothing); close it when done."""
    if not plan.filters:
        return None
    return PairFilter(plan.filters, plan.filter_config, lid_backend=plan.config.lid_backend)


def filter_chunk(
    pair_filter: PairFilter, frame: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, int]]:
    """A chunk of pairs with the filters' verdicts, and how many translated pairs they
    rejected per language. Chunks go through one filter in order (duplicates span them)."""
    translated = frame["kept"]
    frame = pair_filter.apply(frame)
    rejected = frame.filter(translated & ~frame["kept"])["target_lang"]
    counts = rejected.value_counts(sort=True).iter_rows()
    return frame, {str(lang): int(n) for lang, n in counts}


def format_chunk(frame: pl.DataFrame, plan: Plan) -> list[Formatted]:
    """Every format of a filtered chunk's kept pairs, language by language in chunk order
    (rendered with the chat template when the plan has a renderer)."""
    config, renderer = plan.config, plan.renderer
    schema = RENDERED_SCHEMA if renderer is not None else FORMAT_SCHEMA
    kept = frame.filter(pl.col("kept")).select(REQUIRED_PAIR_COLUMNS)
    parts = []
    for (lang,), part in kept.group_by("target_lang", maintain_order=True):
        rows = part.to_dicts()
        for fmt in config.formats:
            out = format_rows(
                rows,
                fmt,
                system_prompt=config.system_prompt,
                no_system=config.no_system,
                shuffle=False,
            )
            dropped = 0
            if renderer is not None:
                out, dropped = renderer.render(out)
            example = out[0]["messages"] if fmt == "plug" and out else None
            table = pl.DataFrame(out, schema=schema) if out else None
            parts.append(Formatted(fmt, str(lang), table, dropped, example))
    return parts


def open_sink(build: BuildRun, source: Source) -> ChunkSink:
    """The run's sink: one open writer per output file of the plan."""
    config = build.config
    total = source.total
    return ChunkSink(
        build.directory,
        targets=list(config.targets),
        formats=list(config.formats),
        ext=config.file_format,
        rendered=build.plan.renderer is not None,
        seed=config.seed or 0,
        expected_pairs=total * len(build.plan.targets) if total is not None else None,
    )


def finish_run(
    build: BuildRun,
    source: Source,
    sink: ChunkSink,
    spend: Spend,
    translator: Translator,
    generator: LLMGenerator | None,
    *,
    funnel: dict[str, Any] | None,
    models: dict[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write stats, config, chart, card and report into the run (see
    :func:`~plugdata.pipeline.finish.finish`); return the stats."""
    return finish(
        build.directory,
        build.plan,
        source,
        sink,
        spend,
        translator,
        generator,
        build.started,
        funnel=funnel,
        models=models,
        extra=extra,
    )


def commit_run(build: BuildRun, stats: dict[str, Any]) -> BuildResult:
    """Move the finished run into place."""
    (build.staging / "identity").unlink(missing_ok=True)
    return BuildResult(build.directory.commit(), stats)


def keep_for_resume(build: BuildRun, cache: RequestCache, exc: BaseException) -> NoReturn:
    """Keep the staging folder (and its cache) when anything was paid for, and say how to go
    on; ``cache`` is closed here. Raises ``exc`` or the error that says so."""
    config, staging = build.config, build.staging
    kept = len(cache)
    with contextlib.suppress(CacheWriteError):  # told already, or told below with `exc`
        cache.close()
    waiting = waiting_requests(staging)
    if isinstance(exc, KeyboardInterrupt) and kept == 0 and not submitted(staging):
        how, code = stopped_by(exc)
        raise Interrupted(f"{how} before any request completed; nothing was kept", code) from None
    if kept == 0 and not submitted(staging):
        raise exc
    build.directory.keep = True
    if isinstance(exc, BatchesPending):
        raise BatchesPending(f"{exc} (they are recorded in {staging})") from None
    unit = "translated sentence(s)" if config.translator == "mt" else "completed request(s)"
    where = f"{kept} {unit} are kept in {staging}"
    how = "run the same command again to resume" + (
        "" if config.out else f" (or pass --out {build.plan.out})"
    )
    if waiting:
        where += (
            f", and {waiting:,} request(s) wait in Batch API batches still running on the "
            f"server (`plugdata batches {build.plan.out}` lists them)"
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


def push(result: BuildResult, config: BuildConfig) -> BuildResult:
    """Upload a committed run to the Hub when ``push_to_hub`` asks for it (stats say where)."""
    if not config.push_to_hub:
        return result
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
