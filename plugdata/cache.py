"""The request cache: every completed model request, keyed by what was asked, in SQLite.

Entries are written as each request completes (WAL mode), so after a crash or Ctrl-C the same
command replays completed requests from disk and only sends what never finished.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CachedReply:
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


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
    """A small key → reply store; one connection, used from one event-loop thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, content TEXT NOT NULL,"
            " finish_reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,"
            " completion_tokens INTEGER NOT NULL)"
        )

    def get(self, key: str) -> CachedReply | None:
        row = self._db.execute(
            "SELECT content, finish_reason, prompt_tokens, completion_tokens FROM replies"
            " WHERE key = ?",
            (key,),
        ).fetchone()
        return CachedReply(*row) if row else None

    def put(self, key: str, reply: CachedReply) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)",
            (key, reply.content, reply.finish_reason, reply.prompt_tokens, reply.completion_tokens),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def close(self) -> None:
        self._db.close()
