"""`pactbot serve` as a process: it starts from the environment, serves, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import bot
from bot.sample.slack import SampleSlack
from bot.sample.story import demo_world
from tests.conftest import StartBroker
from tests.helpers import slack_requests

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
# The tree under test: the child imports it, whatever else the interpreter could find.
TREE = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(**values: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(TREE)} | values


def serving_env(
    broker_url: str, slack: SampleSlack, tmp_path: Path, **values: str
) -> dict[str, str]:
    defaults = {
        "PACT_BROKER_BASE_URL": broker_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_BASE_URL": slack.url + "/api/",
        "PORT": str(free_port()),
        # tmp_path is absolute: sqlite:/// and then /tmp/…, four slashes in all.
        "PACTBOT_STORE_URL": f"sqlite:///{tmp_path / 'pactbot.sqlite3'}",
    }
    return child_env(**(defaults | values))


@dataclass
class Served:
    process: subprocess.Popen[str]
    errors: str = ""  # what it wrote to stderr, once stopped


@contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[Served]:
    """`pactbot serve` running until the block ends, then stopped with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=cwd, stderr=subprocess.PIPE, text=True
    )
    served = Served(process)
    try:
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        served.errors = process.communicate(timeout=20)[1]


def test_the_child_imports_the_tree_under_test(tmp_path: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"],
        env=child_env(), cwd=tmp_path, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip

    assert found.stdout.strip() == bot.__file__


def test_serve_answers_health_readiness_and_a_signed_command_then_stops_on_sigterm(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    env = serving_env(broker.url, slack, tmp_path, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    base = f"http://127.0.0.1:{env['PORT']}"
    with serving(env, tmp_path) as served:
        ready = _when_ready(base, served.process)
        body = slack_requests.slash_command("help", response_url=slack.response_url())
        headers = slack_requests.signed_headers(body, SIGNING_SECRET, int(time.time()))
        help_answer = httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=5)
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
    errors = served.errors

    assert ready.json()["checks"]["broker"]["ok"] is True
    assert help_answer.status_code == 200
    assert "/pact status" in help_answer.text
    assert "pactbot_pair_state" in metrics
    assert served.process.returncode == 0, errors
    assert "xoxb-test" not in errors
    assert SIGNING_SECRET not in errors


def test_in_socket_mode_serve_is_ready_and_stops_while_the_socket_cannot_connect(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    env = serving_env(broker.url, slack, tmp_path, SLACK_APP_TOKEN=slack.app_token)
    with serving(env, tmp_path) as served:
        # Nothing serves the fake's WebSocket: Socket Mode retries while the rest runs.
        ready = _when_ready(f"http://127.0.0.1:{env['PORT']}", served.process)

    assert ready.status_code == 200
    assert slack.calls_to("apps.connections.open")
    assert served.process.returncode == 0, served.errors
    assert slack.app_token not in served.errors


def test_a_bad_app_token_stops_serve_with_a_sentence_naming_slack_app_token(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    token = "xapp-1-A0PACTBOT-revoked-0123456789"
    env = serving_env(broker.url, slack, tmp_path, SLACK_APP_TOKEN=token)

    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "pactbot: Socket Mode cannot start: Slack refused apps.connections.open (invalid_auth): "
        "SLACK_APP_TOKEN is not valid: create an app-level token with the connections:write "
        "scope under the Slack app's Basic Information and set it"
    )
    assert token not in result.stderr
    assert len(slack.calls_to("apps.connections.open")) == 1


def _when_ready(base: str, process: subprocess.Popen[str]) -> httpx.Response:
    """Poll /readyz while the process starts: start-up, not a deadline the test waits out."""
    for _ in range(200):
        if process.poll() is not None:
            raise AssertionError(
                f"pactbot serve exited: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            answer = httpx.get(f"{base}/readyz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if answer.status_code == 200:
            return answer
        time.sleep(0.05)
    raise AssertionError("pactbot serve never became ready")


def test_serve_without_slack_settings_stops_with_a_sentence(
    start_broker: StartBroker, tmp_path: Path
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    env = child_env(PACT_BROKER_BASE_URL=broker.url)

    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith(
        "pactbot: SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token"
    )


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_logs_in_the_format_asked_and_never_a_secret(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path, log_format: str
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    secrets = {
        # Real-looking, and not the fake Slack's: auth.test refuses it, and pactbot says so.
        "SLACK_BOT_TOKEN": "xoxb-2417368294-5829163745031-Rq8ZtPlMn3VbXc7WsYdEuKjH",
        "SLACK_SIGNING_SECRET": "8f14e45fceea167a5a36dedd4bea2543",
        "PACT_BROKER_TOKEN": "pb_9pQ7wX2mLr4TzK8vNc3sYb",
        "GITHUB_TOKEN": "ghp_R2d4T6u8W0y1A3c5E7g9I1k3M5o7Q9s1U3w5",
    }
    env = serving_env(broker.url, slack, tmp_path, PACTBOT_LOG_FORMAT=log_format, **secrets)
    with serving(env, tmp_path) as served:
        for _ in range(200):  # start-up: until it has said it serves and tried Slack
            if slack.calls_to("auth.test"):
                break
            time.sleep(0.05)
    lines = [line for line in served.errors.splitlines() if line.strip()]

    assert lines
    for secret in secrets.values():
        assert secret not in served.errors
    if log_format == "json":
        entries = [json.loads(line) for line in lines]
        assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
        assert any("pactbot serves HTTP" in entry["message"] for entry in entries)
    else:
        assert any(" INFO bot.service.runtime: pactbot serves HTTP" in line for line in lines)
