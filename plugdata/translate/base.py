"""What every translator shares: the :class:`Outcome` of one task and the :class:`Translator`
interface that the runner drives.

A translator is anything with ``translate(fields, pivot, target) -> Outcome``. The runner calls
it concurrently for many (record, language) items, with no batch barrier; a backend that works
best in batches (a local translation model, a batch API) gathers the concurrent calls it
receives into batches itself, so there is one runner for every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from plugdata.languages import Language


@dataclass
class Outcome:
    """What one model task produced: fields on success, a countable reason otherwise.

    ``sent`` counts requests that went out (transport retries included) and ``cached`` the
    replies replayed from the request cache; ``model`` names the model that did the work when
    a translator uses several (one per language, say).
    """

    fields: dict[str, str] | None = None
    reason: str | None = None
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    sent: int = 0
    cached: int = 0
    model: str = ""

    def absorb(self, other: Outcome) -> None:
        """Add what another task spent."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.sent += other.sent
        self.cached += other.cached
        self.finish_reason = other.finish_reason or self.finish_reason
        self.model = self.model or other.model


@runtime_checkable
class Translator(Protocol):
    """Translates the string fields of one record from ``pivot`` into ``target``.

    ``backend`` and ``model`` are recorded on every pair row, and so is ``prompt_version``
    (the prompt or decoding recipe, so a changed recipe is visible in the data).
    """

    backend: str
    model: str
    prompt_version: str

    async def translate(
        self, fields: Mapping[str, str], pivot: Language, target: Language
    ) -> Outcome:
        """The translated fields (same keys), or a reason; never raises for one bad record."""
        ...

    async def close(self) -> None:
        """Release connections, servers or models."""
        ...
