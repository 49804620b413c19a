"""A real Redis for the tests: our own `redis-server` on loopback, or the one REDIS_URL names.

Fixtures:

    redis_server   (session) the `RedisServer`; `.stop()` and `.start()` restart it under a bot
    own_redis      a persistent server of the test's own (data survives `.stop()`/`.start()`)
    redis_url      the server's URL, started again first if an earlier test left it stopped
    redis_prefix   a key prefix of the test's own; its keys are deleted when the test ends

Tests only touch keys under their `redis_prefix`, so they can share a server and run in
parallel. Clients are created inside async tests and closed there (`await client.aclose()`).

Where there is no Redis (no `redis-server` on PATH, no REDIS_URL: a fresh machine), the tests
that need one are skipped, and one line at the end of the run says how to run them. CI sets
REDIS_TESTS_REQUIRED, which makes a missing Redis fail them instead: never silently skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from redis.exceptions import RedisError

STARTUP = 10.0  # seconds a fresh redis-server gets to answer PING
LOOPBACK = "127.0.0.1"
NEED_REDIS = "REDIS_TESTS_REQUIRED"  # not PACTBOT_*: the tests clear those
SKIPPED = "needs Redis"
HOW = (
    "install redis-server (Debian: apt-get install redis-server) or set "
    "REDIS_URL=redis://127.0.0.1:6379/0 to run them"
)


def redis_unavailable(
    environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """Why the Redis tests cannot run here, or None when they can."""
    if environ.get("REDIS_URL") or which("redis-server"):
        return None
    return "no redis-server on PATH and no REDIS_URL"


def require_redis(environ: Mapping[str, str] = os.environ) -> str:
    """The redis-server to start (or "" with REDIS_URL); skip the test where there is no Redis,
    or fail it where one is required."""
    why = redis_unavailable(environ)
    if why is not None:
        if environ.get(NEED_REDIS):
            pytest.fail(f"{SKIPPED}, and {NEED_REDIS} is set: {why}")
        pytest.skip(f"{SKIPPED}: {why}")
    return shutil.which("redis-server") or ""


class RedisServer:
    """One redis-server process on a fixed loopback port, which can be stopped and started."""

    def __init__(
        self, directory: Path, *, external_url: str | None = None, persistent: bool = False
    ) -> None:
        """`persistent`: keep the data across a restart (an append-only file in `directory`),
        as a production Redis does."""
        self._directory = directory
        self._external_url = external_url
        self._persistent = persistent
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0

    @property
    def url(self) -> str:
        return self._external_url or f"redis://{LOOPBACK}:{self._port}/0"

    @property
    def running(self) -> bool:
        return self._external_url is not None or (
            self._process is not None and self._process.poll() is None
        )

    def start(self) -> None:
        """Start the server (on the port it had before, if any) and wait until it answers."""
        self._own_server_only("start")
        if self.running:
            return
        for _ in range(5):  # another process may take a free port before redis-server binds it
            self._port = self._port or _free_port()
            if self._spawn():
                return
            self._port = 0
        raise RuntimeError(f"redis-server did not start; see {self._directory / 'redis.log'}")

    def stop(self) -> None:
        """Stop the server; unless it is persistent, its data is gone."""
        self._own_server_only("stop")
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=STARTUP)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _spawn(self) -> bool:
        command = [require_redis(), "--save", "", "--dir", str(self._directory)]
        kept = ["yes", "--appendfsync", "always"] if self._persistent else ["no"]
        command += ["--appendonly", *kept]
        command += ["--port", str(self._port), "--bind", LOOPBACK]
        with (self._directory / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=self._directory, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if _answers_ping(self._port):
                return True
            time.sleep(0.02)  # polling startup, not waiting out a deadline under test
        self.stop()
        return False

    def _own_server_only(self, action: str) -> None:
        if self._external_url is not None:
            pytest.skip(f"cannot {action} the Redis at REDIS_URL: it is not ours")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's Redis: REDIS_URL if set, else a redis-server of our own."""
    require_redis()
    external = os.environ.get("REDIS_URL")
    directory = tmp_path_factory.mktemp("redis")
    server = RedisServer(directory, external_url=external)
    if external is None:
        server.start()
    yield server
    if external is None:
        server.stop()


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A persistent redis-server of the test's own, which it may stop and start at will."""
    if not require_redis():
        pytest.skip(f"{SKIPPED}: a redis-server of the test's own (REDIS_URL is not enough)")
    server = RedisServer(tmp_path_factory.mktemp("own-redis"), persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of a running Redis."""
    if not redis_server.running:
        redis_server.start()
    return redis_server.url


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix no other test uses; whatever the test left under it is deleted after."""
    prefix = f"pactbot-test:{uuid4().hex}:"
    yield prefix
    _forget(redis_url, prefix)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, where Redis tests were skipped, that says how to run them."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if SKIPPED in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        count = len(skipped)
        terminalreporter.write_line(
            f"{count} test{'s' if count != 1 else ''} that need Redis skipped: {HOW}"
        )


def _forget(url: str, prefix: str) -> None:
    # A sync client: teardown runs outside the test's event loop.
    # RedisError: the test stopped the server, so nothing of ours is left on it.
    with redis.Redis.from_url(url, socket_timeout=5.0) as client, suppress(RedisError):
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
