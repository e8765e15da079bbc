"""Markdown-aware segmentation for sentence-level translation models.

:func:`segment` cuts a text into a :class:`Layout`: verbatim parts (fenced code, table
syntax, list markers, heading marks, indentation, whitespace, lines with nothing to
translate) and sentences to translate. Code, URLs, placeholders and math inside a sentence are
masked with the markers of :mod:`plugdata.translate.protect`. :func:`assemble` puts the
translated sentences back on the original whitespace and line structure, so everything that
was not prose comes back byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from plugdata.translate.protect import mask, needs_translation

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)")
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+[ \t]*(?::?-{2,}:?)?[ \t]*$")
# Indentation, blockquote marks, a heading mark, a list marker or a task box.
_PREFIX = re.compile(
    r"^[ \t]*(?:>[ \t]?)*(?:#{1,6}[ \t]+|(?:[-*+]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?)?"
)
_CELL = re.compile(r"(?<!\\)\|")
_FALLBACK_SPLIT = re.compile(r"(?<=[.!?。！？])\s+(?=[\"'(\[A-Z0-9])")
MAX_CHARS = 400  # longer sentences are cut at clause boundaries (model position limits)


@dataclass
class Layout:
    """A text as verbatim parts and numbered sentences; ``spans`` are what markers stand for."""

    parts: list[str | int] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    spans: list[str] = field(default_factory=list)

    def add_text(self, text: str) -> None:
        if text:
            if self.parts and isinstance(self.parts[-1], str):
                self.parts[-1] += text
            else:
                self.parts.append(text)

    def add_segment(self, text: str) -> None:
        self.parts.append(len(self.segments))
        self.segments.append(text)


def segment(text: str, lang: str = "en") -> Layout:
    """Cut ``text`` into verbatim parts and sentences to translate (lossless)."""
    masked = mask({"text": text})
    layout = Layout(spans=masked.spans)
    body = masked.texts["text"]
    lines = body.splitlines(keepends=True)
    fence: str | None = None
    for line in lines:
        opener = _FENCE.match(line)
        if fence is not None:  # unclosed fences that protect could not mask
            layout.add_text(line)
            if opener and opener.group(1).startswith(fence):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            layout.add_text(line)
        elif _TABLE_RULE.match(line):
            layout.add_text(line)
        elif _TABLE_ROW.match(line):
            _table_row(layout, line, lang)
        else:
            prefix = _PREFIX.match(line).group(0)  # type: ignore[union-attr]
            layout.add_text(prefix)
            _prose(layout, line[len(prefix) :], lang)
    return layout


def assemble(layout: Layout, translations: Sequence[str]) -> str:
    """The text with every sentence replaced by its translation and the markers put back."""
    out = "".join(p if isinstance(p, str) else translations[p] for p in layout.parts)
    return _unmark(out, layout.spans)


def _unmark(text: str, spans: Sequence[str]) -> str:
    return re.sub(r"\[\[P(\d+)\]\]", lambda m: spans[int(m.group(1)) - 1], text)


def _table_row(layout: Layout, line: str, lang: str) -> None:
    """Cells of a table row are translated one by one; the pipes and padding stay."""
    pos = 0
    for match in _CELL.finditer(line):
        _prose(layout, line[pos : match.start()], lang)
        layout.add_text("|")
        pos = match.end()
    _prose(layout, line[pos:], lang)


def _prose(layout: Layout, text: str, lang: str) -> None:
    """Leading and trailing whitespace verbatim; the rest as sentences (or verbatim)."""
    core = text.strip()
    if not core or not needs_translation(core):
        layout.add_text(text)
        return
    start = text.index(core)
    layout.add_text(text[:start])
    pos = 0
    for sentence in sentences(core, lang):
        at = core.index(sentence, pos)
        layout.add_text(core[pos:at])
        if needs_translation(sentence):
            for piece, is_text in _cut_long(sentence):
                layout.add_segment(piece) if is_text else layout.add_text(piece)
        else:
            layout.add_text(sentence)
        pos = at + len(sentence)
    layout.add_text(core[pos:] + text[start + len(core) :])


def sentences(text: str, lang: str = "en") -> list[str]:
    """Sentences of ``text`` without surrounding whitespace, in order (pysbd when installed)."""
    splitter = _splitter(lang)
    pieces = [s.strip() for s in splitter(text)] if splitter else _FALLBACK_SPLIT.split(text)
    out: list[str] = []
    pos = 0
    for piece in (p.strip() for p in pieces):
        at = text.find(piece, pos) if piece else -1
        if at < 0:  # the splitter changed the text: trust it no further
            rest = text[pos:].strip()
            return [*out, rest] if rest else out
        out.append(piece)
        pos = at + len(piece)
    rest = text[pos:].strip()
    if rest:
        out.append(rest)
    return out


@lru_cache(maxsize=8)
def _splitter(lang: str):  # type: ignore[no-untyped-def]
    try:
        import pysbd
    except ImportError:
        return None
    try:
        seg = pysbd.Segmenter(language=lang, clean=False)
    except ValueError:  # a language pysbd does not know
        seg = pysbd.Segmenter(language="en", clean=False)
    return seg.segment


def _cut_long(sentence: str) -> list[tuple[str, bool]]:
    """A sentence as pieces of at most MAX_CHARS, cut after clause marks or spaces."""
    if len(sentence) <= MAX_CHARS:
        return [(sentence, True)]
    out: list[tuple[str, bool]] = []
    rest = sentence
    while len(rest) > MAX_CHARS:
        window = rest[:MAX_CHARS]
        cut = max(window.rfind(m) for m in (", ", "; ", ": ", " - "))
        cut = cut + 1 if cut > MAX_CHARS // 4 else window.rfind(" ")
        if cut <= 0:
            cut = MAX_CHARS
        head, rest = rest[:cut], rest[cut:]
        out.append((head.rstrip(), True))
        gap = head[len(head.rstrip()) :] + rest[: len(rest) - len(rest.lstrip())]
        if gap:
            out.append((gap, False))
        rest = rest.lstrip()
    if rest:
        out.append((rest, True))
    return out
