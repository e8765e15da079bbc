"""The three Ray Data stages, each an actor class that ``map_batches`` runs one shard at a
time (a shard is a one-row Arrow table, see :mod:`~plugdata.pipeline.ray_executor.wire`).

Each is made from the build's config alone and calls the stage functions of
:mod:`plugdata.pipeline.stages`, as the local executor does.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from pathlib import Path
from typing import Any

import polars as pl

from plugdata.config import BuildConfig
from plugdata.errors import PlugdataError
from plugdata.pipeline.ray_executor.shards import ShardFolder
from plugdata.pipeline.ray_executor.wire import (
    ErrorRecord,
    frame_bytes,
    frame_of,
    one_row,
    spent,
    table,
)
from plugdata.pipeline.stages import (
    filter_chunk,
    format_chunk,
    make_clients,
    make_filter,
    make_runner,
    translate_chunk,
    worker_plan,
)
from plugdata.translate.pricing import Spend


class TranslateShards:
    """Stage 1 (an actor pool): translate a shard, or reuse it when an earlier run finished
    it. Requests go into this actor's own cache, over the run's ``cache.sqlite``."""

    def __init__(
        self, config: BuildConfig, shards: ShardFolder, base: str, budget: float | None
    ) -> None:
        self.plan = worker_plan(config)
        self.shards = shards
        self.cache = shards.actor_cache(Path(base))
        self.spend = Spend(budget)
        translator, generator = make_clients(config, self.spend, self.cache)
        self.runner = make_runner(self.plan, translator, generator)
        self.loop = asyncio.new_event_loop()
        self.described = False

    def __call__(self, batch: Any) -> Any:
        row = one_row(batch)
        shard, rows = int(row["shard"]), pickle.loads(row["rows"])
        before = spent(self.spend)
        error = ""
        try:  # a PlugdataError travels as data: Ray would keep only its text
            frame, reused = self._shard(shard, rows)
        except PlugdataError as exc:
            frame, reused, error = pl.DataFrame(), False, ErrorRecord.of(exc).to_json()
        used = {k: v - before[k] for k, v in spent(self.spend).items()}
        return table(
            {
                "shard": shard,
                "pairs": frame_bytes(frame),
                "spend": json.dumps(used),
                "reused": reused,
                "models": pickle.dumps(None if reused else self._models()),
                "error": error,
            }
        )

    def _shard(self, shard: int, rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, bool]:
        """The shard's pairs, from an earlier run's file or translated now (and saved)."""
        frame = self.shards.finished(shard, rows, len(self.plan.targets))
        if frame is not None:
            return frame, True
        try:
            frame = self.loop.run_until_complete(translate_chunk(self.runner, self.plan, rows))
        finally:  # what the shard paid for is on disk before it counts as done, or fails
            self.cache.flush()
        self.shards.save(shard, frame)
        return frame, False

    def _models(self) -> dict[str, Any] | None:
        """The local models as this actor loaded them (once per actor; None for API models)."""
        describe = getattr(self.runner.translator, "describe", None)
        if self.described or not callable(describe):
            return None
        self.described = True
        return describe()


class FilterShards:
    """Stage 2 (one actor, shards in order): the checks, duplicates across shards, the funnel."""

    def __init__(self, config: BuildConfig) -> None:
        pair_filter = make_filter(worker_plan(config))
        assert pair_filter is not None, "the filter stage runs only when the plan filters"
        self.filter = pair_filter

    def __call__(self, batch: Any) -> Any:
        row = one_row(batch)
        if not row["error"]:
            frame, _ = filter_chunk(self.filter, frame_of(row["pairs"]))
            row["pairs"] = frame_bytes(frame)
        row["funnel"] = pickle.dumps(self.filter.stats())
        return table(row)


class FormatShards:
    """Stage 3: every format (rendered with the chat template) of a shard's kept pairs."""

    def __init__(self, config: BuildConfig) -> None:
        self.plan = worker_plan(config, renderer=True)

    def __call__(self, batch: Any) -> Any:
        row = one_row(batch)
        parts = [] if row["error"] else format_chunk(frame_of(row["pairs"]), self.plan)
        row["formats"] = pickle.dumps(parts)
        return table(row)
