"""Pre-flight for translation models: which model serves which language, where its files
are, its family, licence, position limit and language tokens. Everything here fails with one
line naming the model and the language, before any work is done; the weights are loaded later,
on first use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError, first_line
from plugdata.languages import Language, get_language
from plugdata.translate.mt.defaults import attribution_of, default_model, hub_licence
from plugdata.translate.mt.families import Target, Unsupported, family_of, target_for

PATTERNS = ["*.json", "*.spm", "*.model", "*.txt", "*.safetensors", "README.md"]
BIN_WEIGHTS = "pytorch_model.bin"
MODEL_TYPES = ("marian", "m2m_100", "t5")  # the config model types of the families
DEFAULT_POSITIONS = 512  # when neither the config nor the tokenizer states a limit


class Unreachable(PlugdataError):
    """The Hugging Face Hub could not be reached for a model that is not on this machine."""

    def __init__(self, name: str, langs: str, detail: str) -> None:
        super().__init__(f"model {name} (for {langs}): cannot be downloaded: {detail}")
        self.name, self.langs, self.detail = name, langs, detail


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
    max_positions: int = DEFAULT_POSITIONS  # tokens the model can read, and write, at most


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
        try:
            kind = json.loads(config.read_text(encoding="utf-8")).get("model_type", "")
        except (OSError, ValueError):
            return False
        return kind in ("marian", "m2m_100") or (kind == "t5" and "madlad" in low)
    return False


def is_local(name: str) -> bool:
    """Whether ``name`` is a folder on this machine (or is written like a path)."""
    return Path(name).expanduser().is_dir() or name.startswith((".", "/", "~"))


def model_files(name: str, langs: str) -> Path:
    """A local folder with the model's files (downloaded from the Hub when needed)."""
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise PlugdataError(f"model {name} (for {langs}): {local} has no config.json")
        return local
    if name.startswith((".", "/", "~")):
        raise PlugdataError(f"model {name} (for {langs}): no such folder")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        path = Path(snapshot_download(name, allow_patterns=PATTERNS))
        if not any(path.glob("*.safetensors")):
            path = Path(snapshot_download(name, allow_patterns=[*PATTERNS, BIN_WEIGHTS]))
    except (RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError) as exc:
        raise PlugdataError(
            f"model {name} (for {langs}): cannot be downloaded: {first_line(exc)}"
        ) from None
    except Exception as exc:  # offline, no network, proxy or DNS failure
        raise Unreachable(name, langs, first_line(exc)) from None
    return path


def cached_files(name: str) -> Path | None:
    """The model's folder when its config and weights are on this machine (no network)."""
    if is_local(name):
        local = Path(name).expanduser()
        return local if (local / "config.json").is_file() else None
    try:
        from huggingface_hub import snapshot_download

        path = Path(
            snapshot_download(name, allow_patterns=[*PATTERNS, BIN_WEIGHTS], local_files_only=True)
        )
    except Exception:  # not in the cache (or no huggingface_hub cache at all)
        return None
    weights = any(path.glob("*.safetensors")) or (path / BIN_WEIGHTS).is_file()
    return path if weights and (path / "config.json").is_file() else None


def vocabulary(tokenizer: Any) -> set[str]:
    """Every token of a tokenizer, language tokens included (M2M100 keeps them apart)."""
    vocab = set(tokenizer.get_vocab())
    vocab.update(getattr(tokenizer, "lang_code_to_token", {}).values())
    return vocab


def card_licence(path: Path) -> str | None:
    """The licence a model folder states: its card's ``license`` (``license_name`` for
    ``other``), else a ``license`` key in ``config.json``."""
    card = path / "README.md"
    if card.is_file():
        from huggingface_hub.repocard import metadata_load

        try:
            meta = metadata_load(card) or {}
        except Exception:  # a card whose front matter is not YAML states nothing we can read
            meta = {}
        licence = meta.get("license")
        if licence == "other":
            licence = meta.get("license_name") or licence
        if isinstance(licence, list):
            licence = ", ".join(str(x) for x in licence)
        if licence:
            return str(licence)
    try:
        found = json.loads((path / "config.json").read_text(encoding="utf-8")).get("license")
    except (OSError, ValueError):
        found = None
    return str(found) if found else None


def licence_of(name: str, path: Path) -> str:
    """What the model's own files say, else what its Hub id is known to be; ``unknown`` for a
    folder that says nothing (a local copy is never assumed to be the original)."""
    stated = card_licence(path)
    if stated:
        return stated
    return (None if is_local(name) else hub_licence(name)) or "unknown"


def position_limit(config: Any, tokenizer: Any) -> int:
    """How many tokens the model reads (and writes) at most."""
    for key in ("max_position_embeddings", "n_positions"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 100_000 else DEFAULT_POSITIONS


def inspect_model(name: str, langs: Sequence[Language], pivot: Language) -> ModelInfo:
    """Check that ``name`` can be loaded and serves every language in ``langs`` (downloading
    its files when they are not here)."""
    return inspect_path(
        name, model_files(name, ",".join(lang.code for lang in langs)), langs, pivot
    )


def inspect_path(name: str, path: Path, langs: Sequence[Language], pivot: Language) -> ModelInfo:
    """:func:`inspect_model` on files already here (``path``)."""
    codes = ",".join(lang.code for lang in langs)
    try:
        from transformers import AutoConfig, AutoTokenizer

        config = AutoConfig.from_pretrained(path)
        if config.model_type not in MODEL_TYPES:  # say so before reading its tokenizer
            family_of(config.model_type, name, ())
        tokenizer = AutoTokenizer.from_pretrained(path)
        family = family_of(config.model_type, name, vocabulary(tokenizer))
    except PlugdataError as exc:
        raise PlugdataError(f"{exc} (for {codes})") from None
    except Exception as exc:
        raise PlugdataError(
            f"model {name} (for {codes}): cannot be loaded: {first_line(exc)}"
        ) from None
    vocab = vocabulary(tokenizer)
    info = ModelInfo(
        name,
        path,
        family,
        tokenizer,
        config.model_type,
        licence_of(name, path),
        attribution_of(name, family),
        max_positions=position_limit(config, tokenizer),
    )
    for lang in langs:
        try:
            info.targets[lang.code] = target_for(family, name, vocab, pivot, lang)
        except Unsupported as exc:
            raise PlugdataError(f"{exc} (target language {lang.code})") from None
    return info


def cache_root() -> Path:
    """Where converted models are kept: ``$PLUGDATA_CACHE`` or ``~/.cache/plugdata``."""
    root = os.environ.get("PLUGDATA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "plugdata"
    )
    return Path(root)
