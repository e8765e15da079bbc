"""The run directory, written all or nothing, and atomic file writes.

Everything is written into a hidden staging folder beside the destination and renamed into
place at the end, so a failed or interrupted run never leaves a half-written directory.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock, Timeout

from plugdata.atomic import write_bytes_atomic
from plugdata.errors import PlugdataError

CACHE_NAME = "cache.sqlite"
BATCHES_DIR = "batches"  # the Batch API's ledgers and request shards


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) through a temporary file renamed into place: never half a file."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_records(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Rows as a JSON array (``.json``) or JSON Lines (anything else), atomically."""
    if Path(path).suffix == ".json":
        return write_text_atomic(path, json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n")
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write_text_atomic(path, lines)


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
        self._made: list[Path] = []

    def __enter__(self) -> RunDirectory:
        self.resumed = self.staging.is_dir()
        # the folders above it this run makes (removed again if it fails before it is kept)
        self._made = [d for d in self.staging.absolute().parents if not d.exists()]
        self.staging.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.staging / ".lock", timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
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
        # A staging folder this run found (a resume) holds paid work: never remove it.
        if exc_type is not None and not self.keep and not self.resumed and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
            for folder in self._made:  # deepest first; one that holds anything stays
                try:
                    folder.rmdir()
                except OSError:
                    break

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def path(self, relative: str) -> Path:
        """Where ``relative`` goes inside the directory being written."""
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_yaml(self, name: str, data: Mapping[str, Any]) -> None:
        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
        self.path(name).write_text(text, encoding="utf-8")

    def write_json(self, name: str, data: Mapping[str, Any]) -> None:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        self.path(name).write_text(text + "\n", encoding="utf-8")

    def commit(self) -> Path:
        """Move the finished directory into place (replacing an old one with --overwrite)."""
        self._unlock()
        (self.staging / ".lock").unlink(missing_ok=True)
        old = None
        try:
            if self.out.exists():
                old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
                os.replace(self.out, old)
            os.replace(self.staging, self.out)
        except OSError as exc:
            if old is not None and not self.out.exists():
                os.replace(old, self.out)  # put the previous run back
            self.keep = True
            raise PlugdataError(
                f"cannot move the finished run into {self.out}: {exc.strerror or exc}; it is "
                f"complete in {self.staging} (move it by hand, or fix the folder and run again)"
            ) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out
