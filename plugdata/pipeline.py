"""The ``build`` recipe: source -> translate -> format -> run directory.

This module wires the stages together and owns progress, the run directory and the stats.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from plugdata import __version__
from plugdata.errors import PlugdataError
from plugdata.export import RunDirectory, group_by_lang
from plugdata.formats import DEFAULT_FORMATS, format_names, format_rows
from plugdata.languages import get_language, parse_languages
from plugdata.llm import ResponseFormat
from plugdata.sources import load_source, parse_columns
from plugdata.translate import atranslate_rows, openai_translator

PairCallback = Callable[[dict[str, Any]], None]


@dataclass
class BuildConfig:
    """Everything a build needs; written to ``config.yaml`` (without secrets)."""

    source: str
    targets: str
    model: str
    pivot: str = "en"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    out: str | None = None
    limit: int | None = None
    seed: int | None = None
    columns: str | None = None
    split: str = "train"
    formats: str = ",".join(DEFAULT_FORMATS)
    prompt: str = "translate/v1"
    concurrency: int = 8
    temperature: float = 0.0
    max_tokens: int | None = None
    response_format: ResponseFormat = "auto"
    system_prompt: str | None = None
    no_system: bool = False
    file_format: str = "parquet"
    overwrite: bool = False

    def recipe(self) -> dict[str, Any]:
        """The config as plain data, with the API key left out."""
        data = asdict(self)
        data.pop("api_key")
        return data


@dataclass
class BuildResult:
    """Where the run went and what it counted."""

    out: Path
    stats: dict[str, Any]


def default_out(source: str) -> Path:
    """``corpora/<source>-<timestamp>`` with the source reduced to a safe folder name."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source.removeprefix("hf:")).stem).strip("-")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("corpora") / f"{name or 'run'}-{stamp}"


def build(
    config: BuildConfig,
    on_pair: PairCallback | None = None,
    on_start: Callable[[dict[str, int]], None] | None = None,
) -> BuildResult:
    """Run the whole recipe and return the committed run directory and its stats.

    ``on_start`` gets the number of pairs per target language before translation starts;
    ``on_pair`` gets each pair row as it completes (both drive the command line's progress).
    """
    started = time.monotonic()
    targets = parse_languages(config.targets)
    pivot = get_language(config.pivot)
    if pivot.code in {t.code for t in targets}:
        raise PlugdataError(f"the pivot language {pivot.code!r} cannot also be a target")
    formats = [f.strip() for f in config.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in format_names()]
    if unknown or not formats:
        raise PlugdataError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; "
            f"known formats: {', '.join(format_names())}"
        )
    if config.file_format not in ("parquet", "jsonl"):
        raise PlugdataError("--file-format must be parquet or jsonl")
    if config.concurrency < 1:
        raise PlugdataError("--concurrency must be at least 1")
    columns = parse_columns(config.columns)
    out = Path(config.out) if config.out else default_out(config.source)
    run = RunDirectory(out, overwrite=config.overwrite)
    data = load_source(
        config.source, columns=columns, limit=config.limit, seed=config.seed, split=config.split
    )
    translator = openai_translator(
        config.model, base_url=config.base_url, api_key=config.api_key,
        response_format=config.response_format, prompt=config.prompt,
        temperature=config.temperature, max_tokens=config.max_tokens,
    )  # fmt: skip

    async def translate() -> list[dict[str, Any]]:
        try:
            return await atranslate_rows(
                data.rows,
                targets,
                translator,
                pivot=pivot,
                concurrency=config.concurrency,
                on_pair=on_pair,
            )
        finally:
            await translator.client.close()

    with run:
        if on_start is not None:
            on_start({t.code: len(data.rows) for t in targets})
        pairs = asyncio.run(translate())
        ext = config.file_format
        run.write_pairs(pairs, f"pairs.{ext}")
        by_lang = group_by_lang(pairs)
        format_counts: dict[str, dict[str, int]] = {}
        for fmt in formats:
            format_counts[fmt] = {}
            for target in targets:
                rows = format_rows(
                    by_lang.get(target.code, []),
                    fmt,
                    system_prompt=config.system_prompt,
                    no_system=config.no_system,
                    seed=config.seed or 0,
                )
                run.write_format(fmt, target.code, rows, ext)
                format_counts[fmt][target.code] = len(rows)
        stats = _stats(pairs, data.skipped, format_counts, time.monotonic() - started)
        recipe = {
            "plugdata_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **config.recipe(),
            "base_url": translator.client.base_url,
            "response_format_used": translator.client.response_format,
            "prompt_version": translator.prompt_version,
            "source_info": {"name": data.name, "origin": data.origin, "license": data.license,
                            "rows": len(data.rows)},
        }  # fmt: skip
        run.write_yaml("config.yaml", recipe)
        run.write_json("stats.json", stats)
        return BuildResult(run.commit(), stats)


def _stats(
    pairs: list[dict[str, Any]],
    skipped: dict[str, int],
    format_counts: dict[str, dict[str, int]],
    seconds: float,
) -> dict[str, Any]:
    per_lang: dict[str, dict[str, Any]] = {}
    for lang, rows in group_by_lang(pairs).items():
        reasons = Counter(reason for row in rows for reason in row["reasons"])
        per_lang[lang] = {
            "pairs": len(rows),
            "kept": sum(1 for row in rows if row["kept"]),
            "rejected": sum(1 for row in rows if not row["kept"]),
            "reasons": dict(reasons.most_common()),
            "prompt_tokens": sum(row["prompt_tokens"] for row in rows),
            "completion_tokens": sum(row["completion_tokens"] for row in rows),
            "requests": sum(row["attempts"] for row in rows),
        }
    totals = {
        key: sum(v[key] for v in per_lang.values())
        for key in ("pairs", "kept", "rejected", "prompt_tokens", "completion_tokens", "requests")
    }
    return {
        "source_skipped": skipped,
        "languages": per_lang,
        "totals": totals,
        "formats": format_counts,
        "seconds": round(seconds, 3),
    }
