"""The same build, local and ``--executor ray``, on this machine; and a paper estimate.

A tiny Marian model is built from a config (random weights, a sentencepiece vocabulary trained
on the seed corpus), so nothing is downloaded and decoding is greedy (the outputs are checked
equal, but for the ``cached`` provenance column and last-bit noise in ``lid_*``). Three
timings, measured in the same run on the same records:

- local: ``plugdata build`` in this process;
- ray (cold): ``--executor ray`` starting its own local Ray cluster (startup included);
- ray (warm): ``--executor ray`` on a Ray already running (cluster startup excluded).

The overhead ratio is ray / local. Then a **paper estimate** (not a measurement) of
1M records x 4 languages on N GPUs, from a per-GPU MT throughput given on the command line.
The default assumes OPUS-MT tc-big (transformer-big) on CTranslate2 float16 on one H100 at
about 10,000 output tokens/s (CTranslate2's published transformer-base V100 figures scaled by
~4x less compute per token for base and ~3x H100/V100 speed), and an Alpaca record of about
100 target tokens (instruction + input + output): about 100 pairs/s per GPU.

    python bench/ray_build.py [--records 400] [--chunk-size 50] [--actors 1]
    python bench/ray_build.py --gpu-tokens-s 6000 --tokens-per-record 120 --gpus 1,8,64
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"


def _records(n: int, folder: Path) -> tuple[Path, list[str]]:
    """``n`` seed records (numbered so none is a duplicate) as a JSONL file; and their texts."""
    seed = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]
    rows = [dict(seed[i % len(seed)]) for i in range(n)]
    for i, row in enumerate(rows):
        row["instruction"] = f"{row['instruction']} ({i})"
    path = folder / "records.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path, [
        v for r in seed for k, v in r.items() if k in ("instruction", "input", "output") and v
    ]


def _timed(**options: object) -> float:
    from plugdata import BuildConfig, build

    start = time.perf_counter()
    build(BuildConfig(**options))  # type: ignore[arg-type]
    return time.perf_counter() - start


def _same(a: Path, b: Path) -> bool:
    import polars as pl

    for name in sorted(str(p.relative_to(a)) for p in a.rglob("*.parquet")):
        x, y = pl.read_parquet(a / name), pl.read_parquet(b / name)
        # lid_*: last-bit noise (two local runs differ too); cached: a sentence repeated in
        # another shard is a cache hit locally, translated again (the same) on Ray
        skip = [c for c in x.columns if c.startswith("lid_") or c == "cached"]
        if not x.drop(skip).equals(y.drop(skip)):
            return False
    return True


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    """Local, cold Ray and warm Ray wall times of one build; pairs/s of the local one."""
    import ray

    from plugdata.testing.tiny import tiny_marian

    source, texts = _records(args.records, tmp)
    model = tiny_marian(
        tmp / "marian", texts, size={"d_model": 64, "layers": 2, "heads": 2, "ffn": 256}
    )
    common = {
        "source": str(source),
        "targets": args.targets,
        "translator": "mt",
        "model": str(model),
        "chunk_size": args.chunk_size,
        "lid_backend": "langdetect",
        "ray_actors": args.actors,
    }
    _timed(**common, limit=4, out=tmp / "warmup")  # converts the model once, outside the clock
    local = _timed(**common, out=tmp / "local")
    cold = _timed(**common, executor="ray", out=tmp / "ray-cold")
    ray.init(address="local", include_dashboard=False, num_cpus=os.cpu_count())
    try:
        warm = _timed(**common, executor="ray", out=tmp / "ray-warm")
    finally:
        ray.shutdown()
    assert _same(tmp / "local", tmp / "ray-cold") and _same(tmp / "local", tmp / "ray-warm")
    pairs = args.records * len(args.targets.split(","))
    return {
        "local": local,
        "cold": cold,
        "warm": warm,
        "pairs": pairs,
        "shards": -(-args.records // args.chunk_size),
    }


def estimate(args: argparse.Namespace, per_shard_s: float) -> None:
    """Paper estimate: 1M records x 4 languages over N GPUs at the assumed throughput."""
    pairs = 1_000_000 * 4
    per_gpu = args.gpu_tokens_s / args.tokens_per_record
    shards = -(-1_000_000 // 1024)  # the default chunk size
    print(
        f"\nPAPER ESTIMATE (not measured): 1M records x 4 languages = {pairs:,} pairs, "
        f"{per_gpu:,.0f} pairs/s per GPU ({args.gpu_tokens_s:,.0f} tokens/s / "
        f"{args.tokens_per_record} tokens a record), {shards} shards of 1024 records, "
        f"{per_shard_s:.2f} s Ray overhead per shard (measured here), spread over the GPUs"
    )
    for n in args.gpus:
        seconds = pairs / (per_gpu * n) + shards * per_shard_s / n + 30  # + cluster/actor start
        print(f"  {n:>4} GPU(s): {seconds / 3600:6.2f} h")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--targets", default="it")
    parser.add_argument("--actors", type=int, default=1, help="Ray translation actors")
    parser.add_argument(
        "--gpu-tokens-s",
        type=float,
        default=10_000.0,
        help="assumed MT output tokens/s on one GPU (see the docstring)",
    )
    parser.add_argument("--tokens-per-record", type=float, default=100.0)
    parser.add_argument("--gpus", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PLUGDATA_CACHE", str(Path(tmp) / "cache"))
        m = measure(args, Path(tmp))
    print(
        f"{args.records} records -> {args.targets} ({m['shards']} shards of {args.chunk_size}), "
        f"tiny Marian on {os.cpu_count()} CPU(s), {args.actors} Ray actor(s); outputs equal"
    )
    print(f"  local       {m['local']:7.2f} s   {m['pairs'] / m['local']:7.1f} pairs/s")
    print(
        f"  ray (cold)  {m['cold']:7.2f} s   ratio {m['cold'] / m['local']:.2f}x "
        "(Ray startup included)"
    )
    print(
        f"  ray (warm)  {m['warm']:7.2f} s   ratio {m['warm'] / m['local']:.2f}x (running cluster)"
    )
    estimate(args, max(0.0, (m["warm"] - m["local"]) / m["shards"]))


if __name__ == "__main__":
    main()
