"""`plugdata eval judge`: two answer folders in, judgments and a report out.

``OUT/judgments.jsonl`` holds every judge call's verdict and raw text; ``OUT/cache.sqlite``
every reply, so re-running the same command after a crash only sends what never completed;
``OUT/report.{json,md,png}`` the aggregate; ``OUT/report.html`` the page to read it with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError, interrupted
from plugdata.eval.aggregate import aggregate_judgments
from plugdata.eval.answers import Answer, align, read_folder
from plugdata.eval.judge import DEFAULT_PROMPT, Judge
from plugdata.eval.page import write_eval_page
from plugdata.eval.report import write_report
from plugdata.publish import CACHE_NAME, write_records
from plugdata.translate.cache import RequestCache
from plugdata.translate.chat import ChatClient

JUDGMENTS = "judgments.jsonl"
WRONG_LANGUAGE = ("judge", "loss")


def answer_stats(pairs: Sequence[tuple[Answer, Answer]]) -> dict[str, Any]:
    """Mean answer length in characters and wrong-language answers, for A and B."""
    n = len(pairs) or 1
    return {
        "mean_length": {
            "a": round(sum(len(a.answer) for a, _ in pairs) / n, 1),
            "b": round(sum(len(b.answer) for _, b in pairs) / n, 1),
        },
        "wrong_language": {
            "a": sum(a.wrong_language for a, _ in pairs),
            "b": sum(b.wrong_language for _, b in pairs),
        },
    }


def judge_folders(
    a_dir: str | Path,
    b_dir: str | Path,
    out: str | Path,
    *,
    judge_model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    intersect: bool = False,
    langs: list[str] | None = None,
    wrong_language: str = "judge",
    prompt: str = DEFAULT_PROMPT,
    concurrency: int = 16,
    max_asks: int = 3,
    rpm: float | None = None,
    tpm: float | None = None,
    bootstrap: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Judge A against B in both orders and write the judgments and the report into ``out``."""
    if wrong_language not in WRONG_LANGUAGE:
        raise PlugdataError(f"--wrong-language {wrong_language!r}: use judge or loss")
    pairs, dropped = align(read_folder(a_dir), read_folder(b_dir), intersect=intersect, langs=langs)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    total = 2 * sum(len(p) for p in pairs.values())
    with RequestCache(folder / CACHE_NAME) as cache:
        client = ChatClient(
            judge_model,
            base_url=base_url,
            api_key=api_key,
            response_format="none",
            cache=cache,
            rpm=rpm,
            tpm=tpm,
        )
        judge = Judge(
            client,
            prompt=prompt,
            max_asks=max_asks,
            concurrency=concurrency,
            wrong_language=wrong_language,
        )
        done = [0]

        def tick(step: int) -> None:
            done[0] += step
            if progress is not None:
                progress(done[0], total)

        try:
            judgments = asyncio.run(judge.judge_all(pairs, tick))
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the replies so far are kept
            kept = f"{len(cache)} judge reply(ies) are kept in {cache.path}"
            raise interrupted(exc, kept) from None
        spent = {"requests_sent": client.spend.requests, "replayed_from_cache": client.spend.cached}
    rows = [j.to_dict() for j in judgments]
    write_records(folder / JUDGMENTS, rows)
    report = aggregate_judgments(rows, samples=bootstrap)
    for lang, stats in report["languages"].items():
        stats.update(answer_stats(pairs[lang]), dropped=dropped.get(lang, 0))
    report["overall"].update(
        answer_stats([p for part in pairs.values() for p in part]), dropped=sum(dropped.values())
    )
    report["meta"] = {
        "a": str(a_dir),
        "b": str(b_dir),
        "judge_model": judge_model,
        "base_url": base_url,
        "prompt": judge.template.version,
        "wrong_language": wrong_language,
        "intersect": intersect,
        "judge_calls": sum(j.source == "judge" for j in judgments),
        **spent,
    }
    write_report(folder, report)
    write_eval_page(folder, report, rows, pairs)
    return report
