"""Language registry: codes, names, scripts, PLUG labels and system prompts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from plugdata.errors import PlugdataError


@dataclass(frozen=True)
class Language:
    """One registered language.

    ``instruction_label`` and ``response_label`` head the blocks of a PLUG answer and are
    written in the language itself (``中文回复：``, ``Risposta in italiano:``).
    """

    code: str
    name: str
    native_name: str
    script: str
    instruction_label: str
    response_label: str

    def label(self, label: str, text: str) -> str:
        """Join a label and its text; no space after a full-width colon."""
        return f"{label}{text}" if label.endswith("：") else f"{label} {text}"


# One language a row (code, name, native name, script, instruction label, response label).
_LANGUAGES = [
    Language("en", "English", "English", "Latn", "English instruction:", "English response:"),
    Language("zh", "Chinese", "中文", "Hans", "中文指令：", "中文回复："),
    Language("ko", "Korean", "한국어", "Hang", "한국어 지시:", "한국어 응답:"),
    Language(
        "it", "Italian", "Italiano", "Latn", "Istruzione in italiano:", "Risposta in italiano:"
    ),
    Language(
        "es", "Spanish", "Español", "Latn", "Instrucción en español:", "Respuesta en español:"
    ),
    Language("ja", "Japanese", "日本語", "Jpan", "日本語の指示：", "日本語の回答："),
    Language(
        "fr",
        "French",
        "Français",
        "Latn",
        "Instruction en français :",
        "Réponse en français :",
    ),
    Language("de", "German", "Deutsch", "Latn", "Anweisung auf Deutsch:", "Antwort auf Deutsch:"),
    Language(
        "pt",
        "Portuguese",
        "Português",
        "Latn",
        "Instrução em português:",
        "Resposta em português:",
    ),
    Language("ru", "Russian", "Русский", "Cyrl", "Инструкция на русском:", "Ответ на русском:"),
    Language("ar", "Arabic", "العربية", "Arab", "التعليمات بالعربية:", "الرد بالعربية:"),
    Language("hi", "Hindi", "हिन्दी", "Deva", "हिंदी में निर्देश:", "हिंदी में उत्तर:"),
    Language(
        "vi",
        "Vietnamese",
        "Tiếng Việt",
        "Latn",
        "Hướng dẫn bằng tiếng Việt:",
        "Phản hồi bằng tiếng Việt:",
    ),
    Language("th", "Thai", "ไทย", "Thai", "คำสั่งภาษาไทย:", "คำตอบภาษาไทย:"),
    Language(
        "id",
        "Indonesian",
        "Bahasa Indonesia",
        "Latn",
        "Instruksi dalam bahasa Indonesia:",
        "Respons dalam bahasa Indonesia:",
    ),
    Language("sw", "Swahili", "Kiswahili", "Latn", "Maagizo kwa Kiswahili:", "Jibu kwa Kiswahili:"),
]

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _LANGUAGES}

PLUG_SYSTEM = (
    "You are a helpful assistant. The user writes in {target}. First restate the request in "
    "{pivot}, then answer it in {pivot}, and finally answer it in {target}."
)
MONO_SYSTEM = "You are a helpful assistant. Answer in {target}."


def get_language(code: str) -> Language:
    """Return the registered language for an ISO 639-1 ``code`` (case-insensitive)."""
    lang = LANGUAGES.get(code.strip().lower())
    if lang is None:
        known = ", ".join(sorted(LANGUAGES))
        raise PlugdataError(f"unknown language {code!r}; known languages: {known}")
    return lang


def parse_languages(spec: str | Iterable[str | Language]) -> list[Language]:
    """Languages from a comma-separated list such as ``"zh,ko,it,es"``, a list of codes or
    :class:`Language` objects; none at all, or one listed twice, is an error."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    langs = [
        part if isinstance(part, Language) else get_language(part)
        for part in parts
        if isinstance(part, Language) or part.strip()
    ]
    if not langs:
        raise PlugdataError("no target languages given (e.g. zh,ko,it,es)")
    seen: set[str] = set()
    for lang in langs:
        if lang.code in seen:
            raise PlugdataError(f"language {lang.code!r} is listed twice")
        seen.add(lang.code)
    return langs


def plug_system_prompt(pivot: Language, target: Language) -> str:
    """The default PLUG system prompt for a (pivot, target) pair."""
    return PLUG_SYSTEM.format(pivot=pivot.name, target=target.name)


def mono_system_prompt(target: Language) -> str:
    """The default system prompt for answering directly in ``target``."""
    return MONO_SYSTEM.format(target=target.name)
