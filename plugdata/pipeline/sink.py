"""What happens to each chunk of translated pairs: filter, write, format, render, count.

A :class:`ChunkSink` holds one open writer per output file, so every chunk is appended as it
arrives and nothing grows with the corpus but the counts.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from plugdata.filters import PairFilter
from plugdata.formats import MIXED_FORMATS, ChatRenderer, format_rows, token_stats
from plugdata.pipeline.tally import Tally
from plugdata.publish import RunDirectory, ShuffledWriter, TableWriter
from plugdata.schema import (
    FORMAT_SCHEMA,
    PAIR_SCHEMA,
    RENDERED_SCHEMA,
    REQUIRED_PAIR_COLUMNS,
    pair_frame,
)

_BUCKET_ROWS = 20_000  # rows per shuffle bucket of a mixed format
# Pairs filtered at once: the filters have a fixed cost per call (and use both cores only on
# large frames), so small translated chunks are gathered first: 4K pairs a call filter at about
# half the speed of 16K.
FILTER_ROWS = 16_384


Formatted = tuple[str, list[dict[str, Any]], int, list[dict[str, str]] | None]


def format_language(
    rows: list[dict[str, Any]],
    formats: list[str],
    renderer: ChatRenderer | None,
    system_prompt: str | None,
    no_system: bool,
) -> Iterator[Formatted]:
    """One language's kept pairs in every format: (format, rows, rows dropped as too long by
    the chat template, the first PLUG example's messages or None)."""
    for fmt in formats:
        out = format_rows(
            rows, fmt, system_prompt=system_prompt, no_system=no_system, shuffle=False
        )
        dropped = 0
        if renderer is not None:
            out, dropped = renderer.render(out)
        yield fmt, out, dropped, out[0]["messages"] if fmt == "plug" and out else None


class ChunkSink:
    """Filters, writes and formats pair chunks into a run directory being written."""

    def __init__(
        self,
        run: RunDirectory,
        *,
        targets: list[str],
        formats: list[str],
        ext: str,
        pair_filter: PairFilter | None,
        renderer: ChatRenderer | None,
        system_prompt: str | None,
        no_system: bool,
        seed: int,
        expected_pairs: int | None,
        on_rejected: Callable[[str, int], None] | None = None,
    ) -> None:
        self.targets, self.formats = targets, formats
        self.on_rejected = on_rejected  # (language, pairs the filters rejected) per chunk
        self.filter, self.renderer = pair_filter, renderer
        self.system_prompt, self.no_system = system_prompt, no_system
        self.tally = Tally()
        self.funnel: dict[str, Any] | None = None  # the filter funnel, when filtered elsewhere
        self._waiting: list[dict[str, Any]] = []  # pairs gathered for the next filter call
        self.examples: dict[str, list[dict[str, str]]] = {}
        self.counts = {fmt: dict.fromkeys(targets, 0) for fmt in formats}
        self.too_long = {fmt: dict.fromkeys(targets, 0) for fmt in formats}
        self.tokens = {fmt: {t: array("I") for t in targets} for fmt in formats}
        self.pairs = TableWriter(run.path(f"pairs.{ext}"), PAIR_SCHEMA)
        self.rejected = TableWriter(run.path(f"rejected.{ext}"), PAIR_SCHEMA)
        schema = RENDERED_SCHEMA if renderer is not None else FORMAT_SCHEMA
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

    def add(self, pairs: list[dict[str, Any]]) -> None:
        """Filter chunks of pair rows (gathered to :data:`FILTER_ROWS` when filtering) and
        append them to every output, in order."""
        if self.filter is None:
            self._sink(pairs)
            return
        self._waiting += pairs
        if len(self._waiting) >= FILTER_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._waiting:
            pairs, self._waiting = self._waiting, []
            self._sink(pairs)

    def _sink(self, pairs: list[dict[str, Any]]) -> None:
        frame = pair_frame(pairs)
        if self.filter is not None:
            translated = frame["kept"]
            frame = self.filter.apply(frame)
            if self.on_rejected is not None:
                rejected = frame.filter(translated & ~frame["kept"])["target_lang"]
                for lang, n in rejected.value_counts(sort=True).iter_rows():
                    self.on_rejected(str(lang), int(n))
        self.write_pairs(frame)
        kept = frame.filter(pl.col("kept")).select(REQUIRED_PAIR_COLUMNS)
        for (lang,), part in kept.group_by("target_lang", maintain_order=True):
            self._format(str(lang), part.to_dicts())

    def write_pairs(self, frame: pl.DataFrame) -> None:
        """Append filtered pair rows (pairs, rejected pairs, counts)."""
        self.pairs.write(frame)
        self.rejected.write(frame.filter(~pl.col("kept")))
        self.tally.add(frame)

    def write_formatted(
        self,
        fmt: str,
        lang: str,
        out: pl.DataFrame | None,
        dropped: int,
        example: list[dict[str, str]] | None,
    ) -> None:
        """Append one format's rows for one language (made here or elsewhere, e.g. on Ray)."""
        self.too_long[fmt][lang] += dropped
        if example is not None and lang not in self.examples:
            self.examples[lang] = example
        if out is None or out.height == 0:
            return
        if self.renderer is not None:
            self.tokens[fmt][lang].extend(out["num_tokens"].to_list())
        self.writers[fmt, lang].write(out)
        self.counts[fmt][lang] += out.height

    def _format(self, lang: str, rows: list[dict[str, Any]]) -> None:
        for fmt, out, dropped, example in format_language(
            rows, self.formats, self.renderer, self.system_prompt, self.no_system
        ):
            frame = pl.DataFrame(out, schema=self.writers[fmt, lang].schema) if out else None
            self.write_formatted(fmt, lang, frame, dropped, example)

    def filter_stats(self) -> dict[str, Any] | None:
        """The filter funnel (None when the pairs were not filtered)."""
        if self.funnel is not None:
            return self.funnel
        return self.filter.stats() if self.filter is not None else None

    def close(self) -> None:
        """Filter what is gathered, then finish every file (shuffling the mixed formats)."""
        self._flush()
        for writer in (self.pairs, self.rejected, *self.writers.values()):
            writer.close()
        if self.filter is not None:
            self.filter.close()

    def abort(self) -> None:
        """Release files and workers after a failure (what was written is rewritten on resume)."""
        for writer in (self.pairs, self.rejected, *self.writers.values()):
            with contextlib.suppress(Exception):
                writer.close()
        if self.filter is not None:
            with contextlib.suppress(Exception):
                self.filter.close()

    def token_stats(self) -> dict[str, dict[str, Any]]:
        """Rows, mean, p95 and max tokens per format and language (with a chat template)."""
        return {
            fmt: {lang: token_stats(n) for lang, n in per_lang.items()}
            for fmt, per_lang in self.tokens.items()
        }
