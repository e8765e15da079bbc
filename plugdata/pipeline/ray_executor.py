"""``--executor ray``: the same build on Ray Data (the only module that imports ray).

Each source chunk (the local build's chunks) is a *shard*: one row of a Ray Dataset, carried
in order through three map stages. (1) translate: an actor pool (one actor per GPU for local
models) runs the local build's :class:`Runner`; a finished shard is saved to
``staging/ray/chunks-<size>/shard-NNNNN.parquet`` and reused by the next run, and requests are
cached per shard (``cache-NNNNN.sqlite``: one writer each) over an immutable view of the run's
``cache.sqlite``. (2) filter: one actor, shards in order, so duplicates are found across shards.
(3) format: the formats (and chat-template rendering) of each shard's kept pairs. The driver
writes the results through a :class:`ChunkSink`'s writers (same files, same shuffle), then
stats, config and card, and merges the shard caches into ``cache.sqlite``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import pickle
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from plugdata.config import BuildConfig
from plugdata.errors import PlugdataError
from plugdata.filters import PairFilter
from plugdata.formats import ChatRenderer, load_tokenizer
from plugdata.pipeline.build import BuildResult, _keep_for_resume, _open_checked, _sink, push
from plugdata.pipeline.clients import make_clients
from plugdata.pipeline.finish import finish
from plugdata.pipeline.plan import Plan, make_plan
from plugdata.pipeline.sink import ChunkSink, format_language
from plugdata.publish import CACHE_NAME, RunDirectory
from plugdata.schema import FORMAT_SCHEMA, RENDERED_SCHEMA, REQUIRED_PAIR_COLUMNS, pair_frame
from plugdata.translate.cache import CachedReply, RequestCache
from plugdata.translate.pricing import Spend
from plugdata.translate.runner import PairCallback, Runner

_LOCAL = ("mt", "vllm")  # backends that want a GPU each
_COLUMNS = "content, finish_reason, prompt_tokens, completion_tokens, cost_usd"
_SPENT = ("prompt_tokens", "completion_tokens", "cost", "requests", "cached")


def build_on_ray(
    config: BuildConfig,
    on_pair: PairCallback | None = None,
    on_start: Callable[[dict[str, int | None]], None] | None = None,
) -> BuildResult:
    """:func:`plugdata.pipeline.build` on Ray Data: the same run directory as a local build."""
    started = time.monotonic()
    try:
        import ray
        import ray.data
    except ImportError:
        raise PlugdataError("--executor ray needs Ray Data: pip install 'plugdata[ray]'") from None
    if config.batch_api:
        raise PlugdataError("--batch-api runs on the local executor: drop --executor ray")
    plan = make_plan(config)
    run = RunDirectory(plan.out, overwrite=config.overwrite)
    with run:
        (run.staging / "identity").write_text(config.identity() + "\n")
        shards = run.staging / "ray" / f"chunks-{config.chunk_size}"
        shards.mkdir(parents=True, exist_ok=True)
        with RequestCache(run.staging / CACHE_NAME) as cache:
            earlier = cache.total_cost() + _shard_costs(shards)
        spend = Spend(config.max_cost, earlier=earlier)
        # Clients first (a missing key or model fails here); the driver's are never sent.
        translator, generator = make_clients(config, spend, None)
        source = _open_checked(config)
        sink = _sink(run, plan, source)
        if on_start is not None:
            on_start({t.code: source.total for t in plan.targets})
        items = [
            {"shard": i, "rows": pickle.dumps(rows)}
            for i, rows in enumerate(source.chunks(config.chunk_size))
        ]
        owned = _connect(ray, config)
        try:
            meta = _run_pipeline(ray, plan, items, sink, spend, shards, earlier, on_pair)
        except BaseException as exc:
            sink.abort()
            _keep_shards(run, shards, config, plan, exc)
        finally:
            if owned:
                ray.shutdown()
            for client in (translator, generator):
                if client is not None:
                    asyncio.run(client.close())
        if sink.filter is not None:  # filtered on Ray: the funnel comes from there
            sink.filter.close()
            sink.filter, sink.funnel = None, meta["funnel"] or {}
        sink.close()
        run.keep = True  # every answer is in the shards now: keep them should writing fail
        _merge_caches(run.staging / CACHE_NAME, shards)
        if meta["describe"] is not None:  # the models as the actors loaded them
            translator.describe = lambda: meta["describe"]  # type: ignore[union-attr]
        stats = finish(run, plan, source, sink, spend, translator, generator, started)
        stats["ray"] = {k: meta[k] for k in ("actors", "shards", "reused_shards")}
        run.write_json("stats.json", stats)
        shutil.rmtree(run.staging / "ray", ignore_errors=True)
        (run.staging / "identity").unlink(missing_ok=True)
        result = BuildResult(run.commit(), stats)
    return push(result, config)


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
    local = config.translator in _LOCAL
    actors = config.ray_actors or (max(1, gpus) if local else 1)
    if local and gpus:
        per = config.tensor_parallel * config.data_parallel if config.translator == "vllm" else 1
        return actors, {"num_gpus": per, "num_cpus": 1}
    # no GPUs: leave a CPU for the filter and format actors
    return actors, {"num_cpus": max(0.1, min(1.0, (cpus - 1.0) / actors))}


def _run_pipeline(
    ray: Any,
    plan: Plan,
    items: list[dict[str, Any]],
    sink: ChunkSink,
    spend: Spend,
    shards: Path,
    earlier: float,
    on_pair: PairCallback | None,
) -> dict[str, Any]:
    """Run the three stages over every shard and write what comes back, in shard order."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.execution_options.preserve_order = True  # filters and mixed formats need the order
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context.enable_progress_bars = False
    pool = ray.data.ActorPoolStrategy
    config = plan.config
    actors, resources = _layout(ray, config)
    budget = None if config.max_cost is None else max(0.0, config.max_cost - earlier) / actors
    worker = _worker_config(config, actors)
    meta: dict[str, Any] = {
        "actors": actors,
        "shards": len(items),
        "reused_shards": 0,
        "funnel": None,
        "describe": None,
    }
    if not items:
        return meta
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    ds = ds.map_batches(
        _Translate,
        fn_constructor_args=(worker, str(shards), budget),
        batch_size=1,
        batch_format="pyarrow",
        compute=pool(size=actors),
        **resources,
    )
    if plan.filters:
        ds = ds.map_batches(
            _Filter,
            fn_constructor_args=(config,),
            batch_size=1,
            batch_format="pyarrow",
            compute=pool(size=1),
            num_cpus=0.5,
        )
    ds = ds.map_batches(
        _Format,
        fn_constructor_args=(config,),
        batch_size=1,
        batch_format="pyarrow",
        compute=pool(size=1),
        num_cpus=0.5,
    )
    for row in map(dict, ds.iter_rows()):
        used = pickle.loads(row["spend"])
        for name in _SPENT:
            setattr(spend, name, getattr(spend, name) + used[name])
        if row["error"]:
            raise pickle.loads(row["error"])
        meta["reused_shards"] += int(row["reused"])
        meta["describe"] = meta["describe"] or pickle.loads(row["describe"])
        if "funnel" in row:
            meta["funnel"] = pickle.loads(row["funnel"])
        _write(sink, row, on_pair)
    return meta


