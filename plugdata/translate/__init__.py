"""The translate stage: translators, the generator and the runner that drives them.

- :mod:`~plugdata.translate.base`: the :class:`Translator` interface and :class:`Outcome`;
- :mod:`~plugdata.translate.chat`: the OpenAI-compatible client (limits, HTTP retries, cache);
  :mod:`~plugdata.translate.chat_errors` reads its errors (reason, Retry-After);
- :mod:`~plugdata.translate.llm`: one JSON object per record, validated (:class:`LLMTranslator`);
- :mod:`~plugdata.translate.generate`: answers in a given language (:class:`LLMGenerator`);
- :mod:`~plugdata.translate.runner`: concurrency with no batch barrier, chunk by chunk;
- :mod:`~plugdata.translate.protect`, ``cache``, ``pricing``, ``prompts``: what they say.
"""

from __future__ import annotations

from typing import Any

from plugdata.translate.base import Outcome, Translator

__all__ = ["TRANSLATORS", "Outcome", "Translator", "create_translator"]

# Backends by name: the module and factory that build them (imported only when used).
TRANSLATORS: dict[str, tuple[str, str]] = {
    "llm": ("plugdata.translate.llm", "openai_translator"),
    "mt": ("plugdata.translate.mt", "mt_translator"),
    "vllm": ("plugdata.translate.vllm", "vllm_translator"),
}


def create_translator(kind: str, **options: Any) -> Translator:
    """A translator of backend ``kind`` (``llm``, ...) built from keyword options."""
    import importlib

    from plugdata.errors import PlugdataError

    if kind not in TRANSLATORS:
        raise PlugdataError(f"unknown translator {kind!r}; known: {', '.join(TRANSLATORS)}")
    module, factory = TRANSLATORS[kind]
    return getattr(importlib.import_module(module), factory)(**options)
