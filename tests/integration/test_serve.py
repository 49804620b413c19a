"""`pactbot serve` as a process: it starts from the environment, serves, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.sample.slack import SampleSlack
from bot.sample.story import demo_world
from tests.conftest import StartBroker
from tests.helpers import slack_requests

SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_health_readiness_and_a_signed_command_then_stops_on_sigterm(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    broker = start_broker(demo_world(datetime.now(UTC)))
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PACT_BROKER_BASE_URL": broker.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": slack.url + "/api/",
        "PORT": str(port),
        "PACTBOT_STORE_URL": f"sqlite:///{tmp_path / 'pactbot.sqlite3'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        ready = _when_ready(base, process)
        body = slack_requests.slash_command("help", response_url=slack.response_url())
        headers = slack_requests.signed_headers(body, SIGNING_SECRET, int(time.time()))
        help_answer = httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=5)
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)

    assert ready.json()["checks"]["broker"]["ok"] is True
    assert help_answer.status_code == 200
    assert "/pact status" in help_answer.text
    assert "pactbot_pair_state" in metrics
    assert process.returncode == 0, errors
    assert "xoxb-test" not in errors
    assert SIGNING_SECRET not in errors


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
    env = {"PATH": os.environ["PATH"], "PACT_BROKER_BASE_URL": broker.url}

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
