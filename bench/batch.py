"""The Batch API path at scale: 10,000 requests, 20% of each batch expired, 5% error lines.

Runs the product's own command (`plugdata build --batch-api`, in a child process) against the
bundled server (in this process, so it can count what it was sent), for 2,500 records into
zh, ko, it and es. Reports batches submitted, requests re-submitted (the goal: only the ones
that expired or errored), results kept (the goal: all) and wall time, beside a live build of
the same recipe. Then runs it again, kills the build with SIGKILL while its first batches are
being processed, and re-runs it: no shard may be submitted twice. Last, a build against a
model whose enqueued-token limit (``--token-limit``, 2,000,000 as for gpt-4o-mini at tier 1)
is below what the build submits at once, so batches fail with ``token_limit_exceeded`` for as
long as it would pass: every row must be kept in the end, no request run (or billed) twice,
and the run's spend must equal what the server billed for the results it collected.

    python bench/batch.py [--records 2500] [--max-requests 2000] [--only token-limit]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import corpus

from plugdata.testing import FakeOpenAIServer
from plugdata.testing.batches import BatchFaults

TARGETS = "zh,ko,it,es"


def command(source: Path, out: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "plugdata.cli",
        "build",
        "--source",
        str(source),
        "--targets",
        TARGETS,
        "--model",
        "gpt-4o-mini",
        "--base-url",
        url,
        "--out",
        str(out),
        "--no-filter",
        "--formats",
        "plug",
        "--log-interval",
        "600",
        *extra,
    ]


def build(cmd: list[str]) -> float:
    """Run one build; print its peak RSS; return its wall time."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"build failed: {proc.stderr.read()[-2000:] if proc.stderr else ''}")
    print(f"  (peak RSS {usage.ru_maxrss / 1024:.0f} MB)", flush=True)
    return time.monotonic() - started


def faulted(faults: BatchFaults, keys: list[str]) -> int:
    """Requests the server faulted the first time it saw them (the ones to re-submit)."""
    return sum(
        random.Random(f"{faults.seed}:{k}").random() < faults.expire + faults.error for k in keys
    )


def report(
    name: str, srv: FakeOpenAIServer, faults: BatchFaults, out: Path, seconds: float
) -> None:
    seen = srv.batches.seen
    resent = sum(seen.values()) - len(seen)
    pairs = pl.read_parquet(out / "pairs.parquet")
    created = srv.batches.created
    print(
        f"{name}: {len(seen):,} requests, {len(created)} batches submitted "
        f"({len(created) - len(set(created))} shard(s) twice), {resent:,} re-submitted for "
        f"{faulted(faults, list(seen)):,} expired or errored, {pairs['kept'].sum():,} of "
        f"{pairs.height:,} results kept, {seconds:.1f} s",
        flush=True,
    )


def billed(srv: FakeOpenAIServer) -> float:
    """What the server's result files charge at gpt-4o-mini's batch price (usage it reported)."""
    prompt = completion = 0
    for batch in srv.batches.batches.values():
        if batch["output_file_id"]:
            for line in srv.batches.data[batch["output_file_id"]].splitlines():
                usage = json.loads(line)["response"]["body"]["usage"]
                prompt += usage["prompt_tokens"]
                completion += usage["completion_tokens"]
    return (prompt * 0.15 + completion * 0.60) / 1_000_000 * 0.5


def token_limited(
    source: Path, out: Path, args: argparse.Namespace, flags: tuple[str, ...]
) -> None:
    """A build whose batches pass the model's enqueued-token limit: held and resized, not lost."""
    faults = BatchFaults(token_limit=args.token_limit, delay=args.delay, seed=7)
    with FakeOpenAIServer(batch_faults=faults) as srv:
        seconds = build(command(source, out, srv.url, *flags))
        batches = list(srv.batches.batches.values())
        refused = [b for b in batches if (b.get("errors") or {}).get("data")]
        ran = [b for b in batches if b["status"] == "completed"]
        pairs = pl.read_parquet(out / "pairs.parquet")
        spend = json.loads((out / "stats.json").read_text())["this_run"]["cost_usd"]
        twice = sum(n > 1 for n in srv.batches.seen.values())
        again = len(ran) - len({b["input_file_id"] for b in ran})
        print(
            f"token limit {args.token_limit:,}: {len(batches)} batches created, {len(refused)} "
            f"refused with token_limit_exceeded, {len(ran)} ran ({again} from the same file "
            f"twice), {twice} request(s) run twice, {pairs['kept'].sum():,} of {pairs.height:,} "
            f"rows kept, spend ${spend:.6f} vs ${pairs['cost_usd'].sum():.6f} summed over the "
            f"rows and ${billed(srv):.6f} billed by the server, {seconds:.1f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2_500)
    parser.add_argument("--max-requests", type=int, default=2_000)
    parser.add_argument(
        "--delay", type=float, default=2.0, help="seconds the server takes per batch"
    )
    parser.add_argument(
        "--token-limit",
        type=int,
        default=2_000_000,
        help="the model's enqueued prompt-token limit in the last run",
    )
    parser.add_argument("--only", choices=("all", "token-limit"), default="all")
    args = parser.parse_args()
    faults = BatchFaults(expire=0.2, error=0.05, delay=args.delay, seed=7)
    batch_flags = (
        "--batch-api",
        "--batch-poll",
        "0.5",
        "--batch-max-requests",
        str(args.max_requests),
    )
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.jsonl"
        corpus(source, args.records)
        if args.only == "token-limit":
            token_limited(source, Path(tmp) / "limited", args, batch_flags)
            return
        with FakeOpenAIServer() as srv:
            live = build(command(source, Path(tmp) / "live", srv.url, "--concurrency", "64"))
        print(
            f"live API build (baseline): {len(srv.requests):,} requests, {live:.1f} s", flush=True
        )

        with FakeOpenAIServer(batch_faults=faults) as srv:
            seconds = build(command(source, Path(tmp) / "batch", srv.url, *batch_flags))
            report("batch build", srv, faults, Path(tmp) / "batch", seconds)
            print(
                f"  wall time {seconds / live:.2f}x the live build "
                f"(the server takes {args.delay} s per batch)",
                flush=True,
            )

        with FakeOpenAIServer(batch_faults=faults) as srv:
            out = Path(tmp) / "killed"
            started = time.monotonic()
            proc = subprocess.Popen(
                command(source, out, srv.url, *batch_flags),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while len(srv.batches.created) < 2 and proc.poll() is None:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            at_kill = len(srv.batches.created)
            build(command(source, out, srv.url, *batch_flags))
            report(
                f"killed after {at_kill} batch(es), then re-run",
                srv,
                faults,
                out,
                time.monotonic() - started,
            )

        token_limited(source, Path(tmp) / "limited", args, batch_flags)


if __name__ == "__main__":
    main()
