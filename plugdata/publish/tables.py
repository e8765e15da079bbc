"""Tables written a chunk at a time: Parquet or JSON Lines files that grow as a build streams.

:class:`TableWriter` appends frames to one file with a fixed schema (the first chunk fixes any
extra columns). :class:`ShuffledWriter` writes a uniformly shuffled table in bounded memory:
rows go to hash buckets as they come, and each bucket is shuffled on its own at the end.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq


class TableWriter:
    """Appends frames to ``path`` (``.parquet`` or ``.jsonl``) with ``schema``'s columns first."""

    def __init__(self, path: Path, schema: Mapping[str, Any]) -> None:
        self.path = path
        self.schema = dict(schema)
        self.rows = 0
        self._columns: list[str] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._jsonl: Any = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` (columns beyond the first chunk's are dropped, missing are null)."""
        if frame.height == 0:
            return
        frame = self._align(frame)
        if self.path.suffix == ".jsonl":
            if self._jsonl is None:
                self._jsonl = self.path.open("wb")
            frame.write_ndjson(self._jsonl)
        else:
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table.cast(self._parquet.schema))
        self.rows += frame.height

    def _align(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self._columns is None:
            extra = [c for c in frame.columns if c not in self.schema]
            self._columns = [*self.schema, *extra]
            self.schema.update({c: frame.schema[c] for c in extra})
        missing = [
            pl.lit(None, self.schema[c]).alias(c) for c in self._columns if c not in frame.columns
        ]
        return frame.with_columns(missing).select(
            [pl.col(c).cast(self.schema[c]) for c in self._columns]
        )

    def close(self) -> None:
        """Finish the file (an empty table with the schema when nothing was written)."""
        if self._parquet is not None:
            self._parquet.close()
        elif self._jsonl is not None:
            self._jsonl.close()
        elif self.path.suffix == ".jsonl":
            self.path.write_bytes(b"")
        else:
            pl.DataFrame([], schema=self.schema).write_parquet(self.path)
        self._parquet = self._jsonl = None


class ShuffledWriter:
    """Writes rows to ``path`` in a seeded uniform random order, ``buckets`` files at a time.

    Each row goes to a bucket chosen by a seeded hash of its ``id``; at :meth:`close` every
    bucket is read, put in a canonical order (by ``id`` and ``format``), shuffled with the seed
    and appended, so the order depends on the rows and the seed only, not on how they were
    written (chunk sizes, executors). Memory holds one bucket.
    """

    def __init__(self, path: Path, schema: Mapping[str, Any], seed: int, buckets: int) -> None:
        self.path, self.schema, self.seed = path, dict(schema), seed
        self._dir = path.parent / f".{path.stem}.buckets"
        self._buckets = [
            TableWriter(self._dir / f"{i:04d}.parquet", schema) for i in range(max(1, buckets))
        ]

    def write(self, frame: pl.DataFrame) -> None:
        """Spread ``frame``'s rows over the buckets."""
        if frame.height == 0:
            return
        n = len(self._buckets)
        which = pl.Series([self._bucket(i, n) for i in frame["id"].to_list()], dtype=pl.Int64)
        framed = frame.with_columns(which.alias("_bucket"))
        for (index,), part in framed.group_by("_bucket"):
            self._buckets[int(index)].write(part.drop("_bucket"))  # type: ignore[call-overload]

    def _bucket(self, row_id: str, n: int) -> int:
        digest = hashlib.blake2b(f"{self.seed}\x1f{row_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % n

    def close(self) -> None:
        """Shuffle each bucket into the final file and remove the buckets."""
        out = TableWriter(self.path, self.schema)
        rng = random.Random(self.seed)
        for bucket in self._buckets:
            bucket.close()
            part = pl.read_parquet(bucket.path)
            if part.height:
                part = part.sort(
                    [c for c in ("id", "format") if c in part.columns], maintain_order=True
                )
                order = list(range(part.height))
                rng.shuffle(order)
                out.write(part[order])
            bucket.path.unlink()
        out.close()
        self._dir.rmdir()
