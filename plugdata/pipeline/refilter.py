"""``plugdata filter``: the quality filters over any pairs file, written all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from plugdata.errors import InputError
from plugdata.filters import CHECKS
from plugdata.publish import RunDirectory
from plugdata.schema import REQUIRED_PAIR_COLUMNS


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
        raise InputError(
            _bad_line(path) or f"{path}: cannot read pairs: {str(exc).splitlines()[0]}"
        ) from None
    missing = [c for c in REQUIRED_PAIR_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing pair column(s): {', '.join(missing)}")
    return frame


def judged_again(frame: pl.DataFrame) -> pl.DataFrame:
    """The pairs with the filters' earlier verdicts undone, so this run's checks judge them
    afresh: a pair rejected only by filters (``script:low_share``, ...) is kept until checked
    again, with its old tags and language scores dropped. Pairs whose translation failed
    (a reason such as ``rate_limited``) stay rejected."""
    if "kept" not in frame.columns or "reasons" not in frame.columns:
        return frame
    check = pl.element().str.split(":").list.first()
    by_filter = pl.element().str.contains(":", literal=True) & check.is_in(list(CHECKS))
    reasons = pl.col("reasons").cast(pl.List(pl.String))  # (all-empty lists read as nulls)
    upstream = reasons.list.eval(pl.element().filter(~by_filter))
    frame = frame.with_columns(upstream.fill_null([]).alias("reasons"))
    translated = pl.col("target_output").is_not_null()
    frame = frame.with_columns(((pl.col("reasons").list.len() == 0) & translated).alias("kept"))
    stale = [c for c in frame.columns if c == "tags" or c.startswith("lid_")]
    return frame.drop(stale)


def _bad_line(path: Path) -> str | None:
    """The first line of a JSON Lines file that does not parse, as an error message."""
    if path.suffix not in (".jsonl", ".json"):
        return None
    with path.open(encoding="utf-8", errors="replace") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                return f"{path} line {lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
    return None


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
