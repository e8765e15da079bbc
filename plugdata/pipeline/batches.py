"""The Batch API's ledgers in a run folder: what waits in batches, and when not to go on."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.publish import BATCHES_DIR
from plugdata.translate.batch import BATCH_LEVEL, Ledger

BATCH_FAILURE_SHARE = 0.01  # rows failed at the batch level that a committed run may hold


class BatchFailures(PlugdataError):
    """Rows failed at the Batch API's batch level: the run is kept, not committed."""


def batch_ledgers(out: Path) -> dict[str, Ledger]:
    """The Batch API ledgers of a run (its staging folder while it is unfinished), by role."""
    for root in (out.parent / f".{out.name}.partial", out):
        if ledgers := ledgers_in(root):
            return ledgers
    return {}


def ledgers_in(root: Path) -> dict[str, Ledger]:
    """The Batch API ledgers under one run folder, by role (translate, generate)."""
    return {
        path.parent.name: Ledger(path.parent)
        for path in sorted((root / BATCHES_DIR).glob("*/ledger.json"))
    }


def waiting_requests(staging: Path) -> int:
    """Requests of a run folder that wait in submitted batches (not collected yet)."""
    return sum(s.requests for ledger in ledgers_in(staging).values() for s in ledger.open_shards())


def submitted(staging: Path) -> bool:
    """Whether any request of a run folder was ever submitted in a batch."""
    return any((staging / BATCHES_DIR).glob("*/ledger.json"))


def refuse_open_batches(staging: Path) -> None:
    """A live resume of a run with requests waiting in batches would pay for them twice."""
    waiting = waiting_requests(staging)
    if waiting:
        raise PlugdataError(
            f"this run has {waiting:,} request(s) waiting in submitted Batch API batches: run "
            "the same command with --batch-api to collect them (add --batch-fallback live to "
            f"send what fails live); to drop them, delete {staging / BATCHES_DIR} first (what "
            "they would have answered is then paid again)"
        )


def refuse_batch_failures(stats: dict[str, Any], staging: Path) -> None:
    """Keep the run instead of committing it when a batch failed for good, or when more than
    a small share of its rows failed at the batch level (not for their own content).
    ``stats`` are the run's counts (:meth:`~plugdata.pipeline.tally.Tally.stats`)."""
    counts: Counter[str] = Counter()
    for row in stats["languages"].values():
        counts.update({r: n for r, n in row["reasons"].items() if r in BATCH_LEVEL})
    failed, pairs = sum(counts.values()), stats["totals"]["pairs"]
    if not counts["batch_failed"] and failed <= pairs * BATCH_FAILURE_SHARE:
        return
    shards = [s for ledger in ledgers_in(staging).values() for s in ledger.shards.values()]
    errors = [f"{s.batch_id} ({s.name}) {s.error}" for s in shards if s.error]
    reasons = ", ".join(f"{reason}: {n:,}" for reason, n in counts.most_common())
    raise BatchFailures(
        f"{failed:,} of {pairs:,} pairs failed at the batch level ({reasons})"
        + (f"; {errors[-1]}" if errors else "")
        + f"; the run was not committed: it is kept in "
        f"{staging}; fix the cause and run the same command again (answered requests are "
        "replayed from the cache)"
    )
