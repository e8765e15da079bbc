"""Where every chunk of a build lands: pairs, rejected pairs and each format, with counts.

A :class:`ChunkSink` holds one open writer per output file, so every chunk is appended as it
arrives and nothing grows with the corpus but the counts. It writes what the stages made
(:mod:`plugdata.pipeline.stages`), wherever they ran.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl

from plugdata.formats import MIXED_FORMATS, token_stats
from plugdata.pipeline.tally import Tally
from plugdata.publish import RunDirectory, ShuffledWriter, TableWriter
from plugdata.schema import FORMAT_SCHEMA, PAIR_SCHEMA, RENDERED_SCHEMA

_BUCKET_ROWS = 20_000  # rows per shuffle bucket of a mixed format


@dataclass(frozen=True)
class Formatted:
    """One format of one language's kept pairs from a chunk."""

    format: str
    language: str
    rows: pl.DataFrame | None  # None when no row was made
    dropped: int  # rows the chat template dropped as too long
    example: list[dict[str, str]] | None  # the first PLUG example's messages


class ChunkSink:
    """Writes filtered pair chunks and their formats into a run directory being written."""

    def __init__(
        self,
        run: RunDirectory,
        *,
        targets: list[str],
        formats: list[str],
        ext: str,
        rendered: bool,
        seed: int,
        expected_pairs: int | None,
    ) -> None:
        self.targets, self.formats, self.rendered = targets, formats, rendered
        self.tally = Tally()
        self.examples: dict[str, list[dict[str, str]]] = {}
        self.counts = {fmt: dict.fromkeys(targets, 0) for fmt in formats}
        self.too_long = {fmt: dict.fromkeys(targets, 0) for fmt in formats}
        self.tokens = {fmt: {t: array("I") for t in targets} for fmt in formats}
        self.pairs = TableWriter(run.path(f"pairs.{ext}"), PAIR_SCHEMA)
        self.rejected = TableWriter(run.path(f"rejected.{ext}"), PAIR_SCHEMA)
        schema = RENDERED_SCHEMA if rendered else FORMAT_SCHEMA
        per_lang = (expected_pairs or 0) // max(1, len(targets))
        self.writers: dict[tuple[str, str], TableWriter | ShuffledWriter] = {}
        for fmt in formats:
            for lang in targets:
                path = run.path(f"{fmt}/{lang}.{ext}")
                if fmt in MIXED_FORMATS:
                    buckets = 1 + 2 * per_lang // _BUCKET_ROWS
                    self.writers[fmt, lang] = ShuffledWriter(path, schema, seed, buckets)
                else:
                    self.writers[fmt, lang] = TableWriter(path, schema)

    def write(self, frame: pl.DataFrame, parts: Iterable[Formatted]) -> None:
        """Append a filtered chunk of pair rows and its formats, in order."""
        self.write_pairs(frame)
        for part in parts:
            self.write_formatted(part)

    def write_pairs(self, frame: pl.DataFrame) -> None:
        """Append filtered pair rows (pairs, rejected pairs, counts)."""
        self.pairs.write(frame)
        self.rejected.write(frame.filter(~pl.col("kept")))
        self.tally.add(frame)

    def write_formatted(self, part: Formatted) -> None:
        """Append one format's rows for one language."""
        fmt, lang = part.format, part.language
        self.too_long[fmt][lang] += part.dropped
        if part.example is not None and lang not in self.examples:
            self.examples[lang] = part.example
        out = part.rows
        if out is None or out.height == 0:
            return
        if self.rendered:
            self.tokens[fmt][lang].extend(out["num_tokens"].to_list())
        self.writers[fmt, lang].write(out)
        self.counts[fmt][lang] += out.height

    def close(self) -> None:
        """Finish every file (shuffling the mixed formats)."""
        for writer in (self.pairs, self.rejected, *self.writers.values()):
            writer.close()

    def abort(self) -> None:
        """Release the files after a failure (what was written is rewritten on resume)."""
        for writer in (self.pairs, self.rejected, *self.writers.values()):
            with contextlib.suppress(Exception):
                writer.close()

    def token_stats(self) -> dict[str, dict[str, Any]]:
        """Rows, mean, p95 and max tokens per format and language (with a chat template)."""
        return {
            fmt: {lang: token_stats(n) for lang, n in per_lang.items()}
            for fmt, per_lang in self.tokens.items()
        }
