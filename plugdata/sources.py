"""Sources: named Hub datasets, any Hub dataset and local files, read into source rows.

A source row is ``{id, source, instruction, input, output}`` with string values. Ids are a
hash of the content (or the record's own ``id``), so they are the same on every run and
identical for the same example in every language.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugdata.errors import InputError, PlugdataError
from plugdata.resources import resource_dir

FIELDS = ("instruction", "input", "output")
# Column names tried, in order, when no --columns mapping is given.
ALIASES: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "prompt", "question", "query"),
    "input": ("input", "context"),
    "output": ("output", "response", "answer", "completion"),
}
LOCAL_SUFFIXES = (".json", ".jsonl", ".parquet", ".csv")


@dataclass(frozen=True)
class NamedSource:
    """A dataset known by a short name."""

    name: str
    hub_id: str | None
    license: str
    description: str
    columns: Mapping[str, str] = field(default_factory=dict)


NAMED_SOURCES: dict[str, NamedSource] = {
    s.name: s
    for s in (
        NamedSource("alpaca", "tatsu-lab/alpaca", "cc-by-nc-4.0",
                    "Stanford Alpaca, 52K instructions with text-davinci-003 answers"),
        NamedSource("gpt4-alpaca", "vicgalle/alpaca-gpt4", "cc-by-nc-4.0",
                    "Alpaca instructions with GPT-4 answers (the PLUG paper's source)"),
        NamedSource("alpaca-cleaned", "yahma/alpaca-cleaned", "cc-by-4.0",
                    "Alpaca with known errors cleaned"),
        NamedSource("dolly", "databricks/databricks-dolly-15k", "cc-by-sa-3.0",
                    "Dolly 15K, human-written (context -> input, response -> output)",
                    {"instruction": "instruction", "input": "context", "output": "response"}),
        NamedSource("seed", None, "apache-2.0",
                    "plugdata's bundled seed corpus: records that break naive pipelines"),
    )
}  # fmt: skip


@dataclass
class SourceData:
    """Rows read from a source, with what the run directory and dataset card need to know."""

    name: str
    rows: list[dict[str, str]]
    license: str = "unknown"
    origin: str = ""
    skipped: dict[str, int] = field(default_factory=dict)


def parse_columns(spec: str | None) -> dict[str, str]:
    """Parse ``"instruction=question,input=context,output=answer"`` into a mapping."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in FIELDS:
            raise PlugdataError(
                f"bad --columns entry {part!r}: expected FIELD=COLUMN with FIELD one of "
                + ", ".join(FIELDS)
            )
        mapping[key] = value
    return mapping


def load_source(
    spec: str,
    *,
    columns: Mapping[str, str] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    split: str = "train",
) -> SourceData:
    """Read a source into rows.

    ``spec`` is a named source (``alpaca``, ``gpt4-alpaca``, ``alpaca-cleaned``, ``dolly``,
    ``seed``), ``hf:OWNER/NAME`` for any Hub dataset, a local ``.json``/``.jsonl``/
    ``.parquet``/``.csv`` file, or a local folder laid out like a Hub dataset. ``seed``
    shuffles before ``limit`` is applied.
    """
    columns = dict(columns or {})
    if spec in NAMED_SOURCES:
        named = NAMED_SOURCES[spec]
        mapping = {**named.columns, **columns}
        if named.hub_id is None:
            path = resource_dir("corpora/seed") / "seed.jsonl"
            records = _read_local(path)
            origin = "plugdata seed corpus"
        else:
            records = _read_hub(named.hub_id, split)
            origin = named.hub_id
        data = SourceData(spec, [], named.license, origin)
    elif spec.startswith("hf:"):
        hub_id = spec[3:]
        if not hub_id:
            raise PlugdataError("--source hf: needs a dataset id, e.g. hf:tatsu-lab/alpaca")
        records, mapping = _read_hub(hub_id, split), columns
        data = SourceData(spec, [], "unknown", hub_id)
    else:
        path = Path(spec).expanduser()
        if path.is_dir():
            records, mapping = _read_hub(str(path), split), columns
        elif path.is_file():
            records, mapping = _read_local(path), columns
        else:
            known = ", ".join(NAMED_SOURCES)
            raise PlugdataError(
                f"unknown source {spec!r}: not a named source ({known}), not hf:OWNER/NAME, "
                "and no such file or folder"
            )
        data = SourceData(path.name, [], "unknown", str(path))
    data.rows, data.skipped = _normalise(records, mapping, data.name)
    if not data.rows:
        raise InputError(f"source {spec!r} has no usable records")
    if seed is not None:
        random.Random(seed).shuffle(data.rows)
    if limit is not None:
        if limit < 1:
            raise PlugdataError("--limit must be at least 1")
        data.rows = data.rows[:limit]
    return data


