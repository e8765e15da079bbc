"""MT throughput: transformers against CTranslate2, batched against one request per record.

A Marian model is built from a config (random weights, a sentencepiece vocabulary trained on
the seed corpus), so nothing is downloaded. Each mode translates the same seed records into
Italian through the real translator and runner; segments/s and output tokens/s are printed
with the ratio to per-record transformers ``generate`` measured in the same run.

    python bench/mt.py                      # small model on this CPU
    python bench/mt.py --size big           # Marian-big-sized (~230M parameters), for a GPU
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from plugdata.languages import get_language
from plugdata.testing.tiny import tiny_marian
from plugdata.translate.mt import mt_translator
from plugdata.translate.mt.segment import segment
from plugdata.translate.runner import Runner

SEED = Path(__file__).resolve().parents[1] / "corpora" / "seed" / "seed.jsonl"
SIZES = {
    "small": {"d_model": 128, "layers": 2, "heads": 4, "ffn": 512},
    "big": {"d_model": 1024, "layers": 6, "heads": 16, "ffn": 4096},
}


def run_mode(model: Path, rows: list[dict], engine: str, batched: bool) -> dict[str, float]:
    """Translate ``rows`` once; seconds, segments and output tokens."""
    translator = mt_translator(str(model), targets=["it"], engine=engine)
    en, it = get_language("en"), get_language("it")
    warm = Runner(translator, concurrency=1)
    asyncio.run(warm.run(rows[:1], [it], en))  # load (and convert) outside the clock
    runner = Runner(translator, concurrency=256 if batched else 1)
    start = time.perf_counter()
    pairs = asyncio.run(runner.run(rows, [it], en))
    seconds = time.perf_counter() - start
    segments = sum(
        len(segment(r[k]).segments) for r in rows for k in ("instruction", "input", "output")
    )
    return {
        "seconds": seconds,
        "segments": segments,
        "tokens": sum(p["completion_tokens"] for p in pairs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--records", type=int, default=24)
    parser.add_argument("--vocab", type=int, default=8000)
    args = parser.parse_args()
    lines = SEED.read_text(encoding="utf-8").splitlines()
    rows = [dict(json.loads(line), id=str(i), source="seed") for i, line in enumerate(lines)]
    rows = (rows * (args.records // len(rows) + 1))[: args.records]
    rows = [dict(r, id=str(i)) for i, r in enumerate(rows)]
    texts = [v for r in rows for v in (r["instruction"], r["input"], r["output"]) if v]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("PLUGDATA_CACHE", str(Path(tmp) / "cache"))
        model = tiny_marian(
            Path(tmp) / "model", texts * 20, vocab_size=args.vocab, size=SIZES[args.size]
        )
        import torch

        params = sum(
            p.numel()
            for p in __import__("transformers")
            .AutoModelForSeq2SeqLM.from_pretrained(model)
            .parameters()
        )
        device = "cuda" if torch.cuda.is_available() else "cpu"
        print(
            f"model: Marian from config, {params / 1e6:.0f}M parameters; "
            f"{len(rows)} records; {device}"
        )
        results = {}
        for engine in ("transformers", "ctranslate2"):
            for batched in (False, True):
                results[(engine, batched)] = run_mode(model, rows, engine, batched)
    base = results[("transformers", False)]
    print(f"{'engine':<13}{'mode':<12}{'seconds':>9}{'segments/s':>12}{'tokens/s':>11}{'ratio':>8}")
    for (engine, batched), r in results.items():
        ratio = base["seconds"] / r["seconds"]
        print(
            f"{engine:<13}{'batched' if batched else 'per-record':<12}{r['seconds']:>9.2f}"
            f"{r['segments'] / r['seconds']:>12.1f}{r['tokens'] / r['seconds']:>11.0f}"
            f"{ratio:>7.1f}x"
        )


if __name__ == "__main__":
    main()
