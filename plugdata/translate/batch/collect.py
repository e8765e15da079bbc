"""Reading a finished batch: its result lines become replies (stored through ``on_result``
and handed to their waiters) or reasons to send a request again.

Both result files are streamed; a download cut short starts again from the top and a line read
before is skipped, so no reply is stored (or paid for) twice. When the server no longer has the
files (they are deleted 30 days after they are made), :attr:`Results.lost` says so and the
requests not read yet go into a new batch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from plugdata.translate.batch import api
from plugdata.translate.batch.outcomes import Resend, classify


@dataclass
class Results:
    """What a finished batch answered, what to send again, and its files' state."""

    answered: set[str] = field(default_factory=set)
    resend: dict[str, Resend] = field(default_factory=dict)
    lost: str = ""  # why its result files could not be read (deleted)
    days_left: float | None = None  # before its result files are deleted


async def read_batch(
    client: openai.AsyncOpenAI,
    batch: Any,
    on_result: Callable[[str, dict[str, Any]], Any],
    on_reply: Callable[[str, Any], None],
) -> Results:
    """Stream the batch's output and error files; ``on_reply(key, reply)`` gets each answer."""
    results = Results()
    try:
        expires = await api.expires_at(client, batch)
        if expires is not None:
            results.days_left = max(0.0, (expires - time.time()) / 86400)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                await api.download(
                    client, file_id, lambda line: read_line(line, results, on_result, on_reply)
                )
    except api.Gone as exc:
        results.lost = str(exc)
    return results


def read_line(
    line: str,
    results: Results,
    on_result: Callable[[str, dict[str, Any]], Any],
    on_reply: Callable[[str, Any], None],
) -> None:
    """One result line: the reply (stored, then handed on), or why to resend its request."""
    try:
        item = json.loads(line)
        key = item["custom_id"]
    except (ValueError, KeyError, TypeError):
        return  # an unreadable line: its request is handed back as missing
    if key in results.answered:
        return  # read before a download started again: stored (and paid) once
    response = item.get("response") or {}
    status = response.get("status_code")
    if status != 200 or not isinstance(response.get("body"), dict):
        results.resend[key] = classify(status, response.get("body"), item.get("error"))
        return
    try:
        reply = on_result(key, response["body"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        results.resend[key] = Resend("server_error", f"unreadable result: {exc}")
        return
    results.answered.add(key)
    results.resend.pop(key, None)
    on_reply(key, reply)
