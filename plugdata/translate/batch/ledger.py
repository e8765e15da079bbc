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

TERMINAL = frozenset({"completed", "expired", "failed", "cancelled"})
LEDGER_NAME = "ledger.json"


@dataclass
class Shard:
    """One batch input file and what became of it.

    ``status`` is ``written`` (on disk only), ``uploaded`` (a file id) or the batch's own
    status (``validating``, ``in_progress``, ``finalizing``, ``completed``, ``expired``,
    ``failed``, ``cancelling``, ``cancelled``); ``collected`` is set once its results are in
    the request cache and its unfinished requests were handed back.
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
        if self.path.is_file():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for item in data.get("shards", []):
                self.shards[item["name"]] = Shard(**item)

    def shard_path(self, shard: Shard) -> Path:
        """Where the shard's request lines are kept until it is collected."""
        return self.folder / f"{shard.name}.jsonl"

    def add(self, lines: list[bytes], estimate_usd: float = 0.0) -> Shard:
        """Write a new shard file and record it (before anything is uploaded)."""
        data = b"".join(lines)
        number = 1 + max((int(name.split("-")[1]) for name in self.shards), default=0)
        shard = Shard(f"shard-{number:05d}", hashlib.sha256(data).hexdigest(), len(lines), len(data),
                      estimate_usd=estimate_usd)  # fmt: skip
        write_bytes_atomic(self.shard_path(shard), data)
        self.shards[shard.name] = shard
        self.save()
        return shard

    def committed_usd(self) -> float:
        """The estimated cost of the shards submitted and not collected yet."""
        return sum(s.estimate_usd for s in self.open_shards())

    def open_shards(self) -> list[Shard]:
        """Shards whose results are not collected yet."""
        return [s for s in self.shards.values() if not s.collected]

    def save(self) -> None:
        """Rewrite the ledger file (a temporary file renamed into place)."""
        data = {"version": 1, "shards": [asdict(s) for s in self.shards.values()]}
        write_bytes_atomic(self.path, (json.dumps(data, indent=1) + "\n").encode())

    def summary(self) -> dict[str, Any]:
        """Batches per status and requests waiting, kept and re-sent."""
        states: dict[str, int] = {}
        for shard in self.shards.values():
            state = "collected" if shard.collected else shard.status
            states[state] = states.get(state, 0) + 1
        waiting = sum(s.requests for s in self.open_shards())
        return {"batches": len(self.shards), "states": states, "waiting": waiting,
                "kept": sum(s.kept for s in self.shards.values()),
                "resent": sum(s.resent for s in self.shards.values())}  # fmt: skip

