"""Asking a model until its reply validates: the loop translation and generation share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from plugdata.llm import ChatClient, ChatReply, RequestRejected

T = TypeVar("T")


@dataclass
class Outcome:
    """What one model task produced: fields (or text) on success, a reason otherwise."""

    fields: dict[str, str] | None = None
    reason: str | None = None
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    cached: int = 0

    def count(self, reply: ChatReply) -> None:
        """Add one reply's tokens, cost and requests."""
        self.finish_reason = reply.finish_reason
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.cost_usd += reply.cost_usd
        self.requests += reply.http_attempts
        self.cached += reply.cached

    def absorb(self, other: Outcome) -> None:
        """Add what another task spent."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.requests += other.requests
        self.cached += other.cached
        self.finish_reason = other.finish_reason or self.finish_reason


async def ask(
    client: ChatClient,
    messages: list[dict[str, str]],
    outcome: Outcome,
    validate: Callable[[str], T | str],
    *,
    attempts: int,
    truncated: str,
    schema: dict[str, Any] | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
) -> T | None:
    """Send ``messages`` up to ``attempts`` times until ``validate`` accepts the reply.

    ``validate`` returns the value, or a reason string to try again. A reply cut off by the
    output limit is retried with twice the budget. Tokens, cost and requests go into
    ``outcome``; on failure its ``reason`` says why and None is returned.
    """
    for attempt in range(1, attempts + 1):
        try:
            reply = await client.chat(
                messages, schema=schema, temperature=temperature, max_tokens=max_tokens,
                tag="" if attempt == 1 else f"attempt-{attempt}",
            )  # fmt: skip
        except RequestRejected as exc:
            outcome.reason = exc.reason
            outcome.requests += exc.attempts
            return None
        outcome.count(reply)
        if reply.finish_reason == "length":
            outcome.reason = truncated
            max_tokens = 2 * max(max_tokens or 0, reply.completion_tokens, 256)
            continue
        value = validate(reply.content)
        if isinstance(value, str):
            outcome.reason = value
            continue
        return value
    return None
