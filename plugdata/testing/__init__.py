"""Test helpers shipped with plugdata: an OpenAI-compatible server that runs offline.

Names are imported on first use, so ``python -m plugdata.testing.server`` starts cleanly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugdata.lazy import lazy_exports

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
__all__ = [
    "FAULT_KINDS",
    "FakeOpenAIServer",
    "Fault",
    "fault_mix",
    "tag_answer",
    "tag_translate",
]


if TYPE_CHECKING:
    from plugdata.testing.faults import FAULT_KINDS, Fault, fault_mix
    from plugdata.testing.server import FakeOpenAIServer, tag_answer, tag_translate

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
