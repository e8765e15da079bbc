"""Training throughput on one GPU: tokens/s and MFU with packing on and off, in one run.

Builds a Llama-shaped model of about 0.7B parameters from a config (random weights), a
synthetic PLUG set (plugdata's own formats and masking, lengths spread up to 2048 tokens), and
trains the way `plugdata train` does: bf16, fused AdamW, SDPA attention, labels on assistant
turns only. Packing on: examples first-fit-decreasing into rows of 2048 tokens with position ids
restarting per example and no attention mask (transformers keeps examples apart from the
position ids). Packing off: each example alone, padded to the longest in its batch.
Needs only torch, transformers and tokenizers (the GPU machine has no trl or datasets).

    python bench/train_gpu.py [--steps 20] [--rows 16]
MFU = 6 x parameters x tokens/s / peak bf16 FLOP/s (attention FLOPs not counted).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch

from plugdata.formats import format_rows
from plugdata.testing.tiny import CHATML, tiny_tokenizer
from plugdata.train.masking import IGNORE, encode

sys.path.insert(0, str(Path(__file__).parent))
from train_set import WORDS

PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12}


def synthetic_pairs(n: int, rng: random.Random) -> list[dict]:
    pairs = []
    for i in range(n):
        size = int(rng.triangular(40, 900, 200))  # words in the pivot answer
        answer = " ".join(rng.choice(WORDS) for _ in range(size))
        zh = "".join(chr(0x4E00 + rng.randrange(2000)) for _ in range(size))
        pairs.append(
            {
                "id": str(i),
                "pivot_lang": "en",
                "target_lang": "zh",
                "pivot_instruction": "Explain " + " ".join(rng.choices(WORDS, k=12)),
                "pivot_input": "",
                "pivot_output": answer,
                "target_instruction": "解释" + zh[:20],
                "target_input": "",
                "target_output": zh,
                "kept": True,
            }
        )
    return pairs


def pack(examples: list[dict], seq: int) -> list[list[dict]]:
    """First-fit decreasing into rows of at most ``seq`` tokens."""
    rows: list[list[dict]] = []
    room: list[int] = []
    for ex in sorted(examples, key=lambda e: -len(e["input_ids"])):
        n = len(ex["input_ids"])
        for i, r in enumerate(room):
            if r >= n:
                rows[i].append(ex)
                room[i] -= n
                break
        else:
            rows.append([ex])
            room.append(seq - n)
    return rows


def packed_batch(rows: list[list[dict]], seq: int, pad: int) -> dict[str, torch.Tensor]:
    ids, labels, pos = [], [], []
    for row in rows:
        r_ids, r_lab, r_pos = [], [], []
        for ex in row:
            r_ids += ex["input_ids"]
            r_lab += [IGNORE, *ex["labels"][1:]]  # no label across the example boundary
            r_pos += list(range(len(ex["input_ids"])))
        fill = seq - len(r_ids)
        # padding at the end of a row is its own "example" (positions restart at 0)
        ids.append(r_ids + [pad] * fill)
        labels.append(r_lab + [IGNORE] * fill)
        pos.append(r_pos + list(range(fill)))
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "position_ids": torch.tensor(pos),
    }


def padded_batch(examples: list[dict], pad: int) -> dict[str, torch.Tensor]:
    longest = max(len(e["input_ids"]) for e in examples)
    ids = [e["input_ids"] + [pad] * (longest - len(e["input_ids"])) for e in examples]
    labels = [e["labels"] + [IGNORE] * (longest - len(e["labels"])) for e in examples]
    mask = [[1] * len(e["input_ids"]) + [0] * (longest - len(e["input_ids"])) for e in examples]
    return {
        "input_ids": torch.tensor(ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(mask),
    }


def train(model, batches, steps: int, warmup: int) -> tuple[float, float]:
    """Real (non-padding) tokens per second over ``steps`` after ``warmup`` steps."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)
    tokens, started = 0, None
    for step in range(warmup + steps):
        batch = {k: v.cuda(non_blocking=True) for k, v in batches[step % len(batches)].items()}
        if step == warmup:
            torch.cuda.synchronize()
            started, tokens = time.perf_counter(), 0
        loss = model(**batch, use_cache=False).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += (
            int((batch["input_ids"] != PAD_ID).sum())
            if "attention_mask" not in batch
            else int(batch["attention_mask"].sum())
        )
    torch.cuda.synchronize()
    return tokens / (time.perf_counter() - started), float(loss.detach())


