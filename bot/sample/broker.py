"""A sample Pact Broker: a real HTTP server on 127.0.0.1 that serves a `World`.

It answers in the shapes of the real broker 2.120.0 (shared/broker-api/fixtures/captured-v2.120.0,
checked key by key by tests/integration/test_sample_broker_fixtures.py). `pactbot demo`, the tests
and the benchmarks all use this one implementation. Tests can make it misbehave (`inject`) and
read every request it received (`requests`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote

from bot.sample.loopback import LoopbackService, RecordingHandler, Request
from bot.sample.pages import View
from bot.sample.world import World

Json = Any


@dataclass(slots=True)
class Fault:
    """One way to misbehave, for the next `times` matching requests (None: for ever)."""

    status: int = 500
    body: bytes = b'{"error": "Internal server error"}'
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, to run into a client's timeout
    disconnect: bool = False  # close the connection without an answer
    mutate: Callable[[Json], Json] | None = None  # change the real answer instead of replacing it
    times: int | None = 1
    method: str | None = None

    @classmethod
    def html(cls, times: int | None = 1) -> Fault:
        page = b"<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>"
        return cls(200, page, "text/html; charset=utf-8", times=times)

    @classmethod
    def garbage(cls, times: int | None = 1) -> Fault:
        return cls(200, b'{"items": [{"consumer": ', "application/hal+json", times=times)

    @classmethod
    def without(cls, *path: str | int, times: int | None = 1) -> Fault:
        """The real answer with the value at `path` removed (a field the broker left out)."""

        def drop(data: Json) -> Json:
            node = data
            for step in path[:-1]:
                node = node[step]
            del node[path[-1]]
            return data

        return cls(mutate=drop, times=times)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the sample broker accepts; none set means it is open, like a default OSS broker."""

    token: str | None = None
    read_only_token: str | None = None
    basic: tuple[str, str] | None = None


class SampleBroker(LoopbackService):
    """Serve `world` on 127.0.0.1 (an ephemeral port) until stopped."""

    def __init__(
        self,
        world: World,
        *,
        credentials: Credentials = Credentials(),
        advertised_url: str | None = None,
        path_prefix: str = "",
    ) -> None:
        """`advertised_url` is the address the broker believes it has (behind a proxy, an
        internal host it puts into its links); `path_prefix` is where a proxy mounts it."""
        self.world = world
        self.credentials = credentials
        self.requests: list[Request] = []
        self.path_prefix = path_prefix.rstrip("/")
        self._advertised = advertised_url
        self._faults: list[tuple[re.Pattern[str], Fault]] = []
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def links_root(self) -> str:
        """The address the broker writes into its links (an internal host behind a proxy)."""
        return self._advertised or self.url + self.path_prefix

    def inject(self, path: str, fault: Fault) -> None:
        """Misbehave on requests whose path matches the regular expression `path`."""
        with self._lock:
            self._faults.append((re.compile(path), fault))

    def heal(self) -> None:
        """Stop misbehaving: forget every fault still pending."""
        with self._lock:
            self._faults.clear()

    def count(self, path: str = "", method: str | None = None) -> int:
        """How many requests matched the path regular expression `path` (and `method`)."""
        pattern = re.compile(path)
        return sum(
            1
            for request in self.requests
            if pattern.search(request.path) and method in (None, request.method)
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, (pattern, fault) in enumerate(self._faults):
                if pattern.search(path) and fault.method in (None, method):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            del self._faults[index]
                    return fault
        return None

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def authorise(self, method: str, headers: dict[str, str]) -> tuple[int, dict[str, str]] | None:
        """None when allowed, else the status and headers of the refusal."""
        given = headers.get("authorization", "")
        creds = self.credentials
        if creds.basic is not None:
            expected = base64.b64encode(":".join(creds.basic).encode()).decode()
            if given != f"Basic {expected}":
                return 401, {"WWW-Authenticate": 'Basic realm="Restricted area"'}
            return None
        if creds.token is None and creds.read_only_token is None:
            return None
        if creds.token and given == f"Bearer {creds.token}":
            return None
        if creds.read_only_token and given == f"Bearer {creds.read_only_token}":
            return None if method == "GET" else (403, {})
        return 401, {}


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/$"), "index"),
    ("GET", re.compile(r"^/dashboard$"), "dashboard"),
    ("GET", re.compile(r"^/matrix$"), "matrix"),
    ("GET", re.compile(r"^/webhooks$"), "webhook_list"),
    ("POST", re.compile(r"^/webhooks$"), "create_webhook"),
    ("GET", re.compile(r"^/webhooks/(?P<uuid>[^/]+)$"), "webhook"),
    ("POST", re.compile(r"^/webhooks/(?P<uuid>[^/]+)/execute$"), "execute"),
    (
        "GET",
        re.compile(
            r"^/pacts/provider/(?P<provider>[^/]+)/consumer/(?P<consumer>[^/]+)/webhooks/status$"
        ),
        "webhook_status",
    ),
    (
        "GET",
        re.compile(
            r"^/pacts/provider/(?P<provider>[^/]+)/consumer/(?P<consumer>[^/]+)"
            r"/version/(?P<version>[^/]+)/triggered-webhooks$"
        ),
        "triggered_webhooks",
    ),
    ("GET", re.compile(r"^/triggered-webhooks/(?P<uuid>[^/]+)/logs$"), "logs"),
    ("GET", re.compile(r"^/pacticipants$"), "pacticipants"),
    ("POST", re.compile(r"^/pacticipants$"), "create_pacticipant"),
    ("GET", re.compile(r"^/pacticipants/label/(?P<label>[^/]+)$"), "labelled"),
    ("GET", re.compile(r"^/pacticipants/(?P<name>[^/]+)$"), "pacticipant"),
    (
        "GET",
        re.compile(r"^/pacticipants/(?P<name>[^/]+)/branches/(?P<branch>[^/]+)$"),
        "branch",
    ),
]


