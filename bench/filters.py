"""Speed and memory of the filter stage on 200K+ pairs built from real human translations.

NTREX-128 pairs (as in calibrate_filters.py) are replicated until there are at least
``--pairs``; every replica doubles one letter of each text, so texts are mostly new (about one
replica in ten repeats an earlier text, and is caught as a duplicate). A pair's output is the
next pair's instruction, so each target sentence occurs twice (once per field) and is
identified once; ``--fresh-outputs`` doubles another letter in the outputs, so that every
field is a text of its own, as in translated instruction data. The baseline, measured in the
same run, is langdetect on the target output alone (on a sample, as it is slow). The filters
and the baseline run ``--repeat`` times in turn, and the best run of each is compared (on a
shared machine other processes only ever slow a run down; every run's rate is printed too).
The CPU time (this process and the identifiers' worker processes) and the load average are
printed as well.

    python bench/filters.py path/to/ntrex128 [--pairs 200000] [--fresh-outputs] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from calibrate_filters import load, pairs

from plugdata.filters import filter_frame
from plugdata.filters.langid import LangdetectLID


def mutate(text: str, k: int) -> str:
    """A copy with one letter doubled, so every replica is a new text (even lower-cased)."""
    if not text:
        return text
    j = k % len(text)
    while j < len(text) - 1 and not text[j].isalpha():
        j += 1
    return text[:j] + text[j] + text[j:]


def replicate(rows: list[dict], n: int, fresh_outputs: bool = False) -> list[dict]:
    out = []
    copy = 0
    while len(out) < n:
        for row in rows:
            new = dict(row, id=f"{row['id']}-{copy}")
            for side in ("pivot", "target"):
                for f in ("instruction", "output"):
                    key = f"{side}_{f}"
                    if copy:
                        new[key] = mutate(new[key], copy * 7919)
                    if fresh_outputs and f == "output":
                        new[key] = mutate(new[key], copy * 7919 + 104729)
            out.append(new)
        copy += 1
    return out[:n]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def baseline(frame: pl.DataFrame, n: int) -> float:
    """langdetect's pairs per second on the target outputs of the first ``n`` pairs."""
    sample = frame["target_output"].head(n).to_list()
    langs = frame["target_lang"].head(n).to_list()
    lid = LangdetectLID()
    started = time.perf_counter()
    for text, lang in zip(sample, langs, strict=True):
        lid.probability(text, lang)
    return len(sample) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument(
        "--fresh-outputs", action="store_true", help="no output repeats an instruction"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the filters and the baseline, in turn; the best of each is shown (other"
        " processes only ever slow a run down)",
    )
    args = parser.parse_args()
    english, refs = load(args.data, 1997)
    rows = replicate(pairs(english, refs, "real"), args.pairs, args.fresh_outputs)
    frame = pl.DataFrame(rows)
    del rows
    runs, base_rates = [], []
    for _ in range(args.repeat):  # the filters, then the baseline, in turn
        cpu = cpu_seconds()
        started = time.perf_counter()
        out, stats = filter_frame(frame)
        seconds = time.perf_counter() - started
        runs.append((frame.height / seconds, seconds, cpu_seconds() - cpu))
        base_rates.append(baseline(frame, args.baseline_sample))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate, seconds, cpu = max(runs)
    base_rate = max(base_rates)

    kept = out["kept"].mean()
    fresh = ", every field a text of its own" if args.fresh_outputs else ""
    print(f"{frame.height:,} pairs{fresh}, default filters ({', '.join(stats['names'])})")
    print(
        f"filters:              {seconds:6.1f} s  {rate:9,.0f} pairs/s  kept {kept:.4f}"
        f"  peak {peak:,.0f} MB"
    )
    print(f"                      {cpu:6.1f} s of CPU (with the identifiers' worker processes)")
    if len(runs) > 1:
        every = ", ".join(f"{r:,.0f}" for r, _, _ in runs)
        print(f"                      {len(runs)} runs: {every} pairs/s (the best above)")
    print(
        f"langdetect baseline:            {base_rate:9,.0f} pairs/s"
        f"  (target output only, {args.baseline_sample:,}-pair sample, best of {len(runs)})"
    )
    print(f"ratio: {rate / base_rate:.1f}x the langdetect-only baseline")
    print(f"load average {os.cpu_count()} CPUs: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
