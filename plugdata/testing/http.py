"""What the stand-in servers share: a threaded HTTP server on 127.0.0.1, run as a context
manager, whose request handlers reach the stand-in that owns it as ``self.server.owner``."""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Owner = TypeVar("Owner", bound="ThreadedServer")
CUT_HEADER = "X-Plugdata-Cut"  # tells respond() to hang up halfway through the body


class ThreadedServer:
    """Serves ``handler`` on 127.0.0.1 (``port`` 0: any free port) in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self._httpd = _QuietServer(("127.0.0.1", port), handler)
        self._httpd.owner = self
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self: Owner) -> Owner:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def respond(handler: Any, status: int, payload: Any, headers: dict[str, str]) -> None:
    """Send one answer (bytes as they are, anything else as JSON); with ``CUT_HEADER``, the
    full length is announced, half the body sent and the connection dropped."""
    raw = isinstance(payload, bytes)
    data = payload if raw else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    cut = headers.pop(CUT_HEADER, None) is not None
    handler.send_response(status)
    if "Content-Type" not in headers:
        handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(data[: len(data) // 2] if cut else data)
    if cut:
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (killed builds, timeouts) are normal here, not errors."""

    request_queue_size = 1024  # the default backlog of 5 drops SYNs when 64 clients connect
    owner: ThreadedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)
