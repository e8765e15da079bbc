"""The funnel and length chart of a run (``funnel.png``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def write_chart(path: Path, stats: Mapping[str, Any], lengths: Mapping[str, Sequence[int]]) -> None:
    """Kept and rejected pairs per language, and target-response lengths, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = list(stats["languages"])
    fig, (funnel, dist) = plt.subplots(1, 2, figsize=(11, 4))
    kept = [stats["languages"][lang]["kept"] for lang in langs]
    rejected = [stats["languages"][lang]["rejected"] for lang in langs]
    funnel.bar(langs, kept, label="kept", color="#3b7dd8")
    funnel.bar(langs, rejected, bottom=kept, label="rejected", color="#d8573b")
    funnel.set_title("Pairs per language")
    funnel.legend()
    for lang in langs:
        values = lengths.get(lang) or [0]
        dist.hist(values, bins=30, alpha=0.5, label=lang)
    dist.set_title("Target response length (characters)")
    dist.set_xlabel("characters")
    dist.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
