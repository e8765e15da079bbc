"""Library calls over plain rows: translate (or answer) every record, in one call."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from plugdata.errors import PlugdataError
from plugdata.languages import Language, get_language, parse_languages
from plugdata.sources import as_records
from plugdata.translate.base import Translator
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.runner import Generate, PairCallback, Runner

T = TypeVar("T")


async def atranslate_rows(
    rows: Any,
    targets: Sequence[str | Language] | str,
    translator: Translator,
    *,
    pivot: str | Language = "en",
    concurrency: int = 8,
    on_pair: PairCallback | None = None,
    generator: LLMGenerator | None = None,
    generate: Generate | None = None,
) -> list[dict[str, Any]]:
    """Translate every row into every target language; pair rows grouped by target.

    ``rows`` are dicts with ``instruction`` and ``output`` (``input`` and ``id`` optional), a
    ``datasets.Dataset`` or a polars DataFrame; ids are made as a build makes them. A
    :class:`~plugdata.errors.ServerError` stops the whole run.
    """
    source = as_records(rows)
    pivot_lang = pivot if isinstance(pivot, Language) else get_language(pivot)
    runner = Runner(translator, generator, generate, concurrency)
    return await runner.run(source, parse_languages(targets), pivot_lang, on_pair)


def translate_rows(
    rows: Any,
    targets: Sequence[str | Language] | str,
    translator: Translator,
    **options: Any,
) -> list[dict[str, Any]]:
    """Blocking form of :func:`atranslate_rows` for scripts (in Jupyter, await that instead)."""

    async def run() -> list[dict[str, Any]]:
        try:
            return await atranslate_rows(rows, targets, translator, **options)
        finally:
            await translator.close()
            generator = options.get("generator")
            if generator is not None:
                await generator.close()

    return _blocking(run(), "translate_rows", "atranslate_rows")


async def agenerate_responses(
    rows: Any,
    generator: LLMGenerator,
    *,
    lang: str | Language = "en",
    concurrency: int = 8,
) -> list[dict[str, Any]]:
    """Answer every row's instruction in ``lang``: rows with ``output`` replaced (or rejected).

    Each returned row gains ``kept`` and ``reasons``, like pair rows.
    """
    language = lang if isinstance(lang, Language) else get_language(lang)
    source = as_records(rows, needs_output=False)
    out: list[dict[str, Any] | None] = [None] * len(source)
    jobs = iter(range(len(source)))

    async def worker() -> None:
        for index in jobs:
            row = source[index]
            result = await generator.generate(row["instruction"], row["input"], language)
            ok = result.fields is not None
            out[index] = {
                **row,
                "output": result.fields["output"] if result.fields else None,
                "kept": ok,
                "reasons": [] if ok else [result.reason or "failed"],
            }

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return [row for row in out if row is not None]


def generate_responses(rows: Any, generator: LLMGenerator, **options: Any) -> list[dict[str, Any]]:
    """Blocking form of :func:`agenerate_responses`."""

    async def run() -> list[dict[str, Any]]:
        try:
            return await agenerate_responses(rows, generator, **options)
        finally:
            await generator.close()

    return _blocking(run(), "generate_responses", "agenerate_responses")


def _blocking(coro: Coroutine[Any, Any, T], name: str, async_name: str) -> T:
    """Run ``coro`` to completion, or explain what to do inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise PlugdataError(
        f"{name}() cannot run inside a running event loop (Jupyter, asyncio code): "
        f"use `await {async_name}(...)` instead"
    )
