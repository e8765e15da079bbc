"""Peak memory of a full `plugdata build` at two corpus sizes: it must not grow with the corpus.

Runs the product's own command (`plugdata build`, filters on, plug/mono/pivot-only/multilingual
formats) in a child process against the bundled server (its own process), for N and 4N records
into zh, ko, it, es, and reads each build's peak RSS from the kernel (wait4). Prints both peaks
and their ratio; the goal is the larger under 1 GB and within 1.3x of the smaller.

    python bench/memory.py [--records 26000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import Server, corpus


def run_build(
    source: Path, out: Path, url: str, concurrency: int, filters: bool
) -> tuple[float, float]:
    """Peak RSS (MB) and wall time (s) of one `plugdata build` in its own process."""
    cmd = [
        sys.executable,
        "-m",
        "plugdata.cli",
        "build",
        "--source",
        str(source),
        "--targets",
        "zh,ko,it,es",
        "--model",
        "any",
        "--base-url",
        url,
        "--out",
        str(out),
        "--concurrency",
        str(concurrency),
        "--formats",
        "plug,mono,pivot-only,multilingual",
        "--log-interval",
        "60",
        *([] if filters else ["--no-filter"]),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"build failed ({status}): {proc.stderr.read() if proc.stderr else ''}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=26_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--no-filter", action="store_true", help="leave the filters out")
    args = parser.parse_args()
    server = Server(latency=0.0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = []
            for n in (args.records, 4 * args.records):
                source = Path(tmp) / f"src-{n}.jsonl"
                corpus(source, n)
                rss, seconds = run_build(
                    source, Path(tmp) / f"run-{n}", server.url, args.concurrency, not args.no_filter
                )
                results.append((n, rss, seconds))
                print(
                    f"{n:>7,} records x 4 languages: peak RSS {rss:7.1f} MB, {seconds:6.1f} s "
                    f"({4 * n / seconds:,.0f} pairs/s)",
                    flush=True,
                )
    finally:
        server.close()
    (small, small_rss, _), (large, large_rss, _) = results
    met = large_rss < 1024 and large_rss / small_rss <= 1.3
    print(
        f"ratio {large:,} / {small:,} records: peak RSS x{large_rss / small_rss:.2f} "
        f"(goal <= 1.3x and < 1024 MB: {'met' if met else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
