"""Protect code, URLs, placeholders and math from the translator.

Protected spans are swapped for numbered markers (``[[P1]]``) before a request and put back
after; a reply that lost, duplicated or invented a marker fails verification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PATTERNS = [
    r"```.*?```",  # fenced code
    r"~~~.*?~~~",
    r"\$\$.*?\$\$",  # display math
    r"`[^`\n]+`",  # inline code
    r"https?://[^\s<>()\"'`]*[^\s<>()\"'`.,;:!?]",  # URLs without trailing punctuation
    r"\b[\w.+-]+@[\w-]+\.[\w.-]*\w",  # e-mail addresses
    r"\{\{.*?\}\}|\{%.*?%\}",  # template tags
    r"\{[A-Za-z_][\w.]*(?:![rsa])?(?::[^{}\s]*)?\}",  # {name}, {user.id:>10}
    r"%\([A-Za-z_]\w*\)[sdifr]|%[-+ #0]*\d*(?:\.\d+)?[sdifeEgGxXr](?![A-Za-z])",  # %s, %(x)s
    r"(?<![\w$\\])\$(?![\s\d$])[^$\n]*?[^\s\\$]\$(?!\d)",  # inline math $x^2$
    r"<\|[^|>\s]+\|>",  # special-token strings such as <|im_end|>
]
_PROTECTED = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.DOTALL)
_MARKER = re.compile(r"\[\[P(\d+)\]\]")
_LETTERS = re.compile(r"[^\W\d_]")


@dataclass
class Masked:
    """Masked texts and the spans their markers stand for."""

    texts: dict[str, str]
    spans: list[str] = field(default_factory=list)


def mask(fields: dict[str, str]) -> Masked:
    """Replace protected spans in every field with numbered markers."""
    spans: list[str] = []

    def swap(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"[[P{len(spans)}]]"

    return Masked({key: _PROTECTED.sub(swap, value) for key, value in fields.items()}, spans)


def needs_translation(text: str) -> bool:
    """Whether anything is left to translate once markers are removed."""
    return bool(_LETTERS.search(_MARKER.sub("", text)))


def unmask(masked: Masked, translated: dict[str, str]) -> dict[str, str] | None:
    """Put the spans back; ``None`` when a field's markers differ from what was sent."""
    out: dict[str, str] = {}
    for key, text in translated.items():
        if not same_markers(masked.texts[key], text):
            return None
        out[key] = _MARKER.sub(lambda m: masked.spans[int(m.group(1)) - 1], text)
    return out


def same_markers(sent: str, received: str) -> bool:
    """Whether ``received`` carries exactly the markers of ``sent`` (order may change)."""
    return sorted(_MARKER.findall(sent)) == sorted(_MARKER.findall(received))


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Split ``text`` at blank lines into chunks of at most ``limit`` characters where possible."""
    chunks: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if current and len(candidate) > limit:
            chunks.append(current)
            current = paragraph
        else:
            current = candidate
    chunks.append(current)
    return chunks
