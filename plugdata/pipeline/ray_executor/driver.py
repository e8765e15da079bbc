"""The Ray executor's driver: open the run, send the shards through the three stages on Ray
Data, write what comes back in shard order, finish the run."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from plugdata.config import BuildConfig
from plugdata.errors import PlugdataError
from plugdata.pipeline.ray_executor.actors import FilterShards, FormatShards, TranslateShards
from plugdata.pipeline.ray_executor.shards import ShardFolder
from plugdata.pipeline.ray_executor.wire import ErrorRecord, add_spent, frame_of
from plugdata.pipeline.stages import (
    BuildResult,
    BuildRun,
    ChunkSink,
    commit_run,
    finish_run,
    keep_for_resume,
    make_clients,
    open_run,
    open_sink,
    read_source,
)
from plugdata.translate.cache import RequestCache
from plugdata.translate.pricing import Spend
from plugdata.translate.runner import PairCallback

LOCAL = ("mt", "vllm")  # backends that want a GPU each


@dataclass
class Outcome:
    """What the stages reported besides the shards' rows."""

    actors: int
    shards: int
    reused_shards: int = 0
    funnel: dict[str, Any] | None = None  # the filter actor's funnel after the last shard
    models: dict[str, Any] | None = None  # the local models as an actor loaded them


def build_on_ray(
    config: BuildConfig,
    on_pair: PairCallback | None = None,
    on_start: Callable[[dict[str, int | None]], None] | None = None,
    *,
    started: float | None = None,
) -> BuildResult:
    """:func:`plugdata.pipeline.build` on Ray Data: the same run directory as a local build."""
    ray = _import_ray()
    if config.batch_api:
        raise PlugdataError("--batch-api runs on the local executor: drop --executor ray")
    run = open_run(config, started=started)
    with run:
        shards = ShardFolder(run.staging, config.chunk_size)
        shards.make()
        with RequestCache(run.cache_path) as cache:
            shards.merge_into(cache, remove=True)  # what an earlier attempt's actors paid for
            earlier = cache.total_cost()
        spend = Spend(config.max_cost, earlier=earlier)
        # Clients first (a missing key or model fails here); the driver's are never sent.
        translator, generator = make_clients(config, spend, None)
        source = read_source(config)
        sink = open_sink(run, source)
        if on_start is not None:
            on_start({t.code: source.total for t in run.plan.targets})
        items = [
            {"shard": i, "rows": pickle.dumps(rows)}
            for i, rows in enumerate(source.chunks(config.chunk_size))
        ]
        owned = _connect(ray, config)
        try:
            outcome = _run_stages(ray, run, items, sink, spend, shards, earlier, on_pair)
        except BaseException as exc:
            sink.abort()
            _keep_shards(run, shards, exc)
        finally:
            if owned:
                ray.shutdown()
            for client in (translator, generator):
                if client is not None:
                    asyncio.run(client.close())
        sink.close()
        run.directory.keep = True  # every answer is in the shards now: keep them
        with RequestCache(run.cache_path) as cache:
            shards.merge_into(cache)
        figures = {"actors": outcome.actors, "shards": outcome.shards}
        stats = finish_run(
            run,
            source,
            sink,
            spend,
            translator,
            generator,
            funnel=(outcome.funnel or {}) if run.plan.filters else None,
            models=outcome.models,
            extra={"ray": {**figures, "reused_shards": outcome.reused_shards}},
        )
        shards.remove()
        return commit_run(run, stats)


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise PlugdataError("--executor ray needs Ray Data: pip install 'plugdata[ray]'") from None
    return ray


def _connect(ray: Any, config: BuildConfig) -> bool:
    """Join ``--ray-address``, or the Ray already initialised here, or start a local one
    (on 127.0.0.1, no dashboard); True when this build started it and must shut it down."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        if config.ray_address:
            ray.init(address=config.ray_address, log_to_driver=True, logging_level=logging.WARNING)
        else:
            ray.init(
                address="local",
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                logging_level=logging.WARNING,
            )
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError: Ray names the cause
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"the Ray cluster at {config.ray_address}" if config.ray_address else "a local Ray"
        raise PlugdataError(f"--executor ray: cannot start or reach {where}: {detail}") from None
    return True


def _layout(ray: Any, config: BuildConfig) -> tuple[int, dict[str, float]]:
    """How many translation actors, and what each asks of the cluster."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), float(resources.get("CPU", 1))
    local = config.translator in LOCAL
    actors = config.ray_actors or (max(1, gpus) if local else 1)
    if local and gpus:
        per = config.tensor_parallel * config.data_parallel if config.translator == "vllm" else 1
        return actors, {"num_gpus": per, "num_cpus": 1}
    # no GPUs: leave a CPU for the filter and format actors
    return actors, {"num_cpus": max(0.1, min(1.0, (cpus - 1.0) / actors))}


def _run_stages(
    ray: Any,
    run: BuildRun,
    items: list[dict[str, Any]],
    sink: ChunkSink,
    spend: Spend,
    shards: ShardFolder,
    earlier: float,
    on_pair: PairCallback | None,
) -> Outcome:
    """Run the three stages over every shard and write what comes back, in shard order."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.execution_options.preserve_order = True  # filters and mixed formats need the order
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context.enable_progress_bars = False
    pool = ray.data.ActorPoolStrategy
    config = run.config
    actors, resources = _layout(ray, config)
    budget = None if config.max_cost is None else max(0.0, config.max_cost - earlier) / actors
    outcome = Outcome(actors, len(items))
    if not items:
        return outcome
    one = {"batch_size": 1, "batch_format": "pyarrow"}
    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        TranslateShards,
        fn_constructor_args=(_worker_config(config, actors), shards, str(run.cache_path), budget),
        compute=pool(size=actors),
        **one,
        **resources,
    )
    for stage, wanted in ((FilterShards, bool(run.plan.filters)), (FormatShards, True)):
        if wanted:
            ds = ds.map_batches(
                stage, fn_constructor_args=(config,), compute=pool(size=1), num_cpus=0.5, **one
            )
    for row in map(dict, ds.iter_rows()):
        add_spent(spend, json.loads(row["spend"]))
        if row["error"]:
            raise ErrorRecord.from_json(row["error"]).exception()
        outcome.reused_shards += int(row["reused"])
        outcome.models = outcome.models or pickle.loads(row["models"])
        if "funnel" in row:
            outcome.funnel = pickle.loads(row["funnel"])
        _write(sink, row, on_pair)
    return outcome


def _worker_config(config: BuildConfig, actors: int) -> BuildConfig:
    """Each actor's share of the request and token rate limits (they add up to the run's)."""
    share = {k: max(1, v // actors) for k in ("rpm", "tpm") if (v := getattr(config, k))}
    return replace(config, **share, max_cost=None)


def _write(sink: ChunkSink, row: dict[str, Any], on_pair: PairCallback | None) -> None:
    """One finished shard into the run directory, as the local executor writes a chunk."""
    frame = frame_of(row["pairs"])
    sink.write(frame, pickle.loads(row["formats"]))
    if on_pair is not None:
        for pair in frame.iter_rows(named=True):
            on_pair(pair)


def _keep_shards(run: BuildRun, shards: ShardFolder, exc: BaseException) -> None:
    """Keep finished shards and every paid request for the next run (a local one too)."""
    cache = RequestCache(run.cache_path)
    shards.merge_into(cache)
    if shards.any_finished():
        run.directory.keep = True
    keep_for_resume(run, cache, exc)
