"""Test helpers shipped with plugdata: an OpenAI-compatible server that runs offline."""

from plugdata.testing.server import FakeOpenAIServer, tag_translate

__all__ = ["FakeOpenAIServer", "tag_translate"]
