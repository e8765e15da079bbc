"""Local machine-translation models (``--translator mt``): Marian/OPUS-MT, M2M100, NLLB-200
and MADLAD-400 through transformers or CTranslate2, sentence by sentence.

- :mod:`~plugdata.translate.mt.segment`: markdown-aware, lossless sentence segmentation;
- :mod:`~plugdata.translate.mt.families`: how each family is told the target language;
- :mod:`~plugdata.translate.mt.defaults`: default models by quality and licence;
- :mod:`~plugdata.translate.mt.load`: pre-flight (files, family, languages, licence);
- :mod:`~plugdata.translate.mt.engines` and ``convert``: transformers and CTranslate2;
- :mod:`~plugdata.translate.mt.batcher`: concurrent calls gathered into batches;
- :mod:`~plugdata.translate.mt.translator`: the :class:`MTTranslator`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import get_language
from plugdata.translate.mt.defaults import NON_COMMERCIAL
from plugdata.translate.mt.load import ModelInfo, assign_models, inspect_model, looks_like_mt
from plugdata.translate.mt.translator import ENGINES, MTTranslator, ctranslate2_installed

__all__ = ["ENGINES", "MTTranslator", "looks_like_mt", "mt_translator"]
_SAID: set[str] = set()


def _say(line: str) -> None:
    """Tell the user once per process (a script may make several translators)."""
    if line not in _SAID:
        _SAID.add(line)
        sys.stderr.write(f"plugdata: {line}\n")


def mt_translator(model: str | None = None, *, targets: Sequence[str], pivot: str = "en",
                  cache: Any = None, engine: str = "auto", device: str | None = None,
                  batch_size: int | None = None, **_: Any) -> MTTranslator:  # fmt: skip
    """An :class:`MTTranslator` for ``targets``, every model checked before any work.

    ``model`` is one model id or folder, ``zh=ID,ko=ID`` per language, or None for the
    defaults (chosen by quality and licence; each choice is printed with its reason).
    """
    if engine not in ENGINES:
        raise PlugdataError(f"--mt-engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "ctranslate2" and not ctranslate2_installed():
        raise PlugdataError("--mt-engine ctranslate2: CTranslate2 is not installed; "
                            "pip install 'plugdata[mt]'")  # fmt: skip
    source = get_language(pivot)
    chosen = assign_models(model, targets)
    by_model: dict[str, list[str]] = {}
    for lang, (name, _why) in chosen.items():
        by_model.setdefault(name, []).append(lang)
    infos: dict[str, ModelInfo] = {}
    for name, langs in by_model.items():
        info = inspect_model(name, [get_language(code) for code in langs], source)
        for lang in langs:
            infos[lang] = info
    for lang, (name, why) in chosen.items():
        info = infos[lang]
        if model is None:
            _say(f"{lang}: {name} ({info.licence}), default because {why}")
        if info.licence in NON_COMMERCIAL or info.family == "nllb":
            _say(f"{name} is licensed {info.licence}: non-commercial use only, and its card "
                 "says it is not meant for production")  # fmt: skip
    return MTTranslator(infos, source, cache=cache, engine=engine, device=device,
                        batch_size=batch_size, reasons={k: v[1] for k, v in chosen.items()})  # fmt: skip
