"""A model server subprocess on 127.0.0.1 (``vllm serve``, or any stand-in): start, wait
until healthy, stop.

The server runs in a session of its own (``start_new_session``), so its workers go with it; on
Linux a tiny launcher sets a parent-death signal before it execs the command, so the server
dies with plugdata even after ``kill -9``; it is stopped at interpreter exit too. A command
with ``{port}`` in it is started again on another free port when its port was taken between
choosing and binding it. When a start fails, the error names the traceback's root cause and
the log is kept.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from plugdata.errors import ServerError

PORT_TRIES = 3
# Runs in the child: die with the parent (PR_SET_PDEATHSIG), unless it is already gone, then exec.
_LAUNCH = """import ctypes, os, signal, sys
try:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""
_PREFIX = re.compile(
    r"^(?:\(\S+ pid=\d+\)\s*)?(?:(?P<level>[A-Z]+)\s+\d\d-\d\d\s+[\d:.]+\s+"
    r"\[[^\]]*\]\s?)?"
)
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit):\s*\S")
_GENERIC = ("see root cause above", "engine core initialization failed", "failed core proc")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def root_cause(log: str, tail: int = 3) -> str:
    """The first exception a failed start logged (vLLM logs the cause, then a generic line
    that points back at it); else the last ``tail`` lines."""
    for raw in log.splitlines():
        found = _PREFIX.match(raw)
        if found and found.group("level") in ("DEBUG", "INFO", "WARNING"):
            continue
        line = raw[found.end() if found else 0 :].strip()
        if _EXCEPTION.match(line) and not any(g in line.lower() for g in _GENERIC):
            return line
    lines = [line.strip() for line in log.strip().splitlines() if line.strip()]
    return " | ".join(lines[-tail:]) or "no output"


class _PortTaken(Exception):
    pass


class LocalServer:
    """A model server subprocess on 127.0.0.1: start, wait until healthy, stop.

    ``command`` may hold ``{port}``, filled with ``port`` (a free one when None) and with
    another free port should that one be taken at start; ``env`` is added to the server's
    environment.
    """

    def __init__(
        self,
        command: Sequence[str],
        port: int | None = None,
        *,
        startup_timeout: float = 1800.0,
        health_paths: Sequence[str] = ("/health", "/v1/models"),
        name: str = "server",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.template, self.port, self.name = [str(c) for c in command], port or free_port(), name
        self.startup_timeout, self.health_paths = startup_timeout, tuple(health_paths)
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self._log_path()

    @property
    def command(self) -> list[str]:
        """The command with its port filled in."""
        return [part.replace("{port}", str(self.port)) for part in self.template]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _log_path(self) -> Path:
        return Path(tempfile.gettempdir()) / f"plugdata-{self.name}-{os.getpid()}-{self.port}.log"

    def start(self) -> str:
        """Start the process and wait for its health endpoint; the OpenAI base URL."""
        for attempt in range(1, PORT_TRIES + 1):
            try:
                return self._start_once()
            except _PortTaken:
                if attempt == PORT_TRIES or not any("{port}" in part for part in self.template):
                    raise ServerError(
                        f"{self.name} could not bind 127.0.0.1:{self.port}: the port "
                        f"is in use (log: {self.log})"
                    ) from None
                self.log.unlink(missing_ok=True)
                self.port = free_port()
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self) -> str:
        self.log = self._log_path()
        command = [sys.executable, "-c", _LAUNCH, str(os.getpid()), *self.command]
        if not sys.platform.startswith("linux"):
            command = self.command
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **self.env},
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                self.stop(keep_log=True)
                text = self._text()
                if "address already in use" in text.lower():
                    raise _PortTaken
                raise ServerError(
                    f"{self.name} exited with code {code} while starting: "
                    f"{root_cause(text)} (log: {self.log})"
                )
            if self.healthy():
                return self.base_url
            time.sleep(0.25)
        self.stop(keep_log=True)
        raise ServerError(
            f"{self.name} did not become healthy within {self.startup_timeout:.0f}s: "
            f"{root_cause(self._text())} (log: {self.log})"
        )

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

    def stop(self, grace: float = 20.0, keep_log: bool = False) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace`` seconds; its
        log is removed unless ``keep_log`` (a failed start keeps it, and a later stop leaves
        it alone)."""
        process, self.process = self.process, None
        if process is None:
            return  # never started, or a failed start whose log is kept
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
        if not keep_log:
            self.log.unlink(missing_ok=True)

    def _text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
