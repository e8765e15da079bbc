"""Calibrate the default filters on human translations, on real translated instructions, and
on corrupted copies of them; every figure per language, every rejection per sub-reason.

- NTREX-128 (``ntrex128.src.eng.txt`` and ``ntrex128.ref.{zho-CN,kor,ita,spa}.txt``,
  line-aligned): real pairs (instruction = sentence i, output = sentence i+1) must be kept, and
  each corruption rejected with a reason that names it. Short-text corruptions use the
  segments of 3 to 6 words (headlines): an English echo, and Italian and Spanish swapped.
- ``--instructions`` a folder of ``{zh,ko,it,es}.jsonl`` with ``id``, ``en_instruction`` and
  ``instruction`` (the same ids in every language, an Alpaca input after the first newline):
  real translated instructions must be kept; the short ones (3 to 6 words) also get an English
  echo and an it/es swap. Rejected real instructions are listed for inspection;
  ``--failures N`` lists, for every set, N pairs per language that did not come out right.

    python bench/calibrate_filters.py path/to/ntrex128 --instructions path/to/alpagasus_4lang
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import polars as pl

from plugdata.filters import DEFAULT_FILTERS, FilterConfig, filter_frame

LANGS = ("zh", "ko", "it", "es")
FILES = {"zh": "zho-CN", "ko": "kor", "it": "ita", "es": "spa"}
OTHER = {"zh": "ko", "ko": "zh", "it": "es", "es": "it"}
CHATTER = {"zh": "以下是翻译：", "ko": "다음은 번역입니다: ", "it": "Ecco la traduzione: ",
           "es": "Aquí está la traducción: "}  # fmt: skip
CODE = "\n\n```python\nfor i in range(10):\n    total = total + values[i] * 2\nprint(total)\n```"
# corruption -> rules whose rejection correctly names it
EXPECTED = {
    "echo": {"untranslated"},
    "cut": {"truncated", "length_ratio"},
    "code": {"structure"},
    "loop": {"repetition"},
    "chatter": {"leakage"},
    "other_language": {"langid", "script"},
    "short_echo": {"untranslated", "langid"},
    "short_swap": {"langid", "script", "untranslated"},
}


def load(folder: Path, limit: int) -> tuple[list[str], dict[str, list[str]]]:
    english = (folder / "ntrex128.src.eng.txt").read_text(encoding="utf-8").splitlines()[:limit]
    refs = {lang: (folder / f"ntrex128.ref.{code}.txt").read_text(encoding="utf-8").splitlines()[:limit]
            for lang, code in FILES.items()}  # fmt: skip
    return english, refs


def row(rid: str, lang: str, p_ins: str, p_in: str, p_out: str, t_ins: str, t_in: str, t_out: str) -> dict:  # fmt: skip
    return {"id": rid, "source": "calibration", "pivot_lang": "en", "target_lang": lang,
            "pivot_instruction": p_ins, "pivot_input": p_in, "pivot_output": p_out,
            "target_instruction": t_ins, "target_input": t_in, "target_output": t_out,
            "finish_reason": "stop", "kept": True, "reasons": []}  # fmt: skip


def pairs(english: list[str], refs: dict[str, list[str]], kind: str, seed: int = 0) -> list[dict]:
    """NTREX pairs, real or corrupted as ``kind`` says."""
    rng = random.Random(seed)
    rows = []
    for lang, target in refs.items():
        for i in range(len(english) - 1):
            p_out, t_out, t_ins = english[i + 1], target[i + 1], target[i]
            if kind.startswith("short_"):
                if not 3 <= len(english[i].split()) <= 6:
                    continue
                if kind == "short_swap" and lang not in ("it", "es"):
                    continue
                t_ins = english[i] if kind == "short_echo" else refs[OTHER[lang]][i]
            elif kind == "code":
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
                t_ins, t_out = refs[OTHER[lang]][i], refs[OTHER[lang]][i + 1]
            rows.append(row(f"{lang}-{i}", lang, english[i], "", p_out, t_ins, "", t_out))
    return rows


def instructions(folder: Path, kind: str) -> list[dict]:
    """Real translated instructions (no outputs), or their short ones corrupted."""
    data = {lang: {r["id"]: r for r in map(json.loads, (folder / f"{lang}.jsonl").open(encoding="utf-8"))}
            for lang in LANGS}  # fmt: skip
    rows = []
    for lang in LANGS:
        for rid, rec in data[lang].items():
            english, target = rec["en_instruction"], rec["instruction"]
            if kind != "real":
                if "\n" in english or not 3 <= len(english.split()) <= 6:
                    continue
                if kind == "short_swap" and lang not in ("it", "es"):
                    continue
                target = english if kind == "short_echo" else data[OTHER[lang]][rid]["instruction"]
            p_ins, _, p_in = english.partition("\n")
            t_ins, _, t_in = target.partition("\n")
            if p_in and not t_in:  # the translation ran instruction and input together
                p_ins, p_in = english.replace("\n", " "), ""
            rows.append(row(rid, lang, p_ins, p_in, "", t_ins, t_in, ""))
    return rows


def named(expected: set[str] | None) -> pl.Expr:
    """Whether a pair came out right: kept (real pairs), or rejected with a reason that names
    its corruption."""
    if expected is None:
        return pl.col("kept")
    return pl.col("reasons").list.eval(pl.element().str.split(":").list.first().is_in(list(expected))).list.any()  # fmt: skip


def failures(out: pl.DataFrame, expected: set[str] | None, limit: int) -> None:
    """The first ``limit`` pairs per language that did not come out right, fields shortened."""
    wrong = out.filter(~named(expected)).group_by("target_lang", maintain_order=True).head(limit)
    for r in wrong.iter_rows(named=True):
        fields = " | ".join(f"{r[f'{side}_{f}'][:50]!r}" for f in ("instruction", "input", "output")
                            for side in ("pivot", "target") if r[f"pivot_{f}"] or r[f"target_{f}"])  # fmt: skip
        print(f"    {r['target_lang']} {r['reasons']} {fields}")


def report(name: str, out: pl.DataFrame, expected: set[str] | None) -> None:
    """One line of shares per language, then the rejections per sub-reason."""
    ok = named(expected)
    agg = out.group_by("target_lang").agg(ok.mean().alias("share"), pl.len())
    shares = {lang: (s, n) for lang, s, n in agg.iter_rows()}
    cells = " ".join(f"{shares[lang][0]:>7.4f}" if lang in shares else f"{'-':>7}" for lang in LANGS)
    print(f"{name:>26} {cells}   n={sum(n for _, n in shares.values()):,}")
    reasons = out.select("target_lang", "reasons").explode("reasons").drop_nulls()
    if reasons.height:
        table = reasons.group_by("reasons", "target_lang").len().pivot("target_lang", index="reasons", values="len")  # fmt: skip
        for r in table.fill_null(0).sort("reasons").iter_rows(named=True):
            print(f"{'  ' + r['reasons']:>26} " + " ".join(f"{r.get(lang, 0):>7}" for lang in LANGS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the NTREX-128 folder")
    parser.add_argument("--instructions", type=Path, help="a folder of {zh,ko,it,es}.jsonl")
    parser.add_argument("--limit", type=int, default=1997)
    parser.add_argument("--thresholds", default=None, help="e.g. length_ratio_low=1.9")
    parser.add_argument("--show", type=int, default=40, help="rejected real instructions to list")
    parser.add_argument("--failures", type=int, default=0,
                        help="list this many pairs per set and language that did not come out right")  # fmt: skip
    args = parser.parse_args()
    config = FilterConfig.parse(args.thresholds)
    english, refs = load(args.data, args.limit)
    # Duplicates are a property of a dataset, not of a pair: corrupted copies are checked
    # without the duplicate check (they repeat the real instructions on purpose).
    names = [n for n in DEFAULT_FILTERS if n != "duplicate"]
    started, total = time.perf_counter(), 0
    print(f"{'set':>26} " + " ".join(f"{lang:>7}" for lang in LANGS)
          + "   (share kept / share rejected with a reason that names it)")  # fmt: skip
    runs = [("ntrex real kept", pairs(english, refs, "real"), None, None)]
    runs += [(f"ntrex {k} rejected", pairs(english, refs, k), names, v) for k, v in EXPECTED.items()]
    if args.instructions:
        runs.append(("instructions real kept", instructions(args.instructions, "real"), None, None))
        runs += [(f"instructions {k} rejected", instructions(args.instructions, k), names, EXPECTED[k])
                 for k in ("short_echo", "short_swap")]  # fmt: skip
    for name, rows, checks, expected in runs:
        out, _ = filter_frame(pl.DataFrame(rows), checks, config)
        total += out.height
        report(name, out, expected)
        if args.failures:
            failures(out, expected, args.failures)
        if name == "instructions real kept":
            for r in out.filter(~pl.col("kept")).head(args.show).iter_rows(named=True):
                print(f"    {r['target_lang']} {r['reasons']} {r['pivot_instruction'][:60]!r} "
                      f"{r['pivot_input'][:40]!r} -> {r['target_instruction'][:60]!r} {r['target_input'][:40]!r}")  # fmt: skip
    print(f"\n{time.perf_counter() - started:.1f} s for {total:,} pairs")


if __name__ == "__main__":
    main()
