"""Running `pactbot` as a user runs it, against the sample broker, for the CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.sample.broker import Credentials, SampleBroker
from bot.sample.story import demo_world
from tests.conftest import StartBroker

TOKEN = "cli-test-token"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Run = Callable[..., Ran]


@pytest.fixture
def cli_broker(start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch) -> SampleBroker:
    """The demo's story, told relative to the real clock (the CLI reads it), set in the env."""
    started = start_broker(demo_world(datetime.now(UTC)), credentials=Credentials(token=TOKEN))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", started.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)
    return started


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*argv: str) -> Ran:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke
