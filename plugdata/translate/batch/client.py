"""A :class:`~plugdata.translate.chat.ChatClient` whose requests go through the Batch API.

Translators use it exactly like the live client: ``chat()`` returns the reply, only later.
Cache keys are the live client's, so a batch run and a live run of the same recipe replay each
other's answers. Results cost half the live price. A request a batch did not answer (expired,
failed, an error line) is asked again in a new, smaller batch, or with ``fallback="live"``
through the live API, up to ``max_attempts`` times; a content failure (invalid JSON, lost
markers) goes through the translator's usual re-ask, which becomes a follow-up batch. A batch
that fails for good (invalid file, unknown model) rejects its requests at once.
``enqueued_tokens`` is the model's limit on enqueued prompt tokens (learned from the first
refusal when not given); ``output_expiry`` asks for result files to be deleted sooner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from openai.types.chat import ChatCompletion

from plugdata.translate.batch.ledger import Ledger
from plugdata.translate.batch.outcomes import Resend
from plugdata.translate.batch.queue import MAX_REQUESTS, BatchQueue
from plugdata.translate.chat import (
    FORMAT_STEPS,
    ChatClient,
    ChatReply,
    RequestRejected,
    replayed,
    reply_of,
)
from plugdata.translate.chat_errors import mentions_format
from plugdata.translate.pricing import estimate_tokens

BATCH_DISCOUNT = 0.5  # the Batch API's price relative to live requests


class BatchChatClient(ChatClient):
    """Chat requests gathered into Batch API jobs; ``folder`` holds the ledger and shards."""

    def __init__(
        self,
        model: str,
        *,
        folder: str | Path,
        max_requests: int = MAX_REQUESTS,
        poll: float = 30.0,
        linger: float | None = None,
        detach: bool = False,
        fallback: Literal["batch", "live"] = "batch",
        notify: Callable[[str], None] | None = None,
        enqueued_tokens: int | None = None,
        output_expiry: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, **options)
        self.fallback = fallback
        flush = self.cache.flush if self.cache is not None else None
        self.queue = BatchQueue(
            Ledger(folder),
            self.openai,
            self._result,
            max_requests=max_requests,
            poll=poll,
            linger=min(2.0, poll) if linger is None else linger,
            detach=detach,
            flush=flush,
            notify=notify,
            admit=self.spend.check,
            max_tokens=enqueued_tokens,
            output_expiry=output_expiry,
        )

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        tag: str = "",
    ) -> ChatReply:
        """The reply from a batch (or the cache); see :meth:`ChatClient.chat`."""
        key = self.key(
            messages, schema=schema, temperature=temperature, max_tokens=max_tokens, tag=tag
        )
        hit = await self._replay(key)
        if hit is not None:
            return hit
        why, tries = Resend("failed"), 0
        while tries < self.retry.max_attempts:
            tries += 1
            self.spend.check()
            fmt = self.response_format if schema is not None else "none"
            body = self.body(messages, schema, fmt, temperature, max_tokens)
            got = await self.queue.result(key, body, self._estimate(messages, max_tokens))
            if isinstance(got, ChatReply):
                return got
            why = got
            if why.reason == "bad_request" and self._step_down(fmt, schema, why.detail):
                continue
            if why.final:
                break
            if self.fallback == "live":
                reply = await self._with_retries(messages, schema, temperature, max_tokens)
                return self._store(
                    key, reply, self.price.cost(reply.prompt_tokens, reply.completion_tokens)
                )
        raise RequestRejected(why.reason, why.detail, tries)

    def _step_down(self, fmt: str, schema: dict[str, Any] | None, detail: str) -> bool:
        """A refused structured-output format: use the next one (as the live client does)."""
        if (
            schema is None
            or not self._negotiate
            or not mentions_format(detail)
            or fmt not in FORMAT_STEPS
        ):
            return False
        if self.response_format == fmt:
            self.response_format = FORMAT_STEPS[fmt]
        return True

    def _estimate(self, messages: list[dict[str, str]], max_tokens: int | None) -> float:
        """What a request should cost at the batch price (the reply about as long as the
        last message, a translation's payload), for the spending cap."""
        prompt = sum(estimate_tokens(m["content"]) for m in messages)
        reply = max_tokens or int(estimate_tokens(messages[-1]["content"]) * 1.3) + 8
        return self.price.cost(prompt, reply) * BATCH_DISCOUNT

    def _result(self, key: str, body: dict[str, Any]) -> ChatReply:
        """A completed batch response: counted at the batch price and cached at once; one a
        stopped run already stored (it stopped before marking the shard collected) is paid
        and counted already."""
        reply = reply_of(ChatCompletion.model_validate(body))  # a bad body raises ValueError
        known = self.cache.get(key) if self.cache is not None else None
        if known is not None:
            return replayed(known)
        cost = self.price.cost(reply.prompt_tokens, reply.completion_tokens) * BATCH_DISCOUNT
        return self._store(key, reply, cost)

    async def close(self) -> None:
        """Stop polling and close the connections (submitted batches stay in the ledger)."""
        await self.queue.close()
        await super().close()
