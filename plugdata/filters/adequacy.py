"""The ``adequacy`` check (opt-in): does the target field mean what the pivot field means?

Language and form checks cannot see a fluent translation of the wrong content: a sentence-level
MT model that drifted, a record paired with another record's answer, an answer cut to its first
paragraph. This check embeds the pivot and the target text of each field with a multilingual
sentence encoder (sentence-transformers; LaBSE by default) and compares them by cosine.

- name: ``adequacy``; not in the default set (``--filters +adequacy``).
- sub-reason: ``adequacy:low``, a scored field below ``adequacy_min``.
- config: ``adequacy_min``, ``adequacy_model`` (Hub id or folder), ``adequacy_batch_size``,
  ``adequacy_device``.
- scores: ``adequacy_instruction``, ``adequacy_input``, ``adequacy_output`` (null where the pivot
  or the target field is empty). Texts longer than the model's ``max_seq_length`` (LaBSE: 256
  tokens) are compared on their beginnings.

The encoder is loaded on first use and kept for the life of the filter (``ctx.models``); each
distinct text of a chunk is encoded once (pivot records repeat once per target language), in
one call, which sorts texts by length into batches, on the GPU when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from plugdata.errors import PlugdataError
from plugdata.filters.checks import Context, reason
from plugdata.filters.config import FilterConfig

__all__ = [
    "REASON",
    "SCORES",
    "adequacy",
    "check_model",
    "evidence",
    "preflight",
    "score_rules",
    "summary",
]

FIELDS = ("instruction", "input", "output")
SCORES = tuple(f"adequacy_{f}" for f in FIELDS)
REASON = "adequacy:low"
DEFAULT_MODEL = "sentence-transformers/LaBSE"
# Where the default adequacy_min comes from (stats.json and the card repeat it).
DEFAULT_SOURCE = (
    "plugdata's default for LaBSE, set below the published LaBSE filtering cut-offs (0.6 to "
    "0.8, for mined bitext) so that faithful translations are kept; not measured on LaBSE here"
)
QUANTILES = (5, 25, 50, 75, 95)
BINS = 400  # the score distribution is kept as a histogram over [-1, 1] (0.005 wide bins)
HUB_TIMEOUT = 10.0


def adequacy(df: pl.DataFrame, ctx: Context) -> pl.Series:
    """``adequacy:low`` where a field's pivot and target texts are less similar than
    ``adequacy_min``; the scores go to ``ctx.scores``."""
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
    low = np.zeros(df.height, dtype=bool)
    for f, rows, start in spans:
        score = np.full(df.height, np.nan)
        score[rows] = values[start : start + rows.size]
        ctx.scores[f"adequacy_{f}"] = pl.Series(f"adequacy_{f}", score).fill_nan(None)
        state.record(langs[rows], f, score[rows], cfg.adequacy_min)
        low[rows] |= score[rows] < cfg.adequacy_min
    return reason(pl.DataFrame({"low": low}), [(REASON, pl.col("low"))])


class Encoder:
    """A sentence-transformers model, loaded on first use."""

    def __init__(self, name: str, device: str = "auto", batch_size: int = 64) -> None:
        self.name, self.device, self.batch_size = name, device, batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = load_model(self.name, self.device)
        return self._model

    def similarities(self, pivots: list[str], targets: list[str]) -> np.ndarray:
        """Cosine similarity of each pivot text with its target text (each distinct text is
        encoded once)."""
        texts = list(dict.fromkeys([*pivots, *targets]))
        where = {text: i for i, text in enumerate(texts)}
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        left = vectors[[where[t] for t in pivots]]
        right = vectors[[where[t] for t in targets]]
        return np.einsum("ij,ij->i", left, right).astype(np.float64).clip(-1.0, 1.0)

    def close(self) -> None:
        """Free the model (and its GPU memory); it loads again if used again."""
        if self._model is None:
            return
        device = str(getattr(self._model, "device", "cpu"))
        self._model = None
        if device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()


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
            bins = np.clip(((v + 1.0) / 2.0 * BINS).astype(np.int64), 0, BINS - 1)
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
    return -1.0 + (i + share) * 2.0 / BINS


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


def score_rules(cfg: FilterConfig) -> dict[str, dict[str, Any]]:
    """How each score column decides: the config field, its value, and the side rejected."""
    return {
        name: {"threshold": "adequacy_min", "value": cfg.adequacy_min, "reject": "below"}
        for name in SCORES
    }


def evidence(frame: pl.DataFrame, cfg: FilterConfig) -> pl.Series:
    """Per pair, the evidence for ``adequacy:low`` (``[]`` where it did not fail): one entry
    naming the lowest-scoring target field, e.g. ``cos 0.31 < 0.55``. Reads the score columns
    of a filtered frame."""
    kind = pl.List(pl.Struct({"reason": pl.String, "field": pl.String, "text": pl.String}))
    present = [f for f in FIELDS if f"adequacy_{f}" in frame.columns]
    out: list[list[dict[str, str]]] = []
    for row in frame.select([f"adequacy_{f}" for f in present]).iter_rows():
        scored = [(v, f) for v, f in zip(row, present, strict=True) if v is not None]
        low = min(scored, default=None)
        if low is None or low[0] >= cfg.adequacy_min:
            out.append([])
            continue
        text = f"cos {low[0]:.2f} < {cfg.adequacy_min:.2f}"
        out.append([{"reason": REASON, "field": f"target_{low[1]}", "text": text}])
    return pl.Series("evidence", out, dtype=kind)


def load_model(name: str, device: str = "auto") -> Any:
    """The sentence-transformers model ``name`` (Hub id or folder), without remote code."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise PlugdataError(_MISSING) from None
    try:
        return SentenceTransformer(
            str(Path(name).expanduser()) if _is_path(name) else name,
            device=None if device == "auto" else device,
            trust_remote_code=False,
        )
    except Exception as exc:  # unreadable folder, missing files, no network, bad device
        raise PlugdataError(
            f"adequacy_model {name}: cannot be loaded: {_first_line(exc)}"
        ) from None


