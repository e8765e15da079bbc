"""The build report's header: what was built, from what, with which models, at what cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _source(recipe: Mapping[str, Any]) -> str:
    info = recipe.get("source_info") or {}
    name = info.get("name") or recipe.get("source") or "?"
    origin = info.get("origin")
    parts = [f"{name} ({origin})" if origin and origin != name else str(name)]
    if info.get("license"):
        parts.append(f"licence {info['license']}")
    if info.get("rows") is not None:
        parts.append(f"{info['rows']:,} records")
    if recipe.get("limit"):
        parts.append(
            f"limit {recipe['limit']}"
            + (f", seed {recipe['seed']}" if recipe.get("seed") is not None else "")
        )
    return ", ".join(parts)


def _models(recipe: Mapping[str, Any]) -> str:
    per_lang = recipe.get("mt_models")
    if isinstance(per_lang, Mapping) and per_lang:
        return "; ".join(
            f"{lang}: {m.get('model')} ({m.get('licence', '?')})"
            for lang, m in per_lang.items()
            if isinstance(m, Mapping)
        )
    licences = recipe.get("model_licences") or {}
    model = recipe.get("model")
    text = f"{model} ({licences[model]})" if model in licences else str(model or "-")
    if recipe.get("generate"):
        text += f"; generator {recipe.get('generator_model') or model} ({recipe['generate']})"
    return text


def _engine(recipe: Mapping[str, Any], stats: Mapping[str, Any]) -> str:
    translator = recipe.get("translator") or "?"
    parts = [f"translator {translator}"]
    per_lang = recipe.get("mt_models")
    if isinstance(per_lang, Mapping) and per_lang:
        engines = sorted(
            {str(m.get("engine")) for m in per_lang.values() if isinstance(m, Mapping)}
        )
        parts.append(f"engine {', '.join(engines)}, device {recipe.get('mt_device', 'auto')}")
    elif translator == "vllm":
        parts.append(
            f"vLLM, tensor parallel {recipe.get('tensor_parallel', 1)}, "
            f"data parallel {recipe.get('data_parallel', 1)}"
        )
    elif recipe.get("base_url"):
        parts.append(f"OpenAI-compatible server {recipe['base_url']}")
    if recipe.get("response_format_used"):
        parts.append(f"structured output {recipe['response_format_used']}")
    executor = recipe.get("executor") or "local"
    ray = stats.get("ray") or {}
    parts.append(
        f"executor {executor}"
        + (f" ({ray.get('actors')} actors, {ray.get('shards')} shards)" if ray else "")
    )
    if recipe.get("batch_api"):
        parts.append("OpenAI Batch API")
    return "; ".join(parts)


def _cost(recipe: Mapping[str, Any], stats: Mapping[str, Any]) -> str:
    totals = stats.get("totals") or {}
    run = stats.get("this_run") or {}
    price = recipe.get("price_per_million") or {}
    text = f"${totals.get('cost_usd', 0):.4f}"
    if price and not price.get("known", True):
        text += " (no price known for this model)"
    tokens = totals.get("prompt_tokens", 0) + totals.get("completion_tokens", 0)
    text += f"; {tokens:,} tokens, {totals.get('requests', 0):,} requests"
    if run:
        text += (
            f"; this run sent {run.get('requests_sent', 0):,} and replayed "
            f"{run.get('replayed_from_cache', 0):,} from the cache"
        )
    return text


def _filters(stats: Mapping[str, Any]) -> str:
    filters = stats.get("filters")
    if not filters:
        return "not run (--no-filter): every translated pair was kept"
    names = ", ".join(filters.get("names") or [])
    return f"{names}; language ID {filters.get('lid_backend', '?')}"


def build_header(recipe: Mapping[str, Any], stats: Mapping[str, Any]) -> list[list[str]]:
    """``[label, value]`` rows, in reading order, for what the run recorded."""
    targets = recipe.get("targets") or list(stats.get("languages") or {})
    versions = [
        f"plugdata {recipe.get('plugdata_version', '?')}",
        f"prompt {recipe.get('prompt_version') or recipe.get('prompt') or '?'}",
    ]
    if recipe.get("generate_prompt_version"):
        versions.append(f"generate prompt {recipe['generate_prompt_version']}")
    rows = [
        ["Source", _source(recipe)],
        ["Languages", f"{recipe.get('pivot', 'en')} → {', '.join(targets)}"],
        ["Models", _models(recipe)],
        ["Engine", _engine(recipe, stats)],
        ["Filters", _filters(stats)],
        ["Formats", ", ".join(stats.get("formats") or recipe.get("formats") or []) or "-"],
        ["Cost", _cost(recipe, stats)],
        [
            "Time",
            f"{stats.get('seconds', 0):,.1f} s"
            + (f", finished {recipe['created']}" if recipe.get("created") else ""),
        ],
        ["Versions", ", ".join(versions)],
        ["Output", str(recipe.get("out") or "")],
    ]
    if not recipe:
        rows = [["Source", "pairs filtered by plugdata filter"], ["Filters", _filters(stats)]]
    return [[label, str(value)] for label, value in rows]
