"""Test helpers shipped with plugdata: an OpenAI-compatible server that runs offline.

Names are imported on first use, so ``python -m plugdata.testing.server`` starts cleanly.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FAULT_KINDS", "FakeOpenAIServer", "Fault", "fault_mix", "tag_answer", "tag_translate"]
# These come from plugdata.testing.faults, the rest from plugdata.testing.server.
_FAULTS = ("FAULT_KINDS", "Fault", "fault_mix")


def __getattr__(name: str) -> Any:
    if name in __all__:
        module = "faults" if name in _FAULTS else "server"
        return getattr(importlib.import_module(f"plugdata.testing.{module}"), name)
    raise AttributeError(f"module 'plugdata.testing' has no attribute {name!r}")
