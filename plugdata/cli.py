"""The ``plugdata`` command line: a thin layer over the library.

``plugdata build``'s options are generated from :class:`~plugdata.config.BuildConfig`'s fields
(help, defaults and checks live there once); errors in a field are shown with its flag.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from plugdata import __version__
from plugdata.cli_build import build, flag_of, paragraphs
from plugdata.cli_output import err, out, print_funnel, use_plain_usage
from plugdata.errors import SIGNALS, Interrupted, PlugdataError, Terminated, stopped_by
from plugdata.eval.cli import eval_app

app = typer.Typer(
    help="Build pivot-guided (PLUG) multilingual instruction-tuning corpora.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold API keys
)


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


app.command(name="build", help=paragraphs(build.__doc__ or ""))(build)


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
    name: Annotated[str, typer.Argument(metavar="NAME", help="ddp, fsdp2 or zero3.")],
) -> None:
    """Print the path of a bundled accelerate config, for `accelerate launch --config_file`."""
    from plugdata.resources import accelerate_config as find

    out.print(str(find(name)), soft_wrap=True)


app.add_typer(eval_app, name="eval")


@app.command(name="filter")
def filter_command(
    pairs_file: Annotated[
        str,
        typer.Argument(
            metavar="PAIRS_FILE",
            help="Pairs file (Parquet or JSONL) with the pair columns of a build.",
        ),
    ],
    out_dir: Annotated[
        str,
        typer.Option("--out", help="Folder for the kept pairs, rejected.parquet and stats.json."),
    ],
    filters: Annotated[
        str | None,
        typer.Option(help="Checks to run (default: all but adequacy; +adequacy adds it)."),
    ] = None,
    lid_backend: Annotated[
        str, typer.Option(help="Language ID: fasttext or langdetect.")
    ] = "fasttext",
    thresholds: Annotated[
        str | None, typer.Option(help="Thresholds, e.g. lid_min_prob=0.5.")
    ] = None,
    adequacy_model: Annotated[
        str | None,
        typer.Option(help="With +adequacy: a sentence-transformers model (Hub id or folder)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
) -> None:
    """Run the quality filters on any pairs file; write kept and rejected pairs and the funnel."""
    from plugdata.filters import FilterConfig, filter_frame, parse_filters
    from plugdata.pipeline.refilter import judged_again, read_pair_frame, write_filtered

    names = parse_filters(filters)
    config = FilterConfig.parse(thresholds)
    if adequacy_model:
        config.adequacy_model = adequacy_model
    if "adequacy" in names:
        from plugdata.filters.encoder import preflight

        preflight(config)
    frame = judged_again(read_pair_frame(pairs_file))  # loosened checks can keep a pair again
    result, stats = filter_frame(frame, names, config, lid_backend=lid_backend)
    dest = write_filtered(result, stats, out_dir, overwrite=overwrite)
    print_funnel(out, stats)
    out.print(f"Kept and rejected pairs written to [bold]{dest}[/bold]")


_VISIBILITY = "Visibility (default: an existing repo's own; the Hub's default for a new one)."
_CHANGE_VISIBILITY = typer.Option(
    "--change-visibility", help="Change an existing repo to --private/--public (else it stops)."
)


@app.command()
def report(
    folder: Annotated[
        str,
        typer.Argument(
            help="A run directory (plugdata build or filter) or a "
            "folder written by `plugdata eval judge`."
        ),
    ],
) -> None:
    """Write report.html into a run directory or a judged folder: one offline page to read it."""
    from plugdata.publish.report import write_build_report

    path = Path(folder)
    if not path.is_dir():
        raise PlugdataError(f"{path}: no such folder")
    if (path / "stats.json").is_file():
        page = write_build_report(path)
    elif (path / "report.json").is_file():
        from plugdata.eval.page import write_eval_page

        page = write_eval_page(path)
    else:
        raise PlugdataError(
            f"{path} has no stats.json (a run directory) or report.json (a "
            "folder judged by `plugdata eval judge`)"
        )
    out.print(f"Report: {page} ({page.stat().st_size / 1e6:.1f} MB)", soft_wrap=True)


@app.command()
def push(
    run_dir: Annotated[
        str, typer.Argument(metavar="RUN_DIR", help="A run directory written by `plugdata build`.")
    ],
    repo: Annotated[str, typer.Option(help="Hub dataset repo, OWNER/NAME.")],
    private: Annotated[bool | None, typer.Option("--private/--public", help=_VISIBILITY)] = None,
    change_visibility: Annotated[bool, _CHANGE_VISIBILITY] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be uploaded.")
    ] = False,
) -> None:
    """Upload a run (card, chart, data) to the Hugging Face Hub in one commit."""
    from plugdata.publish import push_run

    result = push_run(
        run_dir, repo, private=private, change_visibility=change_visibility, dry_run=dry_run
    )
    if dry_run:
        out.print(f"Would upload {len(result.files)} files to {repo}:")
        for name in result.files:
            out.print(f"  {name}")
        return
    out.print(f"Uploaded {len(result.files)} files to {repo}: {result.commit_url}")


@app.command()
def extract(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="JSON or JSONL file of model outputs.")
    ],
    target: Annotated[str, typer.Option(help="Target language of the answers.")],
    pivot: Annotated[str, typer.Option(help="Pivot language of the PLUG blocks.")] = "en",
    field: Annotated[str, typer.Option(help="Field holding the model's text.")] = "output",
    out_path: Annotated[
        str | None, typer.Option("--out", help="Where to write (default: FILE.extracted.jsonl).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Recover final answers from PLUG-style outputs, with a status per row."""
    from plugdata.formats import extract_rows
    from plugdata.publish import write_records
    from plugdata.sources import read_records

    path = Path(file)
    rows = read_records(path)
    if not all(isinstance(row, dict) for row in rows):
        raise PlugdataError(f"{path}: every record must be a JSON object")
    if not any(field in row for row in rows):
        raise PlugdataError(
            f"{path}: no record has the field {field!r} (pick it with --field; "
            f"fields here: {', '.join(rows[0]) if rows else 'none'})"
        )
    dest = Path(out_path) if out_path else path.with_name(f"{path.stem}.extracted.jsonl")
    if dest.exists() and not overwrite:
        raise PlugdataError(f"{dest} already exists; pass --overwrite or choose another --out")
    extracted, counts = extract_rows(rows, target, pivot=pivot, field=field)
    write_records(dest, extracted)
    table = Table(title=f"{len(rows)} outputs, target {target}")
    table.add_column("status")
    table.add_column("rows", justify="right")
    for status, count in counts.items():
        table.add_row(status, str(count))
    out.print(table)
    out.print(f"Answers written to [bold]{dest}[/bold]")


