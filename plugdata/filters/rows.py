"""Run costly expressions only on the rows that need them.

polars evaluates both branches of ``when/then/otherwise`` on every row, so a cheap hint in the
condition saves nothing. :func:`on_rows` filters the frame to the candidate rows first, runs the
costly expressions there, and puts the results back in place (a default elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

__all__ = ["PIVOT_ID", "gather", "on_rows", "per_pivot", "positions"]

PIVOT_ID = "_pivot_id"  # the distinct pivot record a row translates (see verbatim.prepare)


def positions(df: pl.DataFrame, mask: pl.Expr | pl.Series) -> np.ndarray:
    """Row numbers where ``mask`` holds (nulls count as false)."""
    if isinstance(mask, pl.Series):
        flags = mask.fill_null(False)
    else:
        flags = df.with_columns(mask.fill_null(False).alias("_mask"))[
            "_mask"
        ]  # a literal fills every row
    return np.flatnonzero(flags.to_numpy())


def gather(values: pl.Series, rows: np.ndarray, height: int, default: object = None) -> pl.Series:
    """A column of ``height`` rows holding ``values`` at ``rows`` and ``default`` elsewhere."""
    where = np.full(height, -1, dtype=np.int64)
    where[rows] = np.arange(rows.size)
    index = pl.Series("i", where).replace(-1, None)
    out = (
        values.gather(index)
        if values.len()
        else pl.repeat(None, height, dtype=values.dtype, eager=True)
    )
    out = out.alias(values.name)
    return out if default is None else out.fill_null(pl.lit(default, dtype=values.dtype))


def on_rows(
    df: pl.DataFrame,
    mask: pl.Expr | pl.Series,
    exprs: Sequence[pl.Expr],
    defaults: Sequence[pl.Expr],
) -> list[pl.Series]:
    """Each of ``exprs`` evaluated only where ``mask`` holds, the matching cheap ``defaults``
    (evaluated on the other rows only) elsewhere; full-height columns named as ``exprs``."""
    rows = positions(df, mask)
    names = [e.meta.output_name() for e in exprs]
    cheap = [d.alias(name) for name, d in zip(names, defaults, strict=True)]

    def run(frame: pl.DataFrame, columns: Sequence[pl.Expr]) -> pl.DataFrame:
        # with_columns, not select: a literal default fills every row
        return frame.with_columns(columns).select(names)

    if rows.size == df.height:
        return run(df, exprs).get_columns()
    if rows.size == 0:
        return run(df, cheap).get_columns()
    rest = np.setdiff1d(np.arange(df.height), rows, assume_unique=True)
    # Only the columns the expressions read are gathered (the frame is wide).
    used = {name for e in [*exprs, *defaults] for name in e.meta.root_names()}
    df = df.select([c for c in df.columns if c in used] or [df.columns[0]])
    hit = run(df[rows], exprs).with_columns(_at=pl.Series(rows))
    miss = run(df[rest], cheap).with_columns(_at=pl.Series(rest))
    miss = miss.cast({c: t for c, t in hit.schema.items() if c != "_at"})
    return pl.concat([hit, miss]).sort("_at").drop("_at").get_columns()


def per_pivot(df: pl.DataFrame, work: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """``work`` (a frame of pivot columns in, new columns out, row for row) done once per
    distinct pivot record where pivot records repeat (once per target language), its columns
    spread to every row of ``df``."""
    if PIVOT_ID not in df.columns:
        return work(df)
    ids = df[PIVOT_ID].to_numpy()
    first = np.full(int(ids.max()) + 1 if ids.size else 0, -1, dtype=np.int64)
    first[ids[::-1]] = np.arange(ids.size - 1, -1, -1)  # each record's first row
    if first.size * 4 > ids.size * 3:  # records barely repeat: not worth the gathers
        return work(df)
    pivot = [c for c in df.columns if c.startswith(("pivot_", "_prose_pivot_"))]
    done = work(df.select(pivot)[first])
    return done.select(pl.all().gather(pl.Series(ids)))
