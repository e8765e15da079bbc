"""``--translator vllm``: plugdata starts ``vllm serve MODEL`` on a free local port, waits
until it answers, drives it with the same JSON-object translator as any OpenAI-compatible
server, and stops it on exit, Ctrl-C or a crash.

The server runs in its own process group (so its workers go with it), dies with plugdata on
Linux (parent-death signal) and is stopped at interpreter exit too. :class:`LocalServer` takes
any command, so the lifecycle is tested with a stand-in server.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from plugdata.errors import PlugdataError, ServerError
from plugdata.languages import Language
from plugdata.translate.base import Outcome
from plugdata.translate.chat import ChatClient
from plugdata.translate.llm import LLMTranslator
from plugdata.translate.prompts import load_prompt

INSTALL = "pip install 'plugdata[vllm]' (Linux with a CUDA GPU)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child before exec
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalServer:
    """A model server subprocess on 127.0.0.1: start, wait until healthy, stop."""

    def __init__(self, command: Sequence[str], port: int, *, startup_timeout: float = 1800.0,
                 health_paths: Sequence[str] = ("/health", "/v1/models"), name: str = "server") -> None:  # fmt: skip
        self.command, self.port, self.name = list(command), port, name
        self.startup_timeout, self.health_paths = startup_timeout, tuple(health_paths)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.gettempdir()) / f"plugdata-{name}-{os.getpid()}-{port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        """Start the process and wait for its health endpoint; the OpenAI base URL."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)  # fmt: skip
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                tail = self._tail()
                self.stop()
                raise ServerError(f"{self.name} exited with code {code} while starting: {tail}")
            if self.healthy():
                return self.base_url
            time.sleep(0.25)
        self.stop()
        raise ServerError(f"{self.name} did not become healthy within {self.startup_timeout:.0f}s "
                          f"(log: {self.log})")  # fmt: skip

    def healthy(self) -> bool:
        """Whether one of the health paths answers 200."""
        for path in self.health_paths:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                continue
        return False

    def stop(self, grace: float = 20.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if process.poll() is None:
            for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # workers left in the group
        self.log.unlink(missing_ok=True)

    def _tail(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        return " | ".join(lines[-3:]) or "no output"


def vllm_command(model: str, port: int, *, tensor_parallel: int = 1, data_parallel: int = 1,
                 extra: Sequence[str] = ()) -> list[str]:  # fmt: skip
    """``vllm serve MODEL`` on 127.0.0.1:PORT with the parallelism asked for."""
    exe = shutil.which("vllm")
    head = [exe] if exe else [sys.executable, "-m", "vllm.entrypoints.cli.main"]
    return [*head, "serve", model, "--host", "127.0.0.1", "--port", str(port),
            "--tensor-parallel-size", str(tensor_parallel),
            "--data-parallel-size", str(data_parallel), *extra]  # fmt: skip


def vllm_installed() -> bool:
    """Whether vLLM can be run."""
    return shutil.which("vllm") is not None or importlib.util.find_spec("vllm") is not None


class VLLMTranslator:
    """An :class:`LLMTranslator` on a vLLM server that plugdata starts on first use."""

    backend = "vllm"

    def __init__(self, model: str, make_client: Callable[[str], ChatClient], *,
                 command: Sequence[str] | None = None, port: int | None = None,
                 translator_options: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        self.model = model
        self.port = port or free_port()
        self.server = LocalServer(command or vllm_command(model, self.port), self.port, name="vllm")
        self._make_client = make_client
        self._options = dict(translator_options or {})
        self._inner: LLMTranslator | None = None
        self._lock: asyncio.Lock | None = None
        self.prompt_version = load_prompt(self._options.get("prompt", "translate/v1")).version

    async def _ready(self) -> LLMTranslator:
        if self._inner is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._inner is None:
                    base_url = await asyncio.to_thread(self.server.start)
                    self._inner = LLMTranslator(self._make_client(base_url), **self._options)
        return self._inner

    @property
    def client(self) -> ChatClient | None:
        """The chat client once the server runs (for the run's recipe)."""
        return self._inner.client if self._inner is not None else None

    async def translate(self, fields: Mapping[str, str], pivot: Language, target: Language) -> Outcome:
        """Start the server if needed, then translate like any OpenAI-compatible model."""
        return await (await self._ready()).translate(fields, pivot, target)

    async def close(self) -> None:
        """Close the client and stop the server."""
        if self._inner is not None:
            await self._inner.close()
            self._inner = None
        self._lock = None
        await asyncio.to_thread(self.server.stop)


def vllm_translator(model: str, *, make_client: Callable[[str], ChatClient],
                    tensor_parallel: int = 1, data_parallel: int = 1,
                    command: Sequence[str] | None = None, **options: Any) -> VLLMTranslator:  # fmt: skip
    """A :class:`VLLMTranslator`; fails at once, with the install line, if vLLM is missing."""
    if command is None and not vllm_installed():
        raise PlugdataError(f"--translator vllm needs vLLM, which is not installed: {INSTALL}")
    port = free_port()
    cmd = command or vllm_command(model, port, tensor_parallel=tensor_parallel,
                                  data_parallel=data_parallel)  # fmt: skip
    cmd = [str(c).replace("{port}", str(port)) for c in cmd]
    return VLLMTranslator(model, make_client, command=cmd, port=port, translator_options=options)