def _under_prefix(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _handler_for(broker: SampleBroker) -> type[BaseHTTPRequestHandler]:
    class Handler(RecordingHandler):
        def serve(self, request: Request) -> None:
            method, headers = request.method, request.headers
            broker._record(request)
            path = request.path
            if broker.path_prefix:
                if not _under_prefix(path, broker.path_prefix):
                    self._send(404, b"", "text/plain", {})
                    return
                path = path[len(broker.path_prefix) :] or "/"
            fault = broker._take_fault(method, path)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.disconnect:
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and fault.mutate is None:
                self._send(fault.status, fault.body, fault.content_type, fault.headers)
                return
            refusal = broker.authorise(method, headers)
            if refusal is not None:
                status, extra = refusal
                self._send(status, b"", "text/plain", extra)
                return
            status, body = self._route(method, path, request.query, request.body)
            if fault is not None and fault.mutate is not None and status == 200:
                body = fault.mutate(body)
            if isinstance(body, str):
                self._send(status, body.encode(), "text/plain;charset=utf-8", {"Vary": "Accept"})
                return
            raw = b"" if body is None else json.dumps(body).encode()
            self._send(status, raw, "application/hal+json;charset=utf-8", {"Vary": "Accept"})

        def _route(self, method: str, path: str, query: str, sent: bytes) -> tuple[int, Json]:
            allowed = False
            for route_method, pattern, name in _ROUTES:
                match = pattern.match(path)
                if match is None:
                    continue
                allowed = True
                if route_method == method:
                    params = {key: unquote(value) for key, value in match.groupdict().items()}
                    accept = self.headers.get("Accept", "")
                    view = View(broker.world, broker.links_root, accept, sent)
                    with broker.world.lock:
                        answer: tuple[int, Json] = getattr(view, name)(
                            **params, query=parse_qsl(query, keep_blank_values=True)
                        )
                    return answer
            return (405, None) if allowed else (404, None)

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
            self.reply(status, body, content_type, {"X-Pact-Broker-Version": "2.120.0"} | extra)

    return Handler