PAD_ID = 0


def main() -> None:
    global PAD_ID
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rows", type=int, default=8, help="rows of --seq tokens per step")
    parser.add_argument(
        "--modes",
        default="packed:sdpa,packed:flex_attention,padded:sdpa",
        help="layout:attention[:compile], comma-separated",
    )
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=1536)
    parser.add_argument("--layers", type=int, default=24)
    args = parser.parse_args()
    from transformers import LlamaConfig, LlamaForCausalLM

    rng = random.Random(0)
    pairs = synthetic_pairs(1500, rng)
    rows = format_rows(pairs, "plug")
    tok = tiny_tokenizer(
        [" ".join(WORDS) * 3, "".join(chr(0x4E00 + i) for i in range(2000))],
        vocab_size=4000,
        chat_template=CHATML,
    )
    PAD_ID = tok.pad_token_id
    examples = [encode(tok, r["messages"], args.seq) for r in rows]
    lengths = sorted(len(e["input_ids"]) for e in examples)
    print(
        f"{len(examples)} examples, tokens min {lengths[0]} median {lengths[len(lengths) // 2]} "
        f"max {lengths[-1]}",
        flush=True,
    )

    config = LlamaConfig(
        vocab_size=32000,
        hidden_size=args.hidden,
        intermediate_size=args.hidden * 8 // 3 // 64 * 64,
        num_hidden_layers=args.layers,
        num_attention_heads=args.hidden // 128,
        num_key_value_heads=args.hidden // 128,
        max_position_embeddings=args.seq,
        pad_token_id=PAD_ID,
        tie_word_embeddings=False,
    )
    device_name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK.items() if k in device_name), None)
    results = {}
    for mode in args.modes.split(","):
        layout, attn, *extra = mode.split(":")
        torch.manual_seed(0)
        model = LlamaForCausalLM(config).to(device="cuda", dtype=torch.bfloat16)
        model.config._attn_implementation = attn
        model.train()
        if "compile" in extra:
            model.forward = torch.compile(model.forward)
        n_params = sum(p.numel() for p in model.parameters())
        if layout == "packed":
            packed = pack(examples, args.seq)
            batches = [
                packed_batch(packed[i : i + args.rows], args.seq, PAD_ID)
                for i in range(0, len(packed) - args.rows + 1, args.rows)
            ]
        else:
            order = examples[:]
            rng.shuffle(order)
            # about as many positions per step as the packed rows (padding included)
            per = max(1, args.rows * args.seq // lengths[-1])
            batches = [
                padded_batch(order[i : i + per], PAD_ID)
                for i in range(0, len(order) - per + 1, per)
            ]
        try:
            rate, loss = train(model, batches, args.steps, args.warmup)
        except Exception as exc:  # one mode failing (memory, a backend) must not hide the others
            print(
                f"{mode:>22}: failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                flush=True,
            )
            del model
            torch.cuda.empty_cache()
            continue
        mfu = 6 * n_params * rate / peak if peak else float("nan")
        results[mode] = rate
        print(
            f"{mode:>22}: {rate:10,.0f} tokens/s  MFU {mfu:6.1%}  loss {loss:.3f}  "
            f"({n_params / 1e9:.2f}B params, {device_name})",
            flush=True,
        )
        del model
        torch.cuda.empty_cache()
    padded = results.get("padded:sdpa")
    for mode, rate in results.items():
        if padded and mode != "padded:sdpa":
            print(f"{mode} vs padded:sdpa: {rate / padded:.2f}x")


if __name__ == "__main__":
    main()
