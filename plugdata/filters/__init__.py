"""Filters: language accounting and quality checks for translated pairs, with a rejection funnel.

Every check (one per module in :mod:`plugdata.filters.checks`) returns, per pair, the sub-reason
it fails with (``structure:numbers``) and its evidence; a failing pair is rejected with all its
sub-reasons in ``reasons`` and one ``{reason, field, text}`` per sub-reason in ``evidence``.
Pairs already rejected upstream keep their reasons and are not checked again. Pairs kept because
a copy of the pivot is what they need carry the ``verbatim_expected`` tag in ``tags``.

    with PairFilter(config=FilterConfig.parse({"lid_min_prob": 0.5})) as pf:
        for chunk in chunks:
            write(pf.apply(chunk))
        stats = pf.stats()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugdata.lazy import lazy_exports

# Public names, imported on first use: the language identifiers' worker processes import
# plugdata.filters.langid, and need none of polars or the checks to start.
_EXPORTS = {
    "EVIDENCE": "plugdata.filters.check",
    "Check": "plugdata.filters.check",
    "Context": "plugdata.filters.check",
    "Score": "plugdata.filters.check",
    "CHECKS": "plugdata.filters.checks",
    "DEFAULT_FILTERS": "plugdata.filters.checks",
    "FilterConfig": "plugdata.filters.config",
    "LID_BACKENDS": "plugdata.filters.langid",
    "TAG_VERBATIM": "plugdata.filters.pair_filter",
    "PairFilter": "plugdata.filters.pair_filter",
    "filter_frame": "plugdata.filters.pair_filter",
    "filter_pairs": "plugdata.filters.pair_filter",
    "parse_filters": "plugdata.filters.pair_filter",
}
__all__ = [
    "CHECKS",
    "DEFAULT_FILTERS",
    "EVIDENCE",
    "LID_BACKENDS",
    "TAG_VERBATIM",
    "Check",
    "Context",
    "FilterConfig",
    "PairFilter",
    "Score",
    "filter_frame",
    "filter_pairs",
    "parse_filters",
]

if TYPE_CHECKING:
    from plugdata.filters.check import EVIDENCE, Check, Context, Score
    from plugdata.filters.checks import CHECKS, DEFAULT_FILTERS
    from plugdata.filters.config import FilterConfig
    from plugdata.filters.langid import LID_BACKENDS
    from plugdata.filters.pair_filter import (
        TAG_VERBATIM,
        PairFilter,
        filter_frame,
        filter_pairs,
        parse_filters,
    )


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
