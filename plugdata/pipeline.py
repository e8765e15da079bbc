"""The ``build`` recipe: source -> translate (and generate) -> format -> run directory.

This module wires the stages together and owns progress, the run directory, the request
cache and the stats.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from plugdata import __version__
from plugdata.cache import RequestCache
from plugdata.card import CHART_NAME, render_card, write_chart
from plugdata.engine import Engine, Generate, PairCallback
from plugdata.errors import PlugdataError
from plugdata.export import CACHE_NAME, RunDirectory, group_by_lang
from plugdata.filters import FilterConfig, filter_pairs, parse_filters
from plugdata.formats import DEFAULT_FORMATS, format_names, format_rows
from plugdata.generate import LLMGenerator
from plugdata.hub import push_run
from plugdata.languages import Language, get_language, parse_languages
from plugdata.llm import ChatClient, ResponseFormat, RetryPolicy
from plugdata.pricing import BudgetExceeded, Spend, estimate_tokens, price_for
from plugdata.protect import mask, needs_translation
from plugdata.sources import FIELDS, SourceData, load_source, parse_columns
from plugdata.templates import ChatRenderer, load_tokenizer, token_stats
from plugdata.translate import LLMTranslator

# Fields that decide which requests a build sends: a staging folder is resumed only by a
# build that agrees on all of them.
_IDENTITY = ("source", "targets", "model", "pivot", "limit", "seed", "columns", "split",
             "prompt", "temperature", "max_output_tokens", "generate", "generator_model")  # fmt: skip
# Rough output/input token ratios of a translation, by script (for dry runs).
_EXPANSION = {"Latn": 1.2, "Hans": 1.1, "Jpan": 1.2, "Hang": 1.3, "Cyrl": 1.4, "Arab": 1.4,
              "Deva": 2.0, "Thai": 1.8}  # fmt: skip


class Interrupted(PlugdataError):
    """Ctrl-C: completed requests are kept; the same command resumes."""


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
    concurrency: int = 16
    temperature: float = 0.0
    max_output_tokens: int | None = None
    response_format: ResponseFormat = "auto"
    system_prompt: str | None = None
    no_system: bool = False
    file_format: str = "parquet"
    overwrite: bool = False
    rpm: float | None = None
    tpm: float | None = None
    max_attempts: int = 6
    timeout: float = 120.0
    retry_initial: float = 1.0
    retry_max: float = 60.0
    max_cost: float | None = None
    price_in: float | None = None
    price_out: float | None = None
    generate: Generate | None = None
    generator_model: str | None = None
    generator_temperature: float = 0.7
    filters: str | None = None  # None: every check; "" or no_filter: none
    no_filter: bool = False
    lid_backend: str = "fasttext"
    thresholds: str | None = None
    chat_template: str | None = None
    max_tokens: int | None = None
    push_to_hub: str | None = None
    private: bool = False

    def recipe(self) -> dict[str, Any]:
        """The config as plain data, with the API key left out."""
        data = asdict(self)
        data.pop("api_key")
        return data

    def identity(self) -> str:
        """A hash of the fields that decide what is sent (for finding a run to resume)."""
        data = {key: getattr(self, key) for key in _IDENTITY}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class BuildResult:
    """Where the run went and what it counted."""

    out: Path
    stats: dict[str, Any]


@dataclass
class Plan:
    """A checked config: languages, formats, the destination and the chat renderer."""

    config: BuildConfig
    pivot: Language
    targets: list[Language]
    formats: list[str]
    out: Path
    renderer: ChatRenderer | None = None
    filters: list[str] = field(default_factory=list)
    filter_config: FilterConfig | None = None


def plan(config: BuildConfig) -> Plan:
    """Check every option before anything is read or sent."""
    targets = parse_languages(config.targets)
    pivot = get_language(config.pivot)
    if pivot.code in {t.code for t in targets}:
        raise PlugdataError(f"the pivot language {pivot.code!r} cannot also be a target")
    formats = [f.strip() for f in config.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in format_names()]
    if unknown or not formats:
        raise PlugdataError(f"unknown format(s) {', '.join(unknown) or '(none)'}; "
                            f"known formats: {', '.join(format_names())}")  # fmt: skip
    if config.file_format not in ("parquet", "jsonl"):
        raise PlugdataError("--file-format must be parquet or jsonl")
    if config.concurrency < 1:
        raise PlugdataError("--concurrency must be at least 1")
    if config.max_attempts < 1:
        raise PlugdataError("--max-attempts must be at least 1")
    if config.generate not in (None, "pivot", "target"):
        raise PlugdataError("--generate must be pivot or target")
    parse_columns(config.columns)
    if config.max_tokens is not None and not config.chat_template:
        raise PlugdataError("--max-tokens needs --chat-template (tokens are counted with it)")
    filters = [] if config.no_filter else parse_filters(config.filters)
    filter_config = FilterConfig.parse(config.thresholds, lid_backend=config.lid_backend)
    if config.lid_backend not in ("fasttext", "langdetect"):
        raise PlugdataError("--lid-backend must be fasttext or langdetect")
    renderer = None
    if config.chat_template:
        renderer = ChatRenderer(load_tokenizer(config.chat_template), config.max_tokens)
    out = Path(config.out) if config.out else default_out(config)
    return Plan(config, pivot, targets, formats, out, renderer, filters, filter_config)


def default_out(config: BuildConfig) -> Path:
    """``corpora/<source>-<timestamp>``, or the unfinished run of the same recipe to resume."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(config.source.removeprefix("hf:")).stem)
    name = name.strip("-") or "run"
    root = Path("corpora")
    identity = config.identity()
    for staging in sorted(root.glob(f".{name}-*.partial"), reverse=True):
        marker = staging / "identity"
        if marker.is_file() and marker.read_text().strip() == identity:
            return root / staging.name[1 : -len(".partial")]
    return root / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _clients(config: BuildConfig) -> tuple[LLMTranslator, LLMGenerator | None]:
    """Translator and optional generator, sharing one retry policy and one spend."""
    retry = RetryPolicy(config.max_attempts, config.retry_initial, config.retry_max, config.timeout)
    spend = Spend(config.max_cost)

    def client(model: str) -> ChatClient:
        return ChatClient(
            model, base_url=config.base_url, api_key=config.api_key,
            response_format=config.response_format, retry=retry, rpm=config.rpm, tpm=config.tpm,
            price=price_for(model, config.price_in, config.price_out), spend=spend,
        )  # fmt: skip

    translator = LLMTranslator(client(config.model), prompt=config.prompt,
                               temperature=config.temperature, max_tokens=config.max_output_tokens)  # fmt: skip
    generator = None
    if config.generate:
        generator = LLMGenerator(client(config.generator_model or config.model), temperature=config.generator_temperature,
                                 max_tokens=config.max_output_tokens)  # fmt: skip
    return translator, generator


