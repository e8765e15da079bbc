"""Throughput of the real `build` pipeline against the project's server at 100 ms latency.

Prints requests/s at several concurrency levels as ratios to concurrency 1 from the same run,
then a 20% fault mix and the share of wasted requests (sent minus needed, over needed). Each
level is a whole `build` (filters off: the server's tagged "translations" are not real ones);
its rate is over the request phase, from the first request to the last pair.

    python bench/throughput.py [--requests 1000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from plugdata import BuildConfig, build
from plugdata.sources import load_source


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The fake server in its own process, so it does not share the client's GIL."""

    def __init__(self, latency: float, faults: float = 0.0) -> None:
        self.port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "plugdata.testing.server",
            "--port",
            str(self.port),
            "--latency",
            str(latency),
            "--faults",
            str(faults),
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # "fake OpenAI-compatible server at ..."
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def received(self) -> int:
        with urllib.request.urlopen(f"{self.url}/stats") as response:
            return json.load(response)["requests"]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def corpus(path: Path, n: int) -> None:
    """The seed corpus repeated with a variant number until it has ``n`` distinct records."""
    seed = load_source("seed").rows
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            row = seed[i % len(seed)]
            record = {
                "instruction": f"{row['instruction']} (variant {i // len(seed)})",
                "input": row["input"],
                "output": row["output"],
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def run(source: Path, out: Path, url: str, concurrency: int, **extra: object) -> tuple[float, dict]:
    """Build once; returns the seconds from the first request to the last pair (the request
    engine's share of the run: loading, writing files and the card are left out) and stats."""
    config = BuildConfig(
        source=str(source),
        targets="zh",
        model="bench",
        base_url=url,
        out=str(out),
        concurrency=concurrency,
        formats="plug",
        filters=[],
        **extra,
    )
    marks: list[float] = []
    result = build(
        config,
        on_start=lambda counts: marks.append(time.perf_counter()),
        on_pair=lambda pair: marks.append(time.perf_counter()),
    )
    return marks[-1] - marks[0], result.stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--levels", default="1,8,16,32,64")
    parser.add_argument("--fault-rate", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "corpus.jsonl"
        corpus(source, args.requests)
        server = Server(args.latency)
        rates: dict[int, float] = {}
        try:
            for level in (int(x) for x in args.levels.split(",")):
                seconds, stats = run(source, root / f"c{level}", server.url, level)
                sent = stats["this_run"]["requests_sent"]
                rates[level] = sent / seconds
        finally:
            server.close()
        base = rates[min(rates)]
        print(f"latency {args.latency * 1000:.0f} ms, {args.requests} requests per level")
        print(
            f"{'concurrency':>11} {'req/s':>8} {'x c=1':>7} {'ideal c/latency':>16} {'of ideal':>9}"
        )
        for level, rate in rates.items():
            ideal = level / args.latency
            print(
                f"{level:>11} {rate:>8.1f} {rate / base:>7.1f} {ideal:>16.0f} {rate / ideal:>9.2f}"
            )

        faulty = Server(args.latency, faults=args.fault_rate)
        try:
            seconds, stats = run(source, root / "faults", faulty.url, 32)
            received = faulty.received()
        finally:
            faulty.close()
        needed = args.requests
        floor = args.fault_rate / (1 - args.fault_rate)
        totals = stats["totals"]
        print(
            f"\n{args.fault_rate:.0%} fault mix at concurrency 32: {seconds:.1f} s, "
            f"kept {totals['kept']}/{totals['pairs']}, rejected {totals['rejected']}"
        )
        print(
            f"requests received {received}, needed {needed}, "
            f"wasted ratio {(received - needed) / needed:.3f} "
            f"(a fault costs at least one extra request: floor ~{floor:.3f})"
        )


if __name__ == "__main__":
    main()
