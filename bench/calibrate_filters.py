"""Calibrate the default filters on human translations, on real translated instructions, and
on corrupted copies of them; every figure per language, every rejection per sub-reason.

- NTREX-128 (``ntrex128.src.eng.txt`` and ``ntrex128.ref.*.txt`` for zh ko it es ja fr de pt
  ru ar, line-aligned): real pairs (instruction = sentence i, output = sentence i+1; and
  ``long`` pairs whose output is sentences i+1..i+4) must be kept, and each corruption rejected
  with a reason that names it:

  - ``echo``: instruction and output left in English;
  - ``cut``: the output cut to a third;
  - ``code``: the code block of the output altered;
  - ``loop``: a piece of the output repeated;
  - ``chatter``: "Here is the translation:" (in the target language) before the output;
  - ``other_language``: the fields in another registered language (not a neighbour);
  - ``neighbour``: the fields in the nearest neighbour that NTREX has (``NEAREST``);
  - ``half``: a long output whose first half is translated and the rest left in English;
  - ``middle``: a long output (three sentences) whose middle sentence is left in English
    (where that is a sentence: six words or more and a sentence end; NTREX also has headlines
    and two-word quotes);
  - ``code_copy``: the English output copied where the instruction mentions code;
  - ``short_echo`` / ``short_swap``: 3-6 word instructions echoed in English, or in the
    nearest neighbour.
- ``--instructions`` a folder of ``{zh,ko,it,es}.jsonl`` with ``id``, ``en_instruction`` and
  ``instruction`` (alpagasus_4lang): real translated instructions must be kept; the short ones
  also get an English echo and a swap with a neighbour the folder has (it and es).
  ``--failures N`` lists, for every set, N pairs per language that did not come out right.

    python bench/calibrate_filters.py path/to/ntrex128 --instructions path/to/alpagasus_4lang
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from ntrex import FILES, load

from plugdata.filters import DEFAULT_FILTERS, FilterConfig, filter_frame
from plugdata.filters.neighbour_table import NEIGHBOURS

LANGS = tuple(FILES)
OTHER = {
    "zh": "ko",
    "ko": "zh",
    "it": "de",
    "es": "de",
    "ja": "ko",
    "fr": "de",
    "de": "fr",
    "pt": "de",
    "ru": "de",
    "ar": "fr",
}
# The nearest neighbour (plugdata/filters/neighbour_table.py) that NTREX has text in.
NEAREST = {"zh": "ja", "ja": "zh", "it": "es", "es": "pt", "pt": "es", "fr": "es"}
CHATTER = {
    "zh": "以下是翻译：",
    "ko": "다음은 번역입니다: ",
    "it": "Ecco la traduzione: ",
    "es": "Aquí está la traducción: ",
    "ja": "以下は翻訳です：",
    "fr": "Voici la traduction : ",
    "de": "Hier ist die Übersetzung: ",
    "pt": "Aqui está a tradução: ",
    "ru": "Вот перевод: ",
    "ar": "إليك الترجمة: ",
}
CODE = "\n\n```python\nfor i in range(10):\n    total = total + values[i] * 2\nprint(total)\n```"
CODE_ASK = "Rewrite this as a Python function with code comments: "
JOIN = {"zh": "", "ja": ""}  # sentences joined without a space
# corruption -> rules whose rejection correctly names it
EXPECTED = {
    "echo": {"untranslated"},
    "cut": {"truncated", "length_ratio"},
    "code": {"structure"},
    "loop": {"repetition"},
    "chatter": {"leakage"},
    "other_language": {"langid", "script"},
    "neighbour": {"langid", "script"},
    "half": {"langid", "untranslated", "script"},
    "middle": {"langid", "untranslated", "script"},
    "code_copy": {"untranslated"},
    "short_echo": {"untranslated", "langid"},
    "short_swap": {"langid", "script", "untranslated"},
}
LONG = ("real_long", "half", "middle")


def row(
    rid: str, lang: str, p_ins: str, p_in: str, p_out: str, t_ins: str, t_in: str, t_out: str
) -> dict:
    return {
        "id": rid,
        "source": "calibration",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": p_ins,
        "pivot_input": p_in,
        "pivot_output": p_out,
        "target_instruction": t_ins,
        "target_input": t_in,
        "target_output": t_out,
        "finish_reason": "stop",
        "kept": True,
        "reasons": [],
    }


def _long(english: list[str], target: list[str], lang: str, i: int, kind: str) -> tuple[str, str]:
    """A long output (sentences i+1..i+4, or three for ``middle``), corrupted as ``kind``."""
    n = 3 if kind == "middle" else 4
    p = english[i + 1 : i + 1 + n]
    t = list(target[i + 1 : i + 1 + n])
    if kind == "half":
        t = t[: n // 2] + p[n // 2 :]
    elif kind == "middle":
        t[1] = p[1]
    return " ".join(p), JOIN.get(lang, " ").join(t)


def _corrupt(
    kind: str, lang: str, i: int, english: list[str], refs: dict[str, list[str]], rng: random.Random
) -> tuple[str, str, str, str] | None:
    """(pivot instruction, pivot output, target instruction, target output), or None where
    the corruption does not apply to this sentence."""
    target = refs[lang]
    p_ins, p_out, t_ins, t_out = english[i], english[i + 1], target[i], target[i + 1]
    if kind.startswith("short_"):
        if not 3 <= len(english[i].split()) <= 6 or (kind == "short_swap" and lang not in NEAREST):
            return None
        t_ins = english[i] if kind == "short_echo" else refs[NEAREST[lang]][i]
    elif kind in LONG:
        middle = english[i + 2]
        if kind == "middle" and (
            len(middle.split()) < 6 or not re.search(r"[.!?][\"'”’]*$", middle)
        ):
            return None
        p_out, t_out = _long(english, target, lang, i, kind)
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
    elif kind in ("other_language", "neighbour"):
        other = OTHER[lang] if kind == "other_language" else NEAREST.get(lang)
        if other is None:
            return None
        t_ins, t_out = refs[other][i], refs[other][i + 1]
    elif kind == "code_copy":
        p_ins, t_out = CODE_ASK + p_ins, p_out
    return p_ins, p_out, t_ins, t_out


def pairs(english: list[str], refs: dict[str, list[str]], kind: str, seed: int = 0) -> list[dict]:
    """NTREX pairs, real (``real``, ``real_long``) or corrupted as ``kind`` says."""
    rng = random.Random(seed)
    rows = []
    for lang in refs:
        for i in range(len(english) - 5):
            found = _corrupt(kind, lang, i, english, refs, rng)
            if found is not None:
                p_ins, p_out, t_ins, t_out = found
                rows.append(row(f"{lang}-{i}", lang, p_ins, "", p_out, t_ins, "", t_out))
    return rows


def instructions(folder: Path, kind: str) -> list[dict]:
    """Real translated instructions (no outputs), or their short ones corrupted."""
    langs = sorted(p.stem for p in folder.glob("*.jsonl"))
    data = {
        lang: {
            r["id"]: r for r in map(json.loads, (folder / f"{lang}.jsonl").open(encoding="utf-8"))
        }
        for lang in langs
    }
    rows = []
    for lang in langs:
        for rid, rec in data[lang].items():
            english, target = rec["en_instruction"], rec["instruction"]
            if kind != "real":
                if "\n" in english or not 3 <= len(english.split()) <= 6:
                    continue
                near = next((n for n in NEIGHBOURS.get(lang, ()) if n in data), None)
                if kind == "short_swap" and near is None:
                    continue
                target = english if kind == "short_echo" else data[near][rid]["instruction"]
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
    return (
        pl.col("reasons")
        .list.eval(pl.element().str.split(":").list.first().is_in(list(expected)))
        .list.any()
    )


def failures(out: pl.DataFrame, expected: set[str] | None, limit: int) -> None:
    """The first ``limit`` pairs per language that did not come out right, fields shortened."""
    wrong = out.filter(~named(expected)).group_by("target_lang", maintain_order=True).head(limit)
    for r in wrong.iter_rows(named=True):
        fields = " | ".join(
            f"{r[f'{side}_{f}'][:60]!r}"
            for f in ("instruction", "input", "output")
            for side in ("pivot", "target")
            if r[f"pivot_{f}"] or r[f"target_{f}"]
        )
        print(f"    {r['target_lang']} {r['reasons']} {fields}")


def report(name: str, out: pl.DataFrame, expected: set[str] | None, table: dict) -> None:
    """One line of shares per language, then the rejections per sub-reason."""
    ok = named(expected)
    agg = out.group_by("target_lang").agg(ok.mean().alias("share"), pl.len())
    shares = {lang: (s, n) for lang, s, n in agg.iter_rows()}
    table[name] = {lang: s for lang, (s, _) in shares.items()}
    cells = " ".join(
        f"{shares[lang][0]:>6.4f}" if lang in shares else f"{'-':>6}" for lang in LANGS
    )
    print(f"{name:>30} {cells}   n={sum(n for _, n in shares.values()):,}")
    reasons = out.select("target_lang", "reasons").explode("reasons").drop_nulls()
    if reasons.height:
        counts = (
            reasons.group_by("reasons", "target_lang")
            .len()
            .pivot("target_lang", index="reasons", values="len")
        )
        for r in counts.fill_null(0).sort("reasons").iter_rows(named=True):
            print(
                f"{'  ' + r['reasons']:>30} " + " ".join(f"{r.get(lang, 0):>6}" for lang in LANGS)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the NTREX-128 folder")
    parser.add_argument("--instructions", type=Path, help="a folder of {zh,ko,it,es}.jsonl")
    parser.add_argument("--limit", type=int, default=1997)
    parser.add_argument("--thresholds", default=None, help="e.g. length_ratio_low=1.9")
    parser.add_argument("--sets", default=None, help="only these sets (comma-separated kinds)")
    parser.add_argument(
        "--failures",
        type=int,
        default=0,
        help="list this many pairs per set and language that did not come out right",
    )
    parser.add_argument("--json", type=Path, help="write the table of shares here")
    args = parser.parse_args()
    config = FilterConfig.parse(args.thresholds)
    english, refs = load(args.data, args.limit)
    # Duplicates are a property of a dataset, not of a pair: corrupted copies are checked
    # without the duplicate check (they repeat the real instructions on purpose).
    names = [n for n in DEFAULT_FILTERS if n != "duplicate"]
    wanted = set(args.sets.split(",")) if args.sets else None
    started, total, table = time.perf_counter(), 0, {}
    print(
        f"{'set':>30} "
        + " ".join(f"{lang:>6}" for lang in LANGS)
        + "   (share kept / share rejected with a reason that names it)"
    )
    runs = [(f"ntrex {k} kept", "ntrex", k, None, None) for k in ("real", "real_long")]
    runs += [(f"ntrex {k} rejected", "ntrex", k, names, v) for k, v in EXPECTED.items()]
    if args.instructions:
        runs.append(("alpagasus real kept", "instructions", "real", None, None))
        runs += [
            (f"alpagasus {k} rejected", "instructions", k, names, EXPECTED[k])
            for k in ("short_echo", "short_swap")
        ]
    for name, source, kind, checks, expected in runs:
        if wanted and kind not in wanted:
            continue
        rows = (
            pairs(english, refs, kind)
            if source == "ntrex"
            else instructions(args.instructions, kind)
        )
        out, _ = filter_frame(pl.DataFrame(rows), checks, config)
        total += out.height
        report(name, out, expected, table)
        if args.failures:
            failures(out, expected, args.failures)
    print(f"\n{time.perf_counter() - started:.1f} s for {total:,} pairs")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
