"""Filters: language ID and quality checks for translated pairs, with a rejection funnel.

Every check returns, per pair, the sub-reason it fails with (``structure:numbers``); a failing
pair is rejected with all its sub-reasons in ``reasons``. Pairs already rejected upstream keep
their reasons and are not checked again. Pairs kept because a copy of the pivot is what they
need carry the ``verbatim_expected`` tag in ``tags``.

    with PairFilter(config=FilterConfig.parse({"lid_min_prob": 0.5})) as pf:
        for chunk in chunks:
            write(pf.apply(chunk))
        stats = pf.stats()
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import polars as pl

from plugdata.errors import PlugdataError
from plugdata.filters.checks import Check, Context
from plugdata.filters.config import FilterConfig
from plugdata.filters.rows import gather, on_rows, positions
from plugdata.filters.verbatim import prepare

__all__ = [
    "CHECKS",
    "DEFAULT_FILTERS",
    "LID_BACKENDS",
    "OPT_IN",
    "TAG_VERBATIM",
    "FilterConfig",
    "PairFilter",
    "filter_frame",
    "filter_pairs",
    "parse_filters",
]

LID_BACKENDS = ("fasttext", "langdetect")
TAG_VERBATIM = "verbatim_expected"
THREAD_MIN = 2_000  # pairs in a chunk before language identification gets a thread of its own


def _checks() -> dict[str, Check]:
    from plugdata.filters import checks as c
    from plugdata.filters import language as lang
    from plugdata.filters.adequacy import adequacy
    from plugdata.filters.identify import langid
    from plugdata.filters.structure import structure

    return {"empty": c.empty, "truncated": c.truncated, "leakage": c.leakage,
            "refusal": c.refusal, "structure": structure, "untranslated": lang.untranslated,
            "length_ratio": c.length_ratio, "script": lang.script, "langid": langid,
            "repetition": c.repetition, "duplicate": c.duplicate,
            "adequacy": adequacy}  # fmt: skip


CHECKS: dict[str, Check] = _checks()
OPT_IN = ("adequacy",)  # run only when named (--filters +adequacy)
DEFAULT_FILTERS: tuple[str, ...] = tuple(n for n in CHECKS if n not in OPT_IN)
_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def parse_filters(spec: str | None) -> list[str]:
    """``"langid,structure"`` → names; ``None`` → the default checks; ``default`` stands for
    them, and ``+name`` adds a check to them (``"+adequacy"`` = ``"default,adequacy"``)."""
    if spec is None:
        return list(DEFAULT_FILTERS)
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if any(n.startswith("+") for n in names) and "default" not in names:
        names.insert(0, "default")
    expanded = [DEFAULT_FILTERS if n == "default" else [n.lstrip("+")] for n in names]
    names = list(dict.fromkeys(n for group in expanded for n in group))
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise PlugdataError(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    return names


class PairFilter:
    """The checks over a stream of chunks: duplicates are caught across chunks, the language
    identifier (and its worker processes) lives as long as the filter, stats add up."""

    def __init__(
        self,
        names: Iterable[str] | None = None,
        config: FilterConfig | None = None,
        *,
        lid_backend: str | None = None,
    ) -> None:
        self.names = list(names) if names is not None else list(DEFAULT_FILTERS)
        unknown = [n for n in self.names if n not in CHECKS]
        if unknown:
            raise PlugdataError(f"unknown filter(s) {', '.join(unknown)}")
        # (a config from the deprecated ``FilterConfig.parse(lid_backend=...)`` names one)
        lid_backend = lid_backend or getattr(config, "_lid_backend", "fasttext")
        if lid_backend not in LID_BACKENDS:
            raise PlugdataError(f"unknown lid backend {lid_backend!r}; use fasttext or langdetect")
        self.config = config or FilterConfig()
        self.lid_backend = lid_backend
        self._ctx = Context(self.config)
        self._counts: pl.DataFrame | None = None

    def _identifiers(self) -> None:
        if "langid" in self.names and self._ctx.lid is None:
            from plugdata.filters.langid import make_identifier, make_short_identifier

            self._ctx.lid = make_identifier(self.lid_backend)
            self._ctx.short = make_short_identifier(["en", "it", "es", "pt", "ca", "fr"])

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One chunk of pairs in, the same rows out with their verdicts: ``kept``, ``reasons``
        (failing sub-reasons appended), ``tags`` and ``lid_*`` probabilities of the expected
        language (null where a field was not identified)."""
        for name, default in (("reasons", _EMPTY), ("tags", _EMPTY), ("kept", pl.lit(True))):
            if name not in frame.columns:
                frame = frame.with_columns(default.alias(name))
        rows = positions(frame, pl.col("kept") & pl.col("target_output").is_not_null())
        self._identifiers()
        if self._ctx.short is not None and rows.size >= THREAD_MIN and self._short_texts_ahead(frame):
            self._ctx.short.warm()  # lingua's models load (on both cores) before the pairs are prepared
        every = rows.size == frame.height  # the usual case: no gathering in and out
        active = prepare(frame if every else frame[rows])
        self._ctx.scores, self._ctx.chunk = {}, {}
        failures = self._run(active)
        verdicts = pl.DataFrame({f"_f_{n}": failures[n] for n in self.names}, height=active.height)
        # the failing sub-reasons as a list, built only on the rows that fail something
        failing = pl.any_horizontal(pl.all().is_not_null()) if self.names else pl.lit(False)
        new = pl.concat_list(list(verdicts.columns)).list.drop_nulls() if self.names else _EMPTY
        (new,) = on_rows(verdicts, failing, [new.alias("_new")], [_EMPTY])
        verbatim = pl.col("_verbatim_input") | pl.col("_verbatim_output")
        if "verbatim" in self._ctx.chunk:  # copies of a pivot text not in the pivot language
            active = active.with_columns(_foreign=self._ctx.chunk["verbatim"])
            verbatim = verbatim | pl.col("_foreign")
        tagged = active.select(verbatim.fill_null(False).alias("_tagged"))["_tagged"]
        checked = pl.DataFrame([active["target_lang"], new, tagged, *self._ctx.scores.values()])
        self._count(checked)
        if not every:
            checked = checked.select(gather(c, rows, frame.height) for c in checked.get_columns())
            checked = checked.with_columns(pl.col("_new").fill_null(_EMPTY), pl.col("_tagged").fill_null(False))
        out = frame.with_columns(checked.drop("target_lang"))
        (reasons,) = on_rows(out, pl.col("_new").list.len() > 0, [pl.col("reasons").list.concat("_new")], [pl.col("reasons")])  # fmt: skip
        tags = pl.col("tags").list.concat(pl.lit([TAG_VERBATIM])).list.unique(maintain_order=True)
        (tags,) = on_rows(out, pl.col("_tagged"), [tags], [pl.col("tags")])
        return out.with_columns(
            reasons, tags, (pl.col("kept") & (pl.col("_new").list.len() == 0)).alias("kept")
        ).drop("_new", "_tagged")

    @staticmethod
    def _short_texts_ahead(frame: pl.DataFrame) -> bool:
        """Whether some pair's target language has confusable neighbours (lingua's work)."""
        from plugdata.filters.langid import NEIGHBOURS

        return bool(frame.select(pl.col("target_lang").is_in(list(NEIGHBOURS)).any()).item())

    def _run(self, active: pl.DataFrame) -> dict[str, pl.Series]:
        """Every check's verdicts. Language identification (function words, then fastText and
        lingua: much serial Python and native code) runs on a thread of its own beside the
        other checks (mostly polars, which leaves the interpreter free), so that both cores
        work; ``untranslated``, which needs the function words' verdicts, runs last."""
        ctx, names = self._ctx, self.names
        if "langid" not in names or len(names) == 1 or active.height < THREAD_MIN:
            return {name: CHECKS[name](active, ctx) for name in names}
        from plugdata.filters.identify import FIELDS, pivot_answers, settled

        ready = threading.Event()

        def identify() -> pl.Series:
            try:
                if ctx.config.lid_markers:
                    settled(active, ctx, FIELDS)  # shared with untranslated
            finally:
                ready.set()
            return CHECKS["langid"](active, ctx)

        found = {}
        with ThreadPoolExecutor(1) as pool:
            ctx.chunk["pivot_job"] = job = threading.Event()  # the pivot's side, on this thread
            lid = pool.submit(identify)
            try:
                pivot_answers(active, ctx, wait=False)
            finally:
                job.set()
            for name in sorted((n for n in names if n != "langid"), key=lambda n: n == "untranslated"):
                if name == "untranslated":
                    ready.wait()
                found[name] = CHECKS[name](active, ctx)
            found["langid"] = lid.result()
        return {name: found[name] for name in names}

    def _count(self, checked: pl.DataFrame) -> None:
        """Add this chunk's funnel (per language: checked, rejected, each sub-reason, tags)."""
        failed = checked.filter(pl.col("_new").list.len() > 0)
        reasons = failed.select("target_lang", pl.col("_new").alias("r")).explode("r")
        rows = pl.concat([
            checked.select("target_lang", pl.lit("#checked").alias("r")),
            failed.select("target_lang", pl.lit("#rejected").alias("r")),
            reasons.drop_nulls(),
            checked.filter("_tagged").select("target_lang", pl.lit(f"#tag:{TAG_VERBATIM}").alias("r")),
        ])  # fmt: skip
        counts = rows.group_by("target_lang", "r").len()
        if self._counts is not None:
            counts = pl.concat([self._counts, counts]).group_by("target_lang", "r").agg(pl.col("len").sum())  # fmt: skip
        self._counts = counts

    def stats(self) -> dict[str, Any]:
        """The funnel over every chunk so far: per language, pairs checked, kept, rejected,
        rejections per sub-reason (most frequent first) and tags."""
        languages: dict[str, dict[str, Any]] = {}
        counts = self._counts if self._counts is not None else pl.DataFrame()
        for lang, r, n in counts.sort("len", "r", descending=[True, False]).iter_rows() if counts.height else ():  # fmt: skip
            entry = languages.setdefault(lang, {"checked": 0, "kept": 0, "rejected": 0, "reasons": {}, "tags": {}})  # fmt: skip
            if r in ("#checked", "#rejected"):
                entry[r[1:]] = n
            elif r.startswith("#tag:"):
                entry["tags"][r[5:]] = n
            else:
                entry["reasons"][r] = n
        for entry in languages.values():
            entry["kept"] = entry["checked"] - entry["rejected"]
        out = {
            "names": self.names,
            "thresholds": asdict(self.config),
            "lid_backend": self.lid_backend,
            "languages": languages,
            "scores": {},  # how each score column decides (config field, value, side rejected)
        }
        if "adequacy" in self.names:
            from plugdata.filters import adequacy

            out["scores"].update(adequacy.score_rules(self.config))
            out["adequacy"] = adequacy.summary(self._ctx)
        return out

    def close(self) -> None:
        """Stop the language identifier's worker processes; free the models checks loaded."""
        if self._ctx.lid is not None:
            self._ctx.lid.close()
            self._ctx.lid = None
        for model in self._ctx.models.values():
            model.close()

    def __enter__(self) -> PairFilter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def filter_frame(
    frame: pl.DataFrame,
    names: Iterable[str] | None = None,
    config: FilterConfig | None = None,
    *,
    lid_backend: str | None = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Run the checks on the kept pairs of one whole frame (a one-shot :class:`PairFilter`);
    return every pair with its verdict, and the funnel."""
    with PairFilter(names, config, lid_backend=lid_backend) as pf:
        out = pf.apply(frame)
        return out, pf.stats()


def filter_pairs(
    pairs: Iterable[Mapping[str, Any]],
    names: Iterable[str] | None = None,
    config: FilterConfig | None = None,
    *,
    lid_backend: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`filter_frame` for a list of pair dicts (or a ``datasets.Dataset``)."""
    from plugdata.schema import pair_frame

    if hasattr(pairs, "features") and hasattr(pairs, "to_list"):  # datasets.Dataset
        rows = pairs.to_list()
    elif hasattr(pairs, "to_dicts"):  # polars
        rows = pairs.to_dicts()
    else:
        rows = [dict(row) for row in pairs]
    frame = pair_frame(rows)
    out, stats = filter_frame(frame, names, config, lid_backend=lid_backend)
    return out.to_dicts(), stats