def build(
    config: BuildConfig,
    on_pair: PairCallback | None = None,
    on_start: Callable[[dict[str, int]], None] | None = None,
) -> BuildResult:
    """Run the whole recipe and return the committed run directory and its stats.

    ``on_start`` gets the number of pairs per target language before translation starts;
    ``on_pair`` gets each pair row as it completes (both drive the command line's progress).
    Re-running the same build after a crash, Ctrl-C or a spending cap replays completed
    requests from the staging folder's cache and sends only the rest.
    """
    started = time.monotonic()
    p = plan(config)
    run = RunDirectory(p.out, overwrite=config.overwrite)
    data = load_source(config.source, columns=parse_columns(config.columns), limit=config.limit,
                       seed=config.seed, split=config.split)  # fmt: skip
    translator, generator = _clients(config)  # a missing key fails before anything is created
    with run:
        (run.staging / "identity").write_text(config.identity() + "\n")
        cache = RequestCache(run.staging / CACHE_NAME)
        for client in (translator.client, generator.client if generator else None):
            if client is not None:
                client.cache = cache
        engine = Engine(translator, generator, config.generate, config.concurrency)

        async def go() -> list[dict[str, Any]]:
            try:
                return await engine.run(data.rows, p.targets, pivot=p.pivot, on_pair=on_pair)
            finally:
                await translator.client.close()
                if generator is not None:
                    await generator.client.close()

        if on_start is not None:
            on_start({t.code: len(data.rows) for t in p.targets})
        try:
            pairs = asyncio.run(go())
        except (KeyboardInterrupt, BudgetExceeded, PlugdataError) as exc:
            kept = len(cache)
            cache.close()
            if kept == 0:
                raise
            run.keep = True
            where = f"{kept} completed request(s) are kept in {run.staging}"
            how = "run the same command again to resume" + (
                "" if config.out else f" (or pass --out {p.out})"
            )
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(f"interrupted; {where}; {how}") from None
            raise type(exc)(f"{exc}; {where}; {how}") from None
        run.keep = True  # every answer is in the cache now: keep it should writing fail
        spend = translator.client.spend
        cache.close()
        ext = config.file_format
        filter_stats = None
        if p.filters:
            pairs, filter_stats = filter_pairs(pairs, p.filters, p.filter_config)
        run.write_pairs(pairs, f"pairs.{ext}")
        run.write_pairs([pair for pair in pairs if not pair["kept"]], f"rejected.{ext}")
        by_lang = group_by_lang(pairs)
        format_counts: dict[str, dict[str, int]] = {}
        tokens: dict[str, dict[str, Any]] = {}
        too_long: dict[str, dict[str, int]] = {}
        examples: dict[str, Any] = {}
        for fmt in p.formats:
            format_counts[fmt], tokens[fmt], too_long[fmt] = {}, {}, {}
            for target in p.targets:
                rows = format_rows(by_lang.get(target.code, []), fmt,
                                   system_prompt=config.system_prompt,
                                   no_system=config.no_system, seed=config.seed or 0)  # fmt: skip
                if p.renderer is not None:
                    rows, too_long[fmt][target.code] = p.renderer.render(rows)
                    tokens[fmt][target.code] = token_stats([r["num_tokens"] for r in rows])
                if fmt == "plug" and rows:
                    examples[target.code] = rows[0]["messages"]
                run.write_format(fmt, target.code, rows, ext)
                format_counts[fmt][target.code] = len(rows)
        stats = _stats(pairs, data.skipped, format_counts, time.monotonic() - started)
        if filter_stats is not None:
            stats["filters"] = filter_stats
        if p.renderer is not None:
            stats["tokens"], stats["dropped_too_long"] = tokens, too_long
        stats["this_run"] = {
            "requests_sent": spend.requests, "replayed_from_cache": spend.cached,
            "prompt_tokens": spend.prompt_tokens, "completion_tokens": spend.completion_tokens,
            "cost_usd": round(spend.cost, 6), "resumed": run.resumed,
        }  # fmt: skip
        price = translator.client.price
        recipe = {
            "plugdata_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **config.recipe(),
            "base_url": translator.client.base_url,
            "response_format_used": translator.client.response_format,
            "prompt_version": translator.prompt_version,
            "generate_prompt_version": generator.prompt_version if generator else None,
            "price_per_million": {"input": price.input, "output": price.output, "known": price.known},
            "cost_usd": stats["totals"]["cost_usd"],
            "source_info": {"name": data.name, "origin": data.origin, "license": data.license,
                            "rows": len(data.rows)},
        }  # fmt: skip
        run.write_yaml("config.yaml", recipe)
        run.write_json("stats.json", stats)
        lengths = {lang: [len(r["target_output"]) for r in rows if r["kept"]]
                   for lang, rows in by_lang.items()}  # fmt: skip
        write_chart(run.path(CHART_NAME), stats, lengths)
        card = render_card(recipe, stats, p.formats, [t.code for t in p.targets], examples, ext)
        run.path("README.md").write_text(card, encoding="utf-8")
        (run.staging / "identity").unlink(missing_ok=True)
        result = BuildResult(run.commit(), stats)
    if config.push_to_hub:
        pushed = push_run(result.out, config.push_to_hub, private=config.private)
        result.stats["pushed"] = {"repo": pushed.repo_id, "files": len(pushed.files),
                                  "commit_url": pushed.commit_url}  # fmt: skip
    return result


