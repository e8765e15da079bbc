"""The way out when the Hub cannot be reached: what to fetch on a connected machine, and how
to point a build at the copied folders."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from plugdata.translate.mt.defaults import CHECKED


def local_folder(name: str) -> str:
    """Where the README suggests keeping a downloaded model: ``models/<name>``."""
    return f"models/{name.rstrip('/').split('/')[-1]}"


def download_command(name: str) -> str:
    """The ``hf download`` command that fetches what plugdata needs of ``name`` into
    :func:`local_folder` (the checked defaults name their files; others come whole)."""
    files = CHECKED[name].files if name in CHECKED else ()
    return shlex.join(["hf", "download", name, *files, "--local-dir", local_folder(name)])


def offline_message(missing: Mapping[str, Sequence[str]], detail: str) -> str:
    """One line: which models could not be downloaded, the commands that fetch them, and the
    ``--model`` value that uses the copied folders. ``missing`` maps a model to its languages."""
    names = ", ".join(f"{name} (for {','.join(langs)})" for name, langs in missing.items())
    commands = "; ".join(f"`{download_command(name)}`" for name in missing)
    spec = ",".join(
        f"{lang}={local_folder(name)}" for name, langs in missing.items() for lang in langs
    )
    return (
        f"cannot download {names}: the Hugging Face Hub is not reachable ({detail}). On a "
        f"machine with internet run {commands}; bring the models/ folder here and run "
        f"again with --model {spec} (or bring a Hugging Face cache and set HF_HOME and "
        f"HF_HUB_OFFLINE=1)"
    )
