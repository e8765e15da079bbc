"""The Files and Batches API calls of a batch queue, each retried on what is transient.

429, 5xx, timeouts and dropped connections are retried with backoff, including the HTTP
library's own errors while a result file streams in (``iter_lines`` raises them raw); anything
else stops the run with one line, and a file the server no longer has raises :class:`Gone`.
A batch is created at most once: before ``batches.create`` is tried again, the batch is looked
up by its input file and adopted if the server made it after all. Lookups read every page of
the list and assume no order (the API documents none).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from plugdata.errors import ServerError
from plugdata.translate.chat_errors import TRANSPORT, transient

T = TypeVar("T")
ATTEMPTS = 6
MAX_LISTED = 10_000  # batches read when looking one up (100 pages)
FILE_TTL = 30 * 86400  # batch files are deleted 30 days after they are made


class Gone(ServerError):
    """The server no longer has this file (batch files are deleted after 30 days)."""


def _retrying(attempts: int = ATTEMPTS) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        reraise=True,
        wait=wait_random_exponential(multiplier=1, max=60),
        retry=retry_if_exception(transient),
    )


async def call(fn: Callable[[], Awaitable[T]]) -> T:
    """One API call (or a whole download or list), retried on transient failures."""
    try:
        async for attempt in _retrying():
            with attempt:
                return await fn()
    except openai.NotFoundError as exc:
        raise Gone(f"the Batch API no longer has it (404): {exc.message}") from None
    except openai.APIStatusError as exc:
        raise ServerError(
            f"the Batch API refused a request ({exc.status_code}): {exc.message}"
        ) from None
    except (openai.APIConnectionError, *TRANSPORT) as exc:
        raise ServerError(f"cannot reach the Batch API: {exc}") from None
    raise AssertionError("unreachable")  # pragma: no cover


async def find_upload(client: openai.AsyncOpenAI, filename: str) -> str | None:
    """The id of a batch input file uploaded under ``filename``, if the server has one."""

    async def scan() -> str | None:
        async for item in client.files.list(purpose="batch"):
            if item.filename == filename:
                return item.id
        return None

    return await call(scan)


async def find_batch(client: openai.AsyncOpenAI, file_id: str) -> Any:
    """A batch made from ``file_id`` that did not fail, if there is one."""

    async def scan() -> Any:
        listed = 0
        async for batch in client.batches.list(limit=100):
            if batch.input_file_id == file_id and batch.status != "failed":
                return batch
            listed += 1
            if listed >= MAX_LISTED:
                break
        return None

    return await call(scan)


async def create_once(
    client: openai.AsyncOpenAI,
    file_id: str,
    endpoint: str,
    metadata: dict[str, str],
    output_expiry: int | None = None,
) -> Any:
    """``batches.create``, retried only after looking for the batch a lost reply made."""
    extra: dict[str, Any] = {}
    if output_expiry is not None:
        extra["output_expires_after"] = {"anchor": "created_at", "seconds": int(output_expiry)}

    async def create(state: Any) -> Any:
        if state.attempt_number > 1:  # the last try may have made it before failing
            found = await find_batch(client, file_id)
            if found is not None:
                return found
        return await client.batches.create(
            input_file_id=file_id,
            endpoint=endpoint,  # type: ignore[arg-type]
            completion_window="24h",
            metadata=metadata,
            **extra,
        )

    try:
        async for attempt in _retrying():
            with attempt:
                return await create(attempt.retry_state)
    except openai.APIStatusError as exc:
        raise ServerError(
            f"the Batch API refused to create a batch ({exc.status_code}): {exc.message}"
        ) from None
    except openai.APIConnectionError as exc:
        raise ServerError(f"cannot reach the Batch API: {exc}") from None
    raise AssertionError("unreachable")  # pragma: no cover


async def download(
    client: openai.AsyncOpenAI, file_id: str, on_line: Callable[[str], None]
) -> None:
    """Stream a result file line by line (it may be hundreds of MB); a download cut short
    starts again from the top, so ``on_line`` must take a line it has seen before."""

    async def read() -> None:
        async with client.files.with_streaming_response.content(file_id) as response:
            async for line in response.iter_lines():
                if line.strip():
                    on_line(line)

    await call(read)


async def expires_at(client: openai.AsyncOpenAI, batch: Any) -> float | None:
    """When the batch's result files are deleted (their ``expires_at``, else 30 days after
    the batch ended); :class:`Gone` when they already are."""
    file_id = batch.output_file_id or batch.error_file_id
    if not file_id:
        return None
    info = await call(lambda: client.files.retrieve(file_id))
    stamp = getattr(info, "expires_at", None)
    if stamp:
        return float(stamp)
    ended = batch.completed_at or batch.expired_at or batch.cancelled_at or batch.failed_at
    return float(ended or time.time()) + FILE_TTL
