from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from bot.sample.broker import Credentials, SampleBroker
from bot.sample.github import SampleGitHub
from bot.sample.world import World

pytest_plugins = [
    "tests.helpers.cli",
    "tests.helpers.redis_server",
    "tests.helpers.slack",
    "tests.helpers.stores",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    """No stray PACT_*, GITHUB_* or SLACK_* setting of the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("PACT_", "PACTBOT_", "GITHUB_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


StartBroker = Callable[..., SampleBroker]


@pytest.fixture
def start_broker() -> Iterator[StartBroker]:
    """Start sample brokers on loopback; all are stopped when the test ends."""
    with ExitStack() as stack:

        def start(
            world: World,
            *,
            credentials: Credentials | None = None,
            advertised_url: str | None = None,
            path_prefix: str = "",
        ) -> SampleBroker:
            broker = SampleBroker(
                world,
                credentials=credentials or Credentials(),
                advertised_url=advertised_url,
                path_prefix=path_prefix,
            )
            return stack.enter_context(broker)

        yield start


# Shaped like a classic PAT, so a leak of it into a message or a log is easy to search for.
GITHUB_TOKEN = "ghp_sampleT0kenThatMustNeverShow0123456"


@pytest.fixture
def github() -> Iterator[SampleGitHub]:
    """A sample GitHub on loopback that accepts `GITHUB_TOKEN`."""
    with SampleGitHub(GITHUB_TOKEN) as sample:
        yield sample
