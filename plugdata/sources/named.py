"""Datasets known by a short name (``--source alpaca``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NamedSource:
    """A dataset known by a short name: its Hub id (None when bundled), licence and columns."""

    name: str
    hub_id: str | None
    license: str
    description: str
    columns: Mapping[str, str] = field(default_factory=dict)


NAMED_SOURCES: dict[str, NamedSource] = {
    s.name: s
    for s in (
        NamedSource(
            "alpaca",
            "tatsu-lab/alpaca",
            "cc-by-nc-4.0",
            "Stanford Alpaca, 52K instructions with text-davinci-003 answers",
        ),
        NamedSource(
            "gpt4-alpaca",
            "vicgalle/alpaca-gpt4",
            "cc-by-nc-4.0",
            "Alpaca instructions with GPT-4 answers (the PLUG paper's source)",
        ),
        NamedSource(
            "alpaca-cleaned",
            "yahma/alpaca-cleaned",
            "cc-by-4.0",
            "Alpaca with known errors cleaned",
        ),
        NamedSource(
            "dolly",
            "databricks/databricks-dolly-15k",
            "cc-by-sa-3.0",
            "Dolly 15K, human-written (context -> input, response -> output)",
            {"instruction": "instruction", "input": "context", "output": "response"},
        ),
        NamedSource(
            "seed",
            None,
            "apache-2.0",
            "plugdata's bundled seed corpus: records that break naive pipelines",
        ),
    )
}
