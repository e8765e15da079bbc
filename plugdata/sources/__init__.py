"""Sources: named Hub datasets, any Hub dataset and local files, read as chunks of source rows.

A source row is ``{id, source, instruction, input, output}`` with string values (see
:mod:`plugdata.schema`). :func:`open_source` streams them in chunks, so a build's memory does
not grow with the corpus; :func:`load_source` reads them all, for library use.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from plugdata.errors import InputError, PlugdataError
from plugdata.resources import resource_dir
from plugdata.sources.files import LOCAL_SUFFIXES, Located, open_hub, open_records, read_records
from plugdata.sources.named import NAMED_SOURCES, NamedSource
from plugdata.sources.records import ALIASES, Normaliser, as_records

__all__ = [
    "ALIASES",
    "LOCAL_SUFFIXES",
    "NAMED_SOURCES",
    "NamedSource",
    "Source",
    "SourceData",
    "as_records",
    "load_source",
    "open_source",
    "read_records",
]


@dataclass
class SourceData:
    """Every row of a source, with what the run directory and dataset card need to know."""

    name: str
    rows: list[dict[str, str]]
    license: str = "unknown"
    origin: str = ""
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class Source:
    """A source being read: its description, and its rows as a stream of chunks.

    ``total`` is how many rows the stream will give where that is known before reading
    (a progress total: records skipped as empty are counted in ``skipped`` as they go by).
    """

    name: str
    license: str
    origin: str
    total: int | None
    _rows: Iterator[dict[str, str]]
    _normaliser: Normaliser

    @property
    def skipped(self) -> dict[str, int]:
        """Records skipped so far, by reason (``empty_instruction``, ``empty_output``)."""
        return dict(self._normaliser.skipped)

    def chunks(self, size: int = 1024) -> Iterator[list[dict[str, str]]]:
        """The rows, ``size`` at a time."""
        chunk: list[dict[str, str]] = []
        for row in self._rows:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def open_source(
    spec: str,
    *,
    columns: Mapping[str, str] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    split: str = "train",
) -> Source:
    """Open a source for streaming.

    ``spec`` is a named source (``alpaca``, ``gpt4-alpaca``, ``alpaca-cleaned``, ``dolly``,
    ``seed``), ``hf:OWNER/NAME`` for any Hub dataset, a local ``.json``/``.jsonl``/
    ``.parquet``/``.csv`` file, or a local folder laid out like a Hub dataset. ``limit`` keeps
    that many rows: the first ones, or with ``seed`` a random sample of them in random order
    (chosen in one pass, holding only ``limit`` rows). Without ``limit``, rows keep the
    source's order.
    """
    if limit is not None and limit < 1:
        raise InputError("limit: must be at least 1")
    name, license_id, origin, located, total, mapping = _locate(spec, dict(columns or {}), split)
    normaliser = Normaliser(mapping, name)
    rows = normaliser.rows(located)
    if limit is not None:
        rows = _sample(rows, limit, seed) if seed is not None else _first(rows, limit)
        total = min(total, limit) if total is not None else limit
    return Source(name, license_id, origin, total, _non_empty(rows, spec), normaliser)


def load_source(
    spec: str,
    *,
    columns: Mapping[str, str] | None = None,
    limit: int | None = None,
    seed: int | None = None,
    split: str = "train",
) -> SourceData:
    """Read a whole source into rows (see :func:`open_source` for ``spec`` and options)."""
    source = open_source(spec, columns=columns, limit=limit, seed=seed, split=split)
    rows = [row for chunk in source.chunks() for row in chunk]
    return SourceData(source.name, rows, source.license, source.origin, source.skipped)


def _locate(
    spec: str, columns: dict[str, str], split: str
) -> tuple[str, str, str, Iterator[Located], int | None, dict[str, str]]:
    """Name, licence, origin, located records, total and column mapping of a source."""
    if spec in NAMED_SOURCES:
        named = NAMED_SOURCES[spec]
        mapping = {**named.columns, **columns}
        if named.hub_id is None:
            located, total = open_records(resource_dir("corpora/seed") / "seed.jsonl")
            return spec, named.license, "plugdata seed corpus", located, total, mapping
        located, total = open_hub(named.hub_id, split)
        return spec, named.license, named.hub_id, located, total, mapping
    if spec.startswith("hf:"):
        hub_id = spec[3:]
        if not hub_id:
            raise InputError("source: hf: needs a dataset id, e.g. hf:tatsu-lab/alpaca")
        located, total = open_hub(hub_id, split)
        return spec, "unknown", hub_id, located, total, columns
    path = Path(spec).expanduser()
    if path.is_dir():
        located, total = open_hub(str(path), split)
    elif path.is_file():
        located, total = open_records(path)
    else:
        known = ", ".join(NAMED_SOURCES)
        raise PlugdataError(
            f"unknown source {spec!r}: not a named source ({known}), not hf:OWNER/NAME, "
            "and no such file or folder"
        )
    return path.name, "unknown", str(path), located, total, columns


def _non_empty(rows: Iterator[dict[str, str]], spec: str) -> Iterator[dict[str, str]]:
    found = False
    for row in rows:
        found = True
        yield row
    if not found:
        raise InputError(f"source {spec!r} has no usable records")


def _first(rows: Iterator[dict[str, str]], limit: int) -> Iterator[dict[str, str]]:
    for i, row in enumerate(rows):
        if i >= limit:
            return
        yield row


def _sample(rows: Iterator[dict[str, str]], limit: int, seed: int) -> Iterator[dict[str, str]]:
    """The ``limit`` rows with the smallest seeded hash of their id, in that (random) order."""

    def rank(row: dict[str, str]) -> bytes:
        return hashlib.blake2b(f"{seed}\x1f{row['id']}".encode(), digest_size=8).digest()

    kept: list[tuple[bytes, int, dict[str, str]]] = []
    for i, row in enumerate(rows):
        entry = (_neg(rank(row)), i, row)
        if len(kept) < limit:
            heapq.heappush(kept, entry)
        elif entry > kept[0]:
            heapq.heapreplace(kept, entry)
    for _, _, row in sorted(kept, reverse=True):
        yield row


def _neg(digest: bytes) -> bytes:
    """Invert a digest so a min-heap keeps the smallest originals."""
    return bytes(255 - b for b in digest)
