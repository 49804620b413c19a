"""`/pact diagnose` as Slack sends it: the Test runs once, the diagnosis lands in the channel."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.blocks import kit
from bot.sample.broker import Fault, SampleBroker
from bot.sample.github import Failure, SampleGitHub
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.bot import ADMIN, CHANNEL, ONCALL_USER, STRANGER, Clock, Running, running_bot
from tests.integration.test_slack_command import NOW, acked, action_ids, texts

EXECUTE = f"/webhooks/{ORDERS_WEBHOOK}/execute$"
TOKEN = "ghp_" + "Zy9" * 12


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW))


@pytest.fixture
async def bot(broker: SampleBroker, slack: SampleSlack, tmp_path: Path) -> AsyncIterator[Running]:
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=Clock(NOW))
    async with running_bot(broker=broker, slack=slack, store=store, clock=Clock(NOW)) as running:
        await running.bot.services.monitor.refresh()
        yield running


async def test_a_dead_token_is_diagnosed_in_the_channel_with_the_rotation_offered(
    bot: Running, broker: SampleBroker
) -> None:
    assert acked(await bot.command("diagnose orders-api")) == (
        "Checking that you may run /pact diagnose…"
    )

    [running] = await bot.slack.wait_for("respond")
    [posted] = await bot.slack.wait_for("chat.postMessage")
    shown = texts(posted.body)

    assert "Running the webhook Test for “Verify orders-api pacts”" in texts(running.body)
    assert posted.body["channel"] == CHANNEL
    assert "*Diagnosis of orders-api: token dead: start rotation*" in shown
    assert 'rejected the token (HTTP 401 "Bad credentials")' in shown
    assert "last executed for real 23h 59m ago: token dead (401), failing since 3d ago" in shown
    assert "1 pair waits for a verification, the longest since 3d ago" in shown
    assert "Set GITHUB_TOKEN to see the provider's runs." in shown
    assert f"Asked by <@{ONCALL_USER}>" in shown
    assert action_ids(posted.body) == {kit.ROTATION_START, kit.TEST_RUN}
    assert broker.count(EXECUTE, method="POST") == 1


async def test_a_token_written_into_the_webhook_is_a_finding_that_never_shows_it(
    bot: Running, broker: SampleBroker, caplog: pytest.LogCaptureFixture
) -> None:
    hook = broker.world.webhooks[ORDERS_WEBHOOK]
    hook.body = {"event_type": "pact_changed", "client_payload": {"token": TOKEN}}
    await bot.bot.services.monitor.refresh()

    with caplog.at_level(logging.DEBUG):
        acked(await bot.command("diagnose orders-api"))
        [posted] = await bot.slack.wait_for("chat.postMessage")

    shown = texts(posted.body)
    assert "a credential is written into the webhook (body client_payload.token)" in shown
    assert TOKEN not in shown + caplog.text


async def test_a_provider_no_webhook_reaches_is_diagnosed_without_a_test(
    bot: Running, broker: SampleBroker
) -> None:
    acked(await bot.command("diagnose billing-api"))

    [posted] = await bot.slack.wait_for("chat.postMessage")

    assert "*Diagnosis of billing-api: no webhook reaches this provider*" in texts(posted.body)
    assert "Create a webhook for billing-api" in texts(posted.body)
    assert broker.count("/execute$") == 0


async def test_an_unknown_provider_says_so_and_what_is_close(
    bot: Running, broker: SampleBroker
) -> None:
    acked(await bot.command("diagnose ordres-api"))

    [answer] = await bot.slack.wait_for("respond")

    assert "has no CI-trigger webhook for 'ordres-api'; closest: orders-api" in texts(answer.body)
    assert bot.slack.calls_to("chat.postMessage") == []
    assert broker.count("/execute$") == 0


async def test_several_webhooks_and_no_provider_say_how_to_name_one(
    bot: Running, broker: SampleBroker
) -> None:
    acked(await bot.command("diagnose"))

    [answer] = await bot.slack.wait_for("respond")

    assert "4 webhooks dispatch to GitHub here. Diagnose one of them:" in texts(answer.body)
    assert f"`/pact diagnose {ORDERS_WEBHOOK}`" in texts(answer.body)
    assert broker.count("/execute$") == 0


async def test_diagnose_is_refused_to_someone_not_on_call(
    bot: Running, broker: SampleBroker
) -> None:
    acked(await bot.command("diagnose orders-api", user=STRANGER))

    [refusal] = await bot.slack.wait_for("respond")

    assert "may run `/pact diagnose`" in texts(refusal.body)
    assert broker.count("/execute$") == 0


async def test_within_a_minute_of_a_test_it_diagnoses_from_the_real_executions(
    bot: Running, broker: SampleBroker
) -> None:
    acked(await bot.command("test orders-api"))
    await bot.slack.wait_for("chat.postMessage")

    acked(await bot.command("diagnose orders-api", user=ADMIN))
    posted = (await bot.slack.wait_for("chat.postMessage", count=2))[-1]
    shown = texts(posted.body)

    assert "The Test did not run: one ran less than a minute ago" in shown
    assert "*Diagnosis of orders-api: token dead: start rotation*" in shown
    assert broker.count(EXECUTE, method="POST") == 1


async def test_a_test_the_broker_fails_still_gives_a_diagnosis_that_says_why(
    bot: Running, broker: SampleBroker
) -> None:
    broker.inject(EXECUTE, Fault(500))

    acked(await bot.command("diagnose orders-api"))
    [posted] = await bot.slack.wait_for("chat.postMessage")

    assert "The Test did not run: the Pact Broker answered HTTP 500" in texts(posted.body)
    assert "token dead: start rotation" in texts(posted.body)


async def test_a_broker_answering_html_is_said(bot: Running, broker: SampleBroker) -> None:
    bot.bot.services.monitor.latest = None
    broker.inject("^/dashboard$", Fault.html(times=None))

    acked(await bot.command("diagnose orders-api"))
    [answer] = await bot.slack.wait_for("respond")

    assert "unexpected answer from GET /dashboard: an HTML page" in texts(answer.body)
    assert broker.count("/execute$") == 0


async def diagnosed_with_github(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, github: SampleGitHub
) -> str:
    """What `/pact diagnose orders-api` posts when GITHUB_TOKEN is set."""
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=Clock(NOW))
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=Clock(NOW), github=github
    ) as bot:
        await bot.bot.services.monitor.refresh()
        acked(await bot.command("diagnose orders-api"))
        [posted] = await bot.slack.wait_for("chat.postMessage")
    return texts(posted.body)


async def test_with_github_the_diagnosis_shows_the_providers_newest_dispatch_run(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, github: SampleGitHub
) -> None:
    github.add_run("acme/orders-api", NOW - timedelta(days=4), conclusion="success")

    shown = await diagnosed_with_github(broker, slack, tmp_path, github)

    assert "The newest repository_dispatch run in acme/orders-api started 4d ago" in shown
    assert "Set GITHUB_TOKEN" not in shown


async def test_github_refusing_the_token_is_said_in_the_diagnosis(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, github: SampleGitHub
) -> None:
    github.fail(Failure.BAD_CREDENTIALS)

    shown = await diagnosed_with_github(broker, slack, tmp_path, github)

    assert (
        "GitHub could not be asked for the provider's runs: GitHub rejected GITHUB_TOKEN" in shown
    )
    assert "*Diagnosis of orders-api: token dead: start rotation*" in shown
