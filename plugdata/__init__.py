"""plugdata: pivot-guided (PLUG) multilingual instruction-tuning corpora."""

from __future__ import annotations

__version__ = "0.1.0"

from plugdata.cache import RequestCache
from plugdata.engine import Engine, atranslate_rows, generate_responses, translate_rows
from plugdata.errors import InputError, PlugdataError, ServerError
from plugdata.export import read_pairs
from plugdata.formats import FORMATS, format_rows
from plugdata.generate import LLMGenerator
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
    "format_rows",
    "generate_responses",
    "get_language",
    "load_source",
    "openai_translator",
    "parse_reply",
    "price_for",
    "read_pairs",
    "translate_rows",
]
