"""What an error of the OpenAI client says: its reason in one line, the wait the server asked
for, whether trying again can help, whether the connection was never opened, whether a 400 is
about structured output."""

from __future__ import annotations

import email.utils
import importlib
import time

import openai

from plugdata.errors import first_line


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP library's transport errors (openai uses httpx, newer releases httpx2): a
    result file that streams in raises them raw."""
    found: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            found.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


TRANSPORT = _transport_errors()


def transient(exc: BaseException, *, answered: bool = True) -> bool:
    """Whether trying again can help: 408, 409, 429, 5xx, timeouts, dropped connections.

    A connection that could not be opened at all is final while the server has never
    ``answered`` (nothing listens there), and transient once it has (a restart, a blip).
    """
    if isinstance(exc, (openai.APIConnectionError, *TRANSPORT)):  # includes timeouts
        return answered or not refused(exc)
    return isinstance(exc, openai.APIStatusError) and (
        exc.status_code in (408, 409, 429) or exc.status_code >= 500
    )


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
    return f"{first_line(exc)} ({first_line(cause)})" if cause else first_line(exc)
