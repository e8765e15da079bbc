"""The thresholds of the checks, settable from a ``"name=value,..."`` string or a dict."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from plugdata.errors import PlugdataError


@dataclass
class FilterConfig:
    """Thresholds of every check; set any of them with ``--thresholds name=value,...``."""

    lid_min_prob: float = 0.3  # below this probability of the target language: reject
    lid_pivot_min_prob: float = 0.05  # a pivot instruction this unlikely to be pivot: reject
    lid_markers: int = 3  # this many function words of the expected language (none of its
    # neighbours'): in that language without identification (0: identify every text)
    lid_min_letters: int = 20  # shorter texts are judged by the short-text rule instead
    short_min_words: int = 3  # texts of this many words or more are identified...
    short_max_words: int = 8  # ...and up to this many by comparing confusable neighbours
    short_margin: float = 0.1  # a neighbour this much likelier than the target language: reject
    pair_margin: float = 0.6  # the same for two-word texts (neighbours only)
    short_marker_weight: float = 0.5  # added to a neighbour whose own function words a short
    # text holds (and none of the expected language's apart from it)
    neighbour_min_prob: float = 0.5  # a longer text whose first language is a neighbour: reject
    script_min_share: float = 0.4  # share of translatable letters in the language's own script
    script_min_letters: int = 5  # fewer translatable letters are not judged
    length_ratio_low: float = 2.0  # shorter than expected by this factor: reject
    length_ratio_high: float = 2.2  # longer than expected by this factor: reject
    length_min_chars: int = 30  # shorter pivot texts are not length-checked
    length_short_chars: int = 120  # below this many pivot characters the factors widen
    truncated_max_ratio: float = 0.7  # unfinished and this short (vs expected) is truncated
    copy_min_words: int = 5
    copy_max_overlap: float = 0.8  # share of pivot words found again in the target
    echo_min_words: int = 3  # an exact copy of a pivot text this long (names aside) is untranslated
    repetition_min_chars: int = 60
    repetition_min_excess: float = 1.3  # only targets this much longer than expected...
    repetition_min_share: float = 0.25  # ...with this share of repeated 12-grams are loops
    adequacy_min: float = 0.5  # adequacy (opt-in): pivot/target cosine below this: reject
    adequacy_model: str = "sentence-transformers/LaBSE"  # sentence-transformers Hub id or folder
    adequacy_batch_size: int = 64  # texts per encoder batch
    adequacy_device: str = "auto"  # auto (a GPU when there is one), cpu, cuda, cuda:1, mps

    @classmethod
    def parse(
        cls, spec: str | Mapping[str, Any] | None = None, **overrides: Any
    ) -> FilterConfig:
        """Defaults overridden by ``"lid_min_prob=0.5,length_ratio_high=3"`` or by a dict
        such as ``{"lid_min_prob": 0.5}``; keyword overrides apply last."""
        if isinstance(spec, str):
            items: list[tuple[str, Any]] = []
            for part in (p for p in spec.split(",") if p.strip()):
                key, sep, value = (x.strip() for x in part.partition("="))
                if not sep:
                    raise PlugdataError(f"bad threshold {part!r}: expected name=value")
                items.append((key, value))
        else:
            items = list((spec or {}).items())
        config = cls()
        if "lid_backend" in overrides:  # the backend is an argument of PairFilter now
            warnings.warn("FilterConfig.parse(lid_backend=...) is deprecated: pass lid_backend "
                          "to PairFilter / filter_frame", DeprecationWarning, stacklevel=2)  # fmt: skip
            config._lid_backend = str(overrides.pop("lid_backend"))
        for key, value in [*items, *overrides.items()]:
            config._set(key, value)
        return config

    def _set(self, key: str, value: Any) -> None:
        known = [f.name for f in fields(self)]
        if key not in known:
            raise PlugdataError(f"unknown threshold {key!r}; known: {', '.join(known)}")
        kind = type(getattr(self, key))
        if isinstance(value, bool) or (kind is int and isinstance(value, float)):
            raise PlugdataError(f"threshold {key} needs a {kind.__name__}, got {value!r}")
        try:
            setattr(self, key, kind(value))
        except (TypeError, ValueError):
            raise PlugdataError(
                f"threshold {key} needs a {kind.__name__}, got {value!r}"
            ) from None
