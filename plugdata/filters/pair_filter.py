"""The checks over a stream of chunks: :class:`PairFilter`, and one-shot helpers.

Per chunk: the kept pairs are prepared (:mod:`~plugdata.filters.prepare`), every named check
runs, and each pair gets its verdict: ``kept``, ``reasons`` (failing sub-reasons appended),
``evidence`` (one ``{reason, field, text}`` per new sub-reason), ``tags`` and the score columns
the checks write. The language accounting, the costliest piece, runs on a thread of its own
beside the other checks (polars leaves the interpreter free while it works), handed over as a
typed future (:meth:`~plugdata.filters.check.Context.account`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

import polars as pl

from plugdata.errors import PlugdataError
from plugdata.filters.check import EVIDENCE, Context, as_verdicts
from plugdata.filters.checks import CHECKS, DEFAULT_FILTERS
from plugdata.filters.config import FilterConfig
from plugdata.filters.funnel import Funnel
from plugdata.filters.langid import LID_BACKENDS
from plugdata.filters.prepare import add_sizes, prepare
from plugdata.filters.rows import gather, on_rows, positions

TAG_VERBATIM = "verbatim_expected"
THREAD_MIN = 2_000  # pairs in a chunk before the accounting gets a thread of its own
_EMPTY = pl.lit([], dtype=pl.List(pl.String))
_NO_EVIDENCE = pl.lit([], dtype=EVIDENCE)


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
    identifiers (and their worker processes) live as long as the filter, stats add up."""

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
        lid_backend = lid_backend or "fasttext"
        if lid_backend not in LID_BACKENDS:
            raise PlugdataError(f"unknown lid backend {lid_backend!r}; use fasttext or langdetect")
        self.config = config or FilterConfig()
        self.lid_backend = lid_backend
        self._ctx = Context(self.config)
        self._short_langs: set[str] = set()
        self._funnel = Funnel(TAG_VERBATIM)

    @property
    def _identifies(self) -> bool:
        return any(CHECKS[n].identifies for n in self.names)

    def _identifiers(self, frame: pl.DataFrame) -> None:
        """The identifiers the checks need: fastText for the filter's life, lingua for the
        languages of the chunks so far (rebuilt when a chunk brings new ones)."""
        if not self._identifies:
            return
        from plugdata.filters.langid import make_identifier, make_short_identifier
        from plugdata.filters.shorttext import short_languages

        if self._ctx.lid is None:
            self._ctx.lid = make_identifier(self.lid_backend)
        pairs = frame.select("target_lang", "pivot_lang").unique()
        wanted = set(short_languages(pairs["target_lang"].to_list(), pairs["pivot_lang"].to_list()))
        if len(wanted) > 1 and not wanted <= self._short_langs:
            self._short_langs |= wanted
            if self._ctx.short is not None:
                self._ctx.short.close()
            self._ctx.short = make_short_identifier(sorted(self._short_langs))
            if frame.height >= THREAD_MIN and self._ctx.short is not None:
                self._ctx.short.warm()  # lingua loads in a process of its own meanwhile

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One chunk of pairs in, the same rows out with their verdicts (see the module
        docstring); the score columns are null where a pair was not measured."""
        defaults = {
            "reasons": _EMPTY,
            "tags": _EMPTY,
            "kept": pl.lit(True),
            "evidence": _NO_EVIDENCE,
        }
        for name, default in defaults.items():
            if name not in frame.columns:
                frame = frame.with_columns(default.alias(name))
        if frame.schema["evidence"] != EVIDENCE:  # read back from JSON Lines: empty lists
            frame = frame.with_columns(pl.col("evidence").cast(EVIDENCE))
        rows = positions(frame, pl.col("kept") & pl.col("target_output").is_not_null())
        every = rows.size == frame.height  # the usual case: no gathering in and out
        active = frame if every else frame[rows]
        self._identifiers(active)
        active = prepare(active, self.config.code_max_prose, sizes=False)
        self._ctx.new_chunk()
        checked = self._verdicts(active)
        self._funnel.add(checked)
        if not every:
            checked = checked.select(gather(c, rows, frame.height) for c in checked.get_columns())
            checked = checked.with_columns(
                pl.col("_new").fill_null(_NO_EVIDENCE), pl.col("_tagged").fill_null(False)
            )
        return self._merge(frame, checked.drop("target_lang"))

    def _verdicts(self, active: pl.DataFrame) -> pl.DataFrame:
        """Per pair: its language, the new evidence list, whether it is tagged, the scores
        (``active``: prepared without sizes)."""
        found = self._run(active)
        verdicts = pl.DataFrame(
            [as_verdicts(found[n]).alias(f"_f_{n}") for n in self.names], height=active.height
        )
        new = _evidence(verdicts)
        tagged = active.select(
            (pl.col("_verbatim_input") | pl.col("_verbatim_output"))
            .fill_null(False)
            .alias("_tagged")
        ).to_series()
        if self._ctx.verbatim is not None:  # copies of a pivot text not in the pivot language
            tagged = tagged | self._ctx.verbatim
        scores = [
            self._ctx.scores.get(c, pl.Series(c, [None] * active.height, dtype=pl.Float64)).alias(c)
            for c in self._score_columns()
        ]
        return pl.DataFrame(
            [active["target_lang"], new.cast(EVIDENCE), tagged.alias("_tagged"), *scores]
        )

    def _merge(self, frame: pl.DataFrame, checked: pl.DataFrame) -> pl.DataFrame:
        """The chunk with the new verdicts appended to the old ones."""
        out = frame.drop([c for c in checked.columns if c in frame.columns]).with_columns(checked)
        has_new = pl.col("_new").list.len() > 0
        reasons = pl.col("reasons").list.concat(
            pl.col("_new").list.eval(pl.element().struct.field("reason"))
        )
        evidence = pl.col("evidence").list.concat(pl.col("_new"))
        (reasons, evidence) = on_rows(
            out,
            has_new,
            [reasons.alias("reasons"), evidence.alias("evidence")],
            [pl.col("reasons"), pl.col("evidence")],
        )
        tags = pl.col("tags").list.concat(pl.lit([TAG_VERBATIM])).list.unique(maintain_order=True)
        (tags,) = on_rows(out, pl.col("_tagged"), [tags], [pl.col("tags")])
        kept = (pl.col("kept") & (pl.col("_new").list.len() == 0)).alias("kept")
        return out.with_columns(reasons, evidence.cast(EVIDENCE), tags, kept).drop(
            "_new", "_tagged"
        )

    def _run(self, active: pl.DataFrame) -> dict[str, pl.Series]:
        """Every check's verdicts. Where the language accounting is needed and the chunk is
        large, it starts on a thread of its own first, and the checks that need it run last;
        that thread goes on with the last of them, beside the others."""
        ctx, names = self._ctx, self.names
        if not self._identifies or len(names) == 1 or active.height < THREAD_MIN:
            active = add_sizes(active)
            return {name: CHECKS[name].run(active, ctx) for name in names}
        mine = sorted(names, key=lambda n: CHECKS[n].identifies)
        theirs = mine.pop()  # a check that identifies (there is one)

        def beside() -> pl.Series:
            ctx.account(active)  # (it reads no sizes: they are added meanwhile)
            return CHECKS[theirs].run(active, ctx)

        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(beside)
            sized = add_sizes(active)
            found = {name: CHECKS[name].run(sized, ctx) for name in mine}
            found[theirs] = pending.result()
        return {name: found[name] for name in names}

    def _score_columns(self) -> list[str]:
        return [s.column for n in self.names for s in CHECKS[n].scores]

    def stats(self) -> dict[str, Any]:
        """The funnel over every chunk so far: per language, pairs checked, kept, rejected,
        rejections per sub-reason (most frequent first) and tags; the thresholds; and per
        score column the config field that cuts it, its value and the side rejected."""
        config = asdict(self.config)
        scores = {
            s.column: {
                "threshold": s.threshold,
                "value": config.get(s.threshold) if s.threshold else None,
                "reject": s.reject,
            }
            for n in self.names
            for s in CHECKS[n].scores
        }
        out = {
            "names": self.names,
            "thresholds": config,
            "lid_backend": self.lid_backend,
            "scores": scores,
            "languages": self._funnel.languages(),
        }
        if "adequacy" in self.names:
            from plugdata.filters.checks.adequacy import summary

            out["adequacy"] = summary(self._ctx)
        return out

    def close(self) -> None:
        """Stop the language identifiers' worker processes; free the models checks loaded
        (their statistics stay)."""
        if self._ctx.lid is not None:
            self._ctx.lid.close()
            self._ctx.lid = None
        if self._ctx.short is not None:
            self._ctx.short.close()
        for model in self._ctx.models.values():
            model.close()

    def __enter__(self) -> PairFilter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _evidence(verdicts: pl.DataFrame) -> pl.Series:
    """``_new``: per row, the non-null verdicts of its columns, in column order (built on
    the failing rows from one long frame: ``concat_list`` of struct columns costs fifty times
    as much)."""
    failing = pl.any_horizontal(pl.all().is_not_null()) if verdicts.width else pl.lit(False)
    rows = positions(verdicts, failing)
    if not rows.size:
        return pl.select(pl.repeat(_NO_EVIDENCE, verdicts.height)).to_series().alias("_new")
    long = verdicts[rows].with_row_index("_r").unpivot(index="_r").drop_nulls("value")
    found = long.group_by("_r", maintain_order=True).agg(pl.col("value")).sort("_r")["value"]
    new = gather(found.cast(EVIDENCE).alias("_new"), rows, verdicts.height)
    return new.fill_null(_NO_EVIDENCE)


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
