"""`/pact` as Slack sends it: signed HTTP requests to the real app, answers asserted on Slack."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from bot.blocks import kit
from bot.sample.broker import Fault, SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.bot import (
    ADMIN,
    CHANNEL,
    ONCALL_USER,
    STRANGER,
    Clock,
    Running,
    config,
    running_bot,
    slash_body,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHECKING_TEST = "Checking that you may run /pact test…"


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW))


@pytest.fixture
async def cold_bot(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path
) -> AsyncIterator[Running]:
    """A bot that has not read the broker yet."""
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=Clock(NOW))
    async with running_bot(broker=broker, slack=slack, store=store, clock=Clock(NOW)) as running:
        yield running


@pytest.fixture
async def bot(cold_bot: Running) -> Running:
    """A bot that has read the broker, as its scheduler does at start."""
    await cold_bot.bot.services.monitor.refresh()
    return cold_bot


def texts(payload: Any) -> str:
    """Every text a person reads in a message payload, joined."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload)
    return "\n".join(found)


def acked(answer: httpx.Response) -> str:
    """What the ack showed the person: Bolt answers text alone as text, blocks as JSON."""
    assert answer.status_code == 200
    if answer.headers["content-type"].startswith("application/json"):
        return texts(answer.json())
    return answer.text


def action_ids(payload: Any) -> set[str]:
    return {element["action_id"] for element in _elements(payload)}


