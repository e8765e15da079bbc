"""Size and write time of a build's report.html at 208,000 pairs (52,000 records x zh, ko, it,
es), on a synthetic run directory laid out as `plugdata build` writes it (with evidence and
score columns).

Baseline in the same run: reading the whole pairs.parquet once with polars (what opening the
data in a notebook costs). Prints the page's size against the 5 MB cap, the time to write it,
and that time as a ratio of the baseline.

    python bench/report.py [--records 52000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from plugdata.publish.report import MAX_PAGE_BYTES, write_build_report
from plugdata.testing.runs import synthetic_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=52_000, help="records per language")
    parser.add_argument("--keep", type=Path, help="write the run here (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "run"
        started = time.perf_counter()
        synthetic_run(out, records=args.records)
        made = time.perf_counter() - started
        started = time.perf_counter()
        pairs = pl.read_parquet(out / "pairs.parquet")
        baseline = time.perf_counter() - started
        started = time.perf_counter()
        page = write_build_report(out)
        seconds = time.perf_counter() - started
        size = page.stat().st_size
        stored = (out / "pairs.parquet").stat().st_size / 1e6
        print(f"run: {pairs.height:,} pairs, pairs.parquet {stored:.1f} MB (made in {made:.1f} s)")
        print(f"baseline: pl.read_parquet(pairs.parquet) {baseline:.2f} s")
        print(
            f"report.html: {size / 1e6:.2f} MB (cap {MAX_PAGE_BYTES / 1e6:.0f} MB), written in "
            f"{seconds:.2f} s = {seconds / baseline:.1f}x the baseline"
        )


if __name__ == "__main__":
    main()
