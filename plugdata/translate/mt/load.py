"""Pre-flight for translation models: which model serves which language, where its files
are, its family, licence and language tokens. Everything here fails with one line naming the
model and the language, before any work is done; the weights are loaded later, on first use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import Language, get_language
from plugdata.translate.mt.defaults import default_model, licence_of
from plugdata.translate.mt.families import Target, Unsupported, family_of, target_for

_PATTERNS = ["*.json", "*.spm", "*.model", "*.txt", "*.safetensors", "README.md"]


@dataclass
class ModelInfo:
    """One checked model: files, family, tokenizer, licence and the targets it serves."""

    name: str
    path: Path
    family: str
    tokenizer: Any
    model_type: str
    licence: str
    attribution: str
    targets: dict[str, Target] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def assign_models(spec: str | None, targets: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``{lang: (model, why)}`` from ``--model`` (one id, or ``zh=ID,ko=ID``) or the defaults."""
    named: dict[str, str] = {}
    single: str | None = None
    if spec:
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        if any("=" in p for p in parts):
            for part in parts:
                lang, sep, model = (x.strip() for x in part.partition("="))
                if not sep or not lang or not model:
                    raise PlugdataError(f"--model: bad entry {part!r}; expected LANG=MODEL,...")
                named[get_language(lang).code] = model
        else:
            single = spec.strip()
    out: dict[str, tuple[str, str]] = {}
    for lang in targets:
        if lang in named:
            out[lang] = (named[lang], "named with --model")
        elif single:
            out[lang] = (single, "named with --model")
        else:
            out[lang] = default_model(lang)
    return out


def looks_like_mt(spec: str | None) -> bool:
    """Whether ``--model`` names translation models (a LANG=ID map, a known family, or a
    local folder holding a seq2seq translation model), rather than a chat model."""
    if not spec:
        return False
    if "=" in spec:
        return True
    low = spec.lower()
    if any(k in low for k in ("opus-mt", "m2m100", "nllb", "madlad", "marian")):
        return True
    config = Path(spec).expanduser() / "config.json"
    if config.is_file():
        import json

        try:
            kind = json.loads(config.read_text(encoding="utf-8")).get("model_type", "")
        except (OSError, ValueError):
            return False
        return kind in ("marian", "m2m_100") or (kind == "t5" and "madlad" in low)
    return False


def model_files(name: str, langs: str) -> Path:
    """A local folder with the model's files (downloaded from the Hub when needed)."""
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise PlugdataError(f"model {name} (for {langs}): {local} has no config.json")
        return local
    if name.startswith((".", "/", "~")):
        raise PlugdataError(f"model {name} (for {langs}): no such folder")
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(name, allow_patterns=_PATTERNS))
        if not any(path.glob("*.safetensors")):
            path = Path(snapshot_download(name, allow_patterns=[*_PATTERNS, "pytorch_model.bin"]))
    except Exception as exc:  # offline, unknown repo, gated, no network
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PlugdataError(f"model {name} (for {langs}): cannot be downloaded: {detail}") from None
    return path


def vocabulary(tokenizer: Any) -> set[str]:
    """Every token of a tokenizer, language tokens included (M2M100 keeps them apart)."""
    vocab = set(tokenizer.get_vocab())
    vocab.update(getattr(tokenizer, "lang_code_to_token", {}).values())
    return vocab


def inspect_model(name: str, langs: Sequence[Language], pivot: Language) -> ModelInfo:
    """Check that ``name`` can be loaded and serves every language in ``langs``."""
    codes = ",".join(lang.code for lang in langs)
    path = model_files(name, codes)
    try:
        from transformers import AutoConfig, AutoTokenizer

        config = AutoConfig.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PlugdataError(f"model {name} (for {codes}): cannot be loaded: {detail}") from None
    vocab = vocabulary(tokenizer)
    try:
        family = family_of(getattr(config, "model_type", ""), name, vocab)
    except PlugdataError as exc:
        raise PlugdataError(f"{exc} (for {codes})") from None
    licence, attribution = licence_of(name, path, family)
    info = ModelInfo(name, path, family, tokenizer, config.model_type, licence, attribution)
    for lang in langs:
        try:
            info.targets[lang.code] = target_for(family, name, vocab, pivot, lang)
        except Unsupported as exc:
            raise PlugdataError(f"{exc} (target language {lang.code})") from None
    return info


def cache_root() -> Path:
    """Where converted models are kept: ``$PLUGDATA_CACHE`` or ``~/.cache/plugdata``."""
    root = os.environ.get("PLUGDATA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "plugdata")
    return Path(root)
