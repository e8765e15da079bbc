"""Gathers concurrent chat requests into Batch API shards, submits them, polls, collects.

Translators call :meth:`BatchQueue.result` as they would send a live request and simply wait
longer. Requests that arrive together are written as one shard (at most ``max_requests`` lines
and ``max_bytes``) once no new request came for ``linger`` seconds, so a build's requests fill
batches without any batch barrier in the runner. Each request's ``custom_id`` is its cache
key: a request already waiting in a submitted batch (this run's or a killed run's, from the
:class:`~plugdata.translate.batch.ledger.Ledger`) is never submitted again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from plugdata.errors import PlugdataError, ServerError
from plugdata.translate.batch.ledger import TERMINAL, Ledger, Shard

MAX_REQUESTS = 50_000
MAX_BYTES = 190 * 1024 * 1024  # the API allows 200 MB per input file
_MISSING = {"expired": "batch_expired", "failed": "batch_failed", "cancelled": "batch_cancelled"}
T = TypeVar("T")


@dataclass(frozen=True)
class Resend:
    """A request a batch did not answer: the reason, and whether trying again can help."""

    reason: str
    detail: str = ""
    final: bool = False


class BatchesPending(PlugdataError):
    """``--batch-detach``: the batches are submitted; the same command collects them."""


ResultFn = Callable[[str, dict[str, Any]], Any]
AdmitFn = Callable[[float], None]  # raises (BudgetExceeded) when that much more is too much


class BatchQueue:
    """One model's Batch API requests: a pending shard, the submitted batches, the waiters.

    ``on_result(key, body)`` turns a completed response body into the caller's reply (and
    stores it in the request cache); ``flush`` makes those stores durable before a shard is
    marked collected; ``notify`` gets a one-line status after every change.
    """

    def __init__(self, ledger: Ledger, client: Callable[[], openai.AsyncOpenAI], on_result: ResultFn,
                 *, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES, poll: float = 30.0,
                 linger: float = 2.0, detach: bool = False, flush: Callable[[], None] | None = None,
                 admit: AdmitFn | None = None,
                 notify: Callable[[str], None] | None = None,
                 endpoint: str = "/v1/chat/completions") -> None:  # fmt: skip
        self.ledger, self._client, self._on_result = ledger, client, on_result
        self.max_requests, self.max_bytes = min(max_requests, MAX_REQUESTS), min(max_bytes, MAX_BYTES)
        self.poll, self.linger, self.detach = poll, linger, detach
        self._flush_cache, self._notify_fn, self.endpoint = flush, notify, endpoint
        self._admit = admit
        self._stopping = False
        self._waiters: dict[str, list[asyncio.Future[Any]]] = {}
        self._pending: dict[str, tuple[bytes, float]] = {}  # key -> (line, estimated USD)
        self._pending_bytes = 0
        self._live: dict[str, str] = {}  # key -> shard name, for every open shard
        self._arrived = time.monotonic()
        self._polled = False  # polled at least once (what ended is collected before detaching)
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._fresh: set[str] = set()  # shards written by this process
        self._last_notice = ""
        for shard in ledger.open_shards():
            for key in self._keys(shard):
                self._live[key] = shard.name

    async def result(self, key: str, body: dict[str, Any], estimate_usd: float = 0.0) -> Any:
        """Wait for the reply to ``body`` (submitted under ``key`` unless already waiting);
        ``estimate_usd`` is what it should cost, for the spending cap."""
        if self._error is not None:
            raise self._error
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(future)
        if key not in self._live and key not in self._pending:
            line = {"custom_id": key, "method": "POST", "url": self.endpoint, "body": body}
            data = json.dumps(line, ensure_ascii=False).encode() + b"\n"
            self._pending[key] = (data, estimate_usd)
            self._pending_bytes += len(data)
            self._arrived = time.monotonic()
        self._start()
        if self._wake is not None and self._full():
            self._wake.set()
        try:
            return await future
        finally:
            waiting = self._waiters.get(key, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(key, None)

    def _start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.ensure_future(self._run())

    def _full(self) -> bool:
        return len(self._pending) >= self.max_requests or self._pending_bytes >= self.max_bytes

    async def _run(self) -> None:
        assert self._wake is not None
        tick = max(0.01, min(self.linger, self.poll) / 2)
        try:
            for shard in self.ledger.open_shards():
                if shard.batch_id is None:  # a killed run stopped halfway through submitting
                    await self._submit(shard)
            next_poll = 0.0
            while not self._stopping:
                now = time.monotonic()
                if self._pending and now - self._arrived >= self.linger:
                    await self._flush(whole=True)  # nothing new is coming: submit what there is
                elif self._full():
                    await self._flush(whole=False)  # full shards only; the rest may fill up
                if now >= next_poll and any(s.batch_id for s in self.ledger.open_shards()):
                    await self._poll()
                    next_poll = time.monotonic() + self.poll
                if self.detach and self._stalled():
                    summary = self.ledger.summary()
                    raise BatchesPending(f"detached: {summary['waiting']:,} request(s) wait in "
                                         f"{len(self.ledger.open_shards())} submitted batch(es); run "
                                         "the same command again to collect them")  # fmt: skip
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), tick)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the waiters get it: a fatal error stops the build
            self._error = exc
            for futures in list(self._waiters.values()):
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)

    def _stalled(self) -> bool:
        """Everything still wanted waits in a submitted batch, and nothing new is coming."""
        return (not self._pending and bool(self._waiters) and self._polled
                and all(key in self._live for key in self._waiters)
                and time.monotonic() - self._arrived >= self.linger)  # fmt: skip

    async def _flush(self, whole: bool) -> None:
        """Write the pending requests as shards and submit them (``whole``: the last one too,
        however small)."""
        while self._pending and (whole or self._full()):
            lines, keys, size, cost = [], [], 0, 0.0
            for key, (line, estimate) in self._pending.items():
                if lines and (len(lines) >= self.max_requests or size + len(line) > self.max_bytes):
                    break
                lines.append(line)
                keys.append(key)
                size += len(line)
                cost += estimate
            for key in keys:
                del self._pending[key]
            self._pending_bytes -= size
            if self._refused(keys, cost):
                continue
            shard = self.ledger.add(lines, cost)
            self._fresh.add(shard.name)
            for key in keys:
                self._live[key] = shard.name
            await self._submit(shard)

    def _refused(self, keys: list[str], cost: float) -> bool:
        """Whether the spending cap refuses a shard of this cost (its waiters are told why)."""
        if self._admit is None:
            return False
        try:
            self._admit(self.ledger.committed_usd() + cost)
        except PlugdataError as exc:
            for key in keys:
                for future in self._waiters.get(key, []):
                    if not future.done():
                        future.set_exception(exc)
            return True
        return False

    async def _submit(self, shard: Shard) -> None:
        """Upload the shard and create its batch, recording each step before the next."""
        client = self._client()
        if shard.file_id is None:
            shard.file_id = None if shard.name in self._fresh else await self._find_upload(shard)
            if shard.file_id is None:
                data = self.ledger.shard_path(shard).read_bytes()
                uploaded = await _call(lambda: client.files.create(
                    file=(shard.upload_name, data, "application/jsonl"), purpose="batch"))  # fmt: skip
                shard.file_id = uploaded.id
            shard.status = "uploaded"
            self.ledger.save()
        found = None if shard.name in self._fresh else await self._find_batch(shard)
        batch = found or await _call(lambda: client.batches.create(
            input_file_id=shard.file_id or "", endpoint=self.endpoint,  # type: ignore[arg-type]
            completion_window="24h", metadata={"plugdata_shard": shard.name}))  # fmt: skip
        shard.batch_id, shard.status = batch.id, batch.status
        self.ledger.save()
        self._notify()

    async def _find_upload(self, shard: Shard) -> str | None:
        """The file a killed run uploaded for this shard, if the server has it."""
        async for item in self._client().files.list(purpose="batch"):
            if item.filename == shard.upload_name:
                return item.id
        return None

    async def _find_batch(self, shard: Shard) -> Any:
        """The batch a killed run created from this shard's file, if there is one."""
        async for batch in self._client().batches.list(limit=100):
            if batch.input_file_id == shard.file_id:
                return batch
            if batch.created_at < shard.created - 3600:  # listed newest first
                break
        return None

    async def _poll(self) -> None:
        """Check every submitted batch; collect those that ended."""
        client = self._client()
        for shard in self.ledger.open_shards():
            if shard.batch_id is None:
                continue
            batch = await _call(lambda s=shard: client.batches.retrieve(s.batch_id or ""))
            shard.status = batch.status
            if batch.request_counts is not None:
                shard.completed, shard.failed = batch.request_counts.completed, batch.request_counts.failed
            if batch.status in TERMINAL:
                await self._collect(shard, batch)
        self._polled = True
        self.ledger.save()
        self._notify()

    async def _collect(self, shard: Shard, batch: Any) -> None:
        """Results into the cache and to their waiters; everything else handed back."""
        answered: set[str] = set()
        resend: dict[str, Resend] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                await _call(lambda f=file_id: self._download(f, answered, resend))
        why = Resend(_MISSING.get(batch.status, "batch_missing"), _batch_errors(batch))
        for key in self._keys(shard):
            if key not in answered:
                self._resolve(key, resend.get(key, why))
            if self._live.get(key) == shard.name:
                del self._live[key]
        if self._flush_cache is not None:
            await asyncio.to_thread(self._flush_cache)  # stored for good before "collected"
        shard.kept, shard.resent, shard.collected = len(answered), shard.requests - len(answered), True
        self.ledger.save()
        self.ledger.shard_path(shard).unlink(missing_ok=True)

    async def _download(self, file_id: str, answered: set[str], resend: dict[str, Resend]) -> None:
        """Read a result file line by line as it streams in (it may be hundreds of MB)."""
        async with self._client().files.with_streaming_response.content(file_id) as response:
            async for line in response.iter_lines():
                if line.strip():
                    self._read_result(line, answered, resend)

    def _read_result(self, line: str, answered: set[str], resend: dict[str, Resend]) -> None:
        """One result line: the reply to its waiters (and the cache), or why to resend it."""
        try:
            item = json.loads(line)
            key = item["custom_id"]
        except (ValueError, KeyError, TypeError):
            return  # an unreadable line: its request is handed back as missing
        response = item.get("response") or {}
        status = response.get("status_code")
        if status != 200 or not isinstance(response.get("body"), dict):
            resend[key] = _classify(status, response.get("body"), item.get("error"))
            return
        try:
            reply = self._on_result(key, response["body"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            resend[key] = Resend("server_error", f"unreadable result: {exc}")
            return
        answered.add(key)
        self._resolve(key, reply)

    def _resolve(self, key: str, value: Any) -> None:
        for future in self._waiters.get(key, []):
            if not future.done():
                future.set_result(value)

    def _keys(self, shard: Shard) -> list[str]:
        """The custom ids of a shard's requests (read back from its file)."""
        path = self.ledger.shard_path(shard)
        if not path.is_file():
            return []
        with path.open("rb") as lines:
            return [json.loads(line)["custom_id"] for line in lines if line.strip()]

    def _notify(self) -> None:
        """Report the batches' states when they changed."""
        if self._notify_fn is None:
            return
        s = self.ledger.summary()
        states = ", ".join(f"{n} {state}" for state, n in sorted(s["states"].items()))
        line = (f"batches: {states}; {s['waiting']:,} request(s) waiting, {s['kept']:,} answered, "
                f"{s['resent']:,} handed back")  # fmt: skip
        if line != self._last_notice:
            self._last_notice = line
            self._notify_fn(line)

    async def close(self, grace: float = 30.0) -> None:
        """Stop polling once the step under way (a collection, say) is done; submitted
        batches stay in the ledger for the next run."""
        if self._task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def _classify(status: int | None, body: Any, error: Any) -> Resend:
    """Why one request of a batch failed, from its error line."""
    detail = ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = str(body["error"].get("message") or "")
    if isinstance(error, dict):
        detail = detail or str(error.get("message") or "")
        if error.get("code") == "batch_expired":
            return Resend("batch_expired", detail)
    if status in (400, 404, 422):
        return Resend("bad_request", detail, final=True)
    if status == 429:
        return Resend("rate_limited", detail)
    return Resend("server_error", f"{status}: {detail}" if status else detail)


def _batch_errors(batch: Any) -> str:
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return "; ".join(str(getattr(e, "message", e)) for e in errors[:3])


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in (408, 409, 429)
                                                       or exc.status_code >= 500)  # fmt: skip


async def _call(fn: Callable[[], Awaitable[T]]) -> T:
    """One Files/Batches API call, retried on transient failures; fatal ones stop the run."""
    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(6), reraise=True,
                                           wait=wait_random_exponential(multiplier=1, max=60),
                                           retry=retry_if_exception(_transient)):  # fmt: skip
            with attempt:
                return await fn()
    except openai.APIStatusError as exc:
        raise ServerError(f"the Batch API refused a request ({exc.status_code}): {exc.message}") from None
    except openai.APIConnectionError as exc:
        raise ServerError(f"cannot reach the Batch API: {exc}") from None
    raise AssertionError("unreachable")  # pragma: no cover
