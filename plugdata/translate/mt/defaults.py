"""Default translation models per target language, chosen by quality and licence.

Published FLORES-200 en→X figures (chrF / COMET) put OPUS-MT tc-big ahead of NLLB-600M for
Italian (59.0 / .712 against 56.3 / .648), Spanish (chrF 56.4 against 54.0) and Korean
(36.4 / .600 against 31.4 / .544), under CC-BY-4.0. For Chinese OPUS-MT is poor (WMT20 COMET
-0.21), so M2M100-1.2B (MIT, COMET .33) is used; it also covers the other registered
languages. NLLB-200 is CC-BY-NC-4.0 and not meant for production: it is never a default,
only used when named, and its licence is printed.
"""

from __future__ import annotations

import re
from pathlib import Path

OPUS_ATTRIBUTION = ("OPUS-MT, Helsinki-NLP: Tiedemann & Thottingal, EAMT 2020; Tiedemann et "
                    "al., Language Resources and Evaluation 2023")  # fmt: skip
M2M_ATTRIBUTION = "M2M100, Meta AI: Fan et al., Beyond English-Centric Multilingual MT, JMLR 2021"
NLLB_ATTRIBUTION = "NLLB-200, Meta AI: NLLB Team, No Language Left Behind, 2022"
MADLAD_ATTRIBUTION = "MADLAD-400, Google: Kudugunta et al., NeurIPS 2023"

M2M_BIG = "facebook/m2m100_1.2B"
DEFAULT_MODELS: dict[str, tuple[str, str]] = {
    "it": ("Helsinki-NLP/opus-mt-tc-big-en-it", "FLORES-200 chrF 59.0 / COMET .712 vs NLLB-600M 56.3 / .648"),
    "es": ("Helsinki-NLP/opus-mt-tc-big-en-es", "FLORES-200 chrF 56.4 vs NLLB-600M 54.0"),
    "ko": ("Helsinki-NLP/opus-mt-tc-big-en-ko", "FLORES-200 chrF 36.4 / COMET .600 vs NLLB-600M 31.4 / .544"),
    "zh": (M2M_BIG, "OPUS-MT en-zh is poor (WMT20 COMET -0.21); M2M100-1.2B scores .33"),
}  # fmt: skip
FALLBACK_REASON = "a permissive (MIT) many-to-many model covering this language"

# (pattern on the model id, licence, attribution), first match wins.
_KNOWN = [
    (r"nllb", "CC-BY-NC-4.0", NLLB_ATTRIBUTION),
    (r"opus-mt-tc-", "CC-BY-4.0", OPUS_ATTRIBUTION),
    (r"opus-mt-", "CC-BY-4.0", OPUS_ATTRIBUTION),
    (r"m2m100", "MIT", M2M_ATTRIBUTION),
    (r"madlad", "Apache-2.0", MADLAD_ATTRIBUTION),
]
NON_COMMERCIAL = ("CC-BY-NC-4.0", "cc-by-nc-4.0")


def default_model(lang: str) -> tuple[str, str]:
    """The default model for a target language and why it was chosen."""
    return DEFAULT_MODELS.get(lang, (M2M_BIG, FALLBACK_REASON))


def licence_of(model: str, path: Path | None = None, family: str = "") -> tuple[str, str]:
    """(licence, attribution) of a model: its card's ``license:`` first, then known families."""
    card = (path / "README.md") if path is not None else None
    licence = ""
    if card is not None and card.is_file():
        head = card.read_text(encoding="utf-8", errors="replace")[:4000]
        found = re.search(r"^license:\s*['\"]?([\w.+-]+)", head, re.MULTILINE)
        licence = found.group(1) if found else ""
    key = f"{model} {family}".lower()
    for pattern, known_licence, attribution in _KNOWN:
        if re.search(pattern, key):
            return licence or known_licence, attribution
    return licence or "unknown (check the model card)", model
