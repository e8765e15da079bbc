"""`plugdata eval`: generate, judge and report (a typer sub-app registered by the main CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from plugdata.errors import PlugdataError

if TYPE_CHECKING:
    from plugdata.eval.recipe import Recipe

eval_app = typer.Typer(
    help="Evaluate on X-AlpacaEval: generate answers, judge two systems pairwise, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
out = Console()
err = Console(stderr=True)

_API = "OpenAI-compatible endpoint"


# The flags that say how the model was trained; each defaults to the recorded training recipe.
FormatFlag = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Training format (plug, mono, ...); default: as recorded by training, else plug.",
    ),
]
SystemPromptFlag = Annotated[
    str | None,
    typer.Option(help="System prompt as in the build (default: as recorded, else the registry's)."),
]
NoSystemFlag = Annotated[
    bool | None,
    typer.Option(
        "--no-system/--system",
        help="Guidance in the user turn, as built with --no-system.",
        show_default=False,
    ),
]
PivotFlag = Annotated[
    str | None, typer.Option(help="Pivot language (default: as recorded, else en).")
]
DataFlag = Annotated[
    str | None,
    typer.Option(
        help="The run directory the model was trained on: its config.yaml gives the system prompt."
    ),
]


def _langs(spec: str) -> list[str]:
    from plugdata.languages import parse_languages

    return [lang.code for lang in parse_languages(spec)]


@eval_app.command()
def generate(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="A local model folder or Hub id; with --base-url, the served model's name.",
        ),
    ],
    out_dir: Annotated[
        str,
        typer.Option(
            "--out", help="Answer folder: <lang>.jsonl and generation.json (re-running resumes)."
        ),
    ],
    langs: Annotated[str, typer.Option(help="Target languages.")] = "zh,ko,it,es",
    benchmark: Annotated[
        str,
        typer.Option(
            help="Hub dataset id, or a folder of <lang>.json(l) "
            "files (or one file for one language)."
        ),
    ] = "zhihz0535/X-AlpacaEval",
    fmt: FormatFlag = None,
    system_prompt: SystemPromptFlag = None,
    no_system: NoSystemFlag = None,
    pivot: PivotFlag = None,
    data: DataFlag = None,
    engine: Annotated[str, typer.Option(help="auto, transformers, vllm or openai.")] = "auto",
    base_url: Annotated[str | None, typer.Option(help=f"An {_API} serving MODEL.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (else OPENAI_API_KEY).")] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight (API).")] = 16,
    batch_size: Annotated[int, typer.Option(help="Prompts per generate call (transformers).")] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens per answer.")] = 1024,
    limit: Annotated[int | None, typer.Option(help="First N items per language.")] = None,
    lid_threshold: Annotated[
        float,
        typer.Option(
            help="Below this share of its prose in the target language an answer is wrong-language."
        ),
    ] = 0.5,
) -> None:
    """Answer the benchmark with MODEL, as it was trained, and gate the answers' language."""
    from plugdata.eval.generate import generate_answers as run_generate

    recipe = _recipe(None if base_url else model, data, fmt, system_prompt, no_system, pivot)
    summary = run_generate(
        model,
        out_dir,
        recipe,
        langs=_langs(langs),
        benchmark=benchmark,
        limit=limit,
        threshold=lid_threshold,
        engine=engine,
        base_url=base_url,
        api_key=api_key,
        concurrency=concurrency,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
    )
    out.print(_answers_table(summary, f"Answers of {model} ({summary['engine']}) in {out_dir}"))


def _recipe(
    model: str | None,
    data: str | None,
    fmt: str | None,
    system_prompt: str | None,
    no_system: bool | None,
    pivot: str | None,
) -> Recipe:
    """The prompts the model was trained with (as recorded, else the flags); says whence."""
    from plugdata.eval.recipe import resolve_recipe

    recipe = resolve_recipe(
        model,
        data,
        format=fmt,
        system_prompt=system_prompt,
        no_system=no_system,
        pivot=pivot,
    )
    origin = ", ".join(f"{k} from {v}" for k, v in recipe.sources.items())
    err.print(f"Prompts: format {recipe.format} ({origin})")
    if all(v in ("default", "flag") for v in recipe.sources.values()):
        err.print(
            "[yellow]No training recipe found (plugdata_train.json, or --data RUN_DIR): "
            "check that these flags match how the model was trained.[/]"
        )
    return recipe


