"""Each move of a rotation is said once in its thread and its audit log: not lost when Slack
fails or the process dies between the move and its line, not said twice when the answer of a
post that did reach Slack was lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.blocks import kit
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import demo_world
from bot.sample.world import World
from bot.service.rotation_records import AUDIT, ROTATIONS
from bot.store import Store
from tests.conftest import StartBroker
from tests.helpers.alerting import buttons, thread
from tests.helpers.bot import Clock, Running, running_bot
from tests.helpers.stores import NewStore
from tests.integration.test_rotation import press, rotation_message, start

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
STEP_2 = "finished step 1"  # what the move from step 2 says; see the walk-through's thread


@pytest.fixture
def world() -> World:
    return demo_world(NOW)


@pytest.fixture
def broker(start_broker: StartBroker, world: World) -> SampleBroker:
    return start_broker(world)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def slack(clock: Clock) -> Iterator[SampleSlack]:
    """Slack whose message timestamps follow the bot's clock, as the real one's follow time:
    a line is looked for among the messages since its move."""
    with SampleSlack(clock=clock) as fake:
        yield fake


async def leader_looks(bot: Running) -> None:
    """The leader's rotations job, as the scheduler runs it every five minutes."""
    await bot.bot.scheduler.renew_lease()
    await bot.bot.scheduler.watch_rotations()


def lines(slack: SampleSlack, said: str) -> int:
    return sum(1 for line in thread(slack, rotation_message(slack)) if said in line)


async def audited(store: Store, said: str) -> int:
    return sum(1 for entry in await store.audit(AUDIT) if said in entry["what"])


async def kept(new_store: NewStore, said: str) -> tuple[int, int]:
    """How often `said` is in the audit log, and how many lines are left unsaid."""
    store = new_store()
    try:
        found = await store.get(ROTATIONS)
        return await audited(store, said), len(found.value["lines"]) if found else 0
    finally:
        await store.close()


async def moved_past_step_1(bot: Running, slack: SampleSlack) -> None:
    """Press Done on step 1 and wait for the message to show step 2."""
    message = rotation_message(slack)
    edits = message.edits
    await bot.click(kit.ROTATION_DONE, buttons(message)[kit.ROTATION_DONE])
    await slack.wait_until(lambda: rotation_message(slack).edits > edits)


@pytest.mark.parametrize("lost", [False, True], ids=["refused", "answer lost"])
async def test_a_line_slack_failed_is_said_once_by_the_leader(
    lost: bool,
    new_store: NewStore,
    broker: SampleBroker,
    slack: SampleSlack,
    clock: Clock,
) -> None:
    async with running_bot(broker=broker, slack=slack, store=new_store(), clock=clock) as bot:
        await bot.bot.services.monitor.refresh()
        await start(bot)
        slack.fail_next("chat.postMessage", status=500, done=lost)
        await moved_past_step_1(bot, slack)
        await slack.wait_for("chat.postMessage", 3)  # the failed line was tried
        said_at_once = lines(slack, STEP_2)

        clock.advance(minutes=2)
        await leader_looks(bot)
        await leader_looks(bot)  # and again: nothing left to say

    assert said_at_once == (1 if lost else 0)
    assert lines(slack, STEP_2) == 1
    assert await kept(new_store, STEP_2) == (1, 0)


@pytest.mark.parametrize(
    "cut_in", ["chat.update", "chat.postMessage"], ids=["before its line", "while saying it"]
)
async def test_a_line_cut_short_by_a_dead_process_is_said_once_after_a_restart(
    cut_in: str, new_store: NewStore, broker: SampleBroker, slack: SampleSlack, clock: Clock
) -> None:
    async with running_bot(broker=broker, slack=slack, store=new_store(), clock=clock) as first:
        await first.bot.services.monitor.refresh()
        await start(first)
        held = slack.hold(cut_in)
        await first.click(kit.ROTATION_DONE, buttons(rotation_message(slack))[kit.ROTATION_DONE])
        await asyncio.to_thread(held.arrived.wait, 10)
    held.release()  # the process died mid-call; Slack took the call all the same
    said_by_the_dead = 1 if cut_in == "chat.postMessage" else 0
    await slack.wait_until(lambda: lines(slack, STEP_2) == said_by_the_dead)

    async with running_bot(broker=broker, slack=slack, store=new_store(), clock=clock) as second:
        clock.advance(minutes=2)
        await leader_looks(second)
        await press(second, kit.ROTATION_DONE)  # the next move is said as usual
        clock.advance(minutes=2)
        await leader_looks(second)  # whatever the shutdown of the test cut short

    assert lines(slack, STEP_2) == 1
    assert lines(slack, "finished step 2") == 1
    assert await kept(new_store, STEP_2) == (1, 0)
