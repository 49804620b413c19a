"""The store stays bounded: through `pactbot serve`, what is over (a cancelled rotation and its
audit lines, an ended silence, a day's digest record) leaves the store once past the retention
the config gives it, on SQLite and on Redis, and nothing still needed goes with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks import kit
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import demo_story
from bot.sample.world import World
from bot.service.alert_records import SILENCES
from bot.service.retention import Swept
from bot.service.rotation_records import AUDIT, ROTATIONS
from bot.store import Store
from tests.conftest import StartBroker
from tests.helpers.alerting import alerting, alerts, buttons, evaluate, thread
from tests.helpers.bot import CHANNEL, Clock, Running, running_bot
from tests.helpers.stores import NewStore
from tests.integration.test_rotation import _rotations, press, rotation_message

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
RETENTION = {"audit": "30d", "silences": "1d", "digests": "2d"}


@pytest.fixture
def world() -> World:
    return demo_story(NOW)


@pytest.fixture
def broker(start_broker: StartBroker, world: World) -> SampleBroker:
    return start_broker(world)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


async def sweep(bot: Running) -> Swept | None:
    """The leader's hourly job, as the scheduler runs it."""
    await bot.bot.scheduler.renew_lease()
    return await bot.bot.scheduler.sweep()


def digests(slack: SampleSlack) -> int:
    return sum(
        1 for m in slack.in_channel(CHANNEL) if m.thread_ts is None and "freshness" in m.text
    )


async def kept(store: Store) -> tuple[int, int, int, list[str]]:
    """Audit entries, silences, rotations, digest records: what the store holds now."""
    silences, rotations = await store.get(SILENCES), await store.get(ROTATIONS)
    return (
        len(await store.audit(AUDIT, limit=1000)),
        len(silences.value["silences"]) if silences else 0,
        len(rotations.value["open"]) if rotations else 0,
        await store.keys("digest:"),
    )


async def test_what_is_past_its_retention_leaves_the_store_and_the_rest_stays(
    new_store: NewStore, broker: SampleBroker, slack: SampleSlack, clock: Clock
) -> None:
    store = new_store()
    settings = alerting(retention=RETENTION)
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=clock, settings=settings
    ) as bot:
        await evaluate(bot, clock, 7)
        [alert, *_] = alerts(slack, CHANNEL)
        await bot.bot.services.digest.daily()
        await bot.command("silence web-app/shipping-api 2h a release freeze")
        await bot.click(kit.ROTATION_START, buttons(alert)[kit.ROTATION_START])
        await slack.wait_until(lambda: bool(_rotations(slack)))
        await press(bot, kit.ROTATION_CANCEL)
        await slack.wait_until(
            lambda: "cancelled" in " ".join(thread(slack, rotation_message(slack)))
        )
        _, silences, rotations, records = await kept(store)
        assert (silences, rotations, len(records)) == (1, 1, 1)

        clock.advance(hours=12)  # the silence ended 10 hours ago, the rotation 12
        assert await sweep(bot) == Swept()
        outcomes = [entry["outcome"] for entry in await store.audit(AUDIT)]
        assert outcomes == ["active", "cancelled"]  # started, then cancelled

        clock.advance(days=2)  # both over for more than a day; the digest's day is 2 days old
        assert await sweep(bot) == Swept(silences=1, rotations=1)
        assert (await kept(store))[1:] == (0, 0, records)

        clock.advance(days=2)  # the first digest's day ended more than 2 days (and one) ago
        assert await bot.bot.services.digest.daily() is not None
        posted = digests(slack)
        assert await sweep(bot) == Swept(digests=1)
        today = await store.keys("digest:")
        assert len(today) == 1
        assert today != records
        await bot.bot.services.digest.daily()  # today's record stayed: not posted twice
        assert digests(slack) == posted == 2

        clock.advance(days=30)
        assert await sweep(bot) == Swept(audit=2, digests=1)  # and the second day's record
        assert await store.audit(AUDIT) == []


async def test_the_retention_is_refused_below_a_day_at_its_key() -> None:
    with pytest.raises(ValueError, match=r"(?s)retention\.digests.*too short.*use 1d or more"):
        alerting(retention={"digests": "12h"})
    assert alerting().retention.audit == timedelta(days=365)
