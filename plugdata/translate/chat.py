"""An async client for any OpenAI-compatible chat API (OpenAI, vLLM, Ollama, TGI).

It owns everything between "send these messages" and "here is the reply": the request cache,
the requests/tokens-per-minute limiter, retries with backoff that honours ``Retry-After``,
structured-output negotiation, error mapping and spend accounting.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any, Literal

import openai
from aiolimiter import AsyncLimiter
from openai.types.chat import ChatCompletion
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from plugdata.errors import ServerError
from plugdata.translate.cache import CachedReply, RequestCache, request_key
from plugdata.translate.chat_errors import about_format, describe, refused, retry_after, transient
from plugdata.translate.pricing import Price, Spend, estimate_tokens

ResponseFormat = Literal["auto", "json_schema", "json_object", "none"]
_MAX_RETRY_AFTER = 300.0
FORMAT_STEPS: dict[str, str] = {"json_schema": "json_object", "json_object": "none"}
# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...) refuse max_tokens for this name.
_COMPLETION_TOKENS = re.compile(r"^(o\d|gpt-5)")


@dataclass(frozen=True)
class ChatReply:
    """One completed chat request (from the server or from the cache)."""

    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False
    http_tries: int = 1
    cost_usd: float = 0.0


TRANSPORT_FAILURES = frozenset({"rate_limited", "server_error", "timeout", "connection_error"})


class RequestRejected(Exception):
    """This one request failed for good; other requests may still succeed.

    ``reason`` is short and countable: ``bad_request``, ``rate_limited``, ``server_error``,
    ``timeout`` or ``connection_error``.
    """

    def __init__(self, reason: str, detail: str = "", http_tries: int = 1) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.http_tries = http_tries


@dataclass
class RetryPolicy:
    """How transient failures (429, 5xx, timeouts, dropped connections) are retried."""

    max_attempts: int = 6
    initial: float = 1.0
    maximum: float = 60.0
    timeout: float = 120.0


class ChatClient:
    """Sends chat requests through the cache, the limiter and the retry policy.

    ``response_format="auto"`` asks for ``json_schema`` first and steps down to
    ``json_object`` and then to a plain request when the server says it does not support it;
    the first format that works is kept for the rest of the run. Problems no request can
    survive (unreachable server, 401/403, unknown model) raise :class:`ServerError`.
    """

    backend = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        response_format: ResponseFormat = "auto",
        retry: RetryPolicy | None = None,
        rpm: float | None = None,
        tpm: float | None = None,
        cache: RequestCache | None = None,
        price: Price | None = None,
        spend: Spend | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if base_url or os.environ.get("OPENAI_BASE_URL"):
                key = "EMPTY"  # local servers (vLLM, Ollama) usually accept any key
            else:
                raise ServerError(
                    "no API key: pass --api-key or set OPENAI_API_KEY "
                    "(or point --base-url at a local OpenAI-compatible server)"
                )
        self._key = key
        self.response_format: str = "json_schema" if response_format == "auto" else response_format
        self._negotiate = response_format == "auto"
        name = model.split("/")[-1].lower()
        reasoning = _COMPLETION_TOKENS.match(name)
        self.budget_key = "max_completion_tokens" if reasoning else "max_tokens"
        self.retry = retry or RetryPolicy()
        self.cache = cache
        self.price = price or Price(0.0, 0.0, known=False)
        self.spend = spend if spend is not None else Spend()
        # Requests are paced evenly (no burst); tokens may burst one second's worth.
        self._rpm = AsyncLimiter(1, 60 / rpm) if rpm else None
        self._tpm_per_s = tpm / 60 if tpm else None
        self._tpm = AsyncLimiter(tpm / 60, 1.0) if tpm else None
        self._client: openai.AsyncOpenAI | None = None
        self._answered = False  # has the server answered at least once?

    async def chat(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        tag: str = "",
    ) -> ChatReply:
        """Send one request (or replay it from the cache).

        ``schema`` asks for a JSON object of that shape; ``tag`` separates requests that are
        otherwise identical (a second attempt at the same record), so each is cached apart.
        """
        key = self.key(
            messages, schema=schema, temperature=temperature, max_tokens=max_tokens, tag=tag
        )
        hit = await self._replay(key)
        if hit is not None:
            return hit
        self.spend.check()
        reply = await self._with_retries(messages, schema, temperature, max_tokens)
        return self._store(
            key, reply, self.price.cost(reply.prompt_tokens, reply.completion_tokens)
        )

    def key(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        tag: str = "",
    ) -> str:
        """The request's cache key: the same for live and batch requests."""
        params = {"temperature": temperature, "max_tokens": max_tokens, "json": schema, "tag": tag}
        return request_key(self.backend, self.model, messages, params)

    async def _replay(self, key: str) -> ChatReply | None:
        """The cached reply for ``key`` (counted as replayed), or None."""
        hit = await self.cache.aget(key) if self.cache is not None else None
        if hit is None:
            return None
        self.spend.cached += 1
        return replayed(hit)

    def _store(self, key: str, reply: ChatReply, cost: float) -> ChatReply:
        """Count a paid reply and put it in the cache at once."""
        self.spend.add(reply.prompt_tokens, reply.completion_tokens, cost)
        if self.cache is not None:
            self.cache.put(
                key,
                CachedReply(
                    reply.content,
                    reply.finish_reason,
                    reply.prompt_tokens,
                    reply.completion_tokens,
                    cost,
                ),
            )
        return dataclasses.replace(reply, cost_usd=cost)

    async def _with_retries(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int | None,
    ) -> ChatReply:
        tries = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: transient(exc, answered=self._answered)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    tries += 1
                    await self._throttle(messages, max_tokens)
                    reply = await self._send_negotiating(messages, schema, temperature, max_tokens)
                    self._answered = True
                    return ChatReply(
                        reply.content,
                        reply.finish_reason,
                        reply.prompt_tokens,
                        reply.completion_tokens,
                        http_tries=tries,
                    )
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            raise RequestRejected("bad_request", describe(exc), tries) from None
        except openai.AuthenticationError as exc:
            raise ServerError(
                f"the server at {self.base_url} rejected the API key (401): {describe(exc)}"
            ) from None
        except openai.PermissionDeniedError as exc:
            raise ServerError(
                f"the server at {self.base_url} refused access (403): {describe(exc)}"
            ) from None
        except openai.NotFoundError as exc:
            raise ServerError(
                f"model {self.model!r} or endpoint not found at {self.base_url} (404): "
                f"{describe(exc)}"
            ) from None
        except openai.RateLimitError as exc:
            raise RequestRejected("rate_limited", describe(exc), tries) from None
        except openai.APITimeoutError as exc:
            raise RequestRejected("timeout", describe(exc), tries) from None
        except openai.APIConnectionError as exc:
            if not self._answered and refused(exc):
                raise ServerError(
                    f"cannot reach the model server at {self.base_url}: {describe(exc)}"
                ) from None
            raise RequestRejected("connection_error", describe(exc), tries) from None
        except openai.APIStatusError as exc:
            raise RequestRejected(
                "server_error", f"{exc.status_code}: {describe(exc)}", tries
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after(exc)
        if hinted is not None:  # the server knows best; only refuse absurd waits
            return min(hinted, _MAX_RETRY_AFTER)
        # "full jitter": uniform in [0, initial * 2**n], capped at maximum
        backoff = wait_random_exponential(multiplier=self.retry.initial, max=self.retry.maximum)
        return backoff(state)

    async def _throttle(self, messages: list[dict[str, str]], max_tokens: int | None) -> None:
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None and self._tpm_per_s is not None:
            prompt = sum(estimate_tokens(m["content"]) for m in messages)
            expected = prompt + (max_tokens or prompt)
            await self._tpm.acquire(min(float(expected), self._tpm_per_s))

    async def _send_negotiating(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        temperature: float,
        max_tokens: int | None,
    ) -> ChatReply:
        while True:
            fmt = self.response_format if schema is not None else "none"
            try:
                return await self._send(messages, schema, fmt, temperature, max_tokens)
            except openai.BadRequestError as exc:
                renamed = "max_completion_tokens" in describe(exc)  # a reasoning model's 400
                if max_tokens is not None and self.budget_key == "max_tokens" and renamed:
                    self.budget_key = "max_completion_tokens"
                    continue
                if schema is None or not self._negotiate or not about_format(exc):
                    raise
                if fmt != self.response_format:
                    continue  # another request already stepped down; use its format
                if fmt not in FORMAT_STEPS:
                    raise
                self.response_format = FORMAT_STEPS[fmt]

    async def _send(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        fmt: str,
        temperature: float,
        max_tokens: int | None,
    ) -> ChatReply:
        kwargs = self.body(messages, schema, fmt, temperature, max_tokens)
        # The client's generic ``post`` sends the body as is: the typed ``create`` re-walks
        # every message against its TypedDicts, a quarter of the CPU a request costs here.
        response = await self.openai().post(
            "/chat/completions", body=kwargs, cast_to=ChatCompletion
        )
        return reply_of(response)

    def body(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        fmt: str,
        temperature: float,
        max_tokens: int | None,
    ) -> dict[str, Any]:
        """The JSON body of one chat completion request."""
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs[self.budget_key] = max_tokens
        if fmt == "json_schema" and schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "translation", "schema": schema, "strict": True},
            }
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    def openai(self) -> openai.AsyncOpenAI:
        """The HTTP client (made lazily: an async client belongs to one event loop)."""
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._key,
                base_url=self.base_url,
                timeout=self.retry.timeout,
                max_retries=0,
            )
        return self._client

    async def close(self) -> None:
        """Close the HTTP connections; the next request opens new ones."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def replayed(hit: CachedReply) -> ChatReply:
    """A reply from the cache, with what it cost when it was paid for (a Batch API reply at
    the batch price, whatever today's price table says): it is not paid, nor counted, again."""
    return ChatReply(
        hit.content,
        hit.finish_reason,
        hit.prompt_tokens,
        hit.completion_tokens,
        cached=True,
        http_tries=0,
        cost_usd=hit.cost_usd,
    )


def reply_of(response: ChatCompletion) -> ChatReply:
    """The content, finish reason and usage of a chat completion."""
    if not response.choices:
        return ChatReply("", "no_choices", 0, 0)
    choice = response.choices[0]
    usage = response.usage
    return ChatReply(
        content=choice.message.content or "",
        finish_reason=choice.finish_reason or "unknown",
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )
