"""plugdata: pivot-guided (PLUG) multilingual instruction-tuning corpora."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "RequestCache": "plugdata.cache",
    "Engine": "plugdata.engine",
    "atranslate_rows": "plugdata.engine",
    "generate_responses": "plugdata.engine",
    "translate_rows": "plugdata.engine",
    "InputError": "plugdata.errors",
    "PlugdataError": "plugdata.errors",
    "ServerError": "plugdata.errors",
    "read_pairs": "plugdata.export",
    "extract_target": "plugdata.extract",
    "FilterConfig": "plugdata.filters",
    "filter_frame": "plugdata.filters",
    "filter_pairs": "plugdata.filters",
    "push_run": "plugdata.hub",
    "FORMATS": "plugdata.formats",
    "format_rows": "plugdata.formats",
    "LLMGenerator": "plugdata.generate",
    "LANGUAGES": "plugdata.languages",
    "Language": "plugdata.languages",
    "get_language": "plugdata.languages",
    "ChatClient": "plugdata.llm",
    "RetryPolicy": "plugdata.llm",
    "BuildConfig": "plugdata.pipeline",
    "BuildResult": "plugdata.pipeline",
    "build": "plugdata.pipeline",
    "estimate": "plugdata.pipeline",
    "BudgetExceeded": "plugdata.pricing",
    "Price": "plugdata.pricing",
    "price_for": "plugdata.pricing",
    "NAMED_SOURCES": "plugdata.sources",
    "SourceData": "plugdata.sources",
    "load_source": "plugdata.sources",
    "LLMTranslator": "plugdata.translate",
    "openai_translator": "plugdata.translate",
    "parse_reply": "plugdata.translate",
}


def __getattr__(name: str) -> object:
    """Import public names on first use, so `import plugdata` (and the CLI) start fast."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plugdata' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from plugdata.cache import RequestCache
    from plugdata.engine import Engine, atranslate_rows, generate_responses, translate_rows
    from plugdata.errors import InputError, PlugdataError, ServerError
    from plugdata.export import read_pairs
    from plugdata.extract import extract_target
    from plugdata.filters import FilterConfig, filter_frame, filter_pairs
    from plugdata.formats import FORMATS, format_rows
    from plugdata.generate import LLMGenerator
    from plugdata.hub import push_run
    from plugdata.languages import LANGUAGES, Language, get_language
    from plugdata.llm import ChatClient, RetryPolicy
    from plugdata.pipeline import BuildConfig, BuildResult, build, estimate
    from plugdata.pricing import BudgetExceeded, Price, price_for
    from plugdata.sources import NAMED_SOURCES, SourceData, load_source
    from plugdata.translate import LLMTranslator, openai_translator, parse_reply

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "NAMED_SOURCES",
    "BudgetExceeded",
    "BuildConfig",
    "BuildResult",
    "ChatClient",
    "Engine",
    "FilterConfig",
    "InputError",
    "LLMGenerator",
    "LLMTranslator",
    "Language",
    "PlugdataError",
    "Price",
    "RequestCache",
    "RetryPolicy",
    "ServerError",
    "SourceData",
    "__version__",
    "atranslate_rows",
    "build",
    "estimate",
    "extract_target",
    "filter_frame",
    "filter_pairs",
    "format_rows",
    "generate_responses",
    "get_language",
    "load_source",
    "openai_translator",
    "parse_reply",
    "price_for",
    "push_run",
    "read_pairs",
    "translate_rows",
]
