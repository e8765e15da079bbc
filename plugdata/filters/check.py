"""What a check is, what checks share, and how a check states its verdicts.

A :class:`Check` names itself, the sub-reasons it gives, the :class:`FilterConfig` fields it
reads and the score columns it writes; its ``run(frame, ctx)`` returns one verdict per row of
the prepared pair frame (:mod:`plugdata.filters.prepare`): null where the pair passes, else
either the sub-reason (a ``pl.String`` series) or a :data:`VERDICT` struct with the field and a
short excerpt of the evidence (build it with :func:`verdicts`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from plugdata.filters.config import FilterConfig
from plugdata.filters.rows import gather
from plugdata.schema import EVIDENCE, VERDICT

if TYPE_CHECKING:
    from plugdata.filters.accounting import Accounting

__all__ = [
    "EVIDENCE",
    "VERDICT",
    "Check",
    "Context",
    "Score",
    "no_verdicts",
    "verdict_column",
    "verdicts",
]

EVIDENCE_CHARS = 200  # an evidence excerpt's length at most


@dataclass(frozen=True)
class Score:
    """A score column a check writes (a float per pair, null where not measured), the config
    field that thresholds it (None if none does) and on which side of it pairs are rejected."""

    column: str
    threshold: str | None
    reject: Literal["below", "above"] = "below"


@dataclass
class Context:
    """What the checks of a :class:`~plugdata.filters.PairFilter` share: the config, the
    language identifiers, the score columns written on this chunk (``scores``), state kept
    across chunks (``seen``: hashes of the keys ``duplicate`` met) and this chunk's language
    accounting, worked out once (see :meth:`account`)."""

    config: FilterConfig
    lid: Any = None
    short: Any = None
    scores: dict[str, pl.Series] = field(default_factory=dict)
    seen: dict[str, np.ndarray] = field(default_factory=dict)
    accounting: Future[Accounting] | None = None
    verbatim: pl.Series | None = None  # rows whose copy of a foreign pivot text is expected
    models: dict[str, Any] = field(default_factory=dict)  # loaded once per filter, closed with it
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def account(self, frame: pl.DataFrame) -> Accounting:
        """This chunk's :class:`~plugdata.filters.accounting.Accounting`: worked out here on
        first use, or awaited where another thread is working it out."""
        with self._lock:
            if self.accounting is None:
                self.accounting = Future()
                mine = True
            else:
                mine = False
        if mine:
            from plugdata.filters.accounting import account

            try:
                self.accounting.set_result(account(frame, self))
            except BaseException as exc:
                self.accounting.set_exception(exc)
        return self.accounting.result()

    def quoted_instructions(self, frame: pl.DataFrame, rows: np.ndarray) -> np.ndarray:
        """Those of ``rows`` whose pivot instruction the identifier surely puts in another
        language than the pivot (its top label, with ``echo_foreign_min_prob``): a quote that a
        copy may keep ("Il faut bien le faire." in an English record), not a short instruction
        in the pivot language that merely reads as foreign. None without an identifier."""
        if self.lid is None or not rows.size:
            return rows[:0]
        from plugdata.filters.langid import surely_other
        from plugdata.filters.prepare import pcol

        part = frame[rows].select(pcol("pivot", "instruction"), "pivot_lang")
        sure = surely_other(self.lid, *part.get_columns(), self.config.echo_foreign_min_prob)
        return rows[np.array(sure, dtype=bool)]

    def new_chunk(self) -> None:
        """Forget what the last chunk worked out."""
        self.scores, self.accounting, self.verbatim = {}, None, None


@dataclass(frozen=True)
class Check:
    """One rule family: ``run`` gives each pair's failing sub-reason (or evidence struct)."""

    name: str
    run: Callable[[pl.DataFrame, Context], pl.Series]
    reasons: tuple[str, ...]
    reads: tuple[str, ...] = ()
    scores: tuple[Score, ...] = ()
    identifies: bool = False  # needs the language identifiers (ctx.lid, ctx.short)
    default: bool = True  # run when no checks are named

    @property
    def doc(self) -> str:
        """What the check catches (the first paragraph of ``run``'s docstring)."""
        return (self.run.__doc__ or "").strip().split("\n\n")[0]


Case = tuple[str, str, pl.Expr, pl.Expr | None]


