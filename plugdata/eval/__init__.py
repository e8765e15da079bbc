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

from typing import TYPE_CHECKING

from plugdata.lazy import lazy_exports

# Each public name and the module it lives in, imported on first use; the TYPE_CHECKING block
# below says the same as imports, which type checkers and the layers contract see (a test in
# tests/test_codebase.py keeps the two equal).
_EXPORTS = {
    "aggregate_judgments": "plugdata.eval.aggregate",
    "bootstrap_ci": "plugdata.eval.aggregate",
    "Answer": "plugdata.eval.answers",
    "align": "plugdata.eval.answers",
    "read_folder": "plugdata.eval.answers",
    "HUB_ID": "plugdata.eval.benchmark",
    "Item": "plugdata.eval.benchmark",
    "load_benchmark": "plugdata.eval.benchmark",
    "judge_folders": "plugdata.eval.compare",
    "generate_answers": "plugdata.eval.generate",
    "write_eval_page": "plugdata.eval.page",
    "Judge": "plugdata.eval.judge",
    "parse_verdict": "plugdata.eval.judge",
    "Recipe": "plugdata.eval.recipe",
    "prompt_messages": "plugdata.eval.recipe",
    "resolve_recipe": "plugdata.eval.recipe",
    "read_report": "plugdata.eval.report",
    "write_report": "plugdata.eval.report",
}
__all__ = [
    "HUB_ID",
    "Answer",
    "Item",
    "Judge",
    "Recipe",
    "aggregate_judgments",
    "align",
    "bootstrap_ci",
    "generate_answers",
    "judge_folders",
    "load_benchmark",
    "parse_verdict",
    "prompt_messages",
    "read_folder",
    "read_report",
    "resolve_recipe",
    "write_eval_page",
    "write_report",
]


if TYPE_CHECKING:
    from plugdata.eval.aggregate import aggregate_judgments, bootstrap_ci
    from plugdata.eval.answers import Answer, align, read_folder
    from plugdata.eval.benchmark import HUB_ID, Item, load_benchmark
    from plugdata.eval.compare import judge_folders
    from plugdata.eval.generate import generate_answers
    from plugdata.eval.judge import Judge, parse_verdict
    from plugdata.eval.page import write_eval_page
    from plugdata.eval.recipe import Recipe, prompt_messages, resolve_recipe
    from plugdata.eval.report import read_report, write_report

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
