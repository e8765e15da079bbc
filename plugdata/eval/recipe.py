"""The prompt recipe shared with training: format, system prompt, pivot; and the prompts it gives.

Prompts are built by the very code that built the training rows (``plugdata.formats``), with the
assistant turn left off, so an evaluated model sees what it was trained on. The recipe is read,
in this order, from:

1. ``plugdata_train.json`` in the model folder or the folder above it (``plugdata train --out``):
   ``{"format", "system_prompt", "no_system", "pivot", "data"}``, where ``data`` may name the run
   directory the model was trained on;
2. a run directory's ``config.yaml`` (``--data`` here, or ``data`` above): its
   ``system_prompt``, ``no_system`` and ``pivot``;
3. the flags (``--format``, ``--system-prompt``, ``--no-system``, ``--pivot``), else the defaults.

A flag that contradicts a recorded value is an error: nothing differs silently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plugdata.errors import PlugdataError
from plugdata.formats import FORMATS, MIXED_FORMATS, format_rows

TRAIN_RECIPE = "plugdata_train.json"
PLUG_FORMATS = ("plug", "plug-target-first")
KEYS = ("format", "system_prompt", "no_system", "pivot")
_DEFAULTS: dict[str, Any] = {
    "format": "plug",
    "system_prompt": None,
    "no_system": False,
    "pivot": "en",
}


@dataclass(frozen=True)
class Recipe:
    """How prompts are built; ``sources`` says where each value came from."""

    format: str = "plug"
    system_prompt: str | None = None
    no_system: bool = False
    pivot: str = "en"
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def extracts(self) -> bool:
        """Whether answers are the target block of a PLUG reply (else the whole reply)."""
        return self.format in PLUG_FORMATS

    def to_dict(self) -> dict[str, Any]:
        """The recipe and the origin of each value, for ``generation.json``."""
        return asdict(self)


def _train_recipe(model: str | None) -> tuple[dict[str, Any], Path | None]:
    if not model:
        return {}, None
    folder = Path(model)
    for candidate in (folder / TRAIN_RECIPE, folder.parent / TRAIN_RECIPE):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise PlugdataError(f"cannot read the training recipe {candidate}: {exc}") from None
            if not isinstance(data, dict):
                raise PlugdataError(f"{candidate}: the training recipe must be a JSON object")
            return data, candidate
    return {}, None


def _run_config(data: str | None) -> tuple[dict[str, Any], Path | None]:
    if not data:
        return {}, None
    path = Path(data) / "config.yaml"
    if not path.is_file():
        return {}, None
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PlugdataError(f"cannot read {path}: {exc}") from None
    return {k: config[k] for k in ("system_prompt", "no_system", "pivot") if k in config}, path


def resolve_recipe(model: str | None, data: str | None = None, **flags: Any) -> Recipe:
    """The recipe for ``model``: recorded values first, flags (not None) where none is recorded."""
    trained, trained_at = _train_recipe(model)
    built, built_at = _run_config(data or trained.get("data"))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        for recorded, where in ((trained, trained_at), (built, built_at)):
            if key in recorded and key not in values:
                values[key], sources[key] = recorded[key], str(where)
        given = flags.get(key)
        if given is None:
            continue
        if key in values and values[key] != given:
            raise PlugdataError(
                f"--{key.replace('_', '-')} {given!r} contradicts {values[key]!r} recorded in "
                f"{sources[key]}; leave the flag out to evaluate as trained"
            )
        values.setdefault(key, given)
        sources.setdefault(key, "flag")
    for key in KEYS:
        if key not in values:
            values[key], sources[key] = _DEFAULTS[key], "default"
    fmt = values["format"]
    if fmt not in FORMATS and fmt not in MIXED_FORMATS:
        raise PlugdataError(
            f"unknown format {fmt!r}; known: {', '.join([*FORMATS, *MIXED_FORMATS])}"
        )
    return Recipe(fmt, values["system_prompt"], bool(values["no_system"]), values["pivot"], sources)


def prompt_messages(recipe: Recipe, instruction: str, target: str) -> list[dict[str, str]]:
    """System and user turns for one benchmark instruction, as the training rows had them.

    The benchmark gives one instruction, in the target language, and it fills both instruction
    fields; mixed sets (``multilingual``) are asked as their target-language part (``mono``).
    """
    fmt = recipe.format
    if fmt in MIXED_FORMATS:
        fmt = MIXED_FORMATS[fmt][-1]
    pair = {
        "id": "eval",
        "pivot_lang": recipe.pivot,
        "target_lang": target,
        "pivot_instruction": instruction,
        "pivot_input": "",
        "pivot_output": "",
        "target_instruction": instruction,
        "target_input": "",
        "target_output": "",
    }
    (row,) = format_rows(
        [pair], fmt, system_prompt=recipe.system_prompt, no_system=recipe.no_system, shuffle=False
    )
    return [m for m in row["messages"] if m["role"] != "assistant"]
