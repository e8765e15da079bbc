"""Prices per million tokens, cost estimates for dry runs, and the spending cap."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugdata.errors import PlugdataError

# USD per million (input, output) tokens for common models; a snapshot, override with
# --price-in/--price-out. Self-hosted models cost nothing here unless priced.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens; ``known`` is False when nothing was found."""

    input: float
    output: float
    known: bool = True

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


def price_for(model: str, price_in: float | None = None, price_out: float | None = None) -> Price:
    """The price of ``model``: explicit values win, then the table (dated suffixes allowed)."""
    if price_in is not None or price_out is not None:
        return Price(price_in or 0.0, price_out or 0.0)
    name = model.split("/")[-1].lower()
    for known in sorted(PRICES, key=len, reverse=True):
        if name == known or name.startswith(known + "-20"):
            return Price(*PRICES[known])
    return Price(0.0, 0.0, known=False)


class BudgetExceeded(PlugdataError):
    """The run reached ``--max-cost``; completed work is kept for the next run."""


@dataclass
class Spend:
    """Tokens and money spent by requests actually sent (shared by a run's clients).

    ``earlier`` is what earlier attempts at the same run already paid (from its request
    cache): the cap applies to the run's total across resumes.
    """

    max_cost: float | None = None
    earlier: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    requests: int = 0
    cached: int = 0

    @property
    def total(self) -> float:
        """Spent by this run directory so far, earlier attempts included."""
        return self.earlier + self.cost

    def add(self, prompt_tokens: int, completion_tokens: int, cost: float) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost += cost
        self.requests += 1

    def check(self, committed: float = 0.0) -> None:
        """Raise :class:`BudgetExceeded` once the run's total reaches the cap, or when work
        already committed but not yet billed (``committed`` USD, estimated: submitted
        batches) would take it over."""
        if self.max_cost is None:
            return
        if committed and self.total < self.max_cost < self.total + committed:
            raise BudgetExceeded(
                f"spending cap: ${self.total:.4f} spent and about ${committed:.4f} more "
                f"(estimated) in batches would pass the cap of ${self.max_cost:.4f}; nothing "
                "more is submitted; raise the cap (max_cost, --max-cost) and run the same "
                "command again to continue"
            )
        if self.total >= self.max_cost:
            raise BudgetExceeded(
                f"spending cap reached: ${self.total:.4f} spent on this run, of which "
                f"${self.earlier:.4f} before this attempt (cap ${self.max_cost:.4f}); raise the "
                "cap (max_cost, --max-cost) and run the same command again to continue"
            )


# Rough output/input token ratios of a translation, by script (for estimates).
EXPANSION = {
    "Latn": 1.2,
    "Hans": 1.1,
    "Jpan": 1.2,
    "Hang": 1.3,
    "Cyrl": 1.4,
    "Arab": 1.4,
    "Deva": 2.0,
    "Thai": 1.8,
}

_WIDE = re.compile("[\u2e80-\U0010ffff]")


def estimate_tokens(text: str) -> int:
    """A rough token count: about 4 characters a token for alphabetic scripts, 1 for CJK."""
    wide = len(_WIDE.findall(text)) if not text.isascii() else 0
    return max(1, (len(text) - wide) // 4 + wide)
