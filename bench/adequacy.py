"""Speed of the opt-in ``adequacy`` check, against the default filters measured in the same run.

Pairs are NTREX-128 human translations in ten languages (instruction = sentence i, output =
sentences i+1 and i+2), replicated with one letter doubled per copy so that texts are new (as in
bench/filters.py). The default filters run on ``--pairs`` of them; ``adequacy`` alone on
``--adequacy-pairs`` (it is far slower on a CPU). Its encoder is ``--model`` (a Hub id in the
cache, or a folder), or by default a LaBSE-shaped BERT (12 layers of 768) with random weights
and a WordPiece vocabulary trained on the data: speed depends on the shape and the token
counts, not on the weights.

    python bench/adequacy.py path/to/ntrex128 [--device cpu] [--model sentence-transformers/LaBSE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from calibrate_adequacy import joiner, load
from filters import replicate

from plugdata.filters import DEFAULT_FILTERS, FilterConfig, filter_frame
from plugdata.testing.encoder import LABSE_SHAPE, tiny_encoder


def rows(folder: Path) -> list[dict]:
    english, refs = load(folder, 1997)
    out = []
    for lang, ref in refs.items():
        glue = joiner(lang)
        for i in range(0, len(english) - 2, 3):
            out.append(
                {
                    "id": f"{lang}-{i}",
                    "source": "bench",
                    "pivot_lang": "en",
                    "target_lang": lang,
                    "pivot_instruction": english[i],
                    "pivot_input": "",
                    "pivot_output": " ".join(english[i + 1 : i + 3]),
                    "target_instruction": ref[i],
                    "target_input": "",
                    "target_output": glue.join(ref[i + 1 : i + 3]),
                    "finish_reason": "stop",
                    "kept": True,
                    "reasons": [],
                }
            )
    return out


def timed(frame: pl.DataFrame, names: list[str], config: FilterConfig) -> tuple[float, float]:
    started = time.perf_counter()
    out, _ = filter_frame(frame, names, config)
    return frame.height / (time.perf_counter() - started), float(out["kept"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the ntrex128 folder")
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--adequacy-pairs", type=int, default=200)
    parser.add_argument("--model", help="default: a LaBSE-shaped encoder with random weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    start = time.perf_counter()
    base = rows(args.data)
    frame = pl.DataFrame(replicate(base, args.pairs))
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            texts = [r[k] for r in base for k in ("pivot_output", "target_output")]
            model = str(
                tiny_encoder(Path(tmp) / "labse-shaped", texts, vocab_size=30_000, size=LABSE_SHAPE)
            )
        config = FilterConfig.parse(
            {
                "adequacy_model": model,
                "adequacy_device": args.device,
                "adequacy_batch_size": args.batch_size,
                "adequacy_min": -1,
            }
        )
        print(f"encoder ready: {time.perf_counter() - start:.0f} s", flush=True)
        timed(frame.head(8), ["adequacy"], config)  # warm up: imports and the first load
        print(f"warmed up: {time.perf_counter() - start:.0f} s", flush=True)
        default_rate, kept = timed(frame, list(DEFAULT_FILTERS), config)
        print(f"default filters done: {time.perf_counter() - start:.0f} s", flush=True)
        sample = frame.sample(args.adequacy_pairs, seed=0)  # every language, in any order
        rate, _ = timed(sample, ["adequacy"], config)
    label = args.model or "LaBSE-shaped, random weights"
    print(f"default filters: {frame.height:,} pairs  {default_rate:9,.0f} pairs/s  kept {kept:.4f}")
    print(
        f"adequacy ({label}, device {args.device}, batch {args.batch_size}): "
        f"{sample.height:,} pairs  {rate:9,.1f} pairs/s"
    )
    print(
        f"ratio: adequacy runs at {rate / default_rate:.4f}x the default filters' speed "
        f"({default_rate / rate:,.0f}x slower)"
    )
    print(f"load average {os.cpu_count()} CPUs: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
