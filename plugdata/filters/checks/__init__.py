"""The registry of checks, in the order they run and report.

Each check lives in a module of its own (its name, sub-reasons, the config fields it reads and
what it catches are at the top of the module) and exposes one :class:`~plugdata.filters.check.
Check` as ``CHECK``. A new check is a module here and a line in :data:`REGISTRY`; one that is
not run unless named (``default=False``) stays out of :data:`DEFAULT_FILTERS`.
"""

from __future__ import annotations

from plugdata.filters.check import Check
from plugdata.filters.checks import (
    adequacy,
    duplicate,
    empty,
    langid,
    leakage,
    length_ratio,
    refusal,
    repetition,
    script,
    structure,
    truncated,
    untranslated,
)

REGISTRY: tuple[Check, ...] = (
    empty.CHECK,
    truncated.CHECK,
    leakage.CHECK,
    refusal.CHECK,
    structure.CHECK,
    untranslated.CHECK,
    length_ratio.CHECK,
    script.CHECK,
    langid.CHECK,
    repetition.CHECK,
    duplicate.CHECK,
    adequacy.CHECK,
)
CHECKS: dict[str, Check] = {check.name: check for check in REGISTRY}
DEFAULT_FILTERS: tuple[str, ...] = tuple(check.name for check in REGISTRY if check.default)