_MISSING = (
    "the adequacy filter needs sentence-transformers: pip install 'plugdata[adequacy]' "
    "(checked before any request is sent)"
)


def preflight(cfg: FilterConfig) -> None:
    """Before anything is paid for: sentence-transformers is installed, the device exists and
    the model can be loaded (:func:`check_model`); else one line saying what is wrong."""
    check_model(cfg.adequacy_model)
    device = cfg.adequacy_device
    if device in ("auto", "cpu"):
        return
    import torch

    if device.startswith("cuda"):
        found = torch.cuda.is_available()
    else:
        found = device == "mps" and torch.backends.mps.is_available()
    if not found:
        raise PlugdataError(f"adequacy_device {device}: no such device here (use auto or cpu)")


def check_model(name: str) -> None:
    """Before anything is paid for: sentence-transformers is installed and ``name`` is a model
    folder, a Hub model in the local cache, or a Hub model that can be downloaded now."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        raise PlugdataError(_MISSING) from None
    local = Path(name).expanduser()
    if local.is_dir():
        if not any((local / f).is_file() for f in ("modules.json", "config.json")):
            raise PlugdataError(
                f"adequacy_model {name}: {local} holds no model (no modules.json or config.json)"
            )
        return
    if _is_path(name):
        raise PlugdataError(f"adequacy_model {name}: no such folder")
    if _cached(name):
        return
    _on_hub(name)


def _is_path(name: str) -> bool:
    return (
        name.startswith((".", "/", "~")) or name.count("/") > 1 or Path(name).expanduser().exists()
    )


def _cached(repo: str) -> bool:
    """The model's config and weights are in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    def has(*files: str) -> bool:
        return any(isinstance(try_to_load_from_cache(repo, f), str) for f in files)

    return has("modules.json", "config.json") and has("model.safetensors", "pytorch_model.bin")


def _on_hub(repo: str) -> None:
    """The Hub can be reached and has the model; else one line saying what is wrong."""
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    where = f"adequacy_model {repo}: not a folder and not in the Hugging Face cache"
    if hub.HF_HUB_OFFLINE:
        raise PlugdataError(
            f"{where}, and HF_HUB_OFFLINE is set; download it first or pass a "
            "model folder (--adequacy-model PATH)"
        )
    try:
        HfApi().model_info(repo, timeout=HUB_TIMEOUT)
    except Exception as exc:  # httpx transport errors, 404, gated
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is None:
            raise PlugdataError(
                f"{where}, and the Hub cannot be reached ({_first_line(exc)}); "
                "pass a model folder (--adequacy-model PATH)"
            ) from None
        raise PlugdataError(
            f"adequacy_model {repo}: not on the Hugging Face Hub (HTTP {status})"
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
