"""``plugdata build``: one option per :class:`~plugdata.config.BuildConfig` field, the run with
its progress, and the summary or the dry run's estimate."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from plugdata.cli_output import err, out, print_summary
from plugdata.errors import PlugdataError


def flag_of(name: str) -> str:
    """The command-line flag of a BuildConfig field (``max_cost`` -> ``--max-cost``)."""
    from plugdata.config import config_fields

    for f in config_fields():
        if f.name == name:
            return "--" + (f.metadata.get("flag") or name.replace("_", "-"))
    return name


def build_parameters() -> list[inspect.Parameter]:
    """One option per BuildConfig field (lists and mappings as comma-separated text)."""
    from plugdata.config import BuildConfig, config_fields, default_of

    hints = typing.get_type_hints(BuildConfig)
    params = []
    for f in config_fields():
        meta, default = f.metadata, default_of(f)
        # bool, int and float options keep their type; lists, mappings and paths are text
        hint = hints[f.name]  # `float | None` is a float option; `dict[str, float]` is text
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        members = typing.get_args(hint) if union else (hint,)
        scalar = [t for t in (bool, int, float) if t in members]
        kind: Any = scalar[0] if scalar else str
        if isinstance(default, (list, tuple)):
            default = ",".join(default)
        elif isinstance(default, dict) or default == {}:
            default = None
        option = typer.Option(
            flag_of(f.name),
            help=escape(meta["help"]),  # [ray] is no markup
            rich_help_panel=meta["panel"],
            show_default=not (default is None or default is False or default == ""),
        )
        required = bool(meta["required"])
        cli_type = kind if required or default is not None else kind | None
        annotation = Annotated[cli_type, option]
        params.append(
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=annotation,
                default=inspect.Parameter.empty if required else default,
            )
        )
    extra = {
        "dry_run": ("--dry-run", "Estimate requests, tokens and cost; send nothing."),
        "no_filter": ("--no-filter", "Keep every translated pair (no quality filters)."),
    }
    for name, (flag, help_text) in extra.items():
        option = typer.Option(flag, help=help_text, rich_help_panel="Run")
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[bool, option],
                default=False,
            )
        )
    return params


def paragraphs(doc: str) -> str:
    """A docstring as whole paragraphs: rich help keeps the line breaks of later paragraphs,
    which leaves orphan words when the terminal is narrower than the source lines."""
    return "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(doc).split("\n\n"))


def build(**options: Any) -> None:
    """Translate a source into target languages and build PLUG and baseline training sets.

    Re-running the same command after a crash, Ctrl-C or --max-cost resumes: completed
    requests are replayed from the run's request cache and only the rest are sent.
    """
    from plugdata.cli_progress import BuildProgress
    from plugdata.config import BuildConfig
    from plugdata.pipeline import build as run_build
    from plugdata.pipeline import estimate

    dry_run, no_filter = options.pop("dry_run"), options.pop("no_filter")
    if no_filter:
        if options.get("filters") is not None:
            raise PlugdataError("--no-filter and --filters cannot be used together")
        options["filters"] = []
    config = BuildConfig(**{k: v for k, v in options.items() if v is not None or k == "filters"})
    if dry_run:
        print_estimate(estimate(config))
        return
    progress = BuildProgress(err, config.pivot, config.log_interval)
    try:
        result = run_build(
            config,
            on_pair=progress.on_pair,
            on_start=progress.on_start,
            on_status=progress.on_status,
            on_rejected=progress.on_rejected,
        )
    except BaseException:
        progress.stop()
        raise
    progress.stop(finished=True)
    print_summary(out, result.stats)
    out.print(f"Run directory: [bold]{result.out}[/bold]")
    pushed = result.stats.get("pushed")
    if pushed:
        out.print(f"Pushed {pushed['files']} files to {pushed['repo']}: {pushed['commit_url']}")
    if (result.out / "report.html").is_file():
        out.print(f"Report: {result.out / 'report.html'}", soft_wrap=True)


def print_estimate(plan: dict[str, Any]) -> None:
    if plan.get("translator") == "mt":
        from plugdata.cli_estimate import print_mt_estimate

        print_mt_estimate(out, plan)
        return
    priced = ", Batch API price" if plan.get("batch_api") else ""
    table = Table(
        title=f"Dry run: {plan['records']} records, model {plan['model']}{priced} (nothing sent)"
    )
    for name in ("language", "requests", "input tokens", "output tokens", "cost (USD)"):
        table.add_column(name, justify="right")
    for lang, row in [*plan["languages"].items(), ("total", plan["totals"])]:
        cost = f"{row['cost_usd']:.4f}" if plan["price_known"] else "unknown"
        table.add_row(
            lang,
            f"{row['requests']:,}",
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            cost,
        )
    out.print(table)
    if not plan["price_known"]:
        out.print(
            "No price known for this model: pass --price-in/--price-out (USD per million tokens)."
        )


build.__signature__ = inspect.Signature(build_parameters())  # type: ignore[attr-defined]