def _elements(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if "action_id" in node else []
        return own + [found for value in node.values() for found in _elements(value)]
    if isinstance(node, list):
        return [found for value in node for found in _elements(value)]
    return []


async def test_status_answers_in_the_ack_with_the_pairs_most_urgent_first(bot: Running) -> None:
    shown = acked(await bot.command("status"))

    assert shown.index("web-app → orders-api") < shown.index("checkout → Pricing Service")
    assert ":red_circle: stale" in shown
    assert "webhook: token dead (401)" in shown
    assert bot.slack.calls_to("respond") == []


async def test_status_before_the_first_read_acks_then_answers_with_the_table(
    cold_bot: Running,
) -> None:
    assert acked(await cold_bot.command("status")) == "Reading the Pact Broker…"

    answers = await cold_bot.slack.wait_for("respond")

    assert answers[0].body["replace_original"] is True
    assert "web-app → orders-api" in texts(answers[0].body)


async def test_status_filters_by_part_of_a_name(bot: Running) -> None:
    shown = acked(await bot.command("status pricing"))

    assert "2 pairs matching “pricing”" in shown
    assert "orders-api" not in shown


async def test_status_says_when_nothing_matches_and_what_is_close(bot: Running) -> None:
    shown = acked(await bot.command("status ordres-api"))

    assert "No pair matching “ordres-api”. Closest names: orders-api, " in shown


async def test_an_unknown_subcommand_answers_with_help_and_the_closest_one(bot: Running) -> None:
    shown = acked(await bot.command("statsu"))

    assert "there is no `/pact statsu`. Did you mean `/pact status`?" in shown
    assert "`/pact test [provider | webhook id]`" in shown


async def test_a_wrong_argument_says_what_was_wrong(bot: Running) -> None:
    shown = acked(await bot.command("digest now"))

    assert "`/pact digest` takes no argument (got “now”)" in shown


async def test_help_is_open_to_everyone(bot: Running) -> None:
    shown = acked(await bot.command("help", user=STRANGER))

    assert "`/pact status [name]`" in shown


async def test_the_test_acks_at_once_then_posts_the_explained_result_in_the_channel(
    bot: Running,
) -> None:
    assert acked(await bot.command("test orders-api")) == CHECKING_TEST

    [running] = await bot.slack.wait_for("respond")
    assert running.body["replace_original"] is True
    assert "Running the webhook Test for “Verify orders-api pacts” → `acme/orders-api`…" in texts(
        running.body
    )
    posts = await bot.slack.wait_for("chat.postMessage")
    result = posts[0].body
    assert result["channel"] == CHANNEL
    assert 'rejected the token (HTTP 401 "Bad credentials")' in texts(result)
    assert f"Run by <@{ONCALL_USER}>" in texts(result)
    assert action_ids(result) == {kit.TEST_RUN, kit.ROTATION_START}


async def test_a_second_test_within_the_minute_says_when_the_last_ran_and_what_it_said(
    bot: Running, broker: SampleBroker
) -> None:
    await bot.command("test orders-api")
    await bot.slack.wait_for("chat.postMessage")

    acked(await bot.command("test orders-api", user=ADMIN))

    shown = texts((await bot.slack.wait_for("respond", count=2))[-1].body)
    assert f"(by <@{ONCALL_USER}>). It said: GitHub (acme/orders-api) rejected the token" in shown
    assert "one per webhook per minute" in shown
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert broker.count(f"/webhooks/{ORDERS_WEBHOOK}/execute$", method="POST") == 1


async def test_several_webhooks_and_no_argument_offer_a_choice(bot: Running) -> None:
    acked(await bot.command("test"))

    [choice] = await bot.slack.wait_for("respond")
    assert "4 webhooks dispatch to GitHub. Which one?" in texts(choice.body)
    assert action_ids(choice.body) == {kit.TEST_RUN}
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_the_test_is_refused_to_someone_not_on_call_naming_who_may(
    bot: Running, broker: SampleBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert acked(await bot.command("test orders-api", user=STRANGER)) == CHECKING_TEST
        [refusal] = await bot.slack.wait_for("respond")

    assert (
        "Only members of <!subteam^S0ONCALL> and <@U0ADMIN1> (admin) may run `/pact test`."
        in texts(refusal.body)
    )
    assert f"{STRANGER} may not run `/pact test`: not on call or admin" in caplog.text
    assert bot.slack.calls_to("chat.postMessage") == []
    assert broker.count("/execute$") == 0


async def test_the_digest_is_refused_to_someone_not_on_call_and_nothing_is_posted(
    bot: Running,
) -> None:
    await bot.command("digest", user=STRANGER)
    [refusal] = await bot.slack.wait_for("respond")

    assert "may run `/pact digest`" in texts(refusal.body)
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_admins_may_run_the_test_without_being_on_call(bot: Running) -> None:
    acked(await bot.command("test Pricing Service", user=ADMIN))

    posts = await bot.slack.wait_for("chat.postMessage")

    assert "accepted the request (HTTP 204)" in texts(posts[0].body)
    assert action_ids(posts[0].body) == set()  # a passing Test offers nothing to do


async def test_a_token_typed_into_slack_is_refused_never_echoed_and_never_logged(
    bot: Running, caplog: pytest.LogCaptureFixture
) -> None:
    token = "ghp_" + "x" * 36

    with caplog.at_level(logging.DEBUG):
        shown = acked(await bot.command(f"test {token}"))

    assert "looks like a GitHub or Slack token" in shown
    assert "Revoke it now" in shown
    assert token not in shown
    assert token not in caplog.text
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_the_digest_command_posts_the_digest_here(bot: Running) -> None:
    assert acked(await bot.command("digest", channel="C0TEAMORDERS")) == (
        "Checking that you may run /pact digest…"
    )

    posts = await bot.slack.wait_for("chat.postMessage")

    assert posts[0].body["channel"] == "C0TEAMORDERS"
    assert "Pact freshness · Tue 1 Dec 2026" in texts(posts[0].body)


async def test_a_channel_the_bot_is_not_in_gets_the_result_through_the_response_url(
    bot: Running,
) -> None:
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    acked(await bot.command("test orders-api", channel="C0PRIVATE"))

    answers = await bot.slack.wait_for("respond", count=2)  # "running…", then the result

    assert answers[-1].body["response_type"] == "in_channel"
    assert "rejected the token" in texts(answers[-1].body)


async def test_a_rate_limited_post_waits_as_slack_asks_then_goes_out_once(bot: Running) -> None:
    bot.slack.fail_next(
        "chat.postMessage", error="ratelimited", status=429, headers={"Retry-After": "3"}
    )
    acked(await bot.command("test orders-api"))

    posts = await bot.slack.wait_for("chat.postMessage", count=2)

    assert [call.body["channel"] for call in posts] == [CHANNEL, CHANNEL]
    assert len(bot.slack.in_channel(CHANNEL)) == 1
    assert bot.sleeps.waits == [3.0]


async def test_a_broker_that_cannot_be_read_is_said_not_hidden(
    bot: Running, broker: SampleBroker
) -> None:
    bot.bot.services.monitor.latest = None  # nothing read yet
    broker.inject("^/dashboard$", Fault.html(times=None))

    acked(await bot.command("status"))
    answers = await bot.slack.wait_for("respond")

    assert (
        "The Pact Broker cannot be read: unexpected answer from GET /dashboard: an HTML page"
        in texts(answers[-1].body)
    )


async def test_a_bad_signature_and_an_old_timestamp_are_refused_and_run_nothing(
    bot: Running, broker: SampleBroker
) -> None:
    body = slash_body(bot.slack, "test orders-api", user=ONCALL_USER, channel=CHANNEL)
    forged = await bot.post(body, secret="f" * 32)
    stale = await bot.post(body, timestamp=int(time.time()) - 301)
    # A signed request after them: had either run, this one would find the Test claimed.
    acked(await bot.command("test orders-api"))
    [result] = await bot.slack.wait_for("chat.postMessage")

    assert (forged.status_code, stale.status_code) == (401, 401)
    assert "rejected the token" in texts(result.body)
    assert broker.count(f"/webhooks/{ORDERS_WEBHOOK}/execute$", method="POST") == 1
    assert len(bot.slack.calls_to("respond")) == 1  # the signed request's "running…"


async def test_pact_can_be_limited_to_some_channels(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    settings = config(access={"oncall_usergroups": ["pact-oncall"], "channels": ["C0ALLOWED"]})
    store = SqliteStore(tmp_path / "s.sqlite3", clock=Clock(NOW))
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=Clock(NOW), settings=settings
    ) as bot:
        shown = acked(await bot.command("status", channel="C0ELSEWHERE"))

    assert "pactbot is not enabled in this channel." in shown
    assert "C0ALLOWED" not in shown


@pytest.mark.parametrize(("user", "allowed"), [(ONCALL_USER, True), (STRANGER, False)])
async def test_the_ack_does_not_wait_for_a_rate_limited_membership_check(
    bot: Running, broker: SampleBroker, user: str, allowed: bool
) -> None:
    bot.slack.fail_next(
        "usergroups.users.list", error="ratelimited", status=429, headers={"Retry-After": "4"}
    )
    bot.sleeps.hold()  # the wait Slack asks for lasts until released: longer than Slack's 3 s

    async with asyncio.timeout(2):  # a bound: before the fix, the ack waited for the release
        answer = await bot.command("test orders-api", user=user)
    await bot.sleeps.begun()
    bot.sleeps.release()
    [answered] = await bot.slack.wait_for("respond")

    assert acked(answer) == CHECKING_TEST
    assert bot.sleeps.waits == [4.0]
    assert len(bot.slack.calls_to("usergroups.users.list")) == 2
    if allowed:
        assert "Running the webhook Test" in texts(answered.body)
        await bot.slack.wait_for("chat.postMessage")
        assert broker.count("/execute$") == 1
    else:
        assert "may run `/pact test`" in texts(answered.body)
        assert broker.count("/execute$") == 0


async def test_a_result_slack_failed_to_post_is_not_posted_twice_and_reaches_the_person(
    bot: Running,
) -> None:
    bot.slack.fail_next("chat.postMessage", status=500)

    acked(await bot.command("test orders-api"))
    answers = await bot.slack.wait_for("respond", count=2)

    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert answers[-1].body["response_type"] == "ephemeral"
    assert answers[-1].body["replace_original"] is True
    assert "rejected the token (HTTP 401" in texts(answers[-1].body)


async def test_a_test_that_could_not_run_says_so_then_and_to_the_next_one_asking(
    bot: Running, broker: SampleBroker
) -> None:
    broker.inject(f"/webhooks/{ORDERS_WEBHOOK}/execute$", Fault(500))

    acked(await bot.command("test orders-api"))
    failed = (await bot.slack.wait_for("respond", count=2))[-1]
    acked(await bot.command("test orders-api", user=ADMIN))
    recent = (await bot.slack.wait_for("respond", count=3))[-1]

    assert "The webhook Test could not run: the Pact Broker answered HTTP 500" in texts(failed.body)
    assert "It could not run: the Pact Broker answered HTTP 500" in texts(recent.body)
    assert "still running" not in texts(recent.body)
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_a_store_that_cannot_be_written_is_said_and_runs_no_test(
    broker: SampleBroker, slack: SampleSlack
) -> None:
    with socket.socket() as probe:  # a port nothing listens on: the store is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RedisStore(Redis.from_url(f"redis://127.0.0.1:{port}/0"), clock=Clock(NOW))
    async with running_bot(broker=broker, slack=slack, store=store, clock=Clock(NOW)) as bot:
        await bot.bot.services.monitor.refresh()
        acked(await bot.command("test orders-api", user=ADMIN))  # admins need no store to act
        [answer] = await bot.slack.wait_for("respond")

    said = texts(answer.body)
    assert "The webhook Test cannot start: pactbot cannot reach its store; try again" in said
    assert broker.count("/execute$") == 0
