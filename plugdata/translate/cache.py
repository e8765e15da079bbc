"""The request cache: every completed model request, keyed by what was asked, in SQLite.

Entries are written as each request completes (WAL mode), so after a crash or Ctrl-C the same
command replays completed requests from disk and only sends what never finished. Each entry
also records what it cost, so a spending cap is the run's total across resumes.

The connection lives on one worker thread: async callers use :meth:`RequestCache.aget` and
:meth:`RequestCache.aput`, which never block the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_COLUMNS = "content, finish_reason, prompt_tokens, completion_tokens, cost_usd"


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


class RequestCache:
    """A key → reply store in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugdata-cache")
        self._db = self._pool.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process
        db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, content TEXT NOT NULL,"
            " finish_reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,"
            " completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL DEFAULT 0)"
        )
        columns = {row[1] for row in db.execute("PRAGMA table_info(replies)")}
        if "cost_usd" not in columns:  # a cache written by plugdata 0.1
            db.execute("ALTER TABLE replies ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0")
        return db

    def _run(self, fn: Any, *args: Any) -> Any:
        return self._pool.submit(fn, *args).result()

    def _get(self, key: str) -> CachedReply | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM replies WHERE key = ?", (key,)).fetchone()
        return CachedReply(*row) if row else None

    def _put(self, key: str, reply: CachedReply) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
            (key, reply.content, reply.finish_reason, reply.prompt_tokens,
             reply.completion_tokens, reply.cost_usd),
        )  # fmt: skip

    def get(self, key: str) -> CachedReply | None:
        """The stored reply for ``key``, or None (blocking; use :meth:`aget` in async code)."""
        return self._run(self._get, key)

    def put(self, key: str, reply: CachedReply) -> None:
        """Store a reply (blocking; use :meth:`aput` in async code)."""
        self._run(self._put, key, reply)

    async def aget(self, key: str) -> CachedReply | None:
        """:meth:`get` on the cache's own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._get, key)

    async def aput(self, key: str, reply: CachedReply) -> None:
        """:meth:`put` on the cache's own thread."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._put, key, reply)

    def total_cost(self) -> float:
        """What every stored reply cost when it was paid for, in USD."""
        return float(self._run(lambda: self._db.execute(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM replies").fetchone()[0]))  # fmt: skip

    def __len__(self) -> int:
        return int(self._run(lambda: self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]))

    def close(self) -> None:
        """Close the database and its thread (idempotent)."""
        if self._pool is not None:
            self._run(self._db.close)
            self._pool.shutdown()
            self._pool = None  # type: ignore[assignment]

    def __enter__(self) -> RequestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
