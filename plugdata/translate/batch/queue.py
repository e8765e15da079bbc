"""Gathers concurrent chat requests into Batch API shards, submits them, polls, collects.

Translators call :meth:`BatchQueue.result` as they would send a live request and simply wait
longer. Requests that arrive together are written as one shard (at most ``max_requests`` lines,
``max_bytes`` and, once the model's enqueued-token limit is known, 90% of it) once no new
request came for ``linger`` seconds, so a build's requests fill batches without any batch
barrier in the runner. Each request's ``custom_id`` is its cache key: a request already
waiting in a submitted batch (this run's or a killed run's, from the
:class:`~plugdata.translate.batch.ledger.Ledger`) is never submitted again.

A shard refused for the enqueued-token limit is held until running batches finish (and split
if it alone is over the limit); a shard that fails for good rejects its requests with the
reason; a result file the server no longer has sends its requests again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import openai

from plugdata.errors import PlugdataError
from plugdata.translate.batch import api
from plugdata.translate.batch.collect import read_batch
from plugdata.translate.batch.ledger import TERMINAL, Ledger, Shard, prompt_tokens
from plugdata.translate.batch.outcomes import MARGIN, MISSING, Failure, Resend, failure

MAX_REQUESTS = 50_000
MAX_BYTES = 190 * 1024 * 1024  # the API allows 200 MB per input file
MAX_HOLDS = 50  # token-limit refusals of one shard before its requests are rejected
EXPIRY_WARNING_DAYS = 7  # warn when result files are deleted sooner than this

__all__ = ["MAX_REQUESTS", "BatchQueue", "BatchesPending", "Resend"]


class BatchesPending(PlugdataError):
    """``--batch-detach``: the batches are submitted; the same command collects them."""


ResultFn = Callable[[str, dict[str, Any]], Any]
AdmitFn = Callable[[float], None]  # raises (BudgetExceeded) when that much more is too much


class BatchQueue:
    """One model's Batch API requests: a pending shard, the submitted batches, the waiters.

    ``on_result(key, body)`` turns a completed response body into the caller's reply (and
    stores it in the request cache); ``flush`` makes those stores durable before a shard is
    marked collected; ``notify`` gets a one-line status after every change, and a line for
    each failure it handles. ``max_tokens`` is the model's enqueued prompt-token limit when
    known (else it is learned from the first refusal); ``output_expiry`` asks the API to
    delete result files that many seconds after they are made.
    """

    def __init__(
        self,
        ledger: Ledger,
        client: Callable[[], openai.AsyncOpenAI],
        on_result: ResultFn,
        *,
        max_requests: int = MAX_REQUESTS,
        max_bytes: int = MAX_BYTES,
        poll: float = 30.0,
        linger: float = 2.0,
        detach: bool = False,
        flush: Callable[[], None] | None = None,
        admit: AdmitFn | None = None,
        notify: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
        output_expiry: int | None = None,
        endpoint: str = "/v1/chat/completions",
    ) -> None:
        self.ledger, self._client, self._on_result = ledger, client, on_result
        self.max_requests, self.max_bytes = (
            min(max_requests, MAX_REQUESTS),
            min(max_bytes, MAX_BYTES),
        )
        self.poll, self.linger, self.detach = poll, linger, detach
        self._flush_cache, self._notify_fn, self.endpoint = flush, notify, endpoint
        self._admit, self.max_tokens, self.output_expiry = admit, max_tokens, output_expiry
        self._stopping = False
        self._waiters: dict[str, list[asyncio.Future[Any]]] = {}
        self._pending: dict[str, tuple[bytes, float, int]] = {}  # key -> (line, USD, tokens)
        self._pending_bytes = self._pending_tokens = 0
        self._live: dict[str, str] = {}  # key -> shard name, for every open shard
        self._arrived = time.monotonic()
        self._polled = False  # polled at least once (what ended is collected before detaching)
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._fresh: set[str] = set()  # shards this process wrote or submitted
        self._not_before: dict[str, float] = {}  # held shards: when to try again
        self._unsent = False
        self._last_notice = ""
        for shard in ledger.open_shards():
            for key in self.ledger.keys(shard):
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
            tokens = prompt_tokens(body)
            self._pending[key] = (data, estimate_usd, tokens)
            self._pending_bytes += len(data)
            self._pending_tokens += tokens
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

    def token_cap(self) -> int | None:
        """The most estimated prompt tokens in one shard, and enqueued at once."""
        limits = [n for n in (self.max_tokens, self.ledger.token_limit) if n]
        return max(1, int(min(limits) * MARGIN)) if limits else None

    def _full(self) -> bool:
        cap = self.token_cap()
        return (
            len(self._pending) >= self.max_requests
            or self._pending_bytes >= self.max_bytes
            or (cap is not None and self._pending_tokens >= cap)
        )

    async def _run(self) -> None:
        assert self._wake is not None
        tick = max(0.01, min(self.linger, self.poll) / 2)
        try:
            next_poll = 0.0
            while not self._stopping:
                now = time.monotonic()
                if self._pending and now - self._arrived >= self.linger:
                    self._cut(whole=True)  # nothing new is coming: submit what there is
                elif self._full():
                    self._cut(whole=False)  # full shards only; the rest may fill up
                await self._submit_ready()
                if now >= next_poll and any(s.batch_id for s in self.ledger.open_shards()):
                    await self._poll()
                    next_poll = time.monotonic() + self.poll
                if self.detach and self._stalled():
                    raise BatchesPending(self.ledger.waiting_line())
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
        return (
            not self._pending
            and bool(self._waiters)
            and self._polled
            and all(key in self._live for key in self._waiters)
            and not self._unsent
            and time.monotonic() - self._arrived >= self.linger
        )

    def _cut(self, whole: bool) -> None:
        """Write the pending requests as shards (``whole``: the last one too, however small)."""
        cap = self.token_cap()
        while self._pending and (whole or self._full()):
            lines, keys, size, cost, tokens = [], [], 0, 0.0, 0
            for key, (line, estimate, n) in self._pending.items():
                if lines and (
                    len(lines) >= self.max_requests
                    or size + len(line) > self.max_bytes
                    or (cap is not None and tokens + n > cap)
                ):
                    break
                lines.append(line)
                keys.append(key)
                size, cost, tokens = size + len(line), cost + estimate, tokens + n
            for key in keys:
                del self._pending[key]
            self._pending_bytes -= size
            self._pending_tokens -= tokens
            if self._refused(keys, cost):
                continue
            shard = self.ledger.add(lines, cost, tokens)
            self._fresh.add(shard.name)
            for key in keys:
                self._live[key] = shard.name

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

    async def _submit_ready(self) -> None:
        """Submit the shards not yet submitted, in order, while the token limit has room."""
        cap = self.token_cap()
        self._unsent = False  # a shard that could go now but was not (detaching waits for it)
        for shard in list(self.ledger.open_shards()):
            if shard.batch_id is not None or self._not_before.get(shard.name, 0) > time.monotonic():
                continue
            if cap is not None and shard.tokens > cap and shard.requests > 1:
                self._split(shard, cap)
                self._unsent = True
                continue
            queued = self.ledger.enqueued_tokens()
            if cap is not None and queued and queued + shard.tokens > cap:
                break  # held until running batches finish
            await self._submit(shard)

    async def _submit(self, shard: Shard) -> None:
        """Upload the shard and create its batch, recording each step before the next."""
        client = self._client()
        known = shard.name in self._fresh  # nothing of it can be on the server unknown to us
        if shard.file_id is None:
            shard.file_id = None if known else await api.find_upload(client, shard.upload_name)
            if shard.file_id is None:
                data = self.ledger.shard_path(shard).read_bytes()
                uploaded = await api.call(
                    lambda: client.files.create(
                        file=(shard.upload_name, data, "application/jsonl"), purpose="batch"
                    )
                )
                shard.file_id = uploaded.id
            shard.status = "uploaded"
            self.ledger.save()
        found = None if known else await api.find_batch(client, shard.file_id)
        metadata = {"plugdata_shard": shard.name, "plugdata_sha256": shard.sha256[:16]}
        batch = found or await api.create_once(
            client, shard.file_id, self.endpoint, metadata, self.output_expiry
        )
        self._fresh.add(shard.name)
        shard.batch_id, shard.status = batch.id, batch.status
        self.ledger.save()
        self._notify()

    def _split(self, shard: Shard, cap: int) -> None:
        """Rewrite a shard too big for the token limit as shards under it."""
        for new in self.ledger.split(shard, cap):
            self._fresh.add(new.name)
            for key in self.ledger.keys(new):
                self._live[key] = new.name

    async def _poll(self) -> None:
        """Check every submitted batch; hold those refused for the token limit; collect
        those that ended."""
        client = self._client()
        for shard in self.ledger.open_shards():
            if shard.batch_id is None:
                continue
            batch = await api.call(lambda s=shard: client.batches.retrieve(s.batch_id or ""))
            shard.status = batch.status
            if batch.request_counts is not None:
                shard.completed, shard.failed = (
                    batch.request_counts.completed,
                    batch.request_counts.failed,
                )
            if (
                batch.status == "failed"
                and (why := failure(batch)).held
                and shard.holds < MAX_HOLDS
            ):
                self._hold(shard, batch.id, why)
            elif batch.status in TERMINAL:
                await self._collect(shard, batch)
        self._polled = True
        self.ledger.save()
        self._notify()

    def _hold(self, shard: Shard, batch_id: str, why: Failure) -> None:
        """A batch refused for the enqueued-token limit: learn the limit, submit it again
        once running batches finish (split if it alone is over the limit)."""
        alone = self.ledger.enqueued_tokens() == 0
        self.ledger.token_limit = why.next_limit(self.ledger.token_limit, shard.tokens, alone)
        shard.batch_id, shard.status, shard.holds = None, "held", shard.holds + 1
        backoff = alone and shard.requests == 1  # one request, refused with nothing running
        wait = min(600.0, self.poll * 2 ** min(shard.holds, 10)) if backoff else 0.0
        self._not_before[shard.name] = time.monotonic() + wait
        self._say(
            f"{batch_id} ({shard.name}, {shard.requests:,} requests, ~{shard.tokens:,} "
            f"prompt tokens) was refused: {why.line()}; it goes again in shards of at most "
            f"~{self.token_cap():,} tokens as running batches finish"
        )

    async def _collect(self, shard: Shard, batch: Any) -> None:
        """Results into the cache and to their waiters; everything else handed back."""
        got = await read_batch(self._client(), batch, self._on_result, self._resolve)
        why = Resend(MISSING.get(batch.status, "batch_missing"), failure(batch).message)
        if got.days_left is not None and got.days_left < EXPIRY_WARNING_DAYS:
            self._say(
                f"{batch.id} ({shard.name}): its result files expire in "
                f"{got.days_left:.1f} days; collect batches soon after they end (a "
                "detached run must come back within 30 days)"
            )
        if got.lost:
            why = Resend("batch_output_lost", got.lost)
            self._say(
                f"{batch.id} ({shard.name}): its result file is no longer on the server "
                "(batch files are deleted 30 days after they are made); "
                f"{shard.requests - len(got.answered):,} request(s) will be sent again"
            )
        bad = failure(batch) if batch.status == "failed" else None
        if bad is not None and (bad.final or shard.holds >= MAX_HOLDS):
            shard.error = bad.line()
            why = Resend("batch_failed", f"{batch.id}: {bad.line()}", final=True)
            self._say(
                f"{batch.id} ({shard.name}, {shard.requests:,} requests) failed for good: "
                f"{bad.line()}; its requests are rejected (the shard is kept in "
                f"{self.ledger.shard_path(shard)})"
            )
        for key in self.ledger.keys(shard):
            if key not in got.answered:
                self._resolve(key, got.resend.get(key, why))
            if self._live.get(key) == shard.name:
                del self._live[key]
        if self._flush_cache is not None:
            await asyncio.to_thread(self._flush_cache)  # stored for good before "collected"
        shard.kept, shard.collected = len(got.answered), True
        shard.resent = shard.requests - shard.kept
        self.ledger.save()
        if not shard.error:
            self.ledger.shard_path(shard).unlink(missing_ok=True)

    def _resolve(self, key: str, value: Any) -> None:
        for future in self._waiters.get(key, []):
            if not future.done():
                future.set_result(value)

    def _say(self, line: str) -> None:
        """A line about a failure that was handled (always shown)."""
        if self._notify_fn is not None:
            self._notify_fn(line)

    def _notify(self) -> None:
        """Report the batches' states when they changed."""
        if self._notify_fn is None:
            return
        s = self.ledger.summary()
        states = ", ".join(f"{n} {state}" for state, n in sorted(s["states"].items()))
        line = (
            f"batches: {states}; {s['waiting']:,} request(s) waiting, {s['kept']:,} answered, "
            f"{s['resent']:,} handed back"
        )
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
