"""A checked build: resolved languages, the destination, and every pre-flight check.

Everything a run needs is checked here, before the first request is sent: the chat template
(and jinja2), that the output folder can be written, the Hub login for ``push_to_hub``, and for
the ``adequacy`` filter sentence-transformers and its model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugdata.config import BuildConfig, ConfigError
from plugdata.errors import PlugdataError
from plugdata.filters import DEFAULT_FILTERS, FilterConfig
from plugdata.formats import ChatRenderer, load_tokenizer
from plugdata.languages import Language, get_language
from plugdata.publish.hub import check_visibility


@dataclass
class Plan:
    """A checked config with its languages, destination, filters and chat renderer."""

    config: BuildConfig
    pivot: Language
    targets: list[Language]
    out: Path
    filters: list[str]
    filter_config: FilterConfig
    renderer: ChatRenderer | None = None


def make_plan(config: BuildConfig, *, preflight: bool = True) -> Plan:
    """Check ``config`` again (it may have been changed since it was made) and prepare."""
    config.validate()
    filters = list(DEFAULT_FILTERS) if config.filters is None else list(config.filters)
    renderer = chat_renderer(config) if preflight else None
    out = config.out if config.out is not None else default_out(config)
    filter_config = FilterConfig.parse(config.thresholds)
    if config.adequacy_model:
        filter_config.adequacy_model = config.adequacy_model
    plan = Plan(
        config,
        get_language(config.pivot),
        [get_language(t) for t in config.targets],
        out,
        filters,
        filter_config,
        renderer,
    )
    if preflight:
        check_writable(out)
        if "adequacy" in filters:  # the meaning check's encoder can be loaded
            from plugdata.filters.encoder import preflight as check_adequacy

            check_adequacy(filter_config)
        if config.push_to_hub:
            check_hub_login(config.push_to_hub)
            check_visibility(config.push_to_hub, config.private, config.change_visibility)
    return plan


def chat_renderer(config: BuildConfig) -> ChatRenderer | None:
    """The chat-template renderer of ``config`` (None without a chat template)."""
    if not config.chat_template:
        return None
    return ChatRenderer(load_tokenizer(config.chat_template), config.max_row_tokens)


def default_out(config: BuildConfig) -> Path:
    """``corpora/<source>-<timestamp>``, or the unfinished run of the same recipe to resume."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(config.source.removeprefix("hf:")).stem)
    name = name.strip("-") or "run"
    root = Path("corpora")
    identity = config.identity()
    for staging in sorted(root.glob(f".{name}-*.partial"), reverse=True):
        marker = staging / "identity"
        if marker.is_file() and marker.read_text().strip() == identity:
            return root / staging.name[1 : -len(".partial")]
    return root / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def check_writable(out: Path) -> None:
    """The folder that will hold ``out`` exists or can be made, and takes new entries. Nothing
    is left behind: the test runs in the nearest folder that exists."""
    parent = out.parent if str(out.parent) else Path(".")
    existing = parent.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            "out",
            f"cannot create the folder {parent}: {existing} is a file, not a folder; "
            "choose another --out",
        )
    probe = existing / f".plugdata-write-test-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:  # read-only, no permission, or a special filesystem such as /proc
        reason = exc.strerror or exc
        raise ConfigError(
            "out",
            f"cannot create folders in {existing} (the system says: {reason}); "
            "choose another --out",
        ) from None


def check_hub_login(repo: str) -> None:
    """A Hub token is set and valid, so the upload at the end cannot fail on login."""
    try:
        from huggingface_hub import HfApi

        user = HfApi(token=os.environ.get("HF_TOKEN") or None).whoami()
    except Exception as exc:  # no token, a bad token, or no network
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlugdataError(
            f"push_to_hub {repo}: cannot log in to the Hugging Face Hub ({detail}); set HF_TOKEN "
            "or run `hf auth login` first (checked before any request is sent)"
        ) from None
    if not user:
        raise PlugdataError(f"push_to_hub {repo}: no Hugging Face login")