@app.command()
def batches(
    run_dir: Annotated[
        str,
        typer.Argument(
            metavar="RUN_DIR", help="The build's --out directory (running, stopped or finished)."
        ),
    ],
) -> None:
    """List a build's Batch API batches: shard, batch id, status and request counts."""
    from plugdata.pipeline import batch_ledgers

    ledgers = batch_ledgers(Path(run_dir))
    if not ledgers:
        raise PlugdataError(
            f"no Batch API ledger in {run_dir} (or in its staging folder); "
            "was it built with --batch-api?"
        )
    for role, ledger in ledgers.items():
        table = Table(title=f"{role}: {ledger.path}")
        for name in ("shard", "requests", "batch", "status", "answered", "resent"):
            table.add_column(name, no_wrap=name in ("shard", "batch"))
        for s in ledger.shards.values():
            answered = f"{s.kept:,}" if s.collected else f"({s.completed:,})"
            table.add_row(
                s.name,
                f"{s.requests:,}",
                s.batch_id or "-",
                s.status,
                answered,
                f"{s.resent:,}" if s.collected else "-",
            )
        out.print(table)
    out.print(
        "answered: results in the cache (in brackets: done so far on the server); "
        "resent: requests handed back to a new batch or the live API"
    )


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


use_plain_usage(app, eval_app)  # every command is registered by now


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Click's usage-error classes: typer ships its own copy of click, and may use click's."""
    found: list[type[BaseException]] = []
    for module in ("typer._click", "click"):
        try:
            found.append(__import__(module, fromlist=["ClickException"]).ClickException)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _fail(label: str, message: str, code: int) -> None:
    err.print(f"[bold red]{label}:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    if code in (130, 143):
        # Stopped by a signal, what completed already saved: exit now, with this code. Not
        # through the interpreter's exit, which waits for worker threads to finish work nobody
        # wants (a translation model's batch takes seconds), and which turns the code into a
        # death by SIGINT when the Ctrl-C came during an import.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM is handled as Ctrl-C is (paid work is kept, one line), then exits 143: the
    Ctrl-C handler in force is called (asyncio's cancels a running build cleanly)."""
    SIGNALS.add(signum)
    on_ctrl_c = signal.getsignal(signal.SIGINT)
    if callable(on_ctrl_c):
        on_ctrl_c(signal.SIGINT, frame)
        return
    raise Terminated()  # Ctrl-C is ignored here (a background job): unwind all the same


def main() -> None:
    """Entry point: user errors become one line on stderr and a non-zero exit; Ctrl-C and
    SIGTERM keep what completed and stop with one line (exit 130 and 143)."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = _invoke()
    except KeyboardInterrupt as exc:  # outside any command's own handling: nothing was written
        words, code = stopped_by(exc)
        _fail("stopped", f"{words}; nothing was written", code)
    if isinstance(code, int) and code == 130:  # typer's answer to a Ctrl-C it caught
        words, code = stopped_by(KeyboardInterrupt())
        _fail("stopped", f"{words}; nothing was written", code)
    sys.exit(code if isinstance(code, int) else 0)


def _invoke() -> Any:
    """Run the command; map every error a user can act on to one line and its exit code."""
    from plugdata.config import ConfigError

    usage = _usage_errors()
    try:
        return app(standalone_mode=False)
    except ConfigError as exc:
        _fail("error", f"{flag_of(exc.field)}: {exc.reason}", 2)
    except PlugdataError as exc:
        from plugdata.translate.batch import BatchesPending
        from plugdata.translate.pricing import BudgetExceeded

        if isinstance(exc, BatchesPending):  # --batch-detach did what was asked
            _fail("submitted", str(exc), 0)
        if isinstance(exc, Interrupted):
            _fail("stopped", str(exc), exc.exit_code)
        stopped = isinstance(exc, BudgetExceeded)
        _fail("stopped" if stopped else "error", str(exc), 3 if stopped else 2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _fail("aborted", "", 1)
    except usage as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]  # a bare `plugdata`: the help, exit 0
            sys.exit(0)
        command = getattr(getattr(exc, "ctx", None), "command_path", "plugdata")
        message = exc.format_message()  # type: ignore[attr-defined]
        _fail("error", f"{message} (see `{command} --help`)", 2)


if __name__ == "__main__":
    main()
