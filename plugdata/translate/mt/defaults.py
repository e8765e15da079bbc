"""Default translation models per target language, chosen by quality and licence, and what was
checked about each one.

Quality: FLORES-200 devtest en→X from the OPUS-MT leaderboard
(github.com/Helsinki-NLP/OPUS-MT-leaderboard: ``scores/eng-ita``, ``scores/eng-spa``,
``external-scores/eng-kor``, ``models/facebook/m2m100_1.2B.chrf-scores.txt``). OPUS-MT tc-big
leads NLLB-600M for Italian (chrF 59.0 / COMET .712 against 56.3 / .648) and Spanish (56.4
against 54.0) under CC-BY-4.0. For Korean the OPUS-MT tc-big export on the Hub is broken (see
:data:`BROKEN`), so M2M100-1.2B (MIT, chrF 32.9) serves Korean, as it serves Chinese (OPUS-MT
en-zh scores WMT20 COMET -0.21) and every other registered language: one 5 GB download for all
of them. NLLB-200 is CC-BY-NC-4.0 and not meant for production: never a default, only used
when named, and its licence is printed.

:data:`CHECKED` records, per default, what was looked at and where; the same information is in
the README's defaults table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugdata.errors import PlugdataError

OPUS_ATTRIBUTION = (
    "OPUS-MT, Helsinki-NLP: Tiedemann & Thottingal, EAMT 2020; Tiedemann et "
    "al., Language Resources and Evaluation 2023"
)
M2M_ATTRIBUTION = "M2M100, Meta AI: Fan et al., Beyond English-Centric Multilingual MT, JMLR 2021"
NLLB_ATTRIBUTION = "NLLB-200, Meta AI: NLLB Team, No Language Left Behind, 2022"
MADLAD_ATTRIBUTION = "MADLAD-400, Google: Kudugunta et al., NeurIPS 2023"

M2M_BIG = "facebook/m2m100_1.2B"
OPUS_IT = "Helsinki-NLP/opus-mt-tc-big-en-it"
OPUS_ES = "Helsinki-NLP/opus-mt-tc-big-en-es"
DEFAULT_MODELS: dict[str, tuple[str, str]] = {
    "it": (OPUS_IT, "FLORES-200 chrF 59.0 / COMET .712 vs NLLB-600M 56.3 / .648"),
    "es": (OPUS_ES, "FLORES-200 chrF 56.4 vs NLLB-600M 54.0"),
    "ko": (
        M2M_BIG,
        "FLORES-200 chrF 32.9 (MIT); the OPUS-MT tc-big en-ko export is broken (OPUS-MT-train#81)",
    ),
    "zh": (M2M_BIG, "OPUS-MT en-zh is poor (WMT20 COMET -0.21); M2M100-1.2B scores .33"),
}
FALLBACK_REASON = "a permissive (MIT) many-to-many model covering this language"


@dataclass(frozen=True)
class Checked:
    """What was checked about a default model, and where (the Hub was not reachable here, so
    the weights were never run; every fact below comes from the cited pages)."""

    family: str
    licence: str
    files: tuple[str, ...]  # what plugdata needs from the repo (``hf download`` names them)
    size: str  # the download of ``files``, as listed on the Hub
    card: str
    tokenizer: str
    config: str
    issues: str
    sources: tuple[str, ...]


_OPUS_ISSUES = (
    "transformers#26216 / #26271: tc-big checkpoints gave garbage from transformers "
    "4.29 on (after transformers PR #24310); fixed on the Hub by 'Update checkpoint for "
    "transformers>=4.29', merged into main on 2023-10-10 (its card example returns "
    "'Ehi, impariamo insieme')"
)
_OPUS_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "source.spm",
    "target.spm",
    "special_tokens_map.json",
    "tokenizer_config.json",
    "vocab.json",
    "README.md",
)
CHECKED: dict[str, Checked] = {
    OPUS_IT: Checked(
        family="marian",
        licence="CC-BY-4.0",
        files=_OPUS_FILES,
        size="about 467 MB",
        card="license cc-by-4.0; single target (no >>ita<< token needed); FLORES-200 chrF 59.0",
        tokenizer="source.spm + target.spm with one shared vocab.json (1.34 MB), as trained",
        config="marian, vocab_size 54422, share_encoder_decoder_embeddings true, float16 weights",
        issues=_OPUS_ISSUES,
        sources=(
            "https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-en-it",
            "https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-en-it/commit/4a86e1ee6420984c49c0ae7cb88e543d84d891be",
            "https://github.com/huggingface/transformers/issues/26216",
            "https://github.com/Helsinki-NLP/OPUS-MT-leaderboard/blob/master/scores/eng-ita",
        ),
    ),
    OPUS_ES: Checked(
        family="marian",
        licence="CC-BY-4.0",
        files=_OPUS_FILES,
        size="about 469 MB",
        card="license cc-by-4.0; single target; FLORES-200 chrF 56.4",
        tokenizer="source.spm + target.spm with one shared vocab.json (1.38 MB), as trained",
        config="marian, share_encoder_decoder_embeddings true, float16 weights",
        issues=_OPUS_ISSUES + "; merged as #6 (commit 8f4d492)",
        sources=(
            "https://huggingface.co/Helsinki-NLP/opus-mt-tc-big-en-es",
            "https://github.com/huggingface/transformers/issues/26216",
            "https://github.com/Helsinki-NLP/OPUS-MT-leaderboard/blob/master/scores/eng-spa",
        ),
    ),
    M2M_BIG: Checked(
        family="m2m100",
        licence="MIT",
        files=(
            "config.json",
            "generation_config.json",
            "pytorch_model.bin",
            "sentencepiece.bpe.model",
            "special_tokens_map.json",
            "tokenizer_config.json",
            "vocab.json",
            "README.md",
        ),
        size="about 4.97 GB",
        card="license mit; source tagged with src_lang, target forced with forced_bos_token_id "
        "(__ko__, __zh__); FLORES-200 devtest chrF en-ko 32.9, en-it 56.6, en-es 53.8",
        tokenizer="M2M100Tokenizer: sentencepiece.bpe.model + vocab.json (128,112 entries with "
        "the 100 __xx__ language tokens kept outside get_vocab in recent transformers)",
        config="m2m_100, 24+24 layers, d_model 1024, max_position_embeddings 1024 (as carried "
        "by its fine-tunes' configs); weights only as pytorch_model.bin on main (the "
        "safetensors conversion waits in refs/pr/7), so torch >= 2.6 is needed to load "
        "it (transformers refuses torch.load below 2.6, CVE-2025-32434)",
        issues="transformers#13221: the card's example names the 418M checkpoint, and place "
        "names are sometimes mistranslated (no fix); CTranslate2 needs the language "
        "tokens passed to its converter (done in convert.py)",
        sources=(
            "https://huggingface.co/facebook/m2m100_1.2B",
            "https://huggingface.co/facebook/m2m100_1.2B/tree/refs%2Fpr%2F7",
            "https://github.com/huggingface/transformers/issues/13221",
            "https://github.com/Helsinki-NLP/OPUS-MT-leaderboard/blob/master/models/facebook/m2m100_1.2B.chrf-scores.txt",
        ),
    ),
}

# Hugging Face exports known to translate into something else: refused unless forced.
BROKEN: dict[str, tuple[str, str]] = {
    "opus-mt-tc-big-en-ko": (
        "its Hugging Face export has one vocabulary for a model trained with two (sepvoc), so "
        "it writes fluent Korean that means something else",
        "https://github.com/Helsinki-NLP/OPUS-MT-train/issues/81",
    ),
}

# (pattern on the model id, licence, attribution), first match wins.
_KNOWN = [
    (r"nllb", "CC-BY-NC-4.0", NLLB_ATTRIBUTION),
    (r"opus-mt-", "CC-BY-4.0", OPUS_ATTRIBUTION),
    (r"m2m100", "MIT", M2M_ATTRIBUTION),
    (r"madlad", "Apache-2.0", MADLAD_ATTRIBUTION),
]
_FAMILY_CREDIT = {
    "marian": OPUS_ATTRIBUTION,
    "m2m100": M2M_ATTRIBUTION,
    "nllb": NLLB_ATTRIBUTION,
    "madlad": MADLAD_ATTRIBUTION,
}
NON_COMMERCIAL = ("CC-BY-NC-4.0", "cc-by-nc-4.0")


def default_model(lang: str) -> tuple[str, str]:
    """The default model for a target language and why it was chosen."""
    return DEFAULT_MODELS.get(lang, (M2M_BIG, FALLBACK_REASON))


def known_broken(name: str) -> tuple[str, str] | None:
    """(what is wrong, upstream issue) when ``name`` (an id or a folder) is a broken export."""
    low = name.rstrip("/").lower()
    for key, problem in BROKEN.items():
        if low.endswith(key) or f"/{key}" in low:
            return problem
    return None


def check_broken(by_model: dict[str, list[str]], allow_broken: bool = False) -> list[str]:
    """Refuse a model whose Hugging Face export is known to be broken (one line naming the
    upstream issue); with ``allow_broken``, return the warnings to print instead."""
    warnings = []
    for name, langs in by_model.items():
        problem = known_broken(name)
        if problem is None:
            continue
        what, issue = problem
        if allow_broken:
            warnings.append(f"{name}: {what} ({issue}); used anyway because of --mt-allow-broken")
            continue
        instead = ", ".join(f"{lang}: {default_model(lang)[0]}" for lang in langs)
        raise PlugdataError(
            f"model {name} (for {','.join(langs)}) is refused: {what} ({issue}); the default "
            f"({instead}) works, or pass --mt-allow-broken to use it anyway"
        )
    return warnings


def hub_licence(model: str) -> str | None:
    """The licence of a Hub model known by its id (a local folder is never assumed to be one)."""
    for pattern, licence, _ in _KNOWN:
        if re.search(pattern, model.lower()):
            return licence
    return None


def attribution_of(model: str, family: str = "") -> str:
    """Who to credit for a model: its family's paper, else the model's name."""
    for pattern, _, attribution in _KNOWN:
        if re.search(pattern, model.lower()):
            return attribution
    return _FAMILY_CREDIT.get(family, model)
