"""Calibrate the default filters on human translations and on corrupted copies of them.

Takes a folder with NTREX-128 (``ntrex128.src.eng.txt`` and ``ntrex128.ref.{zho-CN,kor,ita,spa}.txt``,
line-aligned). Real pairs (instruction = sentence i, output = sentence i+1) must be kept; each
corruption of them must be rejected with the reason that names it.

    python bench/calibrate_filters.py path/to/ntrex128 [--limit 1997]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import polars as pl

from plugdata.filters import DEFAULT_FILTERS, FilterConfig, filter_frame

FILES = {"zh": "zho-CN", "ko": "kor", "it": "ita", "es": "spa"}
OTHER = {"zh": "ko", "ko": "zh", "it": "es", "es": "it"}
CHATTER = {"zh": "以下是翻译：", "ko": "다음은 번역입니다: ", "it": "Ecco la traduzione: ",
           "es": "Aquí está la traducción: "}  # fmt: skip
CODE = "\n\n```python\nfor i in range(10):\n    total = total + values[i] * 2\nprint(total)\n```"
# corruption -> reasons that correctly name it
EXPECTED = {
    "echo": {"untranslated"},
    "cut": {"truncated", "length_ratio"},
    "code": {"structure"},
    "loop": {"repetition"},
    "chatter": {"leakage"},
    "other_language": {"langid", "script"},
}


def load(folder: Path, limit: int) -> tuple[list[str], dict[str, list[str]]]:
    english = (folder / "ntrex128.src.eng.txt").read_text(encoding="utf-8").splitlines()[:limit]
    refs = {lang: (folder / f"ntrex128.ref.{code}.txt").read_text(encoding="utf-8").splitlines()[:limit]
            for lang, code in FILES.items()}  # fmt: skip
    return english, refs


def pairs(english: list[str], refs: dict[str, list[str]], kind: str, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for lang, target in refs.items():
        for i in range(len(english) - 1):
            p_out, t_out = english[i + 1], target[i + 1]
            t_ins = target[i]
            if kind == "code":
                p_out, t_out = p_out + CODE, t_out + CODE.replace("* 2", "* 3")
            elif kind == "echo":
                t_ins, t_out = english[i], english[i + 1]
            elif kind == "cut":
                t_out = t_out[: max(1, len(t_out) // 3)]
            elif kind == "loop":
                start = rng.randrange(max(1, len(t_out) // 2))
                piece = t_out[start : start + max(8, len(t_out) // 4)]
                t_out = t_out + " " + " ".join([piece] * 8)
            elif kind == "chatter":
                t_out = CHATTER[lang] + t_out
            elif kind == "other_language":
                other = refs[OTHER[lang]]
                t_ins, t_out = other[i], other[i + 1]
            rows.append({"id": f"{lang}-{i}", "source": "ntrex", "pivot_lang": "en", "target_lang": lang,
                         "pivot_instruction": english[i], "pivot_input": "", "pivot_output": p_out,
                         "target_instruction": t_ins, "target_input": "", "target_output": t_out,
                         "finish_reason": "stop", "kept": True, "reasons": []})  # fmt: skip
    return rows


def run(rows: list[dict], names: list[str] | None, config: FilterConfig) -> pl.DataFrame:
    out, _ = filter_frame(pl.DataFrame(rows), names, config)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--limit", type=int, default=1997)
    parser.add_argument("--thresholds", default=None, help="e.g. length_ratio_low=1.9")
    args = parser.parse_args()
    config = FilterConfig.parse(args.thresholds)
    english, refs = load(args.data, args.limit)
    # Duplicates are a property of a dataset, not of a pair: corrupted copies are checked
    # without the duplicate check (they repeat the real instructions on purpose).
    names = [n for n in DEFAULT_FILTERS if n != "duplicate"]
    started = time.perf_counter()
    real = run(pairs(english, refs, "real"), None, config)
    print(
        f"{'set':>15} "
        + " ".join(f"{lang:>7}" for lang in FILES)
        + "   (share kept / share rejected with the right reason)"
    )
    kept = real.group_by("target_lang").agg(pl.col("kept").mean())
    shares = dict(zip(kept["target_lang"], kept["kept"], strict=True))
    print(f"{'real kept':>15} " + " ".join(f"{shares[lang]:>7.4f}" for lang in FILES))
    misses = real.filter(~pl.col("kept")).select("target_lang", "reasons").explode("reasons")
    print(
        f"{'':>15} rejected real pairs by reason: {misses.group_by('reasons').len().sort('len', descending=True).rows()}"
    )
    for kind, expected in EXPECTED.items():
        out = run(pairs(english, refs, kind), names, config)
        right = out.with_columns(
            pl.col("reasons").list.eval(pl.element().is_in(list(expected))).list.any().alias("ok")
        )
        agg = right.group_by("target_lang").agg(pl.col("ok").mean())
        shares = dict(zip(agg["target_lang"], agg["ok"], strict=True))
        print(f"{kind + ' rejected':>15} " + " ".join(f"{shares[lang]:>7.4f}" for lang in FILES))
    print(f"\n{time.perf_counter() - started:.1f} s for {7 * 4 * (len(english) - 1):,} pairs")


if __name__ == "__main__":
    main()
