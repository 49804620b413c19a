"""The alert tests' world: a scripted broker, a Slack on the bot's clock, bots on one store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.broker.client import Timeouts
from bot.config import Config
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.store import Store
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.alert_world import Timeline
from tests.helpers.alerting import NOW, ORDERS_GROUP, ORDERS_ONCALL, Bots, alerting
from tests.helpers.bot import Clock, Running, Sleeps, running_bot


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def timeline(clock: Clock) -> Timeline:
    return Timeline(clock)


@pytest.fixture
def broker(start_broker: StartBroker, timeline: Timeline) -> SampleBroker:
    return start_broker(timeline.world)


@pytest.fixture
def slack(clock: Clock) -> Iterator[SampleSlack]:
    """Slack whose message timestamps follow the bot's clock, as the real one's follow time."""
    with SampleSlack(clock=clock) as fake:
        fake.add_usergroup(ORDERS_GROUP, "orders-oncall", [ORDERS_ONCALL])
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def bots(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, clock: Clock, sleeps: Sleeps
) -> Bots:
    """Start bots on one store (this test's SQLite file unless given one), alerting."""

    def start(
        holder: str = "replica-1", store: Store | None = None, settings: Config | None = None
    ) -> AbstractAsyncContextManager[Running]:
        return running_bot(
            broker=broker,
            slack=slack,
            store=store or SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock),
            clock=clock,
            sleeps=sleeps,
            settings=settings or alerting(),
            holder=holder,
            broker_timeouts=Timeouts(read=0.2),
        )

    return start


@pytest.fixture
async def bot(bots: Bots) -> AsyncIterator[Running]:
    async with bots() as running:
        yield running
