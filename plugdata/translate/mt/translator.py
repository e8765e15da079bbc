"""The ``mt`` translator: sentence-level translation models, in process, no key needed.

Each field is segmented (code, URLs, placeholders, tables and markdown syntax stay verbatim),
its sentences are looked up in the request cache, the rest go through the :class:`Batcher`
together with every other record's, and the translations are put back on the original
layout. A sentence whose masked spans did not survive the model is translated again piece by
piece around them, so a protected span can never be lost or changed.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Mapping
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import Language
from plugdata.translate.base import Outcome
from plugdata.translate.cache import CachedReply, RequestCache, request_key
from plugdata.translate.mt.batcher import Batcher
from plugdata.translate.mt.engines import RECIPE, CT2Engine, Engine, Result, TransformersEngine
from plugdata.translate.mt.load import ModelInfo
from plugdata.translate.mt.runtime import Runtime, choose, ctranslate2_installed
from plugdata.translate.mt.segment import assemble, segment
from plugdata.translate.protect import needs_translation, same_markers

ENGINES = ("auto", "ctranslate2", "transformers")
_LOOSE_MARKER = re.compile(r"\[\s*\[\s*P\s*(\d+)\s*\]\s*\]")
_SPLIT_MARKERS = re.compile(r"(\[\[P\d+\]\])")
__all__ = ["ENGINES", "MTTranslator", "ctranslate2_installed"]


class MTTranslator:
    """Translates records with local seq2seq models, one model per target language."""

    backend = "mt"
    prompt_version = RECIPE

    def __init__(
        self,
        models: Mapping[str, ModelInfo],
        pivot: Language,
        *,
        cache: RequestCache | None = None,
        engine: str = "auto",
        device: str | None = None,
        batch_size: int | None = None,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise PlugdataError(f"mt engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.models = dict(models)
        self.pivot, self.cache, self.engine_choice = pivot, cache, engine
        self.device, self.batch_size = device, batch_size
        self.reasons = dict(reasons or {})
        self._engines: dict[str, Engine] = {}
        self._ran_on: dict[str, Runtime] = {}  # kept after close(), for the records
        self.batcher = Batcher(self._run)
        names = list(dict.fromkeys(info.name for info in self.models.values()))
        self.model = (
            names[0]
            if len(names) == 1
            else ",".join(f"{lang}={info.name}" for lang, info in self.models.items())
        )

    def engine_for(self, info: ModelInfo) -> Engine:
        """The loaded engine of a model (loaded on first use, on the worker thread)."""
        engine = self._engines.get(info.name)
        if engine is None:
            engine = self._engines[info.name] = self._load(info)
            self._ran_on[info.name] = engine.runtime
        return engine

    def planned(self, info: ModelInfo) -> Runtime:
        """The runtime a model gets when it is loaded (CTranslate2 may still fall back)."""
        return choose(info.family, self.engine_choice, self.device)

    def _load(self, info: ModelInfo) -> Engine:
        runtime = self.planned(info)
        if runtime.engine == "ctranslate2":
            try:
                return CT2Engine(info, self.pivot, runtime, self.batch_size)
            except Exception as exc:
                if self.engine_choice == "ctranslate2":
                    raise PlugdataError(f"model {info.name}: CTranslate2 failed: {exc}") from None
                sys.stderr.write(
                    f"plugdata: CTranslate2 cannot run {info.name} ({exc}); "
                    "using transformers generate\n"
                )
            runtime = choose(info.family, "transformers", self.device)
        return TransformersEngine(info, self.pivot, runtime, self.batch_size)

    def _run(self, model: str, lang: str, texts: list[str]) -> list[Result]:
        info = self.models[lang]
        assert info.name == model
        return self.engine_for(info).translate(texts, lang)

    def _key(self, info: ModelInfo, text: str, target: Language) -> str:
        """One cache entry per sentence, model and direction (whichever engine ran it)."""
        return request_key(
            "mt",
            info.name,
            [{"role": "user", "content": text}],
            {"source": self.pivot.code, "target": target.code, "recipe": RECIPE},
        )

    async def translate(
        self, fields: Mapping[str, str], pivot: Language, target: Language
    ) -> Outcome:
        """Translate every field sentence by sentence; spans and layout come back verbatim."""
        info = self.models.get(target.code)
        if info is None:
            raise PlugdataError(f"no translation model was set up for language {target.code!r}")
        if pivot.code != self.pivot.code:
            raise PlugdataError(f"model {info.name} was set up for pivot {self.pivot.code!r}")
        layouts = {key: segment(text, pivot.code) for key, text in fields.items()}
        wanted = list(
            dict.fromkeys(
                s for lay in layouts.values() for s in lay.segments if needs_translation(s)
            )
        )
        outcome = Outcome(model=info.name, finish_reason="stop")
        done = await self._sentences(info, target, wanted, outcome)
        out: dict[str, str] = {}
        for key, layout in layouts.items():
            out[key] = assemble(layout, [done.get(s, s) for s in layout.segments])
        outcome.fields = out
        return outcome

    async def _sentences(
        self, info: ModelInfo, target: Language, wanted: list[str], outcome: Outcome
    ) -> dict[str, str]:
        """Translations of masked sentences, markers checked (pieces around them otherwise)."""
        got = await self._lookup(info, target, wanted, outcome)
        broken = [s for s in wanted if not same_markers(s, got[s])]
        pieces = list(
            dict.fromkeys(
                p.strip() for s in broken for p in _SPLIT_MARKERS.split(s) if needs_translation(p)
            )
        )
        if pieces:
            got.update(
                await self._lookup(info, target, [p for p in pieces if p not in got], outcome)
            )
        for sentence in broken:
            parts = _SPLIT_MARKERS.split(sentence)
            got[sentence] = "".join(
                _keep_space(p, got[p.strip()]) if needs_translation(p) else p for p in parts
            )
        return got

    async def _lookup(
        self, info: ModelInfo, target: Language, texts: list[str], outcome: Outcome
    ) -> dict[str, str]:
        """Cached translations, and the rest from the model (cached as they come)."""
        found: dict[str, str] = {}
        todo: list[str] = []
        replies = await asyncio.gather(*(self._get(info, t, target) for t in texts))
        for text, reply in zip(texts, replies, strict=True):
            if reply is None:
                todo.append(text)
                continue
            found[text] = reply.content
            self._count(outcome, reply.prompt_tokens, reply.completion_tokens, reply.finish_reason)
            outcome.cached = outcome.cached or int(not outcome.sent)
        if todo:
            results = await self.batcher.submit(info.name, target.code, todo)
            outcome.sent, outcome.cached = 1, 0
            for text, result in zip(todo, results, strict=True):
                content = _LOOSE_MARKER.sub(lambda m: f"[[P{m.group(1)}]]", result.text)
                found[text] = content
                self._count(outcome, result.in_tokens, result.out_tokens, result.finish)
                if self.cache is not None:
                    await self.cache.aput(
                        self._key(info, text, target),
                        CachedReply(
                            content, result.finish, result.in_tokens, result.out_tokens, 0.0
                        ),
                    )
        return found

    async def _get(self, info: ModelInfo, text: str, target: Language) -> CachedReply | None:
        return None if self.cache is None else await self.cache.aget(self._key(info, text, target))

    @staticmethod
    def _count(outcome: Outcome, n_in: int, n_out: int, finish: str) -> None:
        outcome.prompt_tokens += n_in
        outcome.completion_tokens += n_out
        if finish == "length":
            outcome.finish_reason = "length"

    def describe(self) -> dict[str, Any]:
        """Models, licences and attribution per language, and where each model ran (engine,
        device, dtype or compute type), for ``config.yaml`` and the card."""
        per_lang = {
            lang: {
                "model": info.name,
                "family": info.family,
                "licence": info.licence,
                "attribution": info.attribution,
                "why": self.reasons.get(lang, ""),
                **self._ran(info),
            }
            for lang, info in self.models.items()
        }
        infos = {info.name: info for info in self.models.values()}
        return {
            "mt_models": per_lang,
            "models_used": list(infos),
            "model_licences": {name: info.licence for name, info in infos.items()},
            "model_attribution": {name: info.attribution for name, info in infos.items()},
        }

    def _ran(self, info: ModelInfo) -> dict[str, Any]:
        """What a model ran on; what it would have run on when it was never loaded."""
        used = self._ran_on.get(info.name)
        runtime = used or self.planned(info)
        return {
            "engine": runtime.engine,
            "device": runtime.device,
            "dtype": runtime.dtype,
            "compute_type": runtime.compute_type,
            "loaded": used is not None,
            "max_positions": info.max_positions,
        }

    async def close(self) -> None:
        """Stop the batcher and drop the models (a model still busy with an interrupted
        batch is left to finish it on its thread)."""
        if await self.batcher.close():
            for engine in self._engines.values():
                engine.close()
        self._engines.clear()
        self.batcher = Batcher(self._run)


def _keep_space(piece: str, translation: str) -> str:
    """A translated piece with the piece's own leading and trailing whitespace."""
    lead = piece[: len(piece) - len(piece.lstrip())]
    trail = piece[len(piece.rstrip()) :]
    return f"{lead}{translation}{trail}"
