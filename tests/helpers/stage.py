"""A loopback HTTP server that answers whatever the running example tells it to.

Hypothesis runs hundreds of examples per test: one server per test module, re-scripted before
each example (`play`), costs a request's time instead of a server's start. It answers any
method and path, so the client under test decides what it asks for.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bot.sample.loopback import LoopbackService, RecordingHandler, Request
from tests.helpers.mutations import BODILESS, Answer


class Stage(LoopbackService):
    """Answers `default` to every request, but `at[path]` to a request for `path`."""

    def __init__(self) -> None:
        self._default = Answer(404, b"")
        self._at: dict[str, Answer] = {}
        stage = self

        class Handler(RecordingHandler):
            def serve(self, request: Request) -> None:
                answer = stage._at.get(request.path, stage._default)
                body = b"" if answer.status in BODILESS else answer.body
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.status not in BODILESS:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)

    def play(self, default: Answer, at: dict[str, Answer] | None = None) -> None:
        """Answer the next requests with `default`, or `at[path]` for those paths."""
        self._default, self._at = default, dict(at or {})


# Built once, so that a transport costs nothing to make: its own would load the CA bundle into
# a new SSL context (~30 ms). The stage speaks plain HTTP; nothing is verified with it.
_TLS = ssl.create_default_context()


class _Kept(httpx.AsyncBaseTransport):
    """One real connection pool that each example's client uses but may not close: a kept-alive
    connection to the stage saves a connect and a server thread per example (~3 ms)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Left open for the next example; `shared_transport` closes the pool."""


@asynccontextmanager
async def shared_transport() -> AsyncIterator[httpx.AsyncBaseTransport]:
    """A real transport for the clients of every example of one test."""
    async with httpx.AsyncHTTPTransport(verify=_TLS) as transport:
        yield _Kept(transport)


async def no_wait(seconds: float) -> None:
    """The clients' sleep between retries: the tests own the time and never wait."""
