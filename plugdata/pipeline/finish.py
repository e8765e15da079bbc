"""The end of a build: ``stats.json``, ``config.yaml``, the chart and the dataset card."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from plugdata import __version__
from plugdata.pipeline.plan import Plan
from plugdata.pipeline.sink import ChunkSink
from plugdata.publish import (
    CHART_NAME,
    RunDirectory,
    render_card,
    write_build_report,
    write_chart,
)
from plugdata.sources import Source
from plugdata.translate import Translator
from plugdata.translate.generate import LLMGenerator
from plugdata.translate.pricing import Spend


def finish(
    run: RunDirectory,
    plan: Plan,
    source: Source,
    sink: ChunkSink,
    spend: Spend,
    translator: Translator,
    generator: LLMGenerator | None,
    started: float,
    *,
    funnel: dict[str, Any] | None = None,
    models: dict[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the run's metadata files; return its stats.

    ``funnel`` is the filters' funnel (None when the pairs were not filtered); ``models`` the
    translator's :meth:`describe` where its models were loaded elsewhere (on Ray's actors);
    ``extra`` is added to the stats (the executor's own figures)."""
    config = plan.config
    stats: dict[str, Any] = {
        "source_skipped": source.skipped,
        **sink.tally.stats(),
        "formats": sink.counts,
        "seconds": round(time.monotonic() - started, 3),
    }
    if funnel is not None:
        stats["filters"] = funnel
    if plan.renderer is not None:
        stats["tokens"], stats["dropped_too_long"] = sink.token_stats(), sink.too_long
    stats["this_run"] = {
        "requests_sent": spend.requests,
        "replayed_from_cache": spend.cached,
        "prompt_tokens": spend.prompt_tokens,
        "completion_tokens": spend.completion_tokens,
        "cost_usd": round(spend.cost, 6),
        "resumed": run.resumed,
        "run_total_cost_usd": round(spend.total, 6),
    }
    stats.update(extra or {})
    recipe = _recipe(plan, source, stats, translator, generator, models)
    run.write_yaml("config.yaml", recipe)
    run.write_json("stats.json", stats)
    write_chart(run.path(CHART_NAME), stats, sink.tally.lengths)
    card = render_card(recipe, stats, config.targets, sink.examples, config.file_format)
    run.path("README.md").write_text(card, encoding="utf-8")
    _write_report(run)
    return stats


def _write_report(run: RunDirectory) -> None:
    """``report.html``; a page that cannot be drawn must not cost the run (the data is safe)."""
    try:
        write_build_report(run.staging)
    except Exception as exc:  # the report is a view of files already written
        message = f"report.html was not written ({type(exc).__name__}: {exc}); "
        warnings.warn(
            message + f"run `plugdata report {run.out}` to try again", RuntimeWarning, stacklevel=2
        )


def _recipe(
    plan: Plan,
    source: Source,
    stats: dict[str, Any],
    translator: Translator,
    generator: LLMGenerator | None,
    models: dict[str, Any] | None,
) -> dict[str, Any]:
    """``config.yaml``: the config (no key), versions, the model server, prices and cost."""
    client = getattr(translator, "client", None)
    price = getattr(client, "price", None)
    recipe = {
        "plugdata_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **plan.config.recipe(),
        "out": str(plan.out),
        "base_url": getattr(client, "base_url", None),
        "response_format_used": getattr(client, "response_format", None),
        "prompt_version": translator.prompt_version,
        "generate_prompt_version": generator.prompt_version if generator else None,
        "cost_usd": stats["totals"]["cost_usd"],
        "source_info": {
            "name": source.name,
            "origin": source.origin,
            "license": source.license,
            "rows": source.total,
        },
    }
    if price is not None:
        recipe["price_per_million"] = {
            "input": price.input,
            "output": price.output,
            "known": price.known,
        }
    describe = getattr(translator, "describe", None)
    if models is not None:  # local models loaded elsewhere: as they ran there
        recipe.update(models)
    elif callable(describe):  # local models: ids, licences and attribution
        recipe.update(describe())
    return recipe
