"""The thresholds of the checks, settable from a ``"name=value,..."`` string or a dict.

Every number a check uses is a field here, with its default and a one-line meaning (the same
lines are the README's filter table). A check reads its fields and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from plugdata.errors import PlugdataError


@dataclass
class FilterConfig:
    """Thresholds of every check; set any of them with ``--thresholds name=value,...``."""

    # langid: language accounting over every segment of a field
    lid_min_share: float = 0.8  # a field with less of its prose in the target language: reject
    lid_min_prob: float = 0.3  # a segment this likely to be in the target language counts as it
    lid_pivot_min_prob: float = 0.05  # a pivot instruction this unlikely to be pivot: reject
    lid_markers: int = 2  # distinct stopwords of the expected language beyond those of each
    # rival in turn (and none only the pivot uses) put a segment in it without identification
    # (0: identify every segment)
    lid_min_letters: int = 20  # fields with less prose are judged by the short-text rules
    segment_min_letters: int = 12  # shorter segments are not identified or counted
    segment_own_script: float = 0.9  # a segment this much in a script only its language
    # writes (Hangul, kana, Thai) is in that language without identification
    neighbour_min_prob: float = 0.5  # a neighbour this likely on a segment counts against it...
    neighbour_margin: float = 0.45  # ...where it leads the target language by this much
    foreign_min_prob: float = 0.5  # the pivot or another language this likely on a segment
    # counts against it (the identifier is unsure of less)
    short_min_words: int = 3  # texts of this many words or more are identified...
    short_max_words: int = 8  # ...and up to this many by comparing confusable neighbours
    short_margin: float = 0.1  # a neighbour this much likelier than the target language: reject
    short_pivot_margin: float = 0.6  # the pivot language likelier still (beyond short_margin)
    pair_margin: float = 0.6  # the same for two-word texts (neighbours only)
    pivot_min_letters: int = 40  # shorter pivot instructions are not identified
    # script
    script_min_share: float = 0.4  # share of translatable letters in the language's own script
    script_min_letters: int = 5  # fewer translatable letters are not judged
    kana_max_share: float = 0.05  # Chinese with more kana than this share of its letters...
    kana_min_letters: int = 2  # ...and at least this many kana: reject
    hanzi_min: int = 1  # Japanese with no kana and this many Han characters Japanese lacks: reject
    # length_ratio and truncated
    length_ratio_low: float = 2.0  # shorter than expected by this factor: reject
    length_ratio_high: float = 2.2  # longer than expected by this factor: reject
    length_min_chars: int = 30  # shorter pivot texts are not length-checked
    length_short_chars: int = 120  # below this many pivot characters the factors widen
    truncated_max_ratio: float = 0.7  # unfinished and this short (vs expected) is truncated
    # untranslated
    copy_min_words: int = 5  # pivots with fewer distinct words are not compared word by word
    copy_max_overlap: float = 0.8  # share of pivot words found again in the target
    echo_min_words: int = 3  # an exact copy of a pivot text this long (names aside) is untranslated
    echo_max_extra: int = 12  # a target holding the whole pivot text and this many characters
    # more (a tag, a label) is a copy too
    echo_foreign_min_prob: float = 0.9  # a copied instruction whose pivot text is another
    # language this surely (a French quote in an English record) is what the pair needs
    sentence_min_words: int = 4  # a pivot sentence this long copied into the target: reject
    copy_run_words: int = 6  # a run of this many pivot words copied into the target: reject
    code_max_prose: float = 0.33  # an output with less prose than this share of its letters
    # is code, data or a formula by shape (a copy of it is expected)
    # structure
    numbers_min_digits: int = 3  # numbers with fewer digits (and decades, 1980s) are not compared
    numbers_min_missing: int = 2  # this many of the pivot's numbers lost, and...
    numbers_max_missing: float = 0.5  # ...more than this share of them: reject
    list_tolerance: float = 0.25  # list items or table rows may change by this share
    # repetition
    repetition_min_chars: int = 60  # shorter outputs are not examined
    repetition_min_excess: float = 1.3  # only targets this much longer than expected...
    repetition_long_chars: int = 2000  # ...or this long are examined
    repetition_ngram: int = 12  # repeated character n-grams of this length...
    repetition_min_share: float = 0.25  # ...making up this share of the target are a loop...
    repetition_over_pivot: float = 0.15  # ...where the pivot's own share is this much lower
    # adequacy (opt-in)
    adequacy_min: float = 0.5  # adequacy (opt-in): pivot/target cosine below this: reject
    adequacy_model: str = "sentence-transformers/LaBSE"  # sentence-transformers Hub id or folder
    adequacy_batch_size: int = 64  # texts per encoder batch
    adequacy_device: str = "auto"  # auto (a GPU when there is one), cpu, cuda, cuda:1, mps

    @classmethod
    def parse(cls, spec: str | Mapping[str, Any] | None = None, **overrides: Any) -> FilterConfig:
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
            raise PlugdataError(f"threshold {key} needs a {kind.__name__}, got {value!r}") from None
