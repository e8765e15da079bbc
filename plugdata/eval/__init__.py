"""`plugdata eval`: X-AlpacaEval generation, pairwise judging, aggregation and the report.

- :mod:`~plugdata.eval.benchmark`: the benchmark from the Hub or local files;
- :mod:`~plugdata.eval.recipe`: the training prompt recipe (format, system prompt, pivot);
- :mod:`~plugdata.eval.engines`: transformers, vLLM or an OpenAI-compatible endpoint;
- :mod:`~plugdata.eval.generate`: answers, target extraction and the language gate (``gate``);
- :mod:`~plugdata.eval.answers`: reading and aligning answer folders;
- :mod:`~plugdata.eval.judge`: the pairwise judge, both orders, verdict parsing;
- :mod:`~plugdata.eval.aggregate`: strict and lenient counts, win rate and bootstrap CI;
- :mod:`~plugdata.eval.report`: ``report.json``, ``report.md``, ``report.png``, rich table;
- :mod:`~plugdata.eval.page`: ``report.html``, the page to read the pairs and verdicts with;
- :mod:`~plugdata.eval.compare`: two folders in, judgments and report out.

Names are imported on first use: importing the package (or its CLI) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "aggregate_judgments": "aggregate",
    "bootstrap_ci": "aggregate",
    "Answer": "answers",
    "align": "answers",
    "read_folder": "answers",
    "HUB_ID": "benchmark",
    "Item": "benchmark",
    "load_benchmark": "benchmark",
    "judge_folders": "compare",
    "generate_answers": "generate",
    "write_eval_page": "page",
    "Judge": "judge",
    "parse_verdict": "judge",
    "Recipe": "recipe",
    "prompt_messages": "recipe",
    "resolve_recipe": "recipe",
    "read_report": "report",
    "write_report": "report",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"plugdata.eval.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'plugdata.eval' has no attribute {name!r}")
