"""What every sample service shares: an HTTP server on 127.0.0.1 in a thread, quiet and quick."""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    """One request a sample service received, as the tests read it back."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # names in lower case
    body: bytes = b""


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm and delayed
        # ACKs add tens of milliseconds to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the demo's, the tests' and the benchmarks' output is for people."""

    def reply(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class RecordingHandler(QuietHandler):
    """Every method a client may send reaches `serve`, its body read off the wire: a sample
    service records, and answers, even the writes pactbot must never send."""

    def do_GET(self) -> None:
        self._receive("GET")

    def do_POST(self) -> None:
        self._receive("POST")

    def do_PUT(self) -> None:
        self._receive("PUT")

    def do_PATCH(self) -> None:
        self._receive("PATCH")

    def do_DELETE(self) -> None:
        self._receive("DELETE")

    def _receive(self, method: str) -> None:
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(headers.get("content-length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        self.serve(Request(method, parts.path, parts.query, headers, body))

    def serve(self, request: Request) -> None:
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout under test, a benchmark stopping) is not an error
        # of the sample service; anything else still prints its traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """Serve `handler` on an ephemeral port of 127.0.0.1 while entered."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class LoopbackService:
    """A sample service (broker, Slack, GitHub): served on loopback while entered."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = LoopbackServer(handler)

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> Self:
        self._server.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.__exit__(kind, error, trace)
