"""Reading a pairs file for `plugdata filter`, and writing what it keeps and rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from plugdata.errors import InputError
from plugdata.export import RunDirectory

REQUIRED = ("id", "pivot_lang", "target_lang", "pivot_instruction", "pivot_input", "pivot_output",
            "target_instruction", "target_input", "target_output")  # fmt: skip


def read_pair_frame(path: str | Path) -> pl.DataFrame:
    """A pairs file (Parquet or JSON Lines) with at least the pair columns of a build."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        frame = (
            pl.read_ndjson(path) if path.suffix in (".jsonl", ".json") else pl.read_parquet(path)
        )
    except Exception as exc:  # polars raises several types for unreadable files
        raise InputError(f"{path}: cannot read pairs: {str(exc).splitlines()[0]}") from None
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing pair column(s): {', '.join(missing)}")
    return frame


def write_filtered(
    frame: pl.DataFrame, stats: dict[str, Any], out: str | Path, *, overwrite: bool = False
) -> Path:
    """``pairs.parquet`` (kept), ``rejected.parquet`` and ``stats.json``, all or nothing."""
    run = RunDirectory(out, overwrite=overwrite)
    with run:
        frame.filter(pl.col("kept")).write_parquet(run.path("pairs.parquet"))
        frame.filter(~pl.col("kept")).write_parquet(run.path("rejected.parquet"))
        run.write_json("stats.json", {"filters": stats})
        return run.commit()
