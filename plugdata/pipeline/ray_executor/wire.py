"""What crosses between the Ray driver and its actors.

Each shard travels as one row of an Arrow table: pair frames as Arrow IPC bytes, plain data
(source rows, spend, the filter funnel, the models' description, formatted parts) pickled, and
an error as an :class:`ErrorRecord`, never as a pickled exception.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from plugdata.errors import PlugdataError
from plugdata.translate.pricing import Spend

SPENT = ("prompt_tokens", "completion_tokens", "cost", "requests", "cached")


def frame_bytes(frame: pl.DataFrame) -> bytes:
    return frame.write_ipc(None).getvalue()


def frame_of(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


def one_row(batch: Any) -> dict[str, Any]:
    """The one shard of a batch (batches are Arrow tables: binary columns stay bytes)."""
    (row,) = batch.to_pylist()
    return dict(row)


def table(row: dict[str, Any]) -> Any:
    """One shard as the Arrow table a stage returns."""
    import pyarrow as pa

    return pa.Table.from_pylist([row])


def spent(spend: Spend) -> dict[str, float]:
    """What ``spend`` counts so far (to send the difference a shard made)."""
    return {name: getattr(spend, name) for name in SPENT}


def add_spent(spend: Spend, used: dict[str, float]) -> None:
    """Add what a shard spent elsewhere to ``spend``."""
    for name in SPENT:
        setattr(spend, name, getattr(spend, name) + used[name])


@dataclass(frozen=True)
class ErrorRecord:
    """A :class:`PlugdataError` raised in an actor, as data: the qualified names of its class
    and the classes above it (most specific first), and its message."""

    kinds: tuple[str, ...]
    message: str

    @classmethod
    def of(cls, exc: PlugdataError) -> ErrorRecord:
        lineage = type(exc).__mro__[: type(exc).__mro__.index(PlugdataError) + 1]
        return cls(tuple(map(_qualified, lineage)), str(exc))

    def to_json(self) -> str:
        return json.dumps({"kinds": list(self.kinds), "message": self.message})

    @classmethod
    def from_json(cls, text: str) -> ErrorRecord:
        data = json.loads(text)
        return cls(tuple(data["kinds"]), str(data["message"]))

    def exception(self) -> PlugdataError:
        """The error to raise here: of the same class, or of the nearest class above it that
        is loaded here and takes a message alone (:class:`PlugdataError` at least)."""
        known = {_qualified(c): c for c in _subclasses(PlugdataError)}
        for kind in self.kinds:
            found = known.get(kind)
            if found is not None and found.__init__ is PlugdataError.__init__:
                return found(self.message)
        return PlugdataError(self.message)


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _subclasses(kind: type[PlugdataError]) -> list[type[PlugdataError]]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _subclasses(sub)
    return found
