"""plugdata: pivot-guided (PLUG) multilingual instruction-tuning corpora.

The main call is :func:`build` with a :class:`BuildConfig` (or a plain dict); every stage is
importable on its own: :func:`load_source`, :func:`translate_rows`, :func:`filter_pairs`,
:func:`format_rows`, :class:`ChatRenderer`, :func:`extract_target`, :func:`push_run`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0.dev0"

_EXPORTS = {
    "BuildConfig": "plugdata.config",
    "ConfigError": "plugdata.config",
    "InputError": "plugdata.errors",
    "PlugdataError": "plugdata.errors",
    "ServerError": "plugdata.errors",
    "FilterConfig": "plugdata.filters",
    "PairFilter": "plugdata.filters",
    "filter_frame": "plugdata.filters",
    "filter_pairs": "plugdata.filters",
    "FORMATS": "plugdata.formats",
    "ChatRenderer": "plugdata.formats",
    "Extraction": "plugdata.formats",
    "extract_target": "plugdata.formats",
    "format_rows": "plugdata.formats",
    "load_tokenizer": "plugdata.formats",
    "LANGUAGES": "plugdata.languages",
    "Language": "plugdata.languages",
    "get_language": "plugdata.languages",
    "BuildResult": "plugdata.pipeline",
    "Interrupted": "plugdata.pipeline",
    "batch_ledgers": "plugdata.pipeline",
    "build": "plugdata.pipeline",
    "estimate": "plugdata.pipeline",
    "push_run": "plugdata.publish",
    "NAMED_SOURCES": "plugdata.sources",
    "Source": "plugdata.sources",
    "SourceData": "plugdata.sources",
    "as_records": "plugdata.sources",
    "load_source": "plugdata.sources",
    "open_source": "plugdata.sources",
    "Outcome": "plugdata.translate",
    "Translator": "plugdata.translate",
    "create_translator": "plugdata.translate",
    "BatchChatClient": "plugdata.translate.batch",
    "BatchesPending": "plugdata.translate.batch",
    "RequestCache": "plugdata.translate.cache",
    "ChatClient": "plugdata.translate.chat",
    "RetryPolicy": "plugdata.translate.chat",
    "LLMGenerator": "plugdata.translate.generate",
    "LLMTranslator": "plugdata.translate.llm",
    "openai_translator": "plugdata.translate.llm",
    "parse_reply": "plugdata.translate.llm",
    "BudgetExceeded": "plugdata.translate.pricing",
    "Price": "plugdata.translate.pricing",
    "price_for": "plugdata.translate.pricing",
    "agenerate_responses": "plugdata.translate.rows",
    "atranslate_rows": "plugdata.translate.rows",
    "generate_responses": "plugdata.translate.rows",
    "translate_rows": "plugdata.translate.rows",
    "Runner": "plugdata.translate.runner",
}
__all__ = [
    "FORMATS",
    "LANGUAGES",
    "NAMED_SOURCES",
    "BatchChatClient",
    "BatchesPending",
    "BudgetExceeded",
    "BuildConfig",
    "BuildResult",
    "ChatClient",
    "ChatRenderer",
    "ConfigError",
    "Extraction",
    "FilterConfig",
    "InputError",
    "Interrupted",
    "LLMGenerator",
    "LLMTranslator",
    "Language",
    "Outcome",
    "PairFilter",
    "PlugdataError",
    "Price",
    "RequestCache",
    "RetryPolicy",
    "Runner",
    "ServerError",
    "Source",
    "SourceData",
    "Translator",
    "__version__",
    "agenerate_responses",
    "as_records",
    "atranslate_rows",
    "batch_ledgers",
    "build",
    "create_translator",
    "estimate",
    "extract_target",
    "filter_frame",
    "filter_pairs",
    "format_rows",
    "generate_responses",
    "get_language",
    "load_source",
    "load_tokenizer",
    "open_source",
    "openai_translator",
    "parse_reply",
    "price_for",
    "push_run",
    "translate_rows",
]


def __getattr__(name: str) -> object:
    """Import public names on first use, so `import plugdata` (and the CLI) start fast."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plugdata' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from plugdata.config import BuildConfig, ConfigError
    from plugdata.errors import InputError, PlugdataError, ServerError
    from plugdata.filters import FilterConfig, PairFilter, filter_frame, filter_pairs
    from plugdata.formats import (
        FORMATS,
        ChatRenderer,
        Extraction,
        extract_target,
        format_rows,
        load_tokenizer,
    )
    from plugdata.languages import LANGUAGES, Language, get_language
    from plugdata.pipeline import BuildResult, Interrupted, batch_ledgers, build, estimate
    from plugdata.publish import push_run
    from plugdata.sources import (
        NAMED_SOURCES,
        Source,
        SourceData,
        as_records,
        load_source,
        open_source,
    )
    from plugdata.translate import Outcome, Translator, create_translator
    from plugdata.translate.batch import BatchChatClient, BatchesPending
    from plugdata.translate.cache import RequestCache
    from plugdata.translate.chat import ChatClient, RetryPolicy
    from plugdata.translate.generate import LLMGenerator
    from plugdata.translate.llm import LLMTranslator, openai_translator, parse_reply
    from plugdata.translate.pricing import BudgetExceeded, Price, price_for
    from plugdata.translate.rows import (
        agenerate_responses,
        atranslate_rows,
        generate_responses,
        translate_rows,
    )
    from plugdata.translate.runner import Runner
