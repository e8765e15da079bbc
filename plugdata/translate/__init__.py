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

from collections.abc import Callable
from typing import Any

from plugdata.translate.base import Outcome, Translator

__all__ = ["TRANSLATORS", "Outcome", "Translator", "create_translator"]

Factory = Callable[..., Translator]


def _llm() -> Factory:
    from plugdata.translate.llm import openai_translator

    return openai_translator


def _mt() -> Factory:
    from plugdata.translate.mt import mt_translator

    return mt_translator


def _vllm() -> Factory:
    from plugdata.translate.vllm import vllm_translator

    return vllm_translator


# Backends by name, each with the function that imports its factory: only the backend asked
# for is imported, and as an import statement, which the layers contract sees.
TRANSLATORS: dict[str, Callable[[], Factory]] = {"llm": _llm, "mt": _mt, "vllm": _vllm}


def create_translator(kind: str, **options: Any) -> Translator:
    """A translator of backend ``kind`` (``llm``, ...) built from keyword options."""
    from plugdata.errors import PlugdataError

    if kind not in TRANSLATORS:
        raise PlugdataError(f"unknown translator {kind!r}; known: {', '.join(TRANSLATORS)}")
    return TRANSLATORS[kind]()(**options)
