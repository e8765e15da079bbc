"""NTREX-128 as the benchmarks read it: the English source and its references, line-aligned.

The folder holds ``ntrex128.src.eng.txt`` and one ``ntrex128.ref.{code}.txt`` per language;
``FILES`` names the ten references the filter and adequacy benchmarks use.
"""

from __future__ import annotations

from pathlib import Path

FILES = {
    "zh": "zho-CN",
    "ko": "kor",
    "it": "ita",
    "es": "spa",
    "ja": "jpn",
    "fr": "fra",
    "de": "deu",
    "pt": "por",
    "ru": "rus",
    "ar": "arb",
}
SOURCE = "ntrex128.src.eng.txt"


def path(folder: Path, lang: str) -> Path:
    """The file of ``lang`` (``en`` for the English source) in an NTREX-128 folder."""
    return folder / (SOURCE if lang == "en" else f"ntrex128.ref.{FILES[lang]}.txt")


def lines(folder: Path, lang: str, limit: int | None = None) -> list[str]:
    """The first ``limit`` sentences of ``lang``."""
    return path(folder, lang).read_text(encoding="utf-8").splitlines()[:limit]


def load(folder: Path, limit: int | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """The English sentences and every reference in ``FILES``, ``limit`` lines each."""
    return lines(folder, "en", limit), {lang: lines(folder, lang, limit) for lang in FILES}
