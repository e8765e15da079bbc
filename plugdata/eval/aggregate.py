"""From two-order judgments to rates: strict (FastChat) and lenient (PLUG) counts, the adjusted
win rate with a 95% bootstrap interval, position consistency and errors.

All rates are from system A's side. A pair with an error in either order is left out of ``n``
and counted in ``errors``.

- strict: a win (loss) only when both orders say so; anything else is a tie.
- lenient: two wins = win, a win and a tie = slight win, a win and a loss = tie, and the same
  for losses.
- ``win_rate_adjusted`` = (win + 0.5 * tie) / n over the strict counts.
- ``plug_win_rate`` = (win + slight win) / n over the lenient counts: the paper's own rate,
  where a win in one order and a tie in the other counts as a win.
- ``position_consistency``: the share of pairs whose two orders agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STRICT = ("win", "tie", "loss")
LENIENT = ("win", "slight_win", "tie", "slight_loss", "loss")
_SCORE = {"win": 1.0, "tie": 0.5, "loss": 0.0}
_PLUG_WINS = ("win", "slight_win")
_LENIENT = {
    ("win", "win"): "win",
    ("win", "tie"): "slight_win",
    ("tie", "tie"): "tie",
    ("win", "loss"): "tie",
    ("loss", "tie"): "slight_loss",
    ("loss", "loss"): "loss",
}


def strict(first: str, second: str) -> str:
    """FastChat's rule: a win or a loss only when both orders agree."""
    return first if first == second and first != "tie" else "tie"


def lenient(first: str, second: str) -> str:
    """PLUG's rule over the two orders' outcomes."""
    key = tuple(sorted((first, second), key=lambda r: ("win", "loss", "tie").index(r)))
    return _LENIENT[key]  # type: ignore[index]


def pair_outcomes(judgments: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[str, ...]]]:
    """Per language, per id: the two orders' outcomes (``ab`` then ``ba``), or ``("error",)``."""
    grouped: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for j in judgments:
        grouped[(j["lang"], j["id"])][j["order"]] = j["outcome"]
    out: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for (lang, _), orders in grouped.items():
        both = (orders.get("ab"), orders.get("ba"))
        out[lang].append(both if None not in both else ("error",))  # type: ignore[arg-type]
    return dict(out)


def bootstrap_ci(
    groups: Sequence[Sequence[float]], *, samples: int = 2000, seed: int = 0
) -> list[float] | None:
    """A 95% percentile interval of the mean score, resampling within each group (language)."""
    groups = [g for g in groups if g]
    total = sum(len(g) for g in groups)
    if not total:
        return None
    import numpy as np

    rng = np.random.default_rng(seed)
    sums = np.zeros(samples)
    for group in groups:
        values = np.asarray(group, dtype=float)
        sums += values[rng.integers(0, len(values), size=(samples, len(values)))].sum(axis=1)
    low, high = np.percentile(sums / total, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def summarize(
    pairs: Sequence[tuple[str, ...]],
    groups: Sequence[Sequence[tuple[str, ...]]] | None = None,
    *,
    samples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Counts and rates of one language (``pairs``), or overall (``groups``: one per language)."""
    groups = groups if groups is not None else [pairs]
    judged = [p for p in pairs if len(p) == 2]
    strict_counts = dict.fromkeys(STRICT, 0)
    lenient_counts = dict.fromkeys(LENIENT, 0)
    for first, second in judged:
        strict_counts[strict(first, second)] += 1
        lenient_counts[lenient(first, second)] += 1
    n = len(judged)
    scores = [[_SCORE[strict(*p)] for p in g if len(p) == 2] for g in groups]
    plug_scores = [[float(lenient(*p) in _PLUG_WINS) for p in g if len(p) == 2] for g in groups]
    plug_wins = sum(lenient_counts[k] for k in _PLUG_WINS)
    return {
        "n": n,
        "strict": strict_counts,
        "lenient": lenient_counts,
        "win_rate_adjusted": round((strict_counts["win"] + 0.5 * strict_counts["tie"]) / n, 4)
        if n
        else None,
        "ci95": bootstrap_ci(scores, samples=samples, seed=seed),
        "plug_win_rate": round(plug_wins / n, 4) if n else None,
        "plug_win_rate_ci95": bootstrap_ci(plug_scores, samples=samples, seed=seed),
        "position_consistency": round(sum(a == b for a, b in judged) / n, 4) if n else None,
        "errors": len(pairs) - n,
    }


def aggregate_judgments(
    judgments: Iterable[Mapping[str, Any]], *, samples: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """``{"languages": {lang: summary}, "overall": summary}``."""
    by_lang = pair_outcomes(judgments)
    languages = {
        lang: summarize(by_lang[lang], samples=samples, seed=seed) for lang in sorted(by_lang)
    }
    everything = [p for lang in sorted(by_lang) for p in by_lang[lang]]
    overall = summarize(
        everything, [by_lang[lang] for lang in sorted(by_lang)], samples=samples, seed=seed
    )
    return {"languages": languages, "overall": overall}