def _stats(pairs: list[dict[str, Any]], skipped: dict[str, int],
           format_counts: dict[str, dict[str, int]], seconds: float) -> dict[str, Any]:  # fmt: skip
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
            "cost_usd": round(sum(row["cost_usd"] for row in rows), 6),
            "requests": sum(row["attempts"] for row in rows),
            "cached": sum(row["cached"] for row in rows),
        }
    keys = ("pairs", "kept", "rejected", "prompt_tokens", "completion_tokens", "cost_usd",
            "requests", "cached")  # fmt: skip
    totals = {key: sum(v[key] for v in per_lang.values()) for key in keys}
    totals["cost_usd"] = round(totals["cost_usd"], 6)
    return {
        "source_skipped": skipped,
        "languages": per_lang,
        "totals": totals,
        "formats": format_counts,
        "seconds": round(seconds, 3),
    }


def estimate(config: BuildConfig) -> dict[str, Any]:
    """A dry run: requests, tokens and cost per language, without sending anything."""
    p = plan(config)
    data: SourceData = load_source(config.source, columns=parse_columns(config.columns),
                                   limit=config.limit, seed=config.seed, split=config.split)  # fmt: skip
    translator = LLMTranslator(
        ChatClient(config.model, base_url=config.base_url or "http://dry-run.invalid/v1",
                   api_key="dry-run"), prompt=config.prompt)  # fmt: skip
    price = price_for(config.model, config.price_in, config.price_out)
    generated_price = price_for(
        config.generator_model or config.model, config.price_in, config.price_out
    )
    languages: dict[str, dict[str, Any]] = {}
    for target in p.targets:
        requests = prompt_tokens = completion_tokens = 0
        gen_in = gen_out = 0
        for row in data.rows:
            fields = {name: row[name] for name in FIELDS}
            if config.generate == "target":
                fields.pop("output")
            masked = mask(fields).texts
            send = {k: v for k, v in masked.items() if v.strip() and needs_translation(v)}
            if send:
                requests += 1
                messages = translator.messages(send, p.pivot, target)
                prompt_tokens += sum(estimate_tokens(m["content"]) for m in messages)
                ratio = _EXPANSION.get(target.script, 1.3)
                completion_tokens += int(sum(estimate_tokens(v) for v in send.values()) * ratio) + 8
            if config.generate == "target" or (
                config.generate == "pivot" and target == p.targets[0]
            ):
                requests += 1
                gen_in += estimate_tokens(row["instruction"] + row["input"]) + 40
                gen_out += estimate_tokens(row["output"])
        cost = price.cost(prompt_tokens, completion_tokens) + generated_price.cost(gen_in, gen_out)
        languages[target.code] = {
            "requests": requests,
            "input_tokens": prompt_tokens + gen_in,
            "output_tokens": completion_tokens + gen_out,
            "cost_usd": round(cost, 4),
        }
    keys = ("requests", "input_tokens", "output_tokens", "cost_usd")
    totals = {key: sum(v[key] for v in languages.values()) for key in keys}
    return {
        "model": config.model,
        "price_known": price.known,
        "price_per_million": {"input": price.input, "output": price.output},
        "records": len(data.rows),
        "languages": languages,
        "totals": totals,
    }
