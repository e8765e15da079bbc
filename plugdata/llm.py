"""A thin async client for any OpenAI-compatible chat API (OpenAI, vLLM, Ollama, TGI)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Literal

import openai

from plugdata.errors import ServerError

ResponseFormat = Literal["auto", "json_schema", "json_object", "none"]
_FALLBACK: dict[str, str] = {"json_schema": "json_object", "json_object": "none"}


@dataclass(frozen=True)
class ChatReply:
    """One completed chat request."""

    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class RequestRejected(Exception):
    """The server refused this one request (400/422); other requests may still succeed."""


class ChatClient:
    """Sends chat requests that should come back as JSON.

    ``response_format="auto"`` asks for ``json_schema`` first and steps down to
    ``json_object`` and then to a plain request when the server answers 400 to it; the
    first format that works is kept for the rest of the run. Problems that no request can
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
        timeout: float = 600.0,
        max_retries: int = 2,
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
        self.response_format: str = "json_schema" if response_format == "auto" else response_format
        self._negotiate = response_format == "auto"
        self._options = {"api_key": key, "timeout": timeout, "max_retries": max_retries}
        self._client: openai.AsyncOpenAI | None = None

    async def chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> ChatReply:
        """Send one request asking for a JSON object that matches ``schema``."""
        while True:
            fmt = self.response_format
            try:
                return await self._send(messages, schema, fmt, temperature, max_tokens)
            except openai.BadRequestError as exc:
                if self._negotiate and _about_format(exc):
                    if fmt != self.response_format:
                        continue  # another request already stepped down; use its format
                    if fmt in _FALLBACK:
                        self.response_format = _FALLBACK[fmt]
                        continue
                raise RequestRejected(_describe(exc)) from None
            except openai.UnprocessableEntityError as exc:
                raise RequestRejected(_describe(exc)) from None
            except openai.AuthenticationError as exc:
                raise ServerError(
                    f"the server at {self.base_url} rejected the API key (401): {_describe(exc)}"
                ) from None
            except openai.PermissionDeniedError as exc:
                raise ServerError(
                    f"the server at {self.base_url} refused access (403): {_describe(exc)}"
                ) from None
            except openai.NotFoundError as exc:
                raise ServerError(
                    f"model {self.model!r} or endpoint not found at {self.base_url} (404): "
                    f"{_describe(exc)}"
                ) from None
            except openai.APIConnectionError as exc:
                raise ServerError(
                    f"cannot reach the model server at {self.base_url}: {_describe(exc)}"
                ) from None

    async def _send(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        fmt: str,
        temperature: float,
        max_tokens: int | None,
    ) -> ChatReply:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if fmt == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "translation", "schema": schema, "strict": True},
            }
        elif fmt == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        if self._client is None:  # made lazily: an async client belongs to one event loop
            self._client = openai.AsyncOpenAI(base_url=self.base_url, **self._options)
        response = await self._client.chat.completions.create(**kwargs)
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

    async def close(self) -> None:
        """Close the HTTP connections; the next request opens new ones."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _about_format(exc: openai.OpenAIError) -> bool:
    """Whether a 400 complains about structured output rather than about this request."""
    text = f"{_describe(exc)} {getattr(exc, 'body', '')}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json", "schema"))


def _describe(exc: openai.OpenAIError) -> str:
    """A one-line reason from an openai exception, without the request dump."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)
    cause = exc.__cause__
    text = str(exc) if not cause else f"{exc} ({cause})"
    return text.splitlines()[0] if text else type(exc).__name__
