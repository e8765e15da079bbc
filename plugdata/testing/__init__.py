"""Test helpers shipped with plugdata: an OpenAI-compatible server that runs offline."""

from plugdata.testing.server import (
    FAULT_KINDS,
    FakeOpenAIServer,
    Fault,
    fault_mix,
    tag_answer,
    tag_translate,
)

__all__ = ["FAULT_KINDS", "FakeOpenAIServer", "Fault", "fault_mix", "tag_answer", "tag_translate"]
