"""A dry run: requests, tokens and cost per language, without sending anything (local
translation models: :mod:`plugdata.pipeline.estimate_mt`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugdata.config import BuildConfig
from plugdata.pipeline.plan import make_plan
from plugdata.schema import FIELDS
from plugdata.sources import open_source
from plugdata.translate.batch import BATCH_DISCOUNT
from plugdata.translate.chat import ChatClient
from plugdata.translate.llm import LLMTranslator
from plugdata.translate.pricing import EXPANSION, Price, estimate_tokens, price_for
from plugdata.translate.protect import mask, needs_translation


def estimate(config: BuildConfig | Mapping[str, Any]) -> dict[str, Any]:
    """Requests, estimated tokens and cost per target language; nothing is sent or written.

    With local translation models it says instead which models run where, what they need to
    download, and the sentences, tokens and time per language (see :func:`estimate_mt`)."""
    if not isinstance(config, BuildConfig):
        config = BuildConfig.from_dict(config)
    if config.translator == "mt":  # no prompts and no prices: models, sentences and time
        from plugdata.pipeline.estimate_mt import estimate_mt

        return estimate_mt(config)
    plan = make_plan(config, preflight=False)
    source = open_source(
        config.source,
        columns=config.columns,
        limit=config.limit,
        seed=config.seed,
        split=config.split,
    )
    model = config.model or config.translator
    translator = LLMTranslator(
        ChatClient(model, base_url="http://dry-run.invalid/v1", api_key="dry-run"),
        prompt=config.prompt,
    )
    paid = config.translator == "llm"
    price = price_for(model, config.price_in, config.price_out) if paid else price_for("", 0, 0)
    gen_price = price_for(config.generator_model or model, config.price_in, config.price_out)
    if config.batch_api:  # the Batch API bills half the live price
        price, gen_price = (
            Price(p.input * BATCH_DISCOUNT, p.output * BATCH_DISCOUNT, p.known)
            for p in (price, gen_price)
        )
    sums = {
        t.code: {"requests": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        for t in plan.targets
    }
    records = 0
    for chunk in source.chunks():
        for row in chunk:
            records += 1
            fields = {name: row[name] for name in FIELDS}
            if config.generate == "target":
                fields.pop("output")
            send = {
                k: v for k, v in mask(fields).texts.items() if v.strip() and needs_translation(v)
            }
            for i, target in enumerate(plan.targets):
                entry = sums[target.code]
                if send:
                    prompt = sum(
                        estimate_tokens(m["content"])
                        for m in translator.messages(send, plan.pivot, target)
                    )
                    ratio = EXPANSION.get(target.script, 1.3)
                    out = int(sum(estimate_tokens(v) for v in send.values()) * ratio) + 8
                    entry["requests"] += 1
                    entry["input_tokens"] += prompt
                    entry["output_tokens"] += out
                    entry["cost_usd"] += price.cost(prompt, out)
                if config.generate == "target" or (config.generate == "pivot" and i == 0):
                    gen_in = estimate_tokens(row["instruction"] + row["input"]) + 40
                    gen_out = estimate_tokens(row["output"])
                    entry["requests"] += 1
                    entry["input_tokens"] += gen_in
                    entry["output_tokens"] += gen_out
                    entry["cost_usd"] += gen_price.cost(gen_in, gen_out)
    for entry in sums.values():
        entry["cost_usd"] = round(entry["cost_usd"], 4)
    keys = ("requests", "input_tokens", "output_tokens", "cost_usd")
    return {
        "model": model,
        "price_known": price.known or not paid,
        "price_per_million": {"input": price.input, "output": price.output},
        "batch_api": config.batch_api,
        "records": records,
        "languages": sums,
        "totals": {key: sum(v[key] for v in sums.values()) for key in keys},
    }