def verdicts(df: pl.DataFrame, cases: Sequence[Case]) -> pl.Series:
    """The first case whose condition holds, per row, as a :data:`VERDICT` (null where none
    does). A case is ``(sub-reason, field, condition, evidence text or None)``; the evidence is
    read from ``df``'s columns on the failing rows only (a when/then chain would build every
    case's struct and excerpt on every row)."""
    if not cases:
        return no_verdicts(df.height)
    names = [f"_case{i}" for i in range(len(cases))]
    conds = df.select(
        [cond.fill_null(False).alias(n) for n, (_, _, cond, _) in zip(names, cases, strict=True)]
    )
    rows = np.flatnonzero(conds.select(pl.any_horizontal(names)).to_series().to_numpy())
    if not rows.size:
        return no_verdicts(df.height)

    def struct(name: str, where: str, text: pl.Expr | None) -> pl.Expr:
        excerpt = pl.lit("") if text is None else text.fill_null("").str.slice(0, EVIDENCE_CHARS)
        return pl.struct(
            pl.lit(name).alias("reason"), pl.lit(where).alias("field"), excerpt.alias("text")
        )

    chain = [
        (pl.col(n), struct(name, where, text))
        for n, (name, where, _, text) in zip(names, cases, strict=True)
    ]
    expr = pl.when(chain[0][0]).then(chain[0][1])
    for cond, verdict in chain[1:]:
        expr = expr.when(cond).then(verdict)
    part = df[rows].with_columns(conds[rows])
    found = part.select(expr.otherwise(pl.lit(None, VERDICT)).alias("x"))["x"]
    return gather(found.cast(VERDICT), rows, df.height)


def no_verdicts(height: int) -> pl.Series:
    """A column of ``height`` null verdicts (every pair passes)."""
    return pl.repeat(None, height, dtype=VERDICT, eager=True).alias("x")


def verdict_column(found: Sequence[dict | None]) -> pl.Series:
    """Verdicts worked out in Python (a dict or None per row) as a :data:`VERDICT` column
    (built from the failing rows: a column of nulls is built in one step)."""
    rows = [i for i, v in enumerate(found) if v is not None]
    if not rows:
        return no_verdicts(len(found))
    values = pl.Series("x", [found[i] for i in rows], dtype=VERDICT)
    return gather(values, np.array(rows, dtype=np.int64), len(found))


def add_evidence(df: pl.DataFrame, found: pl.Series, texts: dict[str, pl.Expr]) -> pl.Series:
    """``found`` (verdicts) with the evidence text of each sub-reason in ``texts`` worked out
    on the failing rows only (costly evidence need not run on every row)."""
    failing = found.struct.field("reason")
    rows = np.flatnonzero(failing.is_in(list(texts)).fill_null(False).to_numpy())
    if not rows.size:
        return found
    part = df[rows].with_columns(failing.gather(rows).alias("_reason"))
    text = pl.lit(None, pl.String)
    for name, expr in texts.items():
        text = pl.when(pl.col("_reason") == name).then(expr).otherwise(text)
    found_text = part.select(text.fill_null("").str.slice(0, EVIDENCE_CHARS)).to_series()
    fixed = pl.DataFrame({"v": found.gather(rows)}).select(
        pl.col("v").struct.with_fields(found_text.alias("text"))
    )
    return place(found, rows, fixed.to_series())


def place(out: pl.Series, rows: np.ndarray, values: pl.Series) -> pl.Series:
    """``out`` with ``values`` at ``rows`` (polars cannot scatter structs)."""
    mask = np.zeros(out.len(), dtype=bool)
    mask[rows] = True
    new = gather(values.cast(out.dtype), rows, out.len())
    return pl.select(pl.when(pl.Series(mask)).then(new).otherwise(out)).to_series().alias(out.name)


def as_verdicts(found: pl.Series) -> pl.Series:
    """A check's answer as :data:`VERDICT` structs: a series of sub-reasons (a check that
    names no field or evidence) gets an empty field and text."""
    if found.dtype == VERDICT:
        return found
    if found.dtype == pl.Null or found.dtype == pl.String:
        frame = pl.DataFrame({"r": found.cast(pl.String)})
        out = frame.select(
            pl.when(pl.col("r").is_not_null())
            .then(pl.struct(pl.col("r").alias("reason"), field=pl.lit(""), text=pl.lit("")))
            .otherwise(pl.lit(None, VERDICT))
        )
        return out.to_series().cast(VERDICT)
    return found.cast(VERDICT)
