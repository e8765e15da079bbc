"""An OpenAI-compatible chat server on 127.0.0.1 for tests, benchmarks and demos.

It "translates" the JSON object in the user message by applying a function to every value
(by default it prefixes ``[zh] ``), so results are exact and checkable. It can demand an API
key, know only some models, refuse ``json_schema``, add latency, and inject faults.

Given a judge policy (``judge="first"``, ``"tie"``, ``"marker:GOOD"``, ... or a function), it
also answers pairwise judge prompts, those holding ``<answer_a>`` and ``<answer_b>`` blocks
(plugdata's ``judge/v1``), with a scripted verdict; other requests are translated as usual.

Run it by hand with ``python -m plugdata.testing.server --port 8000 [--judge first]``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from plugdata.testing.batches import BatchFaults, BatchService, prompt_tokens
from plugdata.testing.faults import FaultFn
from plugdata.testing.http import ThreadedServer, respond

_INTO = re.compile(r"\binto [^()\n]+? \((\w+)\)")  # translation prompts
_IN = re.compile(r"\bin [^()\n]+? \((\w+)\)")  # generation prompts
_ANSWER = re.compile(r"<answer_([ab])>\n?(.*?)\n?</answer_\1>", re.DOTALL)  # judge prompts
_REASONING = re.compile(r"^(o\d|gpt-5)")  # OpenAI models that refuse max_tokens
_NO_MAX_TOKENS = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
    "'max_completion_tokens' instead."
)

JudgePolicy = Callable[[str, str], str]  # (answer shown first, answer shown second) -> reply
JUDGE_POLICIES = ("first", "second", "tie", "none", "longer", "marker:TEXT")


def tag_translate(text: str, lang: str) -> str:
    """The default fake translation: ``[lang] text``."""
    return f"[{lang}] {text}"


def tag_answer(prompt: str, lang: str) -> str:
    """The default fake generation: ``[lang answer] <first line of the prompt>``."""
    return f"[{lang} answer] {prompt.splitlines()[0] if prompt else ''}"


def _verdict(which: str) -> str:
    reasons = {
        "A": "Answer A follows the request better.",
        "B": "Answer B follows the request better.",
        "C": "Both answers are equally good.",
    }
    return f"{reasons[which]} Final verdict: [[{which}]]"


def judge_policy(spec: str) -> JudgePolicy:
    """A scripted judge: ``first`` or ``second`` (always that position), ``tie``, ``none`` (no
    verdict at all), ``longer`` (the longer answer; equal is a tie) or ``marker:TEXT`` (the
    answer containing TEXT; both or neither is a tie)."""
    fixed = {"first": "A", "second": "B", "tie": "C"}
    if spec in fixed:
        return lambda first, second: _verdict(fixed[spec])
    if spec == "none":
        return lambda first, second: "Both answers have strengths and weaknesses."
    if spec == "longer":
        return lambda first, second: _verdict(
            "A" if len(first) > len(second) else "B" if len(second) > len(first) else "C"
        )
    if spec.startswith("marker:") and len(spec) > len("marker:"):
        marker = spec.split(":", 1)[1]
        return lambda first, second: _verdict(
            "C" if (marker in first) == (marker in second) else "A" if marker in first else "B"
        )
    raise ValueError(f"unknown judge policy {spec!r}; known: {', '.join(JUDGE_POLICIES)}")


class FakeOpenAIServer(ThreadedServer):
    """A threaded HTTP server speaking enough of ``/v1/chat/completions``.

    Use as a context manager; ``url`` is the base URL to give the client.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: set[str] | None = None,
        json_schema: bool = True,
        latency: float = 0.0,
        translate: Callable[[str, str], str] = tag_translate,
        answer: Callable[[str, str], str] = tag_answer,
        fault: FaultFn | None = None,
        rate_limit: tuple[int, float] | None = None,
        judge: str | JudgePolicy | None = None,
        batch_faults: BatchFaults | None = None,
        max_model_len: int | None = None,
        port: int = 0,
    ) -> None:
        self.api_key = api_key
        self.models = models
        self.json_schema = json_schema
        self.latency = latency
        self.translate = translate
        self.generate = answer
        self.fault = fault
        self.rate_limit = rate_limit
        self.judge = judge_policy(judge) if isinstance(judge, str) else judge
        # Like a vLLM server: a request past the context is refused, and structured output
        # without a token budget loops on whitespace until the context ends.
        self.max_model_len = max_model_len
        self.rate_limited = 0  # requests refused by rate_limit
        self._arrivals: list[float] = []
        self.requests: list[dict[str, Any]] = []
        self.batches = BatchService(self, batch_faults)  # /v1/files and /v1/batches
        self._lock = threading.Lock()
        super().__init__(_Handler, port)

    @property
    def url(self) -> str:
        return f"{self.address}/v1"

    def close(self) -> None:
        self.batches.close()
        super().close()

    def record(self, body: dict[str, Any]) -> int:
        with self._lock:
            self.requests.append(body)
            return len(self.requests)

    def _over_rate(self) -> bool:
        """Whether this arrival exceeds ``rate_limit`` = (requests, per seconds)."""
        if self.rate_limit is None:
            return False
        limit, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            self._arrivals = [t for t in self._arrivals if now - t < window]
            if len(self._arrivals) >= limit:
                self.rate_limited += 1
                return True
            self._arrivals.append(now)
        return False

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Decide the status, JSON payload and headers for one chat request."""
        count = self.record(body)
        if self._over_rate():
            return (
                429,
                _error("Rate limit reached for requests", "rate_limit_exceeded"),
                {"retry-after-ms": "100"},
            )
        if self.latency:
            time.sleep(self.latency)
        fault = self.fault(body, count) if self.fault else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            return 599, {}, {}
        if fault is not None and fault.status != 200:
            return fault.status, _error(f"injected fault {fault.status}"), fault.headers or {}
        model = body.get("model", "")
        if self.models is not None and model not in self.models:
            return 404, _error(f"The model `{model}` does not exist.", "model_not_found"), {}
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_schema" and not self.json_schema:
            return 400, _error("response_format type json_schema is not supported"), {}
        if "max_tokens" in body and _REASONING.match(model.split("/")[-1]):
            return 400, _error(_NO_MAX_TOKENS, "unsupported_parameter"), {}
        messages = body.get("messages") or []
        prompt = prompt_tokens(body)
        budget = body.get("max_tokens", body.get("max_completion_tokens"))
        context = self.max_model_len
        if context is not None and budget is not None and prompt + budget > context:
            message = (
                f"This model's maximum context length is {context} tokens. However, you "
                f"requested {prompt + budget} tokens ({prompt} in the messages, {budget} in the "
                "completion). Please reduce the length of the messages or completion."
            )
            error = {"object": "error", "type": "BadRequestError", "code": 400, "message": message}
            return 400, error, {}
        if fault is not None and fault.content is not None:
            content, finish = fault.content, fault.finish_reason
        elif self.max_model_len is not None and budget is None and fmt == "json_schema":
            content, finish = "{" + " " * (4 * max(0, self.max_model_len - prompt) - 1), "length"
        else:
            content, finish = self._translate(messages), "stop"
        return (
            200,
            {
                "id": f"chatcmpl-{count}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt + len(content) // 4,
                },
            },
            {},
        )

    def _translate(self, messages: list[dict[str, Any]]) -> str:
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        if self.judge is not None:
            answers = dict(_ANSWER.findall(user))
            if {"a", "b"} <= answers.keys():
                return self.judge(answers["a"], answers["b"])
        match = _INTO.search(system) or _IN.search(system)
        lang = match.group(1) if match else "xx"
        try:
            payload = json.loads(user)
        except json.JSONDecodeError:
            return self.generate(user, lang)
        if not isinstance(payload, dict):
            return self.generate(user, lang)
        return json.dumps(
            {k: self.translate(str(v), lang) for k, v in payload.items()}, ensure_ascii=False
        )


def _error(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/v1/chat/completions``, ``/v1/models``, ``/stats``, ``/v1/files`` and
    ``/v1/batches`` to the :class:`FakeOpenAIServer` that owns the HTTP server."""

    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    disable_nagle_algorithm = True  # small replies must not wait for delayed ACKs
    wbufsize = -1  # headers and body leave in one write (flushed per request)

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.owner  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self._batch_api("GET", b""):
            return
        route = self.path.rstrip("/")
        if route.endswith("/stats"):  # for benchmarks: what was received
            stats = {"requests": len(self.fake.requests), "rate_limited": self.fake.rate_limited}
            respond(self, 200, stats, {})
        elif route.endswith("/models"):
            names = sorted(self.fake.models or {"fake-model"})
            listed = [{"id": name, "object": "model"} for name in names]
            respond(self, 200, {"object": "list", "data": listed}, {})
        else:
            respond(self, 404, _error("not found"), {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self._batch_api("POST", raw):
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            respond(self, 404, _error(f"no route {self.path}"), {})
        elif not self._refused():
            self._chat(raw)

    def _chat(self, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            respond(self, 400, _error("request body is not JSON"), {})
            return
        status, payload, headers = self.fake.answer(body)
        if status == 599:  # a dropped connection
            self.close_connection = True
            self.connection.close()
            return
        respond(self, status, payload, headers)

    def _refused(self) -> bool:
        """Answer 401 when the server demands a key and this request lacks it."""
        key = self.fake.api_key
        if key is None or self.headers.get("Authorization", "") == f"Bearer {key}":
            return False
        respond(self, 401, _error("Incorrect API key provided.", "invalid_api_key"), {})
        return True

    def _batch_api(self, method: str, raw: bytes) -> bool:
        """Serve /v1/files and /v1/batches; False when the path is another one."""
        if not any(part in self.path for part in ("/files", "/batches")):
            return False
        if not self._refused():
            routed = self.fake.batches.route(method, self.path, self.headers, raw)
            status, payload, headers = routed or (404, _error(f"no route {self.path}"), {})
            respond(self, status, payload, headers)
        return True


if __name__ == "__main__":  # ``python -m plugdata.testing.server``
    from plugdata.testing.serve import main

    main()
