"""Asking a model until its reply validates: the loop translation and generation share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from plugdata.translate.base import Outcome
from plugdata.translate.chat import ChatClient, ChatReply, RequestRejected

T = TypeVar("T")


async def ask(
    client: ChatClient,
    messages: list[dict[str, str]],
    outcome: Outcome,
    validate: Callable[[str], T | str],
    *,
    max_asks: int,
    truncated: str,
    schema: dict[str, Any] | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    ceiling: int | None = None,
) -> T | None:
    """Send ``messages`` up to ``max_asks`` times until ``validate`` accepts the reply.

    ``validate`` returns the value, or a reason string to try again. A reply cut off by the
    output limit is retried with twice the budget, never more than ``ceiling`` (what the
    server's context leaves), and not at all once the budget is the ceiling. Tokens, cost and
    requests go into ``outcome``; on failure its ``reason`` says why and None is returned.
    """
    for attempt in range(1, max_asks + 1):
        try:
            reply = await client.chat(
                messages,
                schema=schema,
                temperature=temperature,
                max_tokens=max_tokens,
                tag="" if attempt == 1 else f"attempt-{attempt}",
            )
        except RequestRejected as exc:
            outcome.reason = exc.reason
            outcome.sent += exc.http_tries
            return None
        _count(outcome, reply)
        if reply.finish_reason == "length":
            outcome.reason = truncated
            if ceiling is not None and (max_tokens or 0) >= ceiling:
                return None  # a larger budget would not fit the context
            max_tokens = 2 * max(max_tokens or 0, reply.completion_tokens, 256)
            max_tokens = min(max_tokens, ceiling) if ceiling is not None else max_tokens
            continue
        value = validate(reply.content)
        if isinstance(value, str):
            outcome.reason = value
            continue
        return value
    return None


def _count(outcome: Outcome, reply: ChatReply) -> None:
    """Add one reply's tokens, cost and requests."""
    outcome.finish_reason = reply.finish_reason
    outcome.prompt_tokens += reply.prompt_tokens
    outcome.completion_tokens += reply.completion_tokens
    outcome.cost_usd += reply.cost_usd
    outcome.sent += reply.http_tries
    outcome.cached += reply.cached
