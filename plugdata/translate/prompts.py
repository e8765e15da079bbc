"""Versioned prompt templates kept as YAML files in ``prompts/``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

import yaml

from plugdata.errors import PlugdataError, first_line
from plugdata.resources import resource_dir


@dataclass(frozen=True)
class PromptTemplate:
    """A system and user template; ``version`` is recorded on every row it produced."""

    version: str
    system: str
    user: str

    def render(self, **values: str) -> list[dict[str, str]]:
        """Fill the ``$placeholders`` and return chat messages."""
        try:
            system = Template(self.system).substitute(values)
            user = Template(self.user).substitute(values)
        except KeyError as exc:
            raise PlugdataError(f"prompt {self.version} needs a value for {exc}") from None
        return [
            {"role": "system", "content": system.strip()},
            {"role": "user", "content": user.strip()},
        ]


@cache
def load_prompt(version: str) -> PromptTemplate:
    """Load a template by version, e.g. ``"translate/v1"`` (``prompts/translate/v1.yaml``).

    A path to a YAML file with the same keys is accepted too, for custom prompts.
    """
    path = Path(version)
    if path.suffix not in {".yaml", ".yml"}:
        path = resource_dir("prompts") / f"{version}.yaml"
    if not path.is_file():
        raise PlugdataError(f"prompt {version!r} not found (looked for {path})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PlugdataError(f"prompt file {path} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or first_line(exc)
        raise PlugdataError(f"prompt file {path} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        found = type(data).__name__ if data is not None else "nothing"
        raise PlugdataError(
            f"prompt file {path} must be a mapping with the string fields "
            f"version, system and user, not {found}"
        )
    missing = [key for key in ("version", "system", "user") if not isinstance(data.get(key), str)]
    if missing:
        raise PlugdataError(f"prompt file {path} lacks string field(s): {', '.join(missing)}")
    return PromptTemplate(data["version"], data["system"], data["user"])