def read_records(path: str | Path) -> list[Any]:
    """The records of a local ``.json``/``.jsonl``/``.parquet``/``.csv`` file, as dicts."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return [record for _, record in _read_local(path)]


Located = tuple[str, Any]  # (where, record): where reads like "data.jsonl line 7"


def _read_local(path: Path) -> list[Located]:
    suffix = path.suffix.lower()
    if suffix not in LOCAL_SUFFIXES:
        raise InputError(
            f"{path}: unsupported file type {suffix!r}; use {', '.join(LOCAL_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if suffix in (".json", ".jsonl"):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        records = list(_json_array(text, path) if suffix == ".json" else _json_lines(text, path))
    else:
        import polars as pl

        try:
            frame = (
                pl.read_parquet(path)
                if suffix == ".parquet"
                else pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
            )
        except Exception as exc:  # polars raises several types for unreadable files
            raise InputError(f"{path}: cannot read {suffix[1:]} file: {exc}") from None
        records = [(f"{path} row {i + 1}", rec) for i, rec in enumerate(frame.to_dicts())]
    if not records:
        raise InputError(f"{path}: no records")
    return records


def _json_lines(text: str, path: Path) -> Iterator[Located]:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"{path} line {lineno}", json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path} line {lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
            ) from None


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


def _read_hub(path: str, split: str) -> list[Located]:
    """Load a Hub dataset (or a local folder laid out like one) with ``datasets``."""
    import datasets

    try:
        ds = datasets.load_dataset(path, split=split)
    except Exception as exc:  # datasets wraps network, auth and layout errors in many types
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlugdataError(f"cannot load dataset {path!r} (split {split!r}): {detail}") from None
    return [(f"{path} row {i + 1}", rec) for i, rec in enumerate(ds)]


def _normalise(
    records: Iterable[Located], mapping: Mapping[str, str], source: str
) -> tuple[list[dict[str, str]], dict[str, int]]:
    rows: list[dict[str, str]] = []
    skipped: dict[str, int] = {}
    ids: dict[str, str] = {}
    occurrences: dict[str, int] = {}
    resolve: Callable[[str, Mapping[str, Any]], str | None] = _column_resolver(mapping)
    for where, record in records:
        if not isinstance(record, dict):
            raise InputError(
                f"{where}: expected an object with instruction/input/output, "
                f"found {type(record).__name__}"
            )
        values: dict[str, str] = {}
        for name in FIELDS:
            column = resolve(name, record)
            if column is None:
                if name == "input":
                    values[name] = ""
                    continue
                raise InputError(
                    f"{where}: field {name!r} is missing" + _hint(name, mapping, record)
                )
            value = record[column]
            if value is None and name == "input":
                value = ""
            if not isinstance(value, str):
                label = name if column == name else f"{name} (column {column!r})"
                raise InputError(
                    f"{where}: field {label} must be a string, found {type(value).__name__}"
                )
            values[name] = value
        empty = [name for name in ("instruction", "output") if not values[name].strip()]
        if empty:
            reason = f"empty_{empty[0]}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        row_id = _row_id(record, values, occurrences)
        if row_id in ids:
            raise InputError(f"{where}: id {row_id!r} was already used at {ids[row_id]}")
        ids[row_id] = where
        rows.append({"id": row_id, "source": source, **values})
    return rows, skipped


def _column_resolver(mapping: Mapping[str, str]) -> Callable[[str, Mapping[str, Any]], str | None]:
    def resolve(name: str, record: Mapping[str, Any]) -> str | None:
        if name in mapping:
            column = mapping[name]
            return column if column and column in record else None
        return next((alias for alias in ALIASES[name] if alias in record), None)

    return resolve


def _hint(name: str, mapping: Mapping[str, str], record: Mapping[str, Any]) -> str:
    if name in mapping:
        return f" (--columns maps it to {mapping[name]!r}; columns here: {', '.join(record)})"
    return f" (columns here: {', '.join(record)}; map one with --columns {name}=COLUMN)"


def _row_id(record: Mapping[str, Any], values: Mapping[str, str], seen: dict[str, int]) -> str:
    """The record's own ``id`` if it has one, else a content hash (repeats get ``-2``, ``-3``)."""
    own = record.get("id")
    if isinstance(own, (str, int)) and not isinstance(own, bool) and str(own).strip():
        return str(own)
    digest = hashlib.sha256(
        "\x1f".join(values[name] for name in FIELDS).encode("utf-8")
    ).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def as_rows(data: Any) -> list[dict[str, Any]]:
    """Accept a ``datasets.Dataset``, a polars DataFrame or an iterable of dicts as rows."""
    if hasattr(data, "to_dicts"):  # polars
        return data.to_dicts()
    if hasattr(data, "to_list") and hasattr(data, "features"):  # datasets.Dataset
        return data.to_list()
    return [dict(row) for row in data]
