"""The Batch API of the test server: ``/v1/files`` and ``/v1/batches``, with faults.

Uploaded input files are kept in memory; a created batch is processed on a timer thread after
``delay`` seconds, each request answered by the server's own chat endpoint. Faults are chosen
per request from a seeded hash of its ``custom_id``, and by default only the first time a
request is seen, so a re-submitted request succeeds: ``expire`` leaves that share of a batch's
requests unfinished (the batch ends ``expired``, as at the end of a completion window),
``error`` answers that share with a 500 error line, ``fail`` makes that share of batches fail
validation outright (with ``fail_code``).

The service also fails the way the real one does: ``token_limit`` is the model's limit on
enqueued prompt tokens (a batch that would pass it fails with ``token_limit_exceeded``, every
time, until running batches finish), ``cut_downloads`` result downloads stop halfway,
``output_ttl`` deletes result files that many seconds after they are written (a 404 after),
``create_500`` creates make the batch and then answer 500, and ``list_errors`` list requests
answer 503. Lists are paged (``limit``, ``after``, ``has_more``) in ``list_order``.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from plugdata.testing.http import CUT_HEADER

Answer = tuple[int, Any, dict[str, str]]


class ChatServer(Protocol):
    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]: ...


@dataclass
class BatchFaults:
    """What goes wrong in batches (shares between 0 and 1; ``delay`` in seconds)."""

    expire: float = 0.0
    error: float = 0.0
    fail: float = 0.0
    delay: float = 0.0
    seed: int = 0
    repeat: bool = False  # fault a request every time it is sent, not only the first
    fail_code: str | None = "invalid_request"
    token_limit: int | None = None  # enqueued prompt tokens per model
    cut_downloads: int = 0  # the first N result downloads stop halfway
    output_ttl: float | None = None  # seconds a result file lives (the API: 30 days)
    create_500: int = 0  # the first N creates make the batch, then answer 500
    list_errors: int = 0  # the first N list requests answer 503
    list_order: str = "desc"  # the API does not document an order; "asc" is as valid


FILE_TTL = 30 * 86400  # batch files expire 30 days after they are created
ACTIVE = ("validating", "in_progress", "finalizing")


class BatchService:
    """Files and batches held in memory; ``created`` lists every batch's input hash."""

    def __init__(self, chat: ChatServer, faults: BatchFaults | None = None) -> None:
        self.chat, self.faults = chat, faults or BatchFaults()
        self.files: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.created: list[str] = []  # sha256 of each created batch's input file
        self.seen: Counter[str] = Counter()  # times each custom_id was processed
        self.calls: Counter[str] = Counter()  # creates, downloads and lists answered
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._failed: set[str] = set()  # custom ids of batches that failed
        self._tokens: dict[str, int] = {}  # batch id -> enqueued prompt tokens

    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer | None:
        """Answer a files or batches request, or None when the path is not one of ours."""
        url = urlparse(path)
        parts = [p for p in url.path.split("/") if p][1:]  # without the leading "v1"
        if not parts or parts[0] not in ("files", "batches"):
            return None
        if parts in (["files"], ["batches"]) and method == "GET":
            self.calls["list"] += 1
            if self.calls["list"] <= self.faults.list_errors:
                return (
                    503,
                    {"error": {"message": "The server is overloaded", "type": "server_error"}},
                    {},
                )
            items = self.files.values() if parts == ["files"] else self.batches.values()
            return self._page(list(items), parse_qs(url.query))
        if parts == ["files"]:
            return self._upload(headers, raw)
        if parts[0] == "files" and parts[1] in self.files and self._alive(parts[1]):
            if len(parts) == 3 and parts[2] == "content":
                return self._content(parts[1])
            return 200, self.files[parts[1]], {}
        if parts == ["batches"]:
            return self._create(json.loads(raw or b"{}"))
        if parts[0] == "batches" and parts[1] in self.batches:
            if len(parts) == 3 and parts[2] == "cancel" and method == "POST":
                return self._cancel(parts[1])
            return 200, self.batches[parts[1]], {}
        what = "File" if parts[0] == "files" else "Batch"
        message = f"No such {what} object: {parts[1] if len(parts) > 1 else url.path}"
        return (
            404,
            {"error": {"message": message, "type": "invalid_request_error", "param": "id"}},
            {},
        )

    def close(self) -> None:
        """Stop batches still being processed."""
        for timer in self._timers:
            timer.cancel()

    def _alive(self, file_id: str) -> bool:
        """Whether a file is still kept (result files expire after ``output_ttl``)."""
        expires = self.files[file_id].get("expires_at")
        return expires is None or time.time() < expires

    def _content(self, file_id: str) -> Answer:
        self.calls["download"] += 1
        headers = {"Content-Type": "application/octet-stream"}
        if (
            self.files[file_id]["purpose"] == "batch_output"
            and self.calls["download"] <= self.faults.cut_downloads
        ):
            headers[CUT_HEADER] = "1"  # the handler sends half the body, then hangs up
        return 200, self.data[file_id], headers

    def _page(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> Answer:
        """One page of a list, as the API pages it (``after`` an id, ``limit``, ``has_more``)."""
        purpose = query.get("purpose", [None])[0]
        items = [i for i in items if purpose in (None, i.get("purpose")) and self._listed(i)]
        items.sort(key=lambda i: i["id"], reverse=self.faults.list_order == "desc")
        after = query.get("after", [None])[0]
        if after is not None:
            ids = [i["id"] for i in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = int(query.get("limit", ["20"])[0])
        page = items[:limit]
        return (
            200,
            {
                "object": "list",
                "data": page,
                "has_more": len(items) > limit,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
            },
            {},
        )

    def _listed(self, item: dict[str, Any]) -> bool:
        return item.get("object") != "file" or self._alive(item["id"])

    def _store(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{len(self.files) + 1:06d}"
            now = time.time()
            ttl = self.faults.output_ttl if purpose == "batch_output" else None
            self.files[file_id] = {
                "id": file_id,
                "object": "file",
                "bytes": len(data),
                "created_at": int(now),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
                "expires_at": now + (FILE_TTL if ttl is None else ttl),
            }
            self.data[file_id] = data
        return self.files[file_id]

    def _upload(self, headers: Any, raw: bytes) -> Answer:
        head = f"Content-Type: {headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = BytesParser(policy=HTTP).parsebytes(head + raw)
        fields = {
            part.get_param("name", header="content-disposition"): part for part in form.iter_parts()
        }
        if "file" not in fields:
            return 400, {"error": {"message": "no file in the upload"}}, {}
        purpose = fields["purpose"].get_payload(decode=True).decode() if "purpose" in fields else ""
        data = fields["file"].get_payload(decode=True)
        return 200, self._store(data, fields["file"].get_filename() or "upload", purpose), {}

    def _create(self, body: dict[str, Any]) -> Answer:
        file_id = body.get("input_file_id", "")
        if file_id not in self.files:
            return 404, {"error": {"message": f"No such File object: {file_id}"}}, {}
        lines = [json.loads(line) for line in self.data[file_id].splitlines() if line.strip()]
        with self._lock:
            batch_id = f"batch_{len(self.batches) + 1:06d}"
            now = int(time.time())
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body.get("endpoint"),
                "input_file_id": file_id,
                "completion_window": body.get("completion_window"),
                "status": "validating",
                "created_at": now,
                "expires_at": now + 86400,
                "metadata": body.get("metadata"),
                "output_file_id": None,
                "error_file_id": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "errors": None,
                "output_expires_after": body.get("output_expires_after"),
            }
            self.created.append(hashlib.sha256(self.data[file_id]).hexdigest())
            over = self._over_token_limit(batch_id, lines)
            self.calls["create"] += 1
            answer_500 = self.calls["create"] <= self.faults.create_500
        if over is None:
            timer = threading.Timer(self.faults.delay, self._process, (batch_id,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        if answer_500:  # made, but the client is told it failed (as after a lost reply)
            return (
                500,
                {
                    "error": {
                        "message": "The server had an error processing your request.",
                        "type": "server_error",
                    }
                },
                {},
            )
        return 200, self.batches[batch_id], {}

    def _over_token_limit(self, batch_id: str, lines: list[dict[str, Any]]) -> str | None:
        """Enqueue the batch's prompt tokens, or fail it as the API does when that passes the
        model's limit (counting the batches still running)."""
        tokens = sum(prompt_tokens(line.get("body") or {}) for line in lines)
        limit = self.faults.token_limit
        queued = sum(n for b, n in self._tokens.items() if self.batches[b]["status"] in ACTIVE)
        if limit is None or queued + tokens <= limit:
            self._tokens[batch_id] = tokens
            return None
        model = (lines[0].get("body") or {}).get("model", "") if lines else ""
        message = (
            f"Enqueued token limit reached for {model} in organization org-plugdata-test. "
            f"Limit: {limit:,} enqueued tokens. Please try again once some in_progress "
            "batches have been completed."
        )
        self.batches[batch_id].update(
            status="failed",
            failed_at=int(time.time()),
            errors={
                "object": "list",
                "data": [
                    {
                        "code": "token_limit_exceeded",
                        "message": message,
                        "line": None,
                        "param": None,
                    }
                ],
            },
        )
        return message

    def _cancel(self, batch_id: str) -> Answer:
        batch = self.batches[batch_id]
        if batch["status"] in ("validating", "in_progress"):
            batch["status"] = "cancelled"
        return 200, batch, {}

    def _process(self, batch_id: str) -> None:
        batch = self.batches[batch_id]
        if batch["status"] == "cancelled":
            return
        lines = [
            json.loads(line)
            for line in self.data[batch["input_file_id"]].splitlines()
            if line.strip()
        ]
        faults = self.faults
        fresh = not any(
            self.seen[line["custom_id"]] or line["custom_id"] in self._failed for line in lines
        )
        chance = random.Random(f"{faults.seed}:{batch['input_file_id']}").random()
        if chance < faults.fail and (fresh or faults.repeat):
            self._failed.update(line["custom_id"] for line in lines)
            error = {"message": "injected failure", "line": 1}
            if faults.fail_code:
                error["code"] = faults.fail_code
            batch.update(
                status="failed",
                failed_at=int(time.time()),
                errors={"object": "list", "data": [error]},
            )
            return
        outputs, errors, expired = self._answer_all(lines)
        random.Random(batch_id).shuffle(outputs)  # results come back in any order
        if outputs:
            batch["output_file_id"] = self._store(
                b"".join(outputs), f"{batch_id}_output.jsonl", "batch_output"
            )["id"]
        if errors:
            batch["error_file_id"] = self._store(
                b"".join(errors), f"{batch_id}_error.jsonl", "batch_output"
            )["id"]
        batch["request_counts"] = {
            "total": len(lines),
            "completed": len(outputs),
            "failed": len(errors) - expired,
        }
        batch["expired_at" if expired else "completed_at"] = int(time.time())
        batch["status"] = "expired" if expired else "completed"

    def _answer_all(self, lines: list[dict[str, Any]]) -> tuple[list[bytes], list[bytes], int]:
        outputs: list[bytes] = []
        errors: list[bytes] = []
        expired = 0
        for n, line in enumerate(lines):
            cid = line["custom_id"]
            first = self.seen[cid] == 0
            self.seen[cid] += 1
            roll = (
                random.Random(f"{self.faults.seed}:{cid}").random()
                if first or self.faults.repeat
                else 1.0
            )
            item: dict[str, Any] = {
                "id": f"batch_req_{n}",
                "custom_id": cid,
                "response": None,
                "error": None,
            }
            if roll < self.faults.expire:
                expired += 1
                item["error"] = {
                    "code": "batch_expired",
                    "message": "This request could not be "
                    "executed before the completion window expired.",
                }
            elif roll < self.faults.expire + self.faults.error:
                item["response"] = {
                    "status_code": 500,
                    "request_id": f"req_{n}",
                    "body": {"error": {"message": "injected error line"}},
                }
            else:
                status, payload, _ = self.chat.answer(line["body"])
                item["response"] = {
                    "status_code": status,
                    "request_id": f"req_{n}",
                    "body": payload,
                }
            data = json.dumps(item, ensure_ascii=False).encode() + b"\n"
            ok = item["response"] is not None and item["response"]["status_code"] == 200
            (outputs if ok else errors).append(data)
        return outputs, errors, expired


def prompt_tokens(body: dict[str, Any]) -> int:
    """The prompt tokens the server counts for a chat request (4 characters a token)."""
    return sum(len(str(m.get("content", ""))) for m in body.get("messages") or []) // 4
