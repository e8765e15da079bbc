"""Public names of a package imported on first use.

A package lists each public name with the module it lives in, and repeats the same imports
under ``TYPE_CHECKING`` so that type checkers and the layers contract see them
(``tests/test_codebase.py`` keeps the two equal)::

    _EXPORTS = {"PairFilter": "plugdata.filters.pair_filter"}
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names ``exports`` places."""

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted(exports)

    return getattr_, dir_
