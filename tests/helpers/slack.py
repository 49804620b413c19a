"""Pytest plugin (listed in tests/conftest.py): a fake Slack per test, and the Slack fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sample.slack import SampleSlack

# A copy of shared/slack-api/fixtures; see its README.md.
SLACK_FIXTURES = Path(__file__).parent.parent / "fixtures" / "slack-api"


def slack_fixture(name: str) -> Any:
    """Load a Slack fixture by its file name, e.g. `api.auth.test.bot.ok.json`."""
    return json.loads((SLACK_FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def slack() -> Iterator[SampleSlack]:
    """A fake Slack Web API on loopback, stopped when the test ends."""
    with SampleSlack() as fake:
        yield fake
