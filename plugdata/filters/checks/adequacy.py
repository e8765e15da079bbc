"""``adequacy`` (opt-in): the target field does not mean what the pivot field means.

Language and form checks cannot see a fluent translation of the wrong content: a sentence-level
MT model that drifted, a record paired with another record's answer. This check embeds the
pivot and the target text of each field with a multilingual sentence encoder
(:mod:`plugdata.filters.encoder`; LaBSE by default) and compares them by cosine. It is not in
the default set: name it (``--filters +adequacy``).

Sub-reason: ``adequacy:low`` (a scored field below ``adequacy_min``; the evidence names the
field and its score). Reads ``adequacy_min``, ``adequacy_model``, ``adequacy_batch_size``,
``adequacy_device``. Scores: ``adequacy_instruction``, ``adequacy_input``, ``adequacy_output``
(null where the pivot or the target field is empty). Texts longer than the model's
``max_seq_length`` (LaBSE: 256 tokens) are compared on their beginnings.

The encoder is loaded on first use and kept for the life of the filter (``ctx.models``); each
distinct text of a chunk is encoded once (pivot records repeat once per target language).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from plugdata.filters.check import Check, Context, Score, verdicts
from plugdata.filters.config import FilterConfig
from plugdata.filters.encoder import Encoder

__all__ = ["CHECK", "REASON", "SCORES", "summary", "threshold_source"]

FIELDS = ("instruction", "input", "output")
SCORES = tuple(f"adequacy_{f}" for f in FIELDS)
REASON = "adequacy:low"
READS = ("adequacy_min", "adequacy_model", "adequacy_batch_size", "adequacy_device")
# Where the default adequacy_min comes from (stats.json and the card repeat it).
DEFAULT_SOURCE = (
    "plugdata's default for LaBSE, set below the published LaBSE filtering cut-offs (0.6 to "
    "0.8, for mined bitext) so that faithful translations are kept; not measured on LaBSE here"
)
QUANTILES = (5, 25, 50, 75, 95)
BINS = 400  # the score distribution is kept as a histogram over [-1, 1] (0.005 wide bins)


def run(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """A field's pivot and target texts are less similar than ``adequacy_min`` (cosine of
    their sentence embeddings); the scores go to ``ctx.scores``."""
    state = _state(ctx)
    cfg = ctx.config
    spans = []
    pivots: list[str] = []
    targets: list[str] = []
    for f in FIELDS:
        pivot, target = (df[f"{side}_{f}"].fill_null("") for side in ("pivot", "target"))
        scored = (pivot.str.strip_chars() != "") & (target.str.strip_chars() != "")
        rows = np.flatnonzero(scored.to_numpy())
        spans.append((f, rows, len(pivots)))
        pivots += pivot.gather(rows).to_list()
        targets += target.gather(rows).to_list()
    values = state.encoder.similarities(pivots, targets) if pivots else np.empty(0)
    langs = df["target_lang"].cast(pl.String).to_numpy()
    for f, rows, start in spans:
        score = np.full(df.height, np.nan)
        score[rows] = values[start : start + rows.size]
        ctx.scores[f"adequacy_{f}"] = pl.Series(f"adequacy_{f}", score).fill_nan(None)
        state.record(langs[rows], f, score[rows], cfg.adequacy_min)
    scores = pl.DataFrame([ctx.scores[name] for name in SCORES])
    lowest = pl.min_horizontal(SCORES)  # the evidence names the field that scored lowest
    cases = [
        (
            REASON,
            f,
            (pl.col(f"adequacy_{f}") == lowest) & (lowest < cfg.adequacy_min),
            pl.format(
                "cos {} < {}",
                pl.col(f"adequacy_{f}").round(2),
                pl.lit(round(cfg.adequacy_min, 2)),
            ),
        )
        for f in FIELDS
    ]
    return verdicts(scores, cases)


class _State:
    """What the check keeps for the life of a filter: the encoder and, per language and field,
    a histogram of the scores (so quantiles need no list of every score)."""

    def __init__(self, config: FilterConfig) -> None:
        self.encoder = Encoder(
            config.adequacy_model, config.adequacy_device, config.adequacy_batch_size
        )
        self.hist: dict[tuple[str, str], np.ndarray] = {}
        self.sums: dict[tuple[str, str], list[float]] = {}  # total, below the threshold

    def record(self, langs: np.ndarray, field: str, values: np.ndarray, threshold: float) -> None:
        for lang in np.unique(langs):
            v = values[langs == lang]
            key = (str(lang), field)
            bins = np.clip(((v + 1) / 2 * BINS).astype(np.int64), 0, BINS - 1)
            counts = np.bincount(bins, minlength=BINS)
            self.hist[key] = self.hist.get(key, 0) + counts
            total, below = self.sums.get(key, [0.0, 0.0])
            self.sums[key] = [total + float(v.sum()), below + float((v < threshold).sum())]

    def close(self) -> None:
        self.encoder.close()


def _state(ctx: Context) -> _State:
    if "adequacy" not in ctx.models:
        ctx.models["adequacy"] = _State(ctx.config)
    return ctx.models["adequacy"]


def _quantile(counts: np.ndarray, q: float) -> float:
    """The q-quantile of a histogram over [-1, 1], linear within its bin."""
    n = int(counts.sum())
    rank = max(1.0, q * n)
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, rank))
    before = cum[i] - counts[i]
    share = (rank - before) / counts[i] if counts[i] else 0.0
    return (i + share) * 2 / BINS - 1


def summary(ctx: Context) -> dict[str, Any]:
    """For ``stats.json`` and the card: the model, the threshold and where it came from, and
    per language and field the pairs scored, those below the threshold, the mean and the
    quantiles of the score."""
    cfg = ctx.config
    state = ctx.models.get("adequacy")
    languages: dict[str, dict[str, Any]] = {}
    order = sorted(state.hist if state else (), key=lambda k: (k[0], FIELDS.index(k[1])))
    for lang, f in order:
        counts = state.hist[(lang, f)]  # type: ignore[union-attr]
        n = int(counts.sum())
        if not n:
            continue
        total, below = state.sums[(lang, f)]  # type: ignore[union-attr]
        entry = {"scored": n, "below": int(below), "mean": round(total / n, 4)}
        entry.update({f"p{q}": round(_quantile(counts, q / 100), 3) for q in QUANTILES})
        languages.setdefault(lang, {})[f] = entry
    return {
        "model": cfg.adequacy_model,
        "threshold": cfg.adequacy_min,
        "threshold_source": threshold_source(cfg),
        "languages": languages,
    }


def threshold_source(cfg: FilterConfig) -> str:
    """Where ``adequacy_min`` came from: the default (chosen for LaBSE), or the user."""
    default = FilterConfig()
    if cfg.adequacy_min != default.adequacy_min:
        return f"set by the user (adequacy_min={cfg.adequacy_min})"
    if cfg.adequacy_model != default.adequacy_model:
        return (
            f"{DEFAULT_SOURCE}; chosen for {default.adequacy_model}, not for {cfg.adequacy_model}"
        )
    return DEFAULT_SOURCE


CHECK = Check(
    "adequacy",
    run,
    reasons=(REASON,),
    reads=READS,
    scores=tuple(Score(name, "adequacy_min", "below") for name in SCORES),
    default=False,
)
