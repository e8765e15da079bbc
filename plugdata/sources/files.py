"""Reading local files and Hub datasets as a stream of located records.

A located record is ``(where, record)``, where ``where`` reads like ``data.jsonl line 7`` so
that every error can name the file and line. JSON Lines, Parquet and Hub datasets are read
as they are consumed, so memory does not grow with the file.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from plugdata.errors import InputError, PlugdataError, first_line

LOCAL_SUFFIXES = (".json", ".jsonl", ".parquet", ".csv")
Located = tuple[str, Any]  # (where, record)


def open_records(path: Path) -> tuple[Iterator[Located], int | None]:
    """Located records of a local file, and how many there are (None when unknown).

    The file's type and basic shape are checked at once; records are parsed as they are read.
    """
    suffix = path.suffix.lower()
    if suffix not in LOCAL_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {suffix!r}; use {', '.join(LOCAL_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if suffix == ".jsonl":
        return _json_lines(path), _count_lines(path)
    if suffix == ".parquet":
        return _parquet(path)
    records = list(_json_array(_text(path), path)) if suffix == ".json" else _csv(path)
    if not records:
        raise InputError(f"{path}: no records")
    return iter(records), len(records)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _count_lines(path: Path) -> int:
    """Non-blank lines, counted in binary blocks (a progress total, not a promise)."""
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            count += bool(line.strip())
    return count


def _csv(path: Path) -> list[Located]:
    import polars as pl

    try:
        frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
    except Exception as exc:  # polars raises several types for unreadable files
        raise InputError(f"{path}: cannot read csv file: {exc}") from None
    return [(f"{path} row {i + 1}", rec) for i, rec in enumerate(frame.iter_rows(named=True))]


def _parquet(path: Path) -> tuple[Iterator[Located], int]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise InputError(f"{path}: cannot read parquet file: {exc}") from None
    total = handle.metadata.num_rows
    if total == 0:
        raise InputError(f"{path}: no records")

    def rows() -> Iterator[Located]:
        n = 0
        for batch in handle.iter_batches(batch_size=2048):
            for record in batch.to_pylist():
                n += 1
                yield f"{path} row {n}", record

    return rows(), total


def _json_lines(path: Path) -> Iterator[Located]:
    found = False
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path} line {lineno}: not UTF-8 text ({exc.reason} at byte {exc.start})"
                ) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path} line {lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
                ) from None
            found = True
            yield f"{path} line {lineno}", record
    if not found:
        raise InputError(f"{path}: no records")


def _json_array(text: str, path: Path) -> Iterator[Located]:
    """Yield the elements of a top-level JSON array with the line each starts on."""
    decoder = json.JSONDecoder()

    def fail(exc: json.JSONDecodeError) -> InputError:
        hint = ""
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            hint = " (this looks like JSON Lines: name the file .jsonl)"
        return InputError(
            f"{path} line {exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno}){hint}"
        )

    pos, lineno, n = _skip_ws(text, 0), 1, len(text)
    if pos >= n or text[pos] != "[":
        try:  # report what the top level is, or where parsing fails
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(exc) from None
        raise InputError(f"{path}: expected a JSON array of records, found {type(value).__name__}")
    pos = _skip_ws(text, pos + 1)
    seen_to = 0
    while pos < n and text[pos] != "]":
        lineno += text.count("\n", seen_to, pos)
        seen_to = pos
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise fail(exc) from None
        yield f"{path} line {lineno}", value
        pos = _skip_ws(text, end)
        if pos < n and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
        elif pos < n and text[pos] != "]":
            line = text.count("\n", 0, pos) + 1
            raise InputError(
                f"{path} line {line}: invalid JSON: expected ',' or ']' between records"
            )
    if pos >= n:
        raise InputError(f"{path}: invalid JSON: the array is never closed")


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def open_hub(path: str, split: str) -> tuple[Iterator[Located], int]:
    """A Hub dataset (or a local folder laid out like one), read with ``datasets``.

    The table is memory-mapped Arrow: rows are read in batches as they are consumed.
    """
    import datasets

    offline = not Path(path).exists() and not _hub_reachable(path)
    try:
        with _offline(offline):  # unreachable Hub: the local cache at once, not 25 s of retries
            ds = datasets.load_dataset(path, split=split)
    except Exception as exc:  # datasets wraps network, auth and layout errors in many types
        where = (
            " (the Hugging Face Hub cannot be reached, and it is not in the local cache)"
            if offline
            else ""
        )
        raise PlugdataError(
            f"cannot load dataset {path!r} (split {split!r}){where}: {first_line(exc)}"
        ) from None

    def rows() -> Iterator[Located]:
        n = 0
        for batch in ds.iter(batch_size=2048):
            names = list(batch)
            for values in zip(*(batch[name] for name in names), strict=True):
                n += 1
                yield f"{path} row {n}", dict(zip(names, values, strict=True))

    return rows(), len(ds)


def _hub_reachable(repo_id: str) -> bool:
    """False when the Hub cannot be reached at all (offline mode, no network); True otherwise
    (an HTTP answer, even an error, means datasets will say something precise)."""
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    if hub.HF_HUB_OFFLINE:
        return False
    try:
        HfApi().dataset_info(repo_id, timeout=10)
    except Exception as exc:  # httpx transport errors are not OSError
        return getattr(exc, "response", None) is not None
    return True


@contextlib.contextmanager
def _offline(on: bool) -> Iterator[None]:
    """Make datasets and huggingface_hub use only the local cache while ``on``."""
    if not on:
        yield
        return
    import datasets.config as ds_config
    from huggingface_hub import constants as hub

    saved = (ds_config.HF_HUB_OFFLINE, hub.HF_HUB_OFFLINE)
    ds_config.HF_HUB_OFFLINE = hub.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        ds_config.HF_HUB_OFFLINE, hub.HF_HUB_OFFLINE = saved


def read_records(path: str | Path) -> list[Any]:
    """The records of a local ``.json``/``.jsonl``/``.parquet``/``.csv`` file, as dicts."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    records, _ = open_records(path)
    return [record for _, record in records]
