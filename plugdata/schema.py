"""The row shapes every stage shares: source rows, pair rows and formatted rows.

A source row is ``{id, source, instruction, input, output}``. A pair row adds the pivot and
target languages, the pivot and target fields side by side, provenance and the filter verdict
(``kept``, ``reasons``). The filters add ``evidence`` (:data:`EVIDENCE`): one ``{reason,
field, text}`` per sub-reason a filter rejected the pair with, the target field
(``instruction``, ``input``, ``output``, or ``""`` for pair-level reasons such as ``duplicate``)
and an excerpt of at most 200 characters of what failed (the segment in the wrong language, the
copied sentence, the lost number); kept pairs have an empty list. Filters also add ``tags``
and score columns: ``share_target_*`` and ``share_pivot_*`` (shares of a field's prose in the
target and pivot language), ``lid_*`` probabilities.
"""

from __future__ import annotations

from typing import Any

import polars as pl

FIELDS = ("instruction", "input", "output")
VERDICT = pl.Struct({"reason": pl.String, "field": pl.String, "text": pl.String})
EVIDENCE = pl.List(VERDICT)

PAIR_SCHEMA: dict[str, Any] = {
    **{
        name: pl.String
        for name in (
            "id",
            "source",
            "pivot_lang",
            "target_lang",
            "pivot_instruction",
            "pivot_input",
            "pivot_output",
            "target_instruction",
            "target_input",
            "target_output",
            "backend",
            "model",
            "prompt_version",
            "generated",
            "finish_reason",
        )
    },
    "prompt_tokens": pl.Int64,
    "completion_tokens": pl.Int64,
    "cost_usd": pl.Float64,
    "attempts": pl.Int64,  # model requests the pair took, sent or replayed from the cache
    "cached": pl.Int64,  # of which replayed from the cache
    "kept": pl.Boolean,
    "reasons": pl.List(pl.String),
}
PAIR_COLUMNS = tuple(PAIR_SCHEMA)
# Pair columns any pairs file must have (provenance may be missing in files from other tools).
REQUIRED_PAIR_COLUMNS = (
    "id",
    "pivot_lang",
    "target_lang",
    *(f"{side}_{name}" for side in ("pivot", "target") for name in FIELDS),
)

MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
FORMAT_SCHEMA: dict[str, Any] = {
    "id": pl.String,
    "format": pl.String,
    "pivot_lang": pl.String,
    "target_lang": pl.String,
    "messages": MESSAGES,
}
RENDERED_SCHEMA: dict[str, Any] = {**FORMAT_SCHEMA, "text": pl.String, "num_tokens": pl.Int64}


def pair_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Pair rows as a frame with the pair schema (extra columns are inferred)."""
    if not rows:
        return pl.DataFrame([], schema=PAIR_SCHEMA)
    schema = {k: v for k, v in PAIR_SCHEMA.items() if k in rows[0]}
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
