"""A dead credential of another CI than GitHub, through `pactbot serve`: the GitLab pipeline
trigger token of the demo's story is an incident in words of GitLab's, and its rotation walks
GitLab's own steps from "Start rotation" to a finished rotation and a resolved alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.blocks import kit
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import GITLAB_WEBHOOK, demo_story
from bot.sample.world import GITLAB_PIPELINE_CREATED, World
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.alerting import alerting, alerts, buttons, evaluate, now_shown, shown, thread
from tests.helpers.bot import CHANNEL, Clock, Running, running_bot
from tests.integration.test_rotation import _rotations, press, rotation_message

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SHIPPING = ("web-app", "shipping-api")


@pytest.fixture
def world() -> World:
    return demo_story(NOW)


@pytest.fixture
def broker(start_broker: StartBroker, world: World) -> SampleBroker:
    return start_broker(world)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def bot(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, clock: Clock
) -> AsyncIterator[Running]:
    settings = alerting(rotation={"accounts": {"gitlab": "pact-maintainer"}})
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=clock, settings=settings
    ) as running:
        yield running


async def test_a_dead_gitlab_trigger_token_from_its_alert_to_a_finished_rotation(
    bot: Running, slack: SampleSlack, world: World, broker: SampleBroker, clock: Clock
) -> None:
    await evaluate(bot, clock, 7)  # failing on every reading for 30 minutes
    [alert] = [m for m in alerts(slack, CHANNEL) if "shipping-api" in shown(m)]
    said = shown(alert)
    assert "“Verify shipping-api pacts” → `GitLab acme/shipping-api`: token dead (404)" in said
    assert "web-app → shipping-api · stale" in said

    answered = len(slack.calls_to("respond"))
    await bot.click(kit.ROTATION_START, buttons(alert)[kit.ROTATION_START])
    # The rotation's message, then the answer to the press that says where it is.
    await slack.wait_until(
        lambda: bool(_rotations(slack)) and len(slack.calls_to("respond")) > answered
    )
    message = rotation_message(slack)
    step = shown(message)
    assert "Rotating a webhook's GitLab pipeline trigger token" in step
    assert "GitLab answering 404 confirms that the trigger token is dead" in step

    assert await press(bot, kit.ROTATION_TEST) is None  # GitLab's 404: confirmed
    step = now_shown(slack, message)
    assert "Step 2 of 8 · Sign in to GitLab as a Maintainer of the project" in step
    assert "a Maintainer of the project *pact-maintainer*" in step
    await press(bot, kit.ROTATION_DONE)
    step = now_shown(slack, message)
    assert "Step 3 of 8 · Add a pipeline trigger token" in step
    assert "https://gitlab.com/acme/shipping-api/-/settings/ci_cd#js-pipeline-triggers" in step
    await press(bot, kit.ROTATION_DONE)
    assert "it starts with `glptt-`" in now_shown(slack, message)
    await press(bot, kit.ROTATION_DONE)
    assert "edit *gitlabTriggerToken*" in now_shown(slack, message)
    await press(bot, kit.ROTATION_DONE)

    clock.advance(minutes=5)
    world.webhooks[GITLAB_WEBHOOK].target = GITLAB_PIPELINE_CREATED  # the secret holds it
    await press(bot, kit.ROTATION_TEST)
    step = now_shown(slack, message)
    assert "Step 7 of 8 · Watch the provider's run" in step
    assert "https://gitlab.com/acme/shipping-api/-/pipelines" in step
    assert "pactbot does not read GitLab's runs" in step
    assert kit.ROTATION_CHECK not in buttons(rotation_message(slack))
    with world.lock:
        world.verify(world.latest(*SHIPPING), at=clock())
    await press(bot, kit.ROTATION_DONE)
    step = now_shown(slack, message)
    assert "Step 8 of 8 · Revoke the old trigger token" in step
    await press(bot, kit.ROTATION_DONE)

    assert "Token rotated. Finished by <@U0ONCALL>" in now_shown(slack, message)
    assert "ran the Test: GitLab (acme/shipping-api) accepted the request (HTTP 201)" in "\n".join(
        thread(slack, rotation_message(slack))
    )
    await evaluate(bot, clock)
    resolved = now_shown(slack, alert)
    assert "fixed" in resolved
    assert broker.count(f"/webhooks/{GITLAB_WEBHOOK}/execute$") == 2