def _answers_table(summary: dict[str, Any], title: str) -> Table:
    """One row per language: answers by extraction status, wrong language, truncated, length."""
    table = Table(title=title)
    for column in (
        "language",
        "n",
        "ok",
        "label missing",
        "pivot only",
        "empty",
        "error",
        "wrong language",
        "truncated",
        "mean chars",
    ):
        table.add_column(column, justify="left" if column == "language" else "right")
    for lang, stats in summary["languages"].items():
        counts = stats["statuses"]
        table.add_row(
            lang,
            str(stats["n"]),
            *(str(counts[k]) for k in ("ok", "label_missing", "pivot_only", "empty", "error")),
            str(stats["wrong_language"]),
            str(stats["truncated"]),
            str(stats["mean_answer_chars"]),
        )
    return table


@eval_app.command()
def judge(
    a_dir: Annotated[
        str, typer.Argument(metavar="A_DIR", help="Answer folder of system A (e.g. PLUG).")
    ],
    b_dir: Annotated[
        str, typer.Argument(metavar="B_DIR", help="Answer folder of system B (e.g. mono).")
    ],
    judge_model: Annotated[str, typer.Option(help="The judge model's name.")],
    out_dir: Annotated[
        str,
        typer.Option(
            "--out",
            help="Folder for judgments.jsonl, report.* and the request cache (re-running resumes).",
        ),
    ],
    base_url: Annotated[str | None, typer.Option(help=f"An {_API} for the judge.")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key (else OPENAI_API_KEY).")] = None,
    intersect: Annotated[
        bool,
        typer.Option(
            help="Judge the shared ids only, instead of failing on ids present on one side."
        ),
    ] = False,
    langs: Annotated[str | None, typer.Option(help="Languages to judge (default: all).")] = None,
    wrong_language: Annotated[
        str,
        typer.Option(
            help="loss: a wrong-language answer loses "
            "without a judge call; judge: the judge decides."
        ),
    ] = "judge",
    prompt: Annotated[str, typer.Option(help="Judge prompt version or YAML file.")] = "judge/v1",
    concurrency: Annotated[int, typer.Option(help="Judge requests in flight.")] = 16,
    max_asks: Annotated[int, typer.Option(help="Asks per judgment until a verdict parses.")] = 3,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute cap.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute cap.")] = None,
) -> None:
    """Judge A against B, every pair in both orders, and write the report."""
    from plugdata.eval.compare import judge_folders
    from plugdata.eval.report import rich_table

    if max_asks < 1 or concurrency < 1:
        raise PlugdataError("--max-asks and --concurrency must be at least 1")
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("judging (both orders)", total=None)
        report = judge_folders(
            a_dir,
            b_dir,
            out_dir,
            judge_model=judge_model,
            base_url=base_url,
            api_key=api_key,
            intersect=intersect,
            langs=_langs(langs) if langs else None,
            wrong_language=wrong_language,
            prompt=prompt,
            concurrency=concurrency,
            max_asks=max_asks,
            rpm=rpm,
            tpm=tpm,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    out.print(rich_table(report))
    out.print(f"Report written to {out_dir}/report.json, report.md and report.png")
    out.print(f"Report: {Path(out_dir) / 'report.html'}", soft_wrap=True)


@eval_app.command()
def report(
    out_dir: Annotated[
        str, typer.Argument(metavar="OUT_DIR", help="A folder written by `plugdata eval judge`.")
    ],
) -> None:
    """Print the table of a judged comparison again."""
    from plugdata.eval.report import read_report, rich_table

    out.print(rich_table(read_report(out_dir)))
    if (Path(out_dir) / "report.html").is_file():
        out.print(f"Report: {Path(out_dir) / 'report.html'}", soft_wrap=True)
