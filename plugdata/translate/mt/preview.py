"""What a build with local translation models will use, found without downloading anything:
per model its licence, its download size (from the Hub when it answers), whether it is on this
machine already, and the engine, device and precision it will run on. When a model is here, a
short warm-up measures how fast it translates on this machine.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from plugdata.languages import Language, get_language
from plugdata.translate.mt.defaults import CHECKED, NON_COMMERCIAL, check_broken, hub_licence
from plugdata.translate.mt.load import (
    BIN_WEIGHTS,
    PATTERNS,
    ModelInfo,
    assign_models,
    cached_files,
    inspect_path,
    is_local,
    model_files,
)
from plugdata.translate.mt.runtime import Runtime, choose
from plugdata.translate.mt.translator import MTTranslator

_NAME_FAMILIES = (
    ("nllb", "nllb"),
    ("m2m100", "m2m100"),
    ("madlad", "madlad"),
    ("opus-mt", "marian"),
    ("marian", "marian"),
)


@dataclass
class Preview:
    """One model of a build, as far as it can be known before anything is downloaded."""

    name: str
    languages: list[str]
    why: str
    licence: str
    size: int | None  # bytes: on disk when the model is here, else from the Hub; None: unknown
    cached: Path | None  # the model's folder on this machine
    info: ModelInfo | None  # the checked model, when its files are here
    family: str  # "" when the model is not here and its name does not say
    runtime: Runtime
    warnings: list[str] = field(default_factory=list)


def preview(
    spec: str | None,
    targets: Sequence[str],
    *,
    pivot: str = "en",
    engine: str = "auto",
    device: str | None = None,
    allow_broken: bool = False,
) -> list[Preview]:
    """The models ``spec`` (``--model``) assigns to ``targets``; a known broken export is
    refused here as in the build."""
    chosen = assign_models(spec, targets)
    by_model: dict[str, list[str]] = {}
    for lang, (name, _) in chosen.items():
        by_model.setdefault(name, []).append(lang)
    warnings = check_broken(by_model, allow_broken)
    out = []
    for name, langs in by_model.items():
        item = _preview_one(name, langs, get_language(pivot), chosen[langs[0]][1], (engine, device))
        item.warnings = [w for w in warnings if name in w] + item.warnings
        out.append(item)
    return out


def _preview_one(
    name: str, langs: list[str], pivot: Language, why: str, where: tuple[str, str | None]
) -> Preview:
    """One model: checked from its files when they are here, else from what is known of it;
    ``where`` is the engine and device asked for."""
    cached = cached_files(name)
    if cached is None and is_local(name):
        model_files(name, ",".join(langs))  # says what is wrong with the folder
    if cached is not None:
        info = inspect_path(name, cached, [get_language(code) for code in langs], pivot)
        item = Preview(
            name,
            langs,
            why,
            info.licence,
            _disk_size(name, cached),
            cached,
            info,
            info.family,
            choose(info.family, *where),
        )
    else:
        family = CHECKED[name].family if name in CHECKED else _guess(name)
        licence = "unknown" if is_local(name) else hub_licence(name) or "unknown"
        item = Preview(
            name, langs, why, licence, hub_size(name), None, None, family, choose(family, *where)
        )
    if item.licence in NON_COMMERCIAL or item.family == "nllb":
        item.warnings.append(f"{name}: NLLB-200 weights are CC-BY-NC-4.0 (non-commercial use only)")
    return item


def _guess(name: str) -> str:
    low = name.lower()
    return next((family for key, family in _NAME_FAMILIES if key in low), "")


def wanted_files(name: str, files: Sequence[str]) -> list[str]:
    """The files of a Hub repo that a build downloads: the checked list for a default, else
    configs, tokenizers and safetensors weights (``pytorch_model.bin`` when there are none)."""
    if name in CHECKED:
        return [f for f in files if f in CHECKED[name].files]
    picked = [f for f in files if any(fnmatch.fnmatch(f, p) for p in PATTERNS)]
    if not any(f.endswith(".safetensors") for f in picked) and BIN_WEIGHTS in files:
        picked.append(BIN_WEIGHTS)
    return picked


def hub_size(name: str) -> int | None:
    """Bytes a build would download for ``name``, from the Hub's file list; None when the Hub
    does not answer (offline, no network, unknown repo)."""
    try:
        from huggingface_hub import HfApi

        info = HfApi().model_info(name, files_metadata=True, timeout=10)
    except Exception:
        return None
    sizes = {s.rfilename: s.size or 0 for s in info.siblings or []}
    return sum(sizes[f] for f in wanted_files(name, list(sizes))) or None


def _disk_size(name: str, folder: Path) -> int:
    names = [f.name for f in folder.iterdir() if f.is_file()]
    return sum((folder / f).stat().st_size for f in wanted_files(name, names))


def measure(
    info: ModelInfo,
    samples: Mapping[str, Sequence[str]],
    pivot: Language,
    runtime: Runtime,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Seconds per sentence for each language, from translating its ``samples`` once the model
    is loaded and warm (loading and conversion are not counted)."""
    translator = MTTranslator(
        {lang: info for lang in samples},
        pivot,
        engine=runtime.engine,
        device=runtime.device,
        batch_size=batch_size,
    )
    engine = translator.engine_for(info)
    out: dict[str, float] = {}
    try:
        for lang, sentences in samples.items():
            if not sentences:
                continue
            engine.translate(list(sentences[:2]), lang)
            start = time.perf_counter()
            engine.translate(list(sentences), lang)
            out[lang] = (time.perf_counter() - start) / len(sentences)
    finally:
        engine.close()
    return out
