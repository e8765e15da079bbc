"""The ``plugdata`` command line."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
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


def _opt(help: str, *names: str, panel: str = "Options") -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel)


SRC, MODEL, ENGINE, OUT = "Source", "Model server", "Engine and cost", "Output"


@app.command()
def build(
    source: Annotated[
        str,
        _opt(
            "Named source (see `plugdata sources`), hf:OWNER/NAME, a "
            ".json/.jsonl/.parquet/.csv file or a dataset folder.",
            panel=SRC,
        ),
    ],
    targets: Annotated[str, _opt("Comma-separated target languages, e.g. zh,ko,it,es.", panel=SRC)],
    model: Annotated[str, _opt("Translation model name on the server.", panel=MODEL)],
    pivot: Annotated[str, _opt("Pivot language: the source's language.", panel=SRC)] = "en",
    limit: Annotated[int | None, _opt("Use at most this many source records.", panel=SRC)] = None,
    seed: Annotated[
        int | None, _opt("Shuffle the source with this seed before --limit.", panel=SRC)
    ] = None,
    columns: Annotated[
        str | None,
        _opt("Column mapping, e.g. instruction=question,input=context,output=answer.", panel=SRC),
    ] = None,
    split: Annotated[str, _opt("Split of a Hub dataset.", panel=SRC)] = "train",
    base_url: Annotated[
        str | None,
        _opt(
            "OpenAI-compatible API base URL (default: $OPENAI_BASE_URL, else OpenAI).", panel=MODEL
        ),
    ] = None,
    api_key: Annotated[
        str | None, _opt("API key (default: $OPENAI_API_KEY); never written to disk.", panel=MODEL)
    ] = None,
    prompt: Annotated[
        str, _opt("Translation prompt version or a YAML file.", panel=MODEL)
    ] = "translate/v1",
    temperature: Annotated[float, _opt("Sampling temperature for translation.", panel=MODEL)] = 0.0,
    max_output_tokens: Annotated[
        int | None, _opt("Output token budget per request.", panel=MODEL)
    ] = None,
    response_format: Annotated[
        str, _opt("auto, json_schema, json_object or none.", panel=MODEL)
    ] = "auto",
    generate: Annotated[
        str | None,
        _opt(
            "pivot: regenerate pivot responses with the generator "
            "model; target: answer target instructions directly.",
            panel=MODEL,
        ),
    ] = None,
    generator_model: Annotated[
        str | None, _opt("Model for --generate (default: --model).", panel=MODEL)
    ] = None,
    generator_temperature: Annotated[
        float, _opt("Sampling temperature for --generate.", panel=MODEL)
    ] = 0.7,
    concurrency: Annotated[int, _opt("Requests in flight at once.", panel=ENGINE)] = 16,
    rpm: Annotated[float | None, _opt("Requests-per-minute limit.", panel=ENGINE)] = None,
    tpm: Annotated[float | None, _opt("Tokens-per-minute limit (estimated).", panel=ENGINE)] = None,
    max_attempts: Annotated[
        int, _opt("Tries per request on 429, 5xx, timeouts and dropped connections.", panel=ENGINE)
    ] = 6,
    timeout: Annotated[float, _opt("Seconds before a request times out.", panel=ENGINE)] = 120.0,
    backoff: Annotated[
        float,
        _opt(
            "First retry wait in seconds; doubles each try (with jitter) "
            "unless the server sends Retry-After.",
            panel=ENGINE,
        ),
    ] = 1.0,
    dry_run: Annotated[
        bool, _opt("Estimate requests, tokens and cost; send nothing.", "--dry-run", panel=ENGINE)
    ] = False,
    max_cost: Annotated[
        float | None, _opt("Stop (resumably) once this many USD are spent.", panel=ENGINE)
    ] = None,
    price_in: Annotated[
        float | None,
        _opt("USD per million input tokens (overrides the price table).", panel=ENGINE),
    ] = None,
    price_out: Annotated[float | None, _opt("USD per million output tokens.", panel=ENGINE)] = None,
    no_filter: Annotated[
        bool,
        _opt("Keep every translated pair (no quality filters).", "--no-filter", panel="Filters"),
    ] = False,
    filters: Annotated[
        str | None,
        _opt(
            "Checks to run (default: all): empty, truncated, leakage, "
            "refusal, structure, untranslated, length_ratio, script, "
            "langid, repetition, duplicate.",
            panel="Filters",
        ),
    ] = None,
    lid_backend: Annotated[
        str, _opt("Language ID: fasttext (lid.176) or langdetect.", panel="Filters")
    ] = "fasttext",
    thresholds: Annotated[
        str | None,
        _opt("Filter thresholds, e.g. lid_min_prob=0.5,length_ratio_high=3.", panel="Filters"),
    ] = None,
    out_dir: Annotated[
        str | None, _opt("Run directory (default: corpora/SOURCE-TIMESTAMP).", "--out", panel=OUT)
    ] = None,
    formats: Annotated[
        str,
        _opt(
            "Formats to build: plug, plug-target-first, mono, pivot-only, "
            "code-switch, multilingual.",
            panel=OUT,
        ),
    ] = "plug,mono,pivot-only",
    system_prompt: Annotated[
        str | None,
        _opt(
            "System prompt for the training rows ({pivot} and {target} are filled in).", panel=OUT
        ),
    ] = None,
    no_system: Annotated[
        bool,
        _opt(
            "Put the guidance in the user turn (for templates without a system role).",
            "--no-system",
            panel=OUT,
        ),
    ] = False,
    file_format: Annotated[str, _opt("parquet or jsonl.", panel=OUT)] = "parquet",
    chat_template: Annotated[
        str | None,
        _opt(
            "Render rows with this model's chat template (Hub "
            "id or local folder) into a text column with "
            "token counts.",
            panel=OUT,
        ),
    ] = None,
    max_tokens: Annotated[
        int | None, _opt("Drop (and count) rendered rows longer than this many tokens.", panel=OUT)
    ] = None,
    push_to_hub: Annotated[
        str | None,
        _opt("Upload the run to this Hub dataset repo (OWNER/NAME) when done.", panel=OUT),
    ] = None,
    private: Annotated[bool, _opt("Make the Hub repo private.", panel=OUT)] = False,
    overwrite: Annotated[bool, _opt("Replace an existing --out directory.", panel=OUT)] = False,
) -> None:
    """Translate a source into target languages and build PLUG and baseline training sets.

    Re-running the same command after a crash, Ctrl-C or --max-cost resumes: completed
    requests are replayed from the run's request cache and only the rest are sent.
    """
    from plugdata.pipeline import BuildConfig, estimate
    from plugdata.pipeline import build as run_build

    if response_format not in ("auto", "json_schema", "json_object", "none"):
        raise PlugdataError("--response-format must be auto, json_schema, json_object or none")
    config = BuildConfig(
        source=source, targets=targets, model=model, pivot=pivot, base_url=base_url,
        api_key=api_key, out=out_dir, limit=limit, seed=seed, columns=columns, split=split,
        formats=formats, prompt=prompt, concurrency=concurrency, temperature=temperature,
        max_output_tokens=max_output_tokens, response_format=response_format,  # type: ignore[arg-type]
        system_prompt=system_prompt, no_system=no_system, file_format=file_format,
        overwrite=overwrite, rpm=rpm, tpm=tpm, max_attempts=max_attempts, timeout=timeout, retry_initial=backoff,
        max_cost=max_cost, price_in=price_in, price_out=price_out,
        generate=generate,  # type: ignore[arg-type]
        generator_model=generator_model, generator_temperature=generator_temperature,
        filters=filters, no_filter=no_filter, lid_backend=lid_backend, thresholds=thresholds,
        chat_template=chat_template, max_tokens=max_tokens, push_to_hub=push_to_hub,
        private=private,
    )  # fmt: skip
    if dry_run:
        _print_estimate(estimate(config))
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[rejected]} rejected"),
        TextColumn("{task.fields[tokens]:,} tok"), TextColumn("${task.fields[cost]:.4f}"),
        TimeRemainingColumn(), console=err, transient=True,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def on_start(counts: dict[str, int]) -> None:
        progress.start()
        for lang, total in counts.items():
            tasks[lang] = progress.add_task(f"{config.pivot}→{lang}", total=total, rejected=0,
                                            tokens=0, cost=0.0, rate="")  # fmt: skip

    def on_pair(pair: dict[str, Any]) -> None:
        task = tasks[pair["target_lang"]]
        state = progress.tasks[task]
        fields = state.fields
        speed = state.speed
        progress.update(
            task, advance=1, rejected=fields["rejected"] + (not pair["kept"]),
            tokens=fields["tokens"] + pair["prompt_tokens"] + pair["completion_tokens"],
            cost=fields["cost"] + pair["cost_usd"], rate=f"{speed:.1f}/s" if speed else "",
        )  # fmt: skip

    try:
        result = run_build(config, on_pair=on_pair, on_start=on_start)
    finally:
        progress.stop()
    _print_summary(result.stats)
    out.print(f"Run directory: [bold]{result.out}[/bold]")
    pushed = result.stats.get("pushed")
    if pushed:
        out.print(f"Pushed {pushed['files']} files to {pushed['repo']}: {pushed['commit_url']}")


def _print_estimate(plan: dict[str, Any]) -> None:
    table = Table(title=f"Dry run: {plan['records']} records, model {plan['model']} (nothing sent)")
    for name in ("language", "requests", "input tokens", "output tokens", "cost (USD)"):
        table.add_column(name, justify="right")
    rows = [*plan["languages"].items(), ("total", plan["totals"])]
    for lang, row in rows:
        cost = f"{row['cost_usd']:.4f}" if plan["price_known"] else "unknown"
        table.add_row(lang, f"{row['requests']:,}", f"{row['input_tokens']:,}",
                      f"{row['output_tokens']:,}", cost)  # fmt: skip
    out.print(table)
    if not plan["price_known"]:
        out.print(
            "No price known for this model: pass --price-in/--price-out (USD per million tokens)."
        )


def _print_summary(stats: dict[str, Any]) -> None:
    table = Table(title="Pairs per language")
    for name in ("language", "pairs", "kept", "rejected", "reasons", "tokens", "cost (USD)"):
        table.add_column(name)
    for lang, row in stats["languages"].items():
        reasons = ", ".join(f"{k}={v}" for k, v in row["reasons"].items()) or "-"
        tokens = row["prompt_tokens"] + row["completion_tokens"]
        table.add_row(lang, str(row["pairs"]), str(row["kept"]), str(row["rejected"]), reasons,
                      f"{tokens:,}", f"{row['cost_usd']:.4f}")  # fmt: skip
    out.print(table)
    for fmt, per_lang in stats.get("tokens", {}).items():
        for lang, t in per_lang.items():
            dropped = stats["dropped_too_long"][fmt][lang]
            out.print(f"{fmt}-{lang}: {t['rows']} rows, tokens mean {t['mean']}, p95 {t['p95']}, "
                      f"max {t['max']}" + (f", {dropped} dropped as too long" if dropped else ""))  # fmt: skip
    run = stats.get("this_run", {})
    if run.get("replayed_from_cache"):
        out.print(f"Replayed {run['replayed_from_cache']} request(s) from the cache; "
                  f"sent {run['requests_sent']}.")  # fmt: skip
    for reason, count in stats["source_skipped"].items():
        out.print(f"skipped {count} source record(s): {reason}")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def train(ctx: typer.Context) -> None:
    """Fine-tune a model on a built set (TRL SFTTrainer); `plugdata train --help` lists flags."""
    from plugdata.train import main as train_main

    train_main(list(ctx.args))


@app.command(name="accelerate-config")
def accelerate_config(
    name: Annotated[str, typer.Argument(help="ddp, fsdp2 or zero3.")],
) -> None:
    """Print the path of a bundled accelerate config, for `accelerate launch --config_file`."""
    from plugdata.resources import accelerate_config as find

    out.print(str(find(name)), soft_wrap=True)


@app.command(name="filter")
def filter_command(
    pairs_file: Annotated[
        str, typer.Argument(help="Pairs file (Parquet or JSONL) with the pair columns of a build.")
    ],
    out_dir: Annotated[
        str,
        typer.Option("--out", help="Folder for the kept pairs, rejected.parquet and stats.json."),
    ],
    filters: Annotated[str | None, typer.Option(help="Checks to run (default: all).")] = None,
    lid_backend: Annotated[str, typer.Option(help="fasttext or langdetect.")] = "fasttext",
    thresholds: Annotated[str | None, typer.Option(help="e.g. lid_min_prob=0.5")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
) -> None:
    """Run the quality filters on any pairs file; write kept and rejected pairs and the funnel."""
    from plugdata.filters import FilterConfig, filter_frame, parse_filters
    from plugdata.filters.io import read_pair_frame, write_filtered

    names = parse_filters(filters)
    config = FilterConfig.parse(thresholds, lid_backend=lid_backend)
    frame = read_pair_frame(pairs_file)
    result, stats = filter_frame(frame, names, config)
    dest = write_filtered(result, stats, out_dir, overwrite=overwrite)
    _print_funnel(stats)
    out.print(f"Kept and rejected pairs written to [bold]{dest}[/bold]")


def _print_funnel(stats: dict[str, Any]) -> None:
    table = Table(title="Filter funnel")
    for name in ("language", "checked", "kept", "rejected", "reasons"):
        table.add_column(name)
    for lang, row in stats["languages"].items():
        reasons = ", ".join(f"{k}={v}" for k, v in row["reasons"].items()) or "-"
        table.add_row(lang, str(row["checked"]), str(row["kept"]), str(row["rejected"]), reasons)
    out.print(table)


@app.command()
def push(
    run_dir: Annotated[str, typer.Argument(help="A run directory written by `plugdata build`.")],
    repo: Annotated[str, typer.Option(help="Hub dataset repo, OWNER/NAME.")],
    private: Annotated[bool, typer.Option(help="Create the repo as private.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be uploaded.")
    ] = False,
) -> None:
    """Upload a run (card, chart, data) to the Hugging Face Hub in one commit."""
    from plugdata.hub import push_run

    result = push_run(run_dir, repo, private=private, dry_run=dry_run)
    if dry_run:
        out.print(f"Would upload {len(result.files)} files to {repo}:")
        for name in result.files:
            out.print(f"  {name}")
        return
    out.print(f"Uploaded {len(result.files)} files to {repo}: {result.commit_url}")


@app.command()
def extract(
    file: Annotated[str, typer.Argument(help="JSON or JSONL file of model outputs.")],
    target: Annotated[str, typer.Option(help="Target language of the answers.")],
    pivot: Annotated[str, typer.Option(help="Pivot language of the PLUG blocks.")] = "en",
    field: Annotated[str, typer.Option(help="Field holding the model's text.")] = "output",
    out_path: Annotated[
        str | None, typer.Option("--out", help="Where to write (default: FILE.extracted.jsonl).")
    ] = None,
) -> None:
    """Recover final answers from PLUG-style outputs, with a status per row."""
    from pathlib import Path

    from plugdata.export import write_records
    from plugdata.extract import extract_rows
    from plugdata.sources import read_records

    path = Path(file)
    rows = read_records(path)
    if not all(isinstance(row, dict) for row in rows):
        raise PlugdataError(f"{path}: every record must be a JSON object")
    extracted, counts = extract_rows(rows, target, pivot=pivot, field=field)
    dest = Path(out_path) if out_path else path.with_name(f"{path.stem}.extracted.jsonl")
    write_records(dest, extracted)
    table = Table(title=f"{len(rows)} outputs, target {target}")
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status, count in counts.items():
        table.add_row(status, str(count))
    out.print(table)
    out.print(f"Answers written to [bold]{dest}[/bold]")


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
        from plugdata.pipeline import Interrupted
        from plugdata.pricing import BudgetExceeded

        label = "stopped" if isinstance(exc, (Interrupted, BudgetExceeded)) else "error"
        err.print(
            f"[bold red]{label}:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(
            130 if isinstance(exc, Interrupted) else 3 if isinstance(exc, BudgetExceeded) else 2
        )
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
