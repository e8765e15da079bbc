"""A synthetic built set and a Llama-shaped model from a config, for timing `plugdata train`.

Writes ``OUT/run`` laid out as a build writes it (``plug/<lang>.parquet`` with ``id`` and
``messages``, and a README whose configs name them, so ``datasets.load_dataset(run, "plug-zh")``
works) and ``OUT/model`` (random weights, a byte-level BPE tokenizer with the ChatML training
template). Answers are spread up to about 1,800 tokens, as in bench/train_gpu.py.

    python bench/train_set.py --out /tmp/plugbench [--rows 4000] [--hidden 1536 --layers 24]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

# Words the synthetic answers are drawn from (bench/train_gpu.py uses them too).
WORDS = [
    "model",
    "data",
    "answer",
    "language",
    "question",
    "river",
    "light",
    "green",
    "small",
    "number",
    "table",
    "system",
    "window",
    "garden",
    "music",
    "travel",
    "city",
    "water",
    "friend",
    "school",
    "energy",
    "market",
    "story",
    "simple",
]
HAN = "".join(chr(0x4E00 + i) for i in range(2000))


def plug_row(i: int, rng: random.Random) -> dict:
    """One PLUG-shaped chat row: target instruction in, pivot then target answer out."""
    size = int(rng.triangular(40, 900, 200))  # words in the pivot answer
    instruction = "Explain " + " ".join(rng.choices(WORDS, k=12))
    zh = "".join(rng.choice(HAN) for _ in range(size))
    answer = (
        f"English instruction: {instruction}\n\n"
        f"English response: {' '.join(rng.choice(WORDS) for _ in range(size))}\n\n"
        f"中文回复：{zh}"
    )
    return {
        "id": f"{i:016x}",
        "messages": [
            {
                "role": "system",
                "content": "Interpret the request in English, answer in English, then in Chinese.",
            },
            {"role": "user", "content": "解释" + zh[:20]},
            {"role": "assistant", "content": answer},
        ],
    }


def write_run(out: Path, rows: int, seed: int = 0) -> Path:
    """A run directory with one set, ``plug-zh``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    run = out / "run"
    (run / "plug").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist([plug_row(i, rng) for i in range(rows)]), run / "plug" / "zh.parquet"
    )
    (run / "README.md").write_text(
        "---\nconfigs:\n- config_name: plug-zh\n  data_files:\n  - split: train\n"
        "    path: plug/zh.parquet\n---\n# Synthetic PLUG set for timing\n"
    )
    return run


def write_model(out: Path, hidden: int, layers: int, seq: int) -> Path:
    """A Llama-shaped model with random weights (bf16) and a tokenizer, saved to ``out/model``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from plugdata.testing.tiny import CHATML, tiny_tokenizer

    tok = tiny_tokenizer([" ".join(WORDS) * 3, HAN], vocab_size=4000, chat_template=CHATML)
    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=hidden,
        intermediate_size=hidden * 8 // 3 // 64 * 64,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 128),
        num_key_value_heads=max(1, hidden // 128),
        max_position_embeddings=seq,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=False,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    path = out / "model"
    model.save_pretrained(path)
    tok.save_pretrained(path)
    n_params = sum(p.numel() for p in model.parameters())
    (path / "bench.json").write_text(json.dumps({"parameters": n_params}))
    print(f"model: {n_params / 1e9:.2f}B parameters ({layers} layers, hidden {hidden}) in {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--hidden", type=int, default=1536)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--seq", type=int, default=2048)
    args = parser.parse_args()
    run = write_run(args.out, args.rows)
    print(f"run directory: {run} ({args.rows} rows of plug-zh)")
    write_model(args.out, args.hidden, args.layers, args.seq)


if __name__ == "__main__":
    main()
