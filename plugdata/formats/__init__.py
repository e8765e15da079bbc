"""Training formats (PLUG and the paper's baselines), chat-template rendering, extraction."""

from plugdata.formats.builders import (
    DEFAULT_FORMATS,
    FORMATS,
    MIXED_FORMATS,
    format_names,
    format_rows,
    plug_blocks,
)
from plugdata.formats.extract import STATUSES, Extraction, extract_rows, extract_target
from plugdata.formats.templates import ChatRenderer, load_tokenizer, token_stats

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "MIXED_FORMATS",
    "STATUSES",
    "ChatRenderer",
    "Extraction",
    "extract_rows",
    "extract_target",
    "format_names",
    "format_rows",
    "load_tokenizer",
    "plug_blocks",
    "token_stats",
]
