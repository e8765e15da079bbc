"""Test helpers shipped with plugdata: an OpenAI-compatible server that runs offline.

Names are imported on first use, so ``python -m plugdata.testing.server`` starts cleanly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each public name and its module, imported on first use; the TYPE_CHECKING block says the same
# as imports (tests/test_codebase.py keeps the two equal).
_EXPORTS = {
    "FAULT_KINDS": "plugdata.testing.faults",
    "Fault": "plugdata.testing.faults",
    "fault_mix": "plugdata.testing.faults",
    "FakeOpenAIServer": "plugdata.testing.server",
    "tag_answer": "plugdata.testing.server",
    "tag_translate": "plugdata.testing.server",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'plugdata.testing' has no attribute {name!r}")


if TYPE_CHECKING:
    from plugdata.testing.faults import FAULT_KINDS, Fault, fault_mix
    from plugdata.testing.server import FakeOpenAIServer, tag_answer, tag_translate
