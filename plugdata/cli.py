"""The ``plugdata`` command line."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from plugdata import __version__
from plugdata.errors import PlugdataError

app = typer.Typer(
    help="Build pivot-guided (PLUG) multilingual instruction-tuning corpora.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold API keys
)
err = Console(stderr=True)
out = Console()


def _version(value: bool) -> None:
    if value:
        out.print(f"plugdata {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Build pivot-guided (PLUG) multilingual instruction-tuning corpora."""


@app.command()
def build(
    source: Annotated[
        str,
        typer.Option(
            help="Named source (see `plugdata sources`), hf:OWNER/NAME, "
            "a .json/.jsonl/.parquet/.csv file or a dataset folder."
        ),
    ],
    targets: Annotated[
        str, typer.Option(help="Comma-separated target languages, e.g. zh,ko,it,es.")
    ],
    model: Annotated[str, typer.Option(help="Translation model name on the server.")],
    base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible API base URL (default: $OPENAI_BASE_URL, else OpenAI)."
        ),
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="API key (default: $OPENAI_API_KEY); never written to disk.")
    ] = None,
    pivot: Annotated[str, typer.Option(help="Pivot language: the source's language.")] = "en",
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Run directory (default: corpora/SOURCE-TIMESTAMP).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Use at most this many source records.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Shuffle the source with this seed before --limit.")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Column mapping, e.g. instruction=question,input=context,output=answer."),
    ] = None,
    split: Annotated[str, typer.Option(help="Split of a Hub dataset.")] = "train",
    formats: Annotated[
        str,
        typer.Option(
            help="Formats to build: plug, plug-target-first, mono, "
            "pivot-only, code-switch, multilingual."
        ),
    ] = "plug,mono,pivot-only",
    prompt: Annotated[
        str, typer.Option(help="Translation prompt version or a YAML file.")
    ] = "translate/v1",
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.0,
    max_tokens: Annotated[int | None, typer.Option(help="Output token budget per request.")] = None,
    response_format: Annotated[
        str, typer.Option(help="auto, json_schema, json_object or none.")
    ] = "auto",
    system_prompt: Annotated[
        str | None,
        typer.Option(
            help="System prompt for the training rows ({pivot} and {target} are filled in)."
        ),
    ] = None,
    no_system: Annotated[
        bool,
        typer.Option(
            "--no-system",
            help="Put the guidance in the user turn (for templates without a system role).",
        ),
    ] = False,
    file_format: Annotated[str, typer.Option(help="parquet or jsonl.")] = "parquet",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out directory.")] = False,
) -> None:
    """Translate a source into target languages and build PLUG and baseline training sets."""
    from plugdata.pipeline import BuildConfig
    from plugdata.pipeline import build as run_build

    if response_format not in ("auto", "json_schema", "json_object", "none"):
        raise PlugdataError("--response-format must be auto, json_schema, json_object or none")
    config = BuildConfig(
        source=source, targets=targets, model=model, pivot=pivot, base_url=base_url,
        api_key=api_key, out=out_dir, limit=limit, seed=seed, columns=columns, split=split,
        formats=formats, prompt=prompt, concurrency=concurrency, temperature=temperature,
        max_tokens=max_tokens, response_format=response_format,  # type: ignore[arg-type]
        system_prompt=system_prompt, no_system=no_system, file_format=file_format,
        overwrite=overwrite,
    )  # fmt: skip
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rejected]} rejected"), TextColumn("{task.fields[tokens]} tok"),
        TimeRemainingColumn(), console=err, transient=True,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def on_start(counts: dict[str, int]) -> None:
        progress.start()
        for lang, total in counts.items():
            tasks[lang] = progress.add_task(
                f"{config.pivot}→{lang}", total=total, rejected=0, tokens=0
            )

    def on_pair(pair: dict[str, Any]) -> None:
        task = tasks[pair["target_lang"]]
        fields = progress.tasks[task].fields
        progress.update(
            task,
            advance=1,
            rejected=fields["rejected"] + (not pair["kept"]),
            tokens=fields["tokens"] + pair["prompt_tokens"] + pair["completion_tokens"],
        )

    try:
        result = run_build(config, on_pair=on_pair, on_start=on_start)
    finally:
        progress.stop()
    _print_summary(result.stats)
    out.print(f"Run directory: [bold]{result.out}[/bold]")


def _print_summary(stats: dict[str, Any]) -> None:
    table = Table(title="Pairs per language")
    for name in ("language", "pairs", "kept", "rejected", "reasons", "tokens"):
        table.add_column(name)
    for lang, row in stats["languages"].items():
        reasons = ", ".join(f"{k}={v}" for k, v in row["reasons"].items()) or "-"
        tokens = row["prompt_tokens"] + row["completion_tokens"]
        table.add_row(
            lang, str(row["pairs"]), str(row["kept"]), str(row["rejected"]), reasons, str(tokens)
        )
    out.print(table)
    for reason, count in stats["source_skipped"].items():
        out.print(f"skipped {count} source record(s): {reason}")


@app.command()
def sources() -> None:
    """List the named sources."""
    from plugdata.sources import NAMED_SOURCES

    table = Table()
    for name in ("name", "dataset", "licence", "description"):
        table.add_column(name)
    for s in NAMED_SOURCES.values():
        table.add_row(s.name, s.hub_id or "(bundled)", s.license, s.description)
    out.print(table)
    out.print(
        "Also: hf:OWNER/NAME for any Hub dataset, or a local .json/.jsonl/.parquet/.csv file."
    )


@app.command()
def languages() -> None:
    """List the registered languages and their PLUG labels."""
    from plugdata.languages import LANGUAGES

    table = Table()
    for name in ("code", "name", "native", "script", "instruction label", "response label"):
        table.add_column(name)
    for lang in LANGUAGES.values():
        table.add_row(
            lang.code,
            lang.name,
            lang.native_name,
            lang.script,
            lang.instruction_label,
            lang.response_label,
        )
    out.print(table)


def main() -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit."""
    try:
        app(standalone_mode=False)
    except PlugdataError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", highlight=False, markup=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
