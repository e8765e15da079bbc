"""The Batch API of the test server: ``/v1/files`` and ``/v1/batches``, with faults.

Uploaded input files are kept in memory; a created batch is processed on a timer thread after
``delay`` seconds, each request answered by the server's own chat endpoint. Faults are chosen
per request from a seeded hash of its ``custom_id``, and by default only the first time a
request is seen, so a re-submitted request succeeds: ``expire`` leaves that share of a batch's
requests unfinished (the batch ends ``expired``, as at the end of a completion window),
``error`` answers that share with a 500 error line, ``fail`` makes that share of batches fail
validation outright.
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


class BatchService:
    """Files and batches held in memory; ``created`` lists every batch's input hash."""

    def __init__(self, chat: ChatServer, faults: BatchFaults | None = None) -> None:
        self.chat, self.faults = chat, faults or BatchFaults()
        self.files: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.created: list[str] = []  # sha256 of each created batch's input file
        self.seen: Counter[str] = Counter()  # times each custom_id was processed
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._failed: set[str] = set()  # custom ids of batches that failed

    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer | None:
        """Answer a files or batches request, or None when the path is not one of ours."""
        url = urlparse(path)
        parts = [p for p in url.path.split("/") if p][1:]  # without the leading "v1"
        if not parts or parts[0] not in ("files", "batches"):
            return None
        if parts == ["files"]:
            return self._upload(headers, raw) if method == "POST" else self._list_files(url.query)
        if parts[0] == "files" and parts[1] in self.files:
            if len(parts) == 3 and parts[2] == "content":
                return 200, self.data[parts[1]], {"Content-Type": "application/octet-stream"}
            return 200, self.files[parts[1]], {}
        if parts == ["batches"]:
            return self._create(json.loads(raw or b"{}")) if method == "POST" else self._list_batches(url.query)
        if parts[0] == "batches" and parts[1] in self.batches:
            if len(parts) == 3 and parts[2] == "cancel" and method == "POST":
                return self._cancel(parts[1])
            return 200, self.batches[parts[1]], {}
        return 404, {"error": {"message": f"no such object: {url.path}", "type": "invalid_request_error"}}, {}

    def close(self) -> None:
        """Stop batches still being processed."""
        for timer in self._timers:
            timer.cancel()

    def _store(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        with self._lock:
            file_id = f"file-{len(self.files) + 1:06d}"
            self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(data),
                                   "created_at": int(time.time()), "filename": filename,
                                   "purpose": purpose, "status": "processed"}  # fmt: skip
            self.data[file_id] = data
        return self.files[file_id]

    def _upload(self, headers: Any, raw: bytes) -> Answer:
        head = f"Content-Type: {headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = BytesParser(policy=HTTP).parsebytes(head + raw)
        fields = {part.get_param("name", header="content-disposition"): part
                  for part in form.iter_parts()}  # fmt: skip
        if "file" not in fields:
            return 400, {"error": {"message": "no file in the upload"}}, {}
        purpose = fields["purpose"].get_payload(decode=True).decode() if "purpose" in fields else ""
        data = fields["file"].get_payload(decode=True)
        return 200, self._store(data, fields["file"].get_filename() or "upload", purpose), {}

    def _list_files(self, query: str) -> Answer:
        purpose = parse_qs(query).get("purpose", [None])[0]
        data = [f for f in self.files.values() if purpose in (None, f["purpose"])]
        return 200, _page(data, query, 10_000), {}

    def _list_batches(self, query: str) -> Answer:
        data = sorted(self.batches.values(), key=lambda b: b["id"], reverse=True)
        return 200, _page(data, query, 20), {}

    def _create(self, body: dict[str, Any]) -> Answer:
        file_id = body.get("input_file_id", "")
        if file_id not in self.files:
            return 404, {"error": {"message": f"No such File object: {file_id}"}}, {}
        with self._lock:
            batch_id = f"batch_{len(self.batches) + 1:06d}"
            now = int(time.time())
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body.get("endpoint"),
                "input_file_id": file_id, "completion_window": body.get("completion_window"),
                "status": "validating", "created_at": now, "expires_at": now + 86400,
                "metadata": body.get("metadata"), "output_file_id": None, "error_file_id": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0}, "errors": None,
            }  # fmt: skip
            self.created.append(hashlib.sha256(self.data[file_id]).hexdigest())
        timer = threading.Timer(self.faults.delay, self._process, (batch_id,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return 200, self.batches[batch_id], {}

    def _cancel(self, batch_id: str) -> Answer:
        batch = self.batches[batch_id]
        if batch["status"] in ("validating", "in_progress"):
            batch["status"] = "cancelled"
        return 200, batch, {}

    def _process(self, batch_id: str) -> None:
        batch = self.batches[batch_id]
        if batch["status"] == "cancelled":
            return
        lines = [json.loads(line) for line in self.data[batch["input_file_id"]].splitlines() if line.strip()]
        faults = self.faults
        fresh = not any(self.seen[line["custom_id"]] or line["custom_id"] in self._failed for line in lines)
        chance = random.Random(f"{faults.seed}:{batch['input_file_id']}").random()
        if chance < faults.fail and (fresh or faults.repeat):
            self._failed.update(line["custom_id"] for line in lines)
            batch.update(status="failed", failed_at=int(time.time()), errors={"object": "list", "data": [
                {"code": "invalid_request", "message": "injected failure", "line": 1}]})  # fmt: skip
            return
        outputs, errors, expired = self._answer_all(lines)
        random.Random(batch_id).shuffle(outputs)  # results come back in any order
        if outputs:
            batch["output_file_id"] = self._store(b"".join(outputs), f"{batch_id}_output.jsonl", "batch_output")["id"]
        if errors:
            batch["error_file_id"] = self._store(b"".join(errors), f"{batch_id}_error.jsonl", "batch_output")["id"]
        batch["request_counts"] = {"total": len(lines), "completed": len(outputs),
                                   "failed": len(errors) - expired}  # fmt: skip
        batch["status"] = "expired" if expired else "completed"
        batch["expired_at" if expired else "completed_at"] = int(time.time())

    def _answer_all(self, lines: list[dict[str, Any]]) -> tuple[list[bytes], list[bytes], int]:
        outputs: list[bytes] = []
        errors: list[bytes] = []
        expired = 0
        for n, line in enumerate(lines):
            cid = line["custom_id"]
            first = self.seen[cid] == 0
            self.seen[cid] += 1
            roll = random.Random(f"{self.faults.seed}:{cid}").random() if first or self.faults.repeat else 1.0
            item: dict[str, Any] = {"id": f"batch_req_{n}", "custom_id": cid, "response": None, "error": None}
            if roll < self.faults.expire:
                expired += 1
                item["error"] = {"code": "batch_expired", "message": "This request could not be "
                                 "executed before the completion window expired."}  # fmt: skip
            elif roll < self.faults.expire + self.faults.error:
                item["response"] = {"status_code": 500, "request_id": f"req_{n}",
                                    "body": {"error": {"message": "injected error line"}}}  # fmt: skip
            else:
                status, payload, _ = self.chat.answer(line["body"])
                item["response"] = {"status_code": status, "request_id": f"req_{n}", "body": payload}
            data = json.dumps(item, ensure_ascii=False).encode() + b"\n"
            ok = item["response"] is not None and item["response"]["status_code"] == 200
            (outputs if ok else errors).append(data)
        return outputs, errors, expired


def _page(items: list[dict[str, Any]], query: str, default_limit: int) -> dict[str, Any]:
    """One page of a cursor-paginated list, as the API serves it: the items after ``after``,
    at most ``limit`` of them, and whether more follow."""
    params = parse_qs(query)
    after = params.get("after", [None])[0]
    limit = int(params.get("limit", [str(default_limit)])[0])
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}
