"""Why a batch, or one request in it, ended without an answer, and what to do about it.

A failed batch says why in ``errors.data[].code``. The model's limit on enqueued prompt tokens
(``token_limit_exceeded``; ``request_limit_exceeded`` for requests) is a wait: the batch goes
again, in smaller shards if it is bigger than the limit, once running batches finish. A
failure with no code (or a server-side one) is tried again like an expired request. Anything
else (invalid file, unknown model, mismatched lines) is final: trying again cannot help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LIMIT_CODES = frozenset({"token_limit_exceeded", "request_limit_exceeded"})
RETRY_CODES = frozenset({"", "server_error", "internal_error", "timeout"})
# Reasons a request was rejected at the level of its batch, not for its own content.
BATCH_LEVEL = frozenset(
    {"batch_failed", "batch_expired", "batch_cancelled", "batch_missing", "batch_output_lost"}
)
MISSING = {"expired": "batch_expired", "failed": "batch_failed", "cancelled": "batch_cancelled"}
MARGIN = 0.9  # shards and the enqueued total stay under this share of the token limit
_LIMIT = re.compile(r"Limit:\s*([\d,]+)\s*enqueued tokens", re.IGNORECASE)


@dataclass(frozen=True)
class Resend:
    """A request a batch did not answer: the reason, and whether trying again can help."""

    reason: str
    detail: str = ""
    final: bool = False


@dataclass(frozen=True)
class Failure:
    """Why a batch failed: its first error code and its messages."""

    code: str
    message: str

    @property
    def held(self) -> bool:
        """Refused for the enqueued limit: submit it again later (smaller if need be)."""
        return self.code in LIMIT_CODES

    @property
    def final(self) -> bool:
        """Refused for what it is: the same batch would fail again."""
        return not self.held and self.code not in RETRY_CODES

    @property
    def token_limit(self) -> int | None:
        """The enqueued-token limit the message states (``Limit: 2,000,000 enqueued tokens``)."""
        found = _LIMIT.search(self.message)
        return int(found.group(1).replace(",", "")) if found else None

    def next_limit(self, known: int | None, shard_tokens: int, alone: bool) -> int:
        """The enqueued-token limit to keep under after this refusal: the one the message
        states (or the one known); halved when a shard under it was refused with nothing else
        of ours running (the estimate counts low, or other work fills the queue)."""
        limit = self.token_limit or known or shard_tokens
        if alone and shard_tokens <= limit * MARGIN:
            limit = max(1, int(shard_tokens / MARGIN) // 2)
        return min(limit, known or limit)

    def line(self) -> str:
        return f"{self.code or 'failed'}: {self.message}" if self.message else self.code or "failed"


def failure(batch: Any) -> Failure:
    """The failure of a ``failed`` batch, from ``errors.data``."""
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    code = next((str(e.code) for e in errors if getattr(e, "code", None)), "")
    return Failure(code, "; ".join(str(getattr(e, "message", "") or "") for e in errors[:3]))


def batch_errors(batch: Any) -> str:
    """The first messages of a batch's errors, for a reason's detail."""
    return failure(batch).message


def classify(status: int | None, body: Any, error: Any) -> Resend:
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
