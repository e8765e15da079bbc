"""The request cache: every completed model request, keyed by what was asked, in SQLite.

Replies are written by a writer thread as they complete (WAL mode, batched in small
transactions), so after a crash or Ctrl-C the same command replays completed requests from
disk and only sends what never finished. Each entry also records what it cost, so a spending
cap is the run's total across resumes.

The event loop never waits on SQLite for a miss: the keys already stored are held in memory as
64-bit prefixes, and only hits are read, on the cache's own thread.

A cache can sit over a read-only ``base`` (another run's or the whole run's cache file, which
nobody writes meanwhile): misses are looked up there, new replies go into the cache's own file,
and :meth:`RequestCache.merge_from` copies one cache file's replies into another.

A write that fails (a full disk, a read-only file) stops the writer from writing but never
from draining its queue: the failure is raised to whoever stores, flushes or closes next, so
a run stops at once, and what was written before it stays for the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError

_COLUMNS = "content, finish_reason, prompt_tokens, completion_tokens, cost_usd"
_SELECT = f"SELECT {_COLUMNS} FROM replies WHERE key = ?"
_STOP = object()
_INSERT = "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?)"


class CacheWriteError(PlugdataError):
    """A reply could not be written to (or the cache opened from) its SQLite file."""


@dataclass(frozen=True)
class CachedReply:
    """A stored reply and what it cost when it was first paid for."""

    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float = 0.0


def request_key(
    backend: str, model: str, messages: list[dict[str, str]], params: dict[str, Any]
) -> str:
    """A stable hash of everything that decides a model's answer."""
    blob = json.dumps(
        {"backend": backend, "model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _prefix(key: str) -> int:
    return int(key[:16], 16) if len(key) >= 16 else hash(key)


class RequestCache:
    """A key → reply store in one SQLite file, with a writer thread.

    With ``base``, misses are looked up in that cache file too, opened immutable: nobody may
    write it while this cache is open (readers then need no lock and leave no WAL files).
    """

    def __init__(self, path: str | Path, *, base: str | Path | None = None) -> None:
        self.path = Path(path)
        self._base: sqlite3.Connection | None = None
        try:
            self._db = _open(self.path)
            self._known = {_prefix(k) for (k,) in self._db.execute("SELECT key FROM replies")}
            if base is not None and Path(base).is_file():
                uri = f"{Path(base).absolute().as_uri()}?immutable=1"
                self._base = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CacheWriteError(f"cannot open the request cache {self.path}: {exc}") from None
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._base_lock = threading.Lock()  # and on the base's
        self._queue: queue.Queue[Any] = queue.Queue()
        self._error: CacheWriteError | None = None  # the first failed write
        self._told = False  # has the failure been raised to a caller?
        self._writer = threading.Thread(target=self._write, name="plugdata-cache", daemon=True)
        self._writer.start()
        self._closed = False

    def _write(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            rows = [row for row in batch if row is not _STOP]
            if rows and self._error is None:
                try:
                    with self._lock:
                        self._db.executemany(_INSERT, rows)
                except Exception as exc:  # a full disk, a read-only file, an I/O error
                    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    message = f"cannot write the request cache {self.path}: {detail}"
                    self._error = CacheWriteError(message)
            for _ in batch:
                self._queue.task_done()
            if any(row is _STOP for row in batch):
                return

    @property
    def error(self) -> CacheWriteError | None:
        """The first write that failed (None while every write succeeded)."""
        return self._error

    def _raise_failure(self) -> None:
        if self._error is not None:
            self._told = True
            raise CacheWriteError(str(self._error))

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key`` (here, else in the base), or None."""
        row = None
        if _prefix(key) in self._known:
            self.flush()
            with self._lock:
                row = self._db.execute(_SELECT, (key,)).fetchone()
        return CachedReply(*row) if row else self._from_base(key)

    def _from_base(self, key: str) -> CachedReply | None:
        if self._base is None:
            return None
        with self._base_lock:
            row = self._base.execute(_SELECT, (key,)).fetchone()
        return CachedReply(*row) if row else None

    def put(self, key: str, reply: CachedReply) -> None:
        """Store a reply (written by the writer thread within milliseconds); raises
        :class:`CacheWriteError` once a write has failed."""
        self._raise_failure()
        self._known.add(_prefix(key))
        self._queue.put(
            (
                key,
                reply.content,
                reply.finish_reason,
                reply.prompt_tokens,
                reply.completion_tokens,
                reply.cost_usd,
            )
        )

    async def aget(self, key: str) -> CachedReply | None:
        """:meth:`get` without blocking the event loop (a miss costs no thread hop; a look-up
        in the immutable base is one indexed read)."""
        if _prefix(key) not in self._known:
            return self._from_base(key)
        return await asyncio.get_running_loop().run_in_executor(None, self.get, key)

    async def aput(self, key: str, reply: CachedReply) -> None:
        """:meth:`put` (it only queues the row, so it never blocks)."""
        self.put(key, reply)

    def flush(self) -> None:
        """Wait until every queued reply is written; raise :class:`CacheWriteError` if a
        write failed."""
        self._queue.join()
        self._raise_failure()

    def merge_from(self, other: str | Path) -> int:
        """Copy every reply stored in the cache file ``other`` into this one (a reply stored
        here already is kept); return how many were added."""
        self.flush()
        with self._lock:
            self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
            try:
                keys = [k for (k,) in self._db.execute("SELECT key FROM other.replies")]
                added = self._db.execute(
                    f"INSERT OR IGNORE INTO replies SELECT key, {_COLUMNS} FROM other.replies"
                ).rowcount
            finally:
                self._db.execute("DETACH DATABASE other")
        self._known.update(map(_prefix, keys))
        return added

    def total_cost(self) -> float:
        """What every reply stored in this file (not its base) cost when it was paid for, in
        USD."""
        self._queue.join()
        with self._lock:
            row = self._db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM replies").fetchone()
        return float(row[0])

    def __len__(self) -> int:
        """How many replies this file stores (on disk: a failed write is not counted; the base
        is not counted)."""
        self._queue.join()
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def close(self) -> None:
        """Write what is queued and close the database (idempotent); a failed write nobody
        was told about yet raises :class:`CacheWriteError` here."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._writer.join()
        with self._lock, self._base_lock:
            self._db.close()
            if self._base is not None:
                self._base.close()
        if not self._told:
            self._raise_failure()

    def __enter__(self) -> RequestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process
    db.execute(
        "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, content TEXT NOT NULL,"
        " finish_reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,"
        " completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL DEFAULT 0)"
    )
    return db
