"""plugdata: pivot-guided (PLUG) multilingual instruction-tuning corpora."""

from __future__ import annotations

__version__ = "0.1.0"

from plugdata.errors import InputError, PlugdataError, ServerError
from plugdata.export import read_pairs
from plugdata.formats import FORMATS, format_rows
from plugdata.languages import LANGUAGES, Language, get_language
from plugdata.llm import ChatClient
from plugdata.pipeline import BuildConfig, BuildResult, build
from plugdata.sources import NAMED_SOURCES, SourceData, load_source
from plugdata.translate import (
    LLMTranslator,
    atranslate_rows,
    openai_translator,
    parse_reply,
    translate_rows,
)

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "NAMED_SOURCES",
    "BuildConfig",
    "BuildResult",
    "ChatClient",
    "InputError",
    "LLMTranslator",
    "Language",
    "PlugdataError",
    "ServerError",
    "SourceData",
    "__version__",
    "atranslate_rows",
    "build",
    "format_rows",
    "get_language",
    "load_source",
    "openai_translator",
    "parse_reply",
    "read_pairs",
    "translate_rows",
]
