"""Faults the fake server injects instead of a normal answer: HTTP errors, dropped
connections, odd replies; one by one, or a repeatable mix over a share of requests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """What to send instead of a normal answer: an HTTP error, or a reply with odd content."""

    status: int = 200
    content: str | None = None
    finish_reason: str = "stop"
    headers: dict[str, str] | None = None
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # extra seconds before answering (for timeouts)


FaultFn = Callable[[dict[str, Any], int], "Fault | None"]

FAULT_KINDS: dict[str, Fault] = {
    "429": Fault(429, headers={"Retry-After": "0"}),
    "500": Fault(500),
    "503": Fault(503),
    "drop": Fault(drop=True),
    "malformed": Fault(content='{"instruction": "half a reply'),
    "truncated": Fault(content='{"instruction": "cut', finish_reason="length"),
    "chatter": Fault(content="Sure! Here is the translation you asked for."),
}


def fault_mix(rate: float, kinds: list[str] | None = None, seed: int = 0) -> FaultFn:
    """A fault function that injects one of ``kinds`` into a ``rate`` share of requests.

    The choice is a pure function of the request number, so a run is repeatable.
    """
    names = kinds or list(FAULT_KINDS)
    unknown = [k for k in names if k not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kind(s) {unknown}; known: {list(FAULT_KINDS)}")

    def pick(body: dict[str, Any], count: int) -> Fault | None:
        rng = random.Random(seed * 1_000_003 + count)
        return FAULT_KINDS[rng.choice(names)] if rng.random() < rate else None

    return pick
