"""Turning raw records into source rows: column mapping, string checks, stable ids.

Ids are the record's own ``id`` or a hash of its content, so they are the same on every run
and identical for the same example in every language. Repeated content gets ``-2``, ``-3``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from plugdata.errors import InputError
from plugdata.schema import FIELDS

# Column names tried, in order, when no column mapping is given.
ALIASES: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "prompt", "question", "query"),
    "input": ("input", "context"),
    "output": ("output", "response", "answer", "completion"),
}


class Normaliser:
    """Checks records one by one and gives them ids; counts what it skips.

    ``skipped`` counts records with an empty instruction or output. Ids already given are
    remembered as 64-bit hashes, so memory stays small however long the stream.
    """

    def __init__(
        self,
        mapping: Mapping[str, str] | None = None,
        source: str = "",
        *,
        needs_output: bool = True,
    ) -> None:
        self.mapping = dict(mapping or {})
        self.source = source
        # Fields a usable record must fill (records to be answered need no output).
        self.required = ("instruction", "output") if needs_output else ("instruction",)
        self.skipped: Counter[str] = Counter()
        self._ids: set[int] = set()

    def rows(self, records: Iterable[tuple[str, Any]]) -> Iterator[dict[str, str]]:
        """Source rows for located records ``(where, record)``; bad records raise InputError."""
        for where, record in records:
            row = self.row(where, record)
            if row is not None:
                yield row

    def row(self, where: str, record: Any) -> dict[str, str] | None:
        """One source row, or None for a record skipped as empty."""
        if not isinstance(record, Mapping):
            raise InputError(
                f"{where}: expected an object with instruction/input/output, "
                f"found {type(record).__name__}"
            )
        values = {name: self._field(where, record, name) for name in FIELDS}
        empty = [name for name in self.required if not values[name].strip()]
        if empty:
            self.skipped[f"empty_{empty[0]}"] += 1
            return None
        return {"id": self._id(where, record, values), "source": self.source, **values}

    def _field(self, where: str, record: Mapping[str, Any], name: str) -> str:
        column = self._column(name, record)
        if column is None:
            if name not in self.required:
                return ""
            raise InputError(f"{where}: field {name!r} is missing" + self._hint(name, record))
        value = record[column]
        if value is None and name not in self.required:
            return ""
        if not isinstance(value, str):
            label = name if column == name else f"{name} (column {column!r})"
            raise InputError(
                f"{where}: field {label} must be a string, found {type(value).__name__}"
            )
        return value

    def _column(self, name: str, record: Mapping[str, Any]) -> str | None:
        if name in self.mapping:
            column = self.mapping[name]
            return column if column and column in record else None
        return next((alias for alias in ALIASES[name] if alias in record), None)

    def _hint(self, name: str, record: Mapping[str, Any]) -> str:
        if name in self.mapping:
            return (
                f" (the column mapping names {self.mapping[name]!r}; "
                f"columns here: {', '.join(record)})"
            )
        return f" (columns here: {', '.join(record)}; map one with --columns {name}=COLUMN)"

    def _id(self, where: str, record: Mapping[str, Any], values: Mapping[str, str]) -> str:
        own = record.get("id")
        if isinstance(own, (str, int)) and not isinstance(own, bool) and str(own).strip():
            row_id = str(own)
            if not self._claim(row_id):
                raise InputError(f"{where}: id {row_id!r} is used by an earlier record too")
            return row_id
        digest = hashlib.sha256("\x1f".join(values[n] for n in FIELDS).encode()).hexdigest()[:16]
        row_id, n = digest, 1
        while not self._claim(row_id):
            n += 1
            row_id = f"{digest}-{n}"
        return row_id

    def _claim(self, row_id: str) -> bool:
        key = int.from_bytes(hashlib.blake2b(row_id.encode(), digest_size=8).digest(), "big")
        if key in self._ids:
            return False
        self._ids.add(key)
        return True


def as_records(data: Any, *, source: str = "", needs_output: bool = True) -> list[dict[str, str]]:
    """Source rows from plain data: dicts with ``instruction`` and ``output`` (``input`` and
    ``id`` optional), a ``datasets.Dataset`` or a polars DataFrame.

    Rows that already are source rows keep their ids; others get them the way a build does.
    A bad record raises :class:`~plugdata.errors.InputError` naming the row and field.
    ``needs_output=False`` accepts records without an output (instructions to be answered).
    """
    if isinstance(data, Mapping):
        raise InputError(
            "records must be a list of dicts, a datasets.Dataset or a DataFrame, not one dict"
        )
    if hasattr(data, "iter_rows"):  # polars
        items: Iterable[Any] = data.iter_rows(named=True)
    elif hasattr(data, "features") and hasattr(data, "to_list"):  # datasets.Dataset
        items = iter(data)
    else:
        items = data
    normaliser = Normaliser(source=source, needs_output=needs_output)
    out = []
    for i, record in enumerate(items):
        row = normaliser.row(f"record {i}", record)
        if row is None:
            empty = next(iter(normaliser.skipped)).removeprefix("empty_")
            raise InputError(f"record {i}: field {empty!r} is empty")
        if isinstance(record, Mapping) and record.get("source"):
            row["source"] = str(record["source"])
        out.append(row)
    return out