def _worker_config(config: BuildConfig, actors: int) -> BuildConfig:
    """Each actor's share of the request and token rate limits (they add up to the run's)."""
    share = {k: max(1, v // actors) for k in ("rpm", "tpm") if (v := getattr(config, k))}
    return replace(config, **share, max_cost=None)


def _frame(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


def _blob(frame: pl.DataFrame) -> bytes:
    return frame.write_ipc(None).getvalue()


def _row(batch: Any) -> dict[str, Any]:
    """The one shard of a batch (batches are Arrow tables: binary columns stay bytes)."""
    (row,) = batch.to_pylist()
    return dict(row)


def _table(row: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist([row])


def _write(sink: ChunkSink, row: dict[str, Any], on_pair: PairCallback | None) -> None:
    """One finished shard into the run directory, as :meth:`ChunkSink.add` writes a chunk."""
    frame = _frame(row["pairs"])
    sink.write_pairs(frame)
    for fmt, lang, blob, dropped, example in pickle.loads(row["formats"]):
        sink.write_formatted(
            fmt, lang, _frame(blob) if blob is not None else None, dropped, example
        )
    if on_pair is not None:
        for pair in frame.iter_rows(named=True):
            on_pair(pair)


class _ShardCache:
    """A shard's own request cache over the run's ``cache.sqlite``, opened immutable (nobody
    writes it while Ray runs, so readers need no lock and leave no WAL files behind)."""

    def __init__(self, base: Path) -> None:
        self.own: RequestCache | None = None
        self.base = (
            sqlite3.connect(f"file:{base}?immutable=1", uri=True, check_same_thread=False)
            if base.is_file()
            else None
        )

    def get(self, key: str) -> CachedReply | None:
        hit = self.own.get(key) if self.own is not None else None
        if hit is None and self.base is not None:
            row = self.base.execute(
                f"SELECT {_COLUMNS} FROM replies WHERE key = ?", (key,)
            ).fetchone()
            hit = CachedReply(*row) if row else None
        return hit

    def put(self, key: str, reply: CachedReply) -> None:
        assert self.own is not None
        self.own.put(key, reply)

    async def aget(self, key: str) -> CachedReply | None:
        return self.get(key)

    async def aput(self, key: str, reply: CachedReply) -> None:
        self.put(key, reply)


class _Translate:
    """Stage 1 (an actor): translate a shard, or reuse it when an earlier run finished it."""

    def __init__(self, config: BuildConfig, shards: str, budget: float | None) -> None:
        self.plan = make_plan(config, preflight=False)
        self.shards = Path(shards)
        self.cache = _ShardCache(self.shards.parent.parent / CACHE_NAME)
        self.spend = Spend(budget)
        translator, generator = make_clients(config, self.spend, self.cache)  # type: ignore[arg-type]
        self.runner = Runner(translator, generator, config.generate, config.concurrency)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.described = False

    def __call__(self, batch: Any) -> Any:
        shard, rows = int(_row(batch)["shard"]), pickle.loads(_row(batch)["rows"])
        before = {k: getattr(self.spend, k) for k in _SPENT}
        try:  # a PlugdataError travels as data: Ray would keep only its text
            frame, reused = self._shard(shard, rows)
            error = b""
        except PlugdataError as exc:
            frame, reused, error = pl.DataFrame(), False, _pickled(exc)
        used = {k: getattr(self.spend, k) - before[k] for k in _SPENT}
        describe = getattr(self.runner.translator, "describe", None)
        info = describe() if callable(describe) and not reused and not self.described else None
        self.described = self.described or info is not None
        return _table(
            {
                "shard": shard,
                "pairs": _blob(frame),
                "spend": pickle.dumps(used),
                "reused": reused,
                "describe": pickle.dumps(info),
                "error": error,
            }
        )

    def _shard(self, shard: int, rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, bool]:
        """The shard's pairs, from an earlier run's file or translated now (and saved)."""
        path = self.shards / f"shard-{shard:05d}.parquet"
        frame = _finished(path, rows, len(self.plan.targets))
        if frame is not None:
            return frame, True
        self.cache.own = RequestCache(self.shards / f"cache-{shard:05d}.sqlite")
        try:
            pairs = self.loop.run_until_complete(
                self.runner.run(rows, self.plan.targets, self.plan.pivot)
            )
        finally:
            self.cache.own.close()
            self.cache.own = None
        frame = pair_frame(pairs)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        frame.write_parquet(tmp)
        os.replace(tmp, path)  # a shard is finished all at once, or not at all
        return frame, False


def _pickled(exc: PlugdataError) -> bytes:
    """The error as bytes the driver can raise (its text in a PlugdataError if need be)."""
    with contextlib.suppress(Exception):
        return pickle.dumps(pickle.loads(pickle.dumps(exc)))
    return pickle.dumps(PlugdataError(str(exc)))


def _finished(path: Path, rows: list[dict[str, Any]], n_targets: int) -> pl.DataFrame | None:
    """The pairs of a shard an earlier run finished (None unless it holds exactly its rows)."""
    if not path.is_file():
        return None
    frame = pl.read_parquet(path)
    ids = {str(r["id"]) for r in rows}
    if frame.height != len(rows) * n_targets or set(frame["id"].cast(pl.String)) != ids:
        return None
    return frame


class _Filter:
    """Stage 2 (one actor, shards in order): the checks, duplicates across shards, the funnel."""

    def __init__(self, config: BuildConfig) -> None:
        plan = make_plan(config, preflight=False)
        self.filter = PairFilter(plan.filters, plan.filter_config, lid_backend=config.lid_backend)

    def __call__(self, batch: Any) -> Any:
        row = _row(batch)
        if not row["error"]:
            row["pairs"] = _blob(self.filter.apply(_frame(row["pairs"])))
        row["funnel"] = pickle.dumps(self.filter.stats())
        return _table(row)


class _Format:
    """Stage 3: every format (rendered with the chat template) of a shard's kept pairs."""

    def __init__(self, config: BuildConfig) -> None:
        self.config = config
        self.renderer = (
            ChatRenderer(load_tokenizer(config.chat_template), config.max_row_tokens)
            if config.chat_template
            else None
        )

    def __call__(self, batch: Any) -> Any:
        config, schema = self.config, RENDERED_SCHEMA if self.renderer else FORMAT_SCHEMA
        row = _row(batch)
        if row["error"]:
            row["formats"] = pickle.dumps([])
            return _table(row)
        kept = _frame(row["pairs"]).filter(pl.col("kept")).select(REQUIRED_PAIR_COLUMNS)
        parts: list[tuple[str, str, bytes | None, int, Any]] = []
        for (lang,), part in kept.group_by("target_lang", maintain_order=True):
            for fmt, out, dropped, example in format_language(
                part.to_dicts(),
                config.formats,
                self.renderer,
                config.system_prompt,
                config.no_system,
            ):
                blob = _blob(pl.DataFrame(out, schema=schema)) if out else None
                parts.append((fmt, str(lang), blob, dropped, example))
        row["formats"] = pickle.dumps(parts)
        return _table(row)


def _shard_costs(shards: Path) -> float:
    """What the shard caches of earlier attempts paid (the budget is the run's total)."""
    cost = 0.0
    for path in sorted(shards.glob("cache-*.sqlite")):
        with RequestCache(path) as cache:
            cost += cache.total_cost()
    return cost


def _merge_caches(main: Path, shards: Path) -> None:
    """Every shard's requests into the run's ``cache.sqlite`` (what a local build leaves)."""
    db = sqlite3.connect(main, isolation_level=None)
    try:
        for path in sorted(shards.glob("cache-*.sqlite")):
            db.execute("ATTACH DATABASE ? AS shard", (str(path),))
            db.execute(
                "INSERT OR IGNORE INTO replies SELECT key, content, finish_reason, "
                "prompt_tokens, completion_tokens, cost_usd FROM shard.replies"
            )
            db.execute("DETACH DATABASE shard")
    finally:
        db.close()


def _keep_shards(
    run: RunDirectory, shards: Path, config: BuildConfig, plan: Plan, exc: BaseException
) -> None:
    """Keep finished shards and every paid request for the next run (a local one too)."""
    _merge_caches(run.staging / CACHE_NAME, shards)
    if any(shards.glob("shard-*.parquet")):
        run.keep = True
    _keep_for_resume(run, RequestCache(run.staging / CACHE_NAME), config, plan, exc)
