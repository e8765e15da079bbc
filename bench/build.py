"""Speed and memory of the builders: 200K pairs -> every format, with and without rendering.

Pairs are the seed corpus replicated with tagged "translations" (no model involved), split over
four target languages. Each mode runs in its own process so its peak memory is its own. The
baseline, measured in the same run, is one JSON round trip per pair: the floor of touching
every row once in Python.

    python bench/build.py [--pairs 200000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = ["zh", "ko", "it", "es"]
FORMATS = ["plug", "plug-target-first", "mono", "pivot-only", "code-switch", "multilingual"]


def make_pairs(n: int) -> list[dict[str, Any]]:
    from plugdata.sources import load_source

    seed = load_source("seed").rows
    pairs = []
    per_lang = n // len(TARGETS)
    for lang in TARGETS:
        for i in range(per_lang):
            row = seed[i % len(seed)]
            pairs.append(
                {
                    "id": f"{row['id']}-{i}",
                    "source": "seed",
                    "pivot_lang": "en",
                    "target_lang": lang,
                    "pivot_instruction": row["instruction"],
                    "pivot_input": row["input"],
                    "pivot_output": row["output"],
                    "target_instruction": f"[{lang}] {row['instruction']}",
                    "target_input": row["input"],
                    "target_output": f"[{lang}] {row['output']}",
                    "kept": True,
                    "reasons": [],
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "cost_usd": 0.0,
                    "attempts": 1,
                    "cached": 0,
                }
            )
    return pairs


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(n: int, queue: mp.Queue) -> None:
    pairs = make_pairs(n)
    started = time.perf_counter()
    for pair in pairs:
        json.loads(json.dumps(pair))
    queue.put(("baseline", len(pairs), time.perf_counter() - started, peak_mb()))


def formats(n: int, queue: mp.Queue, render: bool) -> None:
    """The build's own per-chunk stages (filters off): format, render and write every chunk."""
    from plugdata.config import BuildConfig
    from plugdata.formats import ChatRenderer
    from plugdata.pipeline.stages import ChunkSink, format_chunk, worker_plan
    from plugdata.publish import RunDirectory
    from plugdata.schema import pair_frame

    renderer = None
    if render:
        from plugdata.sources import load_source
        from plugdata.testing.tiny import tiny_tokenizer

        seed = load_source("seed").rows
        renderer = ChatRenderer(tiny_tokenizer([r["instruction"] + r["output"] for r in seed]))
    pairs = make_pairs(n)
    chosen = ["plug"] if render else FORMATS
    plan = worker_plan(BuildConfig(source="seed", targets=TARGETS, formats=chosen, filters=[]))
    plan.renderer = renderer
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDirectory(Path(tmp) / "run")
        with run:
            sink = ChunkSink(
                run,
                targets=TARGETS,
                formats=chosen,
                ext="parquet",
                rendered=renderer is not None,
                seed=0,
                expected_pairs=len(pairs),
            )
            started = time.perf_counter()
            for start in range(0, len(pairs), 4096):
                frame = pair_frame(pairs[start : start + 4096])
                sink.write(frame, format_chunk(frame, plan))
            sink.close()
            seconds = time.perf_counter() - started
    rows_out = sum(sum(per_lang.values()) for per_lang in sink.counts.values())
    queue.put(("rendered plug" if render else "all formats", rows_out, seconds, peak_mb()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200_000)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    results = []
    for target, extra in ((baseline, ()), (formats, (False,)), (formats, (True,))):
        proc = ctx.Process(target=target, args=(args.pairs, queue, *extra))
        proc.start()
        results.append(queue.get())
        proc.join()
    base_rate = results[0][1] / results[0][2]
    print(f"{args.pairs:,} pairs over {len(TARGETS)} languages")
    print(
        f"{'mode':>14} {'rows out':>10} {'seconds':>8} {'rows/s':>9} "
        f"{'x baseline':>10} {'peak MB':>8}"
    )
    for name, rows, seconds, peak in results:
        rate = rows / seconds
        print(
            f"{name:>14} {rows:>10,} {seconds:>8.1f} {rate:>9,.0f} "
            f"{rate / base_rate:>10.2f} {peak:>8.0f}"
        )


if __name__ == "__main__":
    main()
