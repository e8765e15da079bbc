"""The dry run of a build with local translation models (``--translator mt``).

Per language: the model, its licence, its download size (from the Hub when it answers,
``None`` when it does not), whether it is on this machine, the engine, device and precision it
will run on, the sentences and tokens it will translate (counted with the model's own tokenizer
when the model is here, estimated otherwise) and, when the model is here, the time a short
measured warm-up predicts. Nothing is downloaded and no run directory is written (the warm-up
converts a model for CTranslate2 into plugdata's cache, once, as the build would).
"""

from __future__ import annotations

from typing import Any

from plugdata.config import BuildConfig
from plugdata.pipeline.plan import make_plan
from plugdata.schema import FIELDS
from plugdata.sources import open_source
from plugdata.translate.mt.preview import Preview, measure, preview
from plugdata.translate.mt.segment import segment
from plugdata.translate.pricing import EXPANSION, estimate_tokens
from plugdata.translate.protect import needs_translation

SAMPLE = 32  # sentences per language translated in the warm-up


def estimate_mt(config: BuildConfig) -> dict[str, Any]:
    """Models, sizes, sentences, tokens and time per target language; nothing is downloaded."""
    plan = make_plan(config, preflight=False)
    device = None if config.mt_device == "auto" else config.mt_device
    previews = preview(
        config.model,
        [t.code for t in plan.targets],
        pivot=plan.pivot.code,
        engine=config.mt_engine,
        device=device,
        allow_broken=config.mt_allow_broken,
    )
    by_lang = {lang: p for p in previews for lang in p.languages}
    counts = {
        t.code: {
            "model": by_lang[t.code].name,
            "sentences": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "seconds": None,
        }
        for t in plan.targets
    }
    samples: dict[str, list[str]] = {t.code: [] for t in plan.targets}
    source = open_source(
        config.source,
        columns=config.columns,
        limit=config.limit,
        seed=config.seed,
        split=config.split,
    )
    records = 0
    for chunk in source.chunks():
        for row in chunk:
            records += 1
            texts = [row[f] for f in FIELDS if not (f == "output" and config.generate == "target")]
            sentences = list(
                dict.fromkeys(
                    s
                    for text in texts
                    for s in segment(text, plan.pivot.code).segments
                    if needs_translation(s)
                )
            )
            for target in plan.targets:
                entry, ratio = counts[target.code], EXPANSION.get(target.script, 1.3)
                n_in = _tokens(by_lang[target.code], target.code, sentences)
                entry["sentences"] += len(sentences)
                entry["input_tokens"] += n_in
                entry["output_tokens"] += int(n_in * ratio)
                samples[target.code].extend(sentences[: SAMPLE - len(samples[target.code])])
    for item in previews:
        if item.info is not None:
            speed = measure(
                item.info,
                {lang: samples[lang] for lang in item.languages},
                plan.pivot,
                item.runtime,
                config.mt_batch_size or None,
            )
            for lang, per_sentence in speed.items():
                counts[lang]["seconds"] = round(per_sentence * counts[lang]["sentences"], 1)
    return _result(records, previews, counts)


def _tokens(item: Preview, lang: str, sentences: list[str]) -> int:
    """Input tokens of ``sentences``: the model's tokenizer when it is here, else an estimate."""
    if not sentences:
        return 0
    if item.info is None:
        return sum(estimate_tokens(s) for s in sentences)
    prefix = item.info.targets[lang].source_prefix
    return sum(
        len(ids) for ids in item.info.tokenizer([prefix + s for s in sentences])["input_ids"]
    )


def _result(
    records: int, previews: list[Preview], counts: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    seconds = [c["seconds"] for c in counts.values()]
    totals = {
        key: sum(c[key] for c in counts.values())
        for key in ("sentences", "input_tokens", "output_tokens")
    }
    totals["seconds"] = None if None in seconds else round(sum(seconds), 1)
    models = [
        {
            "model": p.name,
            "languages": p.languages,
            "why": p.why,
            "licence": p.licence,
            "download_bytes": p.size,
            "cached": p.cached is not None,
            "path": str(p.cached) if p.cached else None,
            "engine": p.runtime.engine,
            "device": p.runtime.device,
            "precision": p.runtime.precision,
            "tokens": "counted" if p.info else "estimated",
            "warnings": p.warnings,
        }
        for p in previews
    ]
    return {
        "translator": "mt",
        "model": "mt",
        "records": records,
        "batch_api": False,
        "price_known": True,
        "models": models,
        "languages": counts,
        "totals": totals,
        "sample_sentences": SAMPLE,
    }
