"""Local machine-translation models (``--translator mt``): Marian/OPUS-MT, M2M100, NLLB-200
and MADLAD-400 through transformers or CTranslate2, sentence by sentence.

- :mod:`~plugdata.translate.mt.segment`: markdown-aware, lossless sentence segmentation;
- :mod:`~plugdata.translate.mt.families`: how each family is told the target language;
- :mod:`~plugdata.translate.mt.defaults`: default models by quality and licence, what was
  checked about each, and the exports known to be broken;
- :mod:`~plugdata.translate.mt.load`: pre-flight (files, family, languages, licence, limits);
- :mod:`~plugdata.translate.mt.offline`: the way out when the Hub cannot be reached;
- :mod:`~plugdata.translate.mt.runtime`: engine, device and precision;
- :mod:`~plugdata.translate.mt.engines` and ``convert``: transformers and CTranslate2;
- :mod:`~plugdata.translate.mt.batcher`: concurrent calls gathered into batches;
- :mod:`~plugdata.translate.mt.translator`: the :class:`MTTranslator`;
- :mod:`~plugdata.translate.mt.preview`: what a build will use, for the dry run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import get_language
from plugdata.translate.mt.defaults import NON_COMMERCIAL, check_broken
from plugdata.translate.mt.load import (
    ModelInfo,
    Unreachable,
    assign_models,
    inspect_model,
    looks_like_mt,
)
from plugdata.translate.mt.offline import offline_message
from plugdata.translate.mt.translator import ENGINES, MTTranslator, ctranslate2_installed

__all__ = ["ENGINES", "MTTranslator", "looks_like_mt", "mt_translator"]
_SAID: set[str] = set()


def _say(line: str) -> None:
    """Tell the user once per process (a script may make several translators)."""
    if line not in _SAID:
        _SAID.add(line)
        sys.stderr.write(f"plugdata: {line}\n")


def mt_translator(
    model: str | None = None,
    *,
    targets: Sequence[str],
    pivot: str = "en",
    cache: Any = None,
    engine: str = "auto",
    device: str | None = None,
    batch_size: int | None = None,
    allow_broken: bool = False,
    **_: Any,
) -> MTTranslator:
    """An :class:`MTTranslator` for ``targets``, every model checked before any work.

    ``model`` is one model id or folder, ``zh=ID,ko=ID`` per language, or None for the
    defaults (chosen by quality and licence; each choice is printed with its reason). A model
    whose Hugging Face export is known to be broken is refused unless ``allow_broken``.
    """
    if engine not in ENGINES:
        raise PlugdataError(f"--mt-engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "ctranslate2" and not ctranslate2_installed():
        raise PlugdataError(
            "--mt-engine ctranslate2: CTranslate2 is not installed; pip install 'plugdata[mt]'"
        )
    source = get_language(pivot)
    chosen = assign_models(model, targets)
    by_model: dict[str, list[str]] = {}
    for lang, (name, _why) in chosen.items():
        by_model.setdefault(name, []).append(lang)
    for line in check_broken(by_model, allow_broken):
        _say(line)
    infos = _inspect_all(by_model, source)
    for lang, (name, why) in chosen.items():
        info = infos[lang]
        if model is None:
            _say(f"{lang}: {name} ({info.licence}), default because {why}")
        if info.licence in NON_COMMERCIAL or info.family == "nllb":
            licence = info.licence if info.licence in NON_COMMERCIAL else "CC-BY-NC-4.0 (NLLB-200)"
            _say(
                f"{name} is licensed {licence}: non-commercial use only, and its card "
                "says it is not meant for production"
            )
    return MTTranslator(
        infos,
        source,
        cache=cache,
        engine=engine,
        device=device,
        batch_size=batch_size,
        reasons={k: v[1] for k, v in chosen.items()},
    )


def _inspect_all(by_model: dict[str, list[str]], source: Any) -> dict[str, ModelInfo]:
    """Every model checked; the models the Hub could not give are named together, with the
    way to fetch them elsewhere."""
    infos: dict[str, ModelInfo] = {}
    missing: dict[str, list[str]] = {}
    detail = ""
    for name, langs in by_model.items():
        try:
            info = inspect_model(name, [get_language(code) for code in langs], source)
        except Unreachable as exc:
            missing[name], detail = langs, exc.detail
            continue
        for lang in langs:
            infos[lang] = info
    if missing:
        raise PlugdataError(offline_message(missing, detail))
    return infos
