"""The batch ledger: every shard of requests a run has written, uploaded and submitted.

It lives in the run's staging folder (``batches/ledger.json``, rewritten atomically on every
change) next to the shard files themselves. A run that was killed reads it back, polls the
batches it had submitted, finishes submitting a shard it was halfway through (adopting an
upload or batch the server already has), and so never submits a shard twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from plugdata.atomic import write_bytes_atomic
from plugdata.translate.pricing import estimate_tokens

TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
LEDGER_NAME = "ledger.json"


@dataclass
class Shard:
    """One batch input file and what became of it.

    ``status`` is ``written`` (on disk only), ``uploaded`` (a file id), the batch's own
    status (``validating``, ``in_progress``, ``finalizing``, ``completed``, ``expired``,
    ``failed``, ``cancelling``, ``cancelled``), ``held`` (refused for the model's enqueued
    token limit: submitted again once running batches finish) or ``split`` (too big for that
    limit: its requests went into smaller shards); ``collected`` is set once its results are
    in the request cache and its unfinished requests were handed back. ``tokens`` is its
    estimated prompt tokens, ``error`` why its batch failed for good.
    """

    name: str
    sha256: str
    requests: int
    bytes: int
    created: float = field(default_factory=time.time)
    file_id: str | None = None
    batch_id: str | None = None
    status: str = "written"
    completed: int = 0
    failed: int = 0
    estimate_usd: float = 0.0  # what its requests should cost (for the spending cap)
    kept: int = 0
    resent: int = 0
    collected: bool = False
    tokens: int = 0
    holds: int = 0  # times refused for the enqueued token limit
    error: str = ""

    @property
    def upload_name(self) -> str:
        """The file name given to the upload (how a half-finished submit is recognised)."""
        return f"plugdata-{self.sha256[:16]}.jsonl"


class Ledger:
    """The shards of one run, in the order they were written."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LEDGER_NAME
        self.shards: dict[str, Shard] = {}
        self.token_limit: int | None = None  # the model's enqueued-token limit, once learned
        if self.path.is_file():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.token_limit = data.get("token_limit")
            for item in data.get("shards", []):
                self.shards[item["name"]] = Shard(**item)

    def shard_path(self, shard: Shard) -> Path:
        """Where the shard's request lines are kept until it is collected."""
        return self.folder / f"{shard.name}.jsonl"

    def add(self, lines: list[bytes], estimate_usd: float = 0.0, tokens: int = 0) -> Shard:
        """Write a new shard file and record it (before anything is uploaded)."""
        data = b"".join(lines)
        number = 1 + max((int(name.split("-")[1]) for name in self.shards), default=0)
        digest = hashlib.sha256(data).hexdigest()
        name = f"shard-{number:05d}"
        shard = Shard(name, digest, len(lines), len(data), estimate_usd=estimate_usd, tokens=tokens)
        write_bytes_atomic(self.shard_path(shard), data)
        self.shards[shard.name] = shard
        self.save()
        return shard

    def keys(self, shard: Shard) -> list[str]:
        """The custom ids of a shard's requests (read back from its file)."""
        path = self.shard_path(shard)
        if not path.is_file():
            return []
        with path.open("rb") as lines:
            return [json.loads(line)["custom_id"] for line in lines if line.strip()]

    def split(self, shard: Shard, max_tokens: int) -> list[Shard]:
        """Rewrite ``shard`` as new shards of at most ``max_tokens`` estimated prompt tokens
        each (one request alone may pass it); the old one is marked ``split`` and removed."""
        data = self.shard_path(shard).read_bytes()
        lines = [x for x in data.splitlines(keepends=True) if x.strip()]
        parts: list[list[tuple[bytes, int]]] = [[]]
        for line in lines:
            n = prompt_tokens(json.loads(line).get("body") or {})
            if parts[-1] and sum(t for _, t in parts[-1]) + n > max_tokens:
                parts.append([])
            parts[-1].append((line, n))
        made = []
        for part in parts:
            tokens = sum(t for _, t in part)
            usd = shard.estimate_usd * tokens / max(1, shard.tokens)
            made.append(self.add([line for line, _ in part], usd, tokens))
        shard.status, shard.resent, shard.collected = "split", shard.requests, True
        self.save()
        self.shard_path(shard).unlink(missing_ok=True)
        return made

    def committed_usd(self) -> float:
        """The estimated cost of the shards submitted and not collected yet."""
        return sum(s.estimate_usd for s in self.open_shards())

    def open_shards(self) -> list[Shard]:
        """Shards whose results are not collected yet."""
        return [s for s in self.shards.values() if not s.collected]

    def enqueued_tokens(self) -> int:
        """Estimated prompt tokens of the batches submitted and still running."""
        return sum(s.tokens for s in self.open_shards() if s.batch_id and s.status not in TERMINAL)

    def save(self) -> None:
        """Rewrite the ledger file (a temporary file renamed into place)."""
        shards = [asdict(s) for s in self.shards.values()]
        data = {"version": 1, "token_limit": self.token_limit, "shards": shards}
        write_bytes_atomic(self.path, (json.dumps(data, indent=1) + "\n").encode())

    def waiting_line(self) -> str:
        """What a detached run leaves on the server, and how to collect it."""
        waiting = self.open_shards()
        held = sum(1 for s in waiting if s.batch_id is None)
        also = f" and {held} shard(s) held for the token limit" if held else ""
        return (
            f"detached: {sum(s.requests for s in waiting):,} request(s) wait in "
            f"{len(waiting) - held} submitted batch(es){also}; run the same command again to "
            "collect them (and submit what is held); result files are kept 30 days"
        )

    def summary(self) -> dict[str, Any]:
        """Batches per status and requests waiting, kept and re-sent."""
        states: dict[str, int] = {}
        for shard in self.shards.values():
            state = "collected" if shard.collected else shard.status
            states[state] = states.get(state, 0) + 1
        waiting = sum(s.requests for s in self.open_shards())
        return {
            "batches": len(self.shards),
            "states": states,
            "waiting": waiting,
            "kept": sum(s.kept for s in self.shards.values()),
            "resent": sum(s.resent for s in self.shards.values()),
        }


def prompt_tokens(body: dict[str, Any]) -> int:
    """A chat request's estimated prompt tokens (what the enqueued-token limit counts)."""
    return sum(estimate_tokens(str(m.get("content", ""))) for m in body.get("messages") or [])
