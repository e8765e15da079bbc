"""Model families and how each one is told the target language.

- ``marian`` (OPUS-MT): one model per pair; multi-target models take a ``>>xxx<<`` token first;
- ``m2m100`` and ``nllb``: the decoder is forced to start with the target language token
  (``__zh__``, ``zho_Hans``) and the source is tagged with the source language;
- ``madlad`` (T5): the source starts with ``<2zh>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from plugdata.errors import PlugdataError
from plugdata.languages import Language

FAMILIES = ("marian", "m2m100", "nllb", "madlad")
# ISO 639-3 codes of the registered languages (NLLB and OPUS-MT name languages this way).
ISO3 = {
    "en": "eng",
    "zh": "zho",
    "ko": "kor",
    "it": "ita",
    "es": "spa",
    "ja": "jpn",
    "fr": "fra",
    "de": "deu",
    "pt": "por",
    "ru": "rus",
    "ar": "arb",
    "hi": "hin",
    "vi": "vie",
    "th": "tha",
    "id": "ind",
    "sw": "swh",
}
_MARIAN_TAG = re.compile(r"^>>(\w+)<<$")
_PAIR_NAME = re.compile(
    r"opus-mt-(?:tc-big-|tc-base-)?([a-z]{2,3}(?:_[a-zA-Z]+)?)-([a-z]{2,3}(?:_[a-zA-Z]+)?)$"
)


@dataclass(frozen=True)
class Target:
    """How one target language is asked for: a source prefix and/or a forced first token."""

    source_prefix: str = ""
    forced_token: str | None = None


class Unsupported(PlugdataError):
    """This model cannot translate into (or from) this language."""


def family_of(model_type: str, name: str, vocab: Iterable[str]) -> str:
    """The family of a model from its config's ``model_type``, its name and its vocabulary."""
    tokens = set(vocab)
    if model_type == "marian":
        return "marian"
    if model_type == "m2m_100":
        return "nllb" if "zho_Hans" in tokens or "nllb" in name.lower() else "m2m100"
    if model_type == "t5" and ("<2zh>" in tokens or "madlad" in name.lower()):
        return "madlad"
    raise PlugdataError(
        f"model {name}: unsupported architecture {model_type!r}; plugdata's mt translator "
        "runs Marian (OPUS-MT), M2M100, NLLB-200 and MADLAD-400 models"
    )


def nllb_code(lang: Language) -> str:
    """``zho_Hans``, ``kor_Hang``, ``ita_Latn``: ISO 639-3 plus script."""
    return f"{ISO3.get(lang.code, lang.code)}_{lang.script}"


def target_for(family: str, name: str, vocab: set[str], pivot: Language, lang: Language) -> Target:
    """How to ask ``name`` for ``lang``; :class:`Unsupported` naming both when it cannot."""
    if family == "marian":
        return _marian(name, vocab, pivot, lang)
    if family == "m2m100":
        for code in (pivot.code, lang.code):
            if f"__{code}__" not in vocab:
                raise Unsupported(f"model {name} does not know language {code!r}")
        return Target(forced_token=f"__{lang.code}__")
    if family == "nllb":
        for code in (nllb_code(pivot), nllb_code(lang)):
            if code not in vocab:
                raise Unsupported(f"model {name} does not know language {code!r}")
        return Target(forced_token=nllb_code(lang))
    if family == "madlad":
        tag = f"<2{lang.code}>"
        if tag not in vocab:
            raise Unsupported(f"model {name} does not know language {lang.code!r} (no {tag} token)")
        return Target(source_prefix=f"{tag} ")
    raise Unsupported(f"model {name}: unknown family {family!r}")


def _marian(name: str, vocab: set[str], pivot: Language, lang: Language) -> Target:
    tags = {m.group(1) for t in vocab if (m := _MARIAN_TAG.match(t))}
    pair = _PAIR_NAME.search(name.rstrip("/").lower())
    if pair and pair.group(1) not in (pivot.code, ISO3.get(pivot.code), "mul"):
        raise Unsupported(
            f"model {name} translates from {pair.group(1)!r}, not from {pivot.code!r}"
        )
    if tags:
        iso3 = ISO3.get(lang.code, lang.code)
        script = f"_{lang.script}"
        wanted = [
            lang.code,
            iso3,
            iso3 + script,
            *(["cmn" + script, "cmn"] if lang.code == "zh" else []),
        ]
        for code in wanted:
            if code in tags:
                return Target(source_prefix=f">>{code}<< ")
        raise Unsupported(f"model {name} has no target token for language {lang.code!r}")
    if pair and pair.group(2) not in (lang.code, ISO3.get(lang.code)):
        raise Unsupported(f"model {name} translates into {pair.group(2)!r}, not into {lang.code!r}")
    return Target()
