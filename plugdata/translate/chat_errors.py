"""What an error of the OpenAI client says: its reason in one line, the wait the server asked
for, whether the connection was never opened, whether a 400 is about structured output."""

from __future__ import annotations

import email.utils
import time

import openai


def refused(exc: BaseException) -> bool:
    """A connection that could not be opened at all (as opposed to one that dropped)."""
    cause = exc.__cause__
    return type(cause).__name__ in {"ConnectError", "ConnectTimeout"} or isinstance(
        cause, ConnectionRefusedError
    )


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def about_format(exc: openai.OpenAIError) -> bool:
    """Whether a 400 complains about structured output rather than about this request."""
    return mentions_format(f"{describe(exc)} {getattr(exc, 'body', '')}")


def mentions_format(text: str) -> bool:
    """Whether an error message is about structured output (``response_format``, schemas)."""
    return any(
        word in text.lower() for word in ("response_format", "json_schema", "json", "schema")
    )


def describe(exc: BaseException) -> str:
    """A one-line reason from an openai exception, without the request dump."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)
    cause = exc.__cause__
    text = str(exc) if not cause else f"{exc} ({cause})"
    return text.splitlines()[0] if text else type(exc).__name__
