"""Three `pactbot serve` processes on one Redis: one alert per incident, one resolve, one digest,
and a leader killed with SIGKILL mid-incident replaced within a minute.

Real processes keep real time, so the alert timings are short (checked every second, firing
after two); the test polls Slack for what the processes do, it never waits out a deadline.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis

from bot.sample.slack import SampleSlack
from tests.conftest import StartBroker
from tests.helpers.alert_world import BILLING, Timeline
from tests.helpers.alerting import alerts, now_shown, steps
from tests.helpers.bot import Clock
from tests.helpers.redis_server import RedisServer
from tests.integration.test_serve import _when_ready, serving_env

CONFIG = """\
digest:
  channel: C0DIGEST
  schedule: "* * * * *"
access:
  oncall_usergroups: [pact-oncall]
alerts:
  check_interval: 1s
  for: 2s
  repeat_interval: 1h
"""
LEASE = "pactbot:lease:scheduler"


def until(condition: Callable[[], bool], what: str, within: float = 60.0) -> float:
    """Poll for what the processes do; how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def replica(env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """One `pactbot serve`, its log in a file (three chatty processes would fill a pipe)."""
    with (cwd / f"serve-{env['PORT']}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], env=env, cwd=cwd, stderr=log, text=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)


def test_three_serve_processes_alert_once_and_a_killed_leader_is_replaced_within_a_minute(
    start_broker: StartBroker, own_redis: RedisServer, tmp_path: Path
) -> None:
    clock = Clock(datetime.now(UTC))
    started_on = clock.now.date()
    timeline = Timeline(clock)
    timeline.stale(BILLING)
    broker = start_broker(timeline.world)
    (tmp_path / "pactbot.yml").write_text(CONFIG, encoding="utf-8")
    with SampleSlack(clock=lambda: datetime.now(UTC)) as slack, ExitStack() as stack:
        slack.add_usergroup("S0ONCALL", "pact-oncall", ["U0ONCALL"])
        processes = {}
        for _ in range(3):
            env = serving_env(
                broker.url,
                slack,
                tmp_path,
                SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef",
                PACTBOT_STORE_URL=own_redis.url,
                PACTBOT_CONFIG=str(tmp_path / "pactbot.yml"),
            )
            process = stack.enter_context(replica(env, tmp_path))
            _when_ready(f"http://127.0.0.1:{env['PORT']}", process)
            processes[process.pid] = process

        until(lambda: len(alerts(slack)) == 1, "the alert")
        with redis.Redis.from_url(own_redis.url) as store:
            leader = _holder(store)
            processes[leader].send_signal(signal.SIGKILL)
            processes[leader].wait(timeout=10)
            clock.now = datetime.now(UTC)
            timeline.verify(BILLING)
            # The message edited, then the resolution in its thread.
            took = until(
                lambda: (
                    "Resolved" in now_shown(slack, alerts(slack)[0]) and "resolve" in steps(slack)
                ),
                "the resolve",
            )
            assert _holder(store) in set(processes) - {leader}

        assert took < 60
        assert steps(slack) == ["post", "resolve"]
        digests = [m for m in slack.in_channel("C0DIGEST") if m.text.startswith("Pact freshness")]
        # Due every minute, so the first leader posts it at once; the day's mark keeps the
        # other leaders, and every later minute, from posting it again.
        assert len(digests) == len({started_on, datetime.now(UTC).date()})
        assert all(p.returncode is None for pid, p in processes.items() if pid != leader)


def _holder(store: redis.Redis) -> int:
    """The PID of the process that holds the scheduler's lease (`host:pid:random`)."""
    holder = store.hget(LEASE, "holder")
    assert isinstance(holder, bytes), "nobody holds the lease"
    return int(holder.decode().split(":")[1])
