"""Write a run directory: Parquet tables, the recipe and the statistics, all or nothing.

Everything is written into a hidden staging folder beside the destination and renamed into
place at the end, so a failed or interrupted run never leaves a half-written directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from plugdata.errors import PlugdataError

PAIR_SCHEMA: dict[str, Any] = {
    **{name: pl.String for name in (
        "id", "source", "pivot_lang", "target_lang",
        "pivot_instruction", "pivot_input", "pivot_output",
        "target_instruction", "target_input", "target_output",
        "backend", "model", "prompt_version", "finish_reason",
    )},
    "generated": pl.String,
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
    "cost_usd": pl.Float64,
    "attempts": pl.Int64,
    "cached": pl.Int64,
    "kept": pl.Boolean,
    "reasons": pl.List(pl.String),
}  # fmt: skip
CACHE_NAME = "cache.sqlite"
MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
FORMAT_SCHEMA: dict[str, Any] = {
    "id": pl.String, "format": pl.String, "pivot_lang": pl.String, "target_lang": pl.String,
    "messages": MESSAGES,
}  # fmt: skip


def write_table(rows: Sequence[Mapping[str, Any]], path: Path, schema: Mapping[str, Any]) -> None:
    """Write rows with a fixed schema as Parquet or JSON Lines (by ``path``'s suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        frame = pl.DataFrame(list(rows), schema_overrides=dict(schema), infer_schema_length=None)
    else:
        frame = pl.DataFrame([], schema=dict(schema))
    if path.suffix == ".jsonl":
        frame.write_ndjson(path)
    else:
        frame.write_parquet(path)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` through a temporary file renamed into place: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_records(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Rows as a JSON array (``.json``) or JSON Lines (anything else), atomically."""
    if Path(path).suffix == ".json":
        return write_text_atomic(path, json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n")
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write_text_atomic(path, lines)


def read_pairs(path: str | Path) -> list[dict[str, Any]]:
    """Read a pairs file (Parquet or JSON Lines) back into pair rows."""
    path = Path(path)
    frame = pl.read_ndjson(path) if path.suffix == ".jsonl" else pl.read_parquet(path)
    return frame.to_dicts()


class RunDirectory:
    """A run directory being written in a hidden staging folder; :meth:`commit` moves it in.

    The staging folder survives a crash or an interrupted run (with its request cache), and
    the next run for the same destination picks it up again. A lock file keeps two processes
    from writing the same run. Use as a context manager: leaving with an exception removes
    the staging folder unless :attr:`keep` was set.
    """

    def __init__(self, out: str | Path, *, overwrite: bool = False) -> None:
        self.out = Path(out)
        if (
            self.out.exists()
            and not overwrite
            and (not self.out.is_dir() or any(self.out.iterdir()))
        ):
            raise PlugdataError(
                f"output {self.out} already exists; choose another --out or pass --overwrite"
            )
        self.staging = self.out.parent / f".{self.out.name}.partial"
        self.overwrite = overwrite
        self.keep = False
        self.resumed = False
        self._lock: Any = None

    def __enter__(self) -> RunDirectory:
        self.resumed = self.staging.is_dir()
        self.staging.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.staging / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise PlugdataError(
                f"another plugdata process is writing {self.out} (lock held on {self.staging})"
            ) from None
        old_cache = self.out / CACHE_NAME
        if self.overwrite and old_cache.is_file() and not (self.staging / CACHE_NAME).exists():
            shutil.copy2(old_cache, self.staging / CACHE_NAME)  # replay the finished run's requests
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._unlock()
        if exc_type is not None and not self.keep and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def path(self, relative: str) -> Path:
        """Where ``relative`` goes inside the directory being written."""
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_pairs(self, pairs: Sequence[Mapping[str, Any]], name: str = "pairs.parquet") -> None:
        write_table(pairs, self.path(name), PAIR_SCHEMA)

    def write_format(
        self, fmt: str, lang: str, rows: Sequence[Mapping[str, Any]], ext: str = "parquet"
    ) -> None:
        write_table(rows, self.path(f"{fmt}/{lang}.{ext}"), FORMAT_SCHEMA)

    def write_yaml(self, name: str, data: Mapping[str, Any]) -> None:
        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
        self.path(name).write_text(text, encoding="utf-8")

    def write_json(self, name: str, data: Mapping[str, Any]) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        self.path(name).write_text(text + "\n", encoding="utf-8")

    def commit(self) -> Path:
        """Move the finished directory into place (replacing an old one with --overwrite)."""
        (self.staging / ".lock").unlink(missing_ok=True)
        self._unlock()
        old = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
            os.replace(self.out, old)
        os.replace(self.staging, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out


def group_by_lang(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Split rows by ``target_lang``, keeping their order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["target_lang"], []).append(row)
    return groups
