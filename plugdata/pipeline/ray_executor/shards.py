"""The Ray executor's folder in the staging folder: finished shards and the actors' caches.

``staging/ray/chunks-<size>/`` holds each finished shard's pairs (``shard-NNNNN.parquet``,
written at once, reused by the next run) and one request cache per actor
(``cache-<pid>-<id>.sqlite``: one writer each, over the run's ``cache.sqlite`` as a read-only
base). The actors' caches are merged into ``cache.sqlite`` when the run ends or stops, and
again (then removed) when the next run starts, so nothing paid is paid or counted twice.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import polars as pl

from plugdata.translate.cache import RequestCache


class ShardFolder:
    """Finished shards and the actors' request caches of one chunk size."""

    def __init__(self, staging: Path, chunk_size: int) -> None:
        self.root = staging / "ray"
        self.path = self.root / f"chunks-{chunk_size}"

    def make(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def finished(
        self, shard: int, rows: list[dict[str, Any]], n_targets: int
    ) -> pl.DataFrame | None:
        """The pairs of a shard an earlier run finished (None unless it holds exactly its
        rows)."""
        path = self._shard(shard)
        if not path.is_file():
            return None
        frame = pl.read_parquet(path)
        ids = {str(r["id"]) for r in rows}
        if frame.height != len(rows) * n_targets or set(frame["id"].cast(pl.String)) != ids:
            return None
        return frame

    def save(self, shard: int, frame: pl.DataFrame) -> None:
        """A finished shard's pairs, all at once or not at all."""
        path = self._shard(shard)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        frame.write_parquet(tmp)
        os.replace(tmp, path)

    def any_finished(self) -> bool:
        return any(self.path.glob("shard-*.parquet"))

    def actor_cache(self, base: Path) -> RequestCache:
        """A new request cache for one actor, over the run's cache ``base``."""
        name = f"cache-{os.getpid()}-{uuid.uuid4().hex[:8]}.sqlite"
        return RequestCache(self.path / name, base=base)

    def merge_into(self, cache: RequestCache, *, remove: bool = False) -> None:
        """Every actor cache's replies into ``cache``; ``remove`` deletes the merged files
        (only when no actor can still be writing them)."""
        for path in sorted(self.path.glob("cache-*.sqlite")):
            cache.merge_from(path)
            if remove:
                for part in path.parent.glob(f"{path.name}*"):  # with -wal and -shm
                    part.unlink(missing_ok=True)

    def remove(self) -> None:
        """The whole folder, once the run is finished."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _shard(self, shard: int) -> Path:
        return self.path / f"shard-{shard:05d}.parquet"
