"""``--translator vllm``: plugdata starts ``vllm serve MODEL`` on a free local port, waits
until it answers, drives it with the same JSON-object translator as any OpenAI-compatible
server, and stops it on exit, Ctrl-C or a crash (see :mod:`~plugdata.translate.local_server`).

The server gets a context sized from the translation budget (``--max-model-len``) rather than
the model's own (a 32K context may not fit the KV cache), ``--gpu-memory-utilization``, any
further flags given, and an API key of its own (generated, passed in ``VLLM_API_KEY``, sent by
the client, never written): a key inherited from the shell would otherwise make every request
fail with 401. Every request carries a token budget within that context, since structured
output without one can loop on whitespace until the context ends.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from plugdata.errors import PlugdataError
from plugdata.languages import Language
from plugdata.translate.base import Outcome
from plugdata.translate.chat import ChatClient
from plugdata.translate.llm import LLMTranslator, reply_budget
from plugdata.translate.local_server import LocalServer, free_port
from plugdata.translate.prompts import load_prompt

INSTALL = "pip install 'plugdata[vllm]' (Linux with a CUDA GPU)"
PROMPT_OVERHEAD = 512  # tokens of instructions around the payload
__all__ = [
    "LocalServer",
    "VLLMTranslator",
    "context_length",
    "free_port",
    "vllm_command",
    "vllm_installed",
    "vllm_translator",
]


def context_length(max_input_tokens: int, max_tokens: int | None = None) -> int:
    """``--max-model-len`` for a translation budget: the prompt (instructions and the largest
    payload, with room for a tokenizer that counts half as many again as the estimate) and
    the reply's budget, rounded up to a multiple of 1,024."""
    prompt = int((PROMPT_OVERHEAD + max_input_tokens) * 1.5)
    reply = max_tokens or reply_budget(max_input_tokens)
    return -(-(prompt + reply) // 1024) * 1024


def vllm_command(
    model: str,
    port: int | str = "{port}",
    *,
    tensor_parallel: int = 1,
    data_parallel: int = 1,
    max_model_len: int | None = None,
    gpu_memory: float | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """``vllm serve MODEL`` on 127.0.0.1:PORT with the parallelism, context and memory share
    asked for; ``extra`` flags go last and win over ours."""
    exe = shutil.which("vllm")
    head = [exe] if exe else [sys.executable, "-m", "vllm.entrypoints.cli.main"]
    flags = [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--tensor-parallel-size",
        str(tensor_parallel),
        "--data-parallel-size",
        str(data_parallel),
    ]
    if max_model_len is not None and _flag(extra, "--max-model-len") is None:
        flags += ["--max-model-len", str(max_model_len)]
    if gpu_memory is not None and _flag(extra, "--gpu-memory-utilization") is None:
        flags += ["--gpu-memory-utilization", str(gpu_memory)]
    return [*head, "serve", model, *flags, *extra]


def _flag(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` in ``args`` (``--flag VALUE`` or ``--flag=VALUE``), or None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def vllm_installed() -> bool:
    """Whether vLLM can be run."""
    return shutil.which("vllm") is not None or importlib.util.find_spec("vllm") is not None


class VLLMTranslator:
    """An :class:`LLMTranslator` on a vLLM server that plugdata starts on first use.

    ``make_client(base_url, api_key)`` makes the chat client; the key is the server's own.
    """

    backend = "vllm"

    def __init__(
        self,
        model: str,
        make_client: Callable[[str, str], ChatClient],
        *,
        command: Sequence[str] | None = None,
        port: int | None = None,
        translator_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self._key = secrets.token_urlsafe(32)
        self.server = LocalServer(
            command or vllm_command(model), port, name="vllm", env={"VLLM_API_KEY": self._key}
        )
        self._make_client = make_client
        self._options = dict(translator_options or {})
        self._inner: LLMTranslator | None = None
        self._lock: asyncio.Lock | None = None
        self._failed: PlugdataError | None = None
        self.prompt_version = load_prompt(self._options.get("prompt", "translate/v1")).version

    @property
    def port(self) -> int:
        return self.server.port

    async def _ready(self) -> LLMTranslator:
        if self._inner is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._failed is not None:  # one start per run: its error for every caller
                    raise self._failed
                if self._inner is None:
                    try:
                        base_url = await asyncio.to_thread(self.server.start)
                    except PlugdataError as exc:
                        self._failed = exc
                        raise
                    client = self._make_client(base_url, self._key)
                    self._inner = LLMTranslator(client, **self._options)
        return self._inner

    @property
    def client(self) -> ChatClient | None:
        """The chat client once the server runs (for the run's recipe)."""
        return self._inner.client if self._inner is not None else None

    async def translate(
        self, fields: Mapping[str, str], pivot: Language, target: Language
    ) -> Outcome:
        """Start the server if needed, then translate like any OpenAI-compatible model."""
        return await (await self._ready()).translate(fields, pivot, target)

    async def close(self) -> None:
        """Close the client and stop the server."""
        if self._inner is not None:
            await self._inner.close()
            self._inner = None
        self._lock = None
        await asyncio.to_thread(self.server.stop)


def vllm_translator(
    model: str,
    *,
    make_client: Callable[[str, str], ChatClient],
    tensor_parallel: int = 1,
    data_parallel: int = 1,
    max_model_len: int | None = None,
    gpu_memory: float | None = 0.9,
    vllm_args: str | Sequence[str] = (),
    command: Sequence[str] | None = None,
    **options: Any,
) -> VLLMTranslator:
    """A :class:`VLLMTranslator`; fails at once, with the install line, if vLLM is missing.

    ``max_model_len`` defaults to :func:`context_length` of the translation budget (or the
    ``--max-model-len`` in ``vllm_args``); ``vllm_args`` are further ``vllm serve`` flags;
    ``command`` replaces the whole command (``{port}`` is filled in).
    """
    if command is None and not vllm_installed():
        raise PlugdataError(f"--translator vllm needs vLLM, which is not installed: {INSTALL}")
    extra = shlex.split(vllm_args) if isinstance(vllm_args, str) else list(vllm_args)
    given = _flag(extra, "--max-model-len")
    max_input = options.get("max_input_tokens") or LLMTranslator.max_input_tokens
    context = max_model_len or (int(given) if given and given.isdigit() else None)
    context = context or context_length(max_input, options.get("max_tokens"))
    cmd = command or vllm_command(
        model,
        tensor_parallel=tensor_parallel,
        data_parallel=data_parallel,
        max_model_len=context,
        gpu_memory=gpu_memory,
        extra=extra,
    )
    return VLLMTranslator(
        model, make_client, command=cmd, translator_options={**options, "context_tokens": context}
    )
