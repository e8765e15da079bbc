"""``duplicate``: the same target instruction and input as an earlier pair of the same
language, in this chunk or an earlier one (8-byte hashes of the normalised keys are kept in
``Context.seen``).

Sub-reason: ``duplicate:same_instruction``. Reads no config field.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from plugdata.filters.check import Check, Context, verdicts
from plugdata.filters.prepare import col
from plugdata.filters.rows import on_rows


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """The target instruction and input (spaces squeezed, any case) were seen before in the
    same target language."""
    ins, given = col("target", "instruction"), col("target", "input")
    key = pl.concat_str([ins, given], separator="\n").str.replace_all(r"\s+", " ")
    # an instruction alone with no run of spaces needs no squeezing (the same key either way)
    plain = (given == "") & ~ins.str.contains(r"\s\s|[^\S ]")
    (key,) = on_rows(df, ~plain, [key.alias("k")], [ins])
    hashed = key.str.to_lowercase().str.strip_chars().hash(seed=12).alias("k")
    keyed = df.select(pl.col("target_lang"), hashed)
    again = keyed.select(~pl.col("k").is_first_distinct().over("target_lang"))[:, 0].to_numpy()
    again = again.copy()
    for (lang,), part in keyed.with_row_index("_i").group_by("target_lang"):
        hashes = part["k"].to_numpy()
        seen = ctx.seen.get(str(lang), np.empty(0, dtype=np.uint64))
        if seen.size:
            pos = np.searchsorted(seen, hashes).clip(max=seen.size - 1)
            again[part["_i"].to_numpy()[seen[pos] == hashes]] = True
        ctx.seen[str(lang)] = np.union1d(seen, hashes)
    flags = pl.DataFrame({"d": pl.Series(again, dtype=pl.Boolean)})
    return verdicts(flags, [("duplicate:same_instruction", "", pl.col("d"), None)])


CHECK = Check("duplicate", run, reasons=("duplicate:same_instruction",))
