"""`plugdata eval generate`: answer the benchmark, extract the target answer, gate its language.

Writes ``OUT/<lang>.jsonl`` (``id, instruction, output, answer, status`` plus ``finish_reason``,
the language-ID fields and ``error`` where a request failed) and ``OUT/generation.json`` (the
model, engine, prompt recipe, and per language the count of each status and of wrong-language
answers). Replies are cached in ``OUT/cache.sqlite``: re-running resumes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plugdata.errors import interrupted
from plugdata.eval.benchmark import HUB_ID, Item, load_benchmark
from plugdata.eval.engines import Engine, Reply, make_engine
from plugdata.eval.gate import DEFAULT_THRESHOLD, language_gate
from plugdata.eval.recipe import Recipe, prompt_messages
from plugdata.formats import STATUSES, extract_target
from plugdata.publish import CACHE_NAME, write_records, write_text_atomic
from plugdata.translate.cache import RequestCache

SUMMARY = "generation.json"
ERROR = "error"


def answer_row(item: Item, reply: Reply, recipe: Recipe, lang: str) -> dict[str, Any]:
    """One answer row; the answer is the target block (PLUG formats) or the whole reply."""
    row: dict[str, Any] = {"id": item.id, "instruction": item.instruction, "output": reply.text}
    if reply.error is not None:
        row.update(answer="", status=ERROR, error=reply.error)
    elif recipe.extracts:
        found = extract_target(reply.text, lang, recipe.pivot)
        row.update(answer=found.answer or "", status=found.status)
    else:
        answer = reply.text.strip()
        row.update(answer=answer, status="ok" if answer else "empty")
    row["finish_reason"] = reply.finish_reason
    return row


def answer_benchmark(
    engine: Engine,
    items: dict[str, list[Item]],
    recipe: Recipe,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Rows and a summary per language; every language's prompts go to the engine at once."""
    jobs = [(lang, item) for lang, part in items.items() for item in part]
    replies = engine.generate(
        [prompt_messages(recipe, item.instruction, lang) for lang, item in jobs]
    )
    rows: dict[str, list[dict[str, Any]]] = {lang: [] for lang in items}
    for (lang, item), reply in zip(jobs, replies, strict=True):
        rows[lang].append(answer_row(item, reply, recipe, lang))
    summary: dict[str, dict[str, Any]] = {}
    for lang, part in rows.items():
        example = prompt_messages(recipe, "<instruction>", lang)
        wrong = language_gate(part, lang, threshold=threshold)
        counts = Counter({status: 0 for status in (*STATUSES, ERROR)})
        counts.update(row["status"] for row in part)
        answered = [len(row["answer"]) for row in part if row["answer"]]
        summary[lang] = {
            "n": len(part),
            "statuses": dict(counts),
            "wrong_language": wrong,
            "truncated": sum(row["finish_reason"] == "length" for row in part),
            "mean_answer_chars": round(sum(answered) / len(answered), 1) if answered else 0.0,
            "prompt": example,
        }
    return rows, summary


def generate_answers(
    model: str,
    out: str | Path,
    recipe: Recipe,
    *,
    langs: Sequence[str] = ("zh", "ko", "it", "es"),
    benchmark: str = HUB_ID,
    limit: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    engine: str = "auto",
    base_url: str | None = None,
    on_engine: Callable[[Engine], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Answer ``benchmark`` in ``langs`` with ``model`` and write the answer folder ``out``.

    ``options`` go to the engine (``batch_size``, ``max_new_tokens``, ``concurrency``,
    ``api_key``, ``rpm``, ``tpm``). Returns what ``generation.json`` holds.
    """
    items = load_benchmark(benchmark, list(langs), limit)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with RequestCache(folder / CACHE_NAME) as cache:
        runner = make_engine(model, cache, engine=engine, base_url=base_url, **options)
        if on_engine is not None:
            on_engine(runner)
        try:
            rows, per_lang = answer_benchmark(runner, items, recipe, threshold=threshold)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the answers so far are kept
            raise interrupted(exc, f"{len(cache)} answer(s) are kept in {cache.path}") from None
        finally:
            runner.close()
    for lang, part in rows.items():
        write_records(folder / f"{lang}.jsonl", part)
    summary = {
        "model": model,
        "engine": runner.name,
        "base_url": base_url,
        "benchmark": benchmark,
        "recipe": recipe.to_dict(),
        "lid_threshold": threshold,
        "languages": per_lang,
    }
    write_text_atomic(folder / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary
