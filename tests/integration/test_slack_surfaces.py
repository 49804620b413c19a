"""Buttons, App Home, Socket Mode and the service endpoints of the real app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.blocks import kit
from bot.sample.broker import Fault, SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers import slack_requests
from tests.helpers.bot import CHANNEL, ONCALL_USER, STRANGER, Clock, Running, config, running_bot
from tests.integration.test_slack_command import action_ids, texts

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW))


@pytest.fixture
async def bot(broker: SampleBroker, slack: SampleSlack, tmp_path: Path) -> AsyncIterator[Running]:
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=Clock(NOW))
    async with running_bot(broker=broker, slack=slack, store=store, clock=Clock(NOW)) as running:
        await running.bot.services.monitor.refresh()
        yield running


async def test_the_run_webhook_test_button_runs_it_for_someone_on_call(bot: Running) -> None:
    answer = await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK)

    assert answer.status_code == 200
    posts = await bot.slack.wait_for("chat.postMessage")
    assert posts[0].body["channel"] == CHANNEL
    assert "rejected the token (HTTP 401" in texts(posts[0].body)


async def test_a_click_by_someone_not_on_call_changes_nothing_and_says_why(
    bot: Running, broker: SampleBroker
) -> None:
    await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK, user=STRANGER)

    answers = await bot.slack.wait_for("respond")

    assert answers[0].body["response_type"] == "ephemeral"
    assert answers[0].body["replace_original"] is False
    assert "may run webhook Tests" in texts(answers[0].body)
    assert broker.count("/execute$") == 0


async def test_a_double_click_runs_one_test(bot: Running, broker: SampleBroker) -> None:
    await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK)
    await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK)

    await bot.slack.wait_for("chat.postMessage")
    answers = await bot.slack.wait_for("respond", count=2)

    assert broker.count("/execute$") == 1
    assert any("one per webhook per minute" in texts(answer.body) for answer in answers)


async def test_opening_app_home_publishes_the_dashboard(bot: Running) -> None:
    body = slack_requests.event(
        {"type": "app_home_opened", "user": ONCALL_USER, "channel": "D0HOME", "tab": "home"}
    )

    assert (await bot.post(body)).status_code == 200

    published = await bot.slack.wait_for("views.publish")
    view = published[0].body["view"]
    assert published[0].body["user_id"] == ONCALL_USER
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    assert kit.HOME_REFRESH in action_ids(view)
    assert "web-app → orders-api" in texts(view)


async def test_refresh_reads_the_broker_again_and_republishes(
    bot: Running, broker: SampleBroker
) -> None:
    before = broker.count("^/dashboard$")
    body = slack_requests.home_action(
        kit.HOME_REFRESH, "refresh", user_id=ONCALL_USER, view_id="V0HOME"
    )

    await bot.post(body)
    await bot.slack.wait_for("views.publish")

    assert broker.count("^/dashboard$") == before + 1


async def test_app_home_shows_the_last_good_reading_when_the_broker_fails(
    bot: Running, broker: SampleBroker
) -> None:
    broker.inject("^/dashboard$", Fault.html(times=None))
    body = slack_requests.home_action(
        kit.HOME_REFRESH, "refresh", user_id=ONCALL_USER, view_id="V0HOME"
    )

    await bot.post(body)
    published = await bot.slack.wait_for("views.publish")

    assert "web-app → orders-api" in texts(published[0].body["view"])


async def test_socket_mode_payloads_drive_the_same_listeners(bot: Running) -> None:
    payload = {
        "command": "/pact",
        "text": "test orders-api",
        "user_id": ONCALL_USER,
        "channel_id": CHANNEL,
        "team_id": "T0TEAM",
        "response_url": bot.slack.response_url(),
        "trigger_id": "1.2.3",
        "api_app_id": "A0PACTBOT",
    }

    response = await bot.bot.bolt.async_dispatch(AsyncBoltRequest(body=payload, mode="socket_mode"))

    assert response.status == 200
    posts = await bot.slack.wait_for("chat.postMessage")
    assert "rejected the token (HTTP 401" in texts(posts[0].body)


async def test_health_is_alive_readiness_waits_for_every_dependency(bot: Running) -> None:
    healthz = await bot.http.get(f"{bot.url}/healthz")
    before = await bot.http.get(f"{bot.url}/readyz")
    scheduler = bot.bot.scheduler
    await scheduler.read_broker()
    await scheduler.check_readiness()
    after = await bot.http.get(f"{bot.url}/readyz")

    assert (healthz.status_code, healthz.text) == (200, "ok\n")
    assert before.status_code == 503
    assert before.json()["checks"]["broker"]["detail"] == "not checked yet"
    assert after.status_code == 200
    assert {name: check["ok"] for name, check in after.json()["checks"].items()} == {
        "broker": True,
        "store": True,
        "slack": True,
    }


async def test_readiness_names_what_is_down_and_the_posting_problems(
    bot: Running, broker: SampleBroker
) -> None:
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    await bot.bot.services.digest.daily()
    broker.inject("^/dashboard$", Fault(500, times=None))
    await bot.bot.scheduler.read_broker()
    await bot.bot.scheduler.check_readiness()

    ready = await bot.http.get(f"{bot.url}/readyz")

    assert ready.status_code == 503
    assert "answered HTTP 500" in ready.json()["checks"]["broker"]["detail"]
    assert any(
        "not_in_channel" in problem and "/invite @pactbot" in problem
        for problem in ready.json()["problems"]
    )


async def test_a_problem_a_person_must_fix_makes_pactbot_unready_until_it_is_fixed(
    bot: Running,
) -> None:
    await bot.bot.scheduler.read_broker()
    await bot.bot.scheduler.check_readiness()
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    await bot.bot.services.digest.daily()
    standing = await bot.http.get(f"{bot.url}/readyz")
    await bot.bot.services.digest.daily()  # the bot was invited: the retry posts
    fixed = await bot.http.get(f"{bot.url}/readyz")

    assert all(check["ok"] for check in standing.json()["checks"].values())
    assert (standing.status_code, len(standing.json()["problems"])) == (503, 1)
    assert (fixed.status_code, fixed.json()["problems"]) == (200, [])


async def test_a_channel_answered_through_the_response_url_is_no_standing_problem(
    bot: Running,
) -> None:
    await bot.bot.scheduler.read_broker()
    await bot.bot.scheduler.check_readiness()
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK, channel="C0PRIVATE")
    await bot.slack.wait_for("respond", count=2)  # "running…", then the result in the channel

    ready = await bot.http.get(f"{bot.url}/readyz")

    assert (ready.status_code, ready.json()["problems"]) == (200, [])


async def test_metrics_show_pairs_webhooks_and_calls(bot: Running) -> None:
    text = (await bot.http.get(f"{bot.url}/metrics")).text

    assert 'pactbot_pair_state{consumer="web-app",provider="orders-api",state="stale"} 1.0' in text
    assert (
        'pactbot_pair_verification_age_seconds{consumer="checkout",provider="Pricing Service"}'
        in text
    )
    assert (
        f'pactbot_webhook_failing{{description="Verify orders-api pacts",health="token_dead",repository="acme/orders-api",webhook="{ORDERS_WEBHOOK}"}} 1.0'
        in text
    )
    assert 'pactbot_broker_requests_total{endpoint="dashboard",status="200"}' in text
    assert "pactbot_broker_request_seconds_bucket" in text


async def test_slack_calls_are_counted_by_method_and_outcome(bot: Running) -> None:
    bot.slack.fail_next("chat.postMessage", error="channel_not_found")
    await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK)
    await bot.slack.wait_for("respond", count=2)

    text = (await bot.http.get(f"{bot.url}/metrics")).text

    assert (
        'pactbot_slack_requests_total{method="chat.postMessage",outcome="channel_not_found"} 1.0'
        in text
    )


def test_the_slack_route_is_absent_in_socket_mode() -> None:
    from bot.service.health import Health
    from bot.service.metrics import Metrics
    from bot.service.web import SLACK_PATH, build_web_app

    app = build_web_app(None, Health(lambda: NOW), Metrics())

    assert SLACK_PATH not in {resource.canonical for resource in app.router.resources()}
    assert (
        json.dumps(sorted(resource.canonical for resource in app.router.resources()))
        == '["/healthz", "/metrics", "/readyz"]'
    )


async def test_a_click_acks_before_the_membership_check_that_slack_slows_down(
    bot: Running, broker: SampleBroker
) -> None:
    bot.slack.fail_next(
        "usergroups.users.list", error="ratelimited", status=429, headers={"Retry-After": "4"}
    )
    bot.sleeps.hold()

    async with asyncio.timeout(2):  # a bound: the ack must not wait for the release
        answer = await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK, user=STRANGER)
    await bot.sleeps.begun()
    bot.sleeps.release()
    [refusal] = await bot.slack.wait_for("respond")

    assert answer.status_code == 200
    assert bot.sleeps.waits == [4.0]
    assert "may run webhook Tests" in texts(refusal.body)
    assert broker.count("/execute$") == 0


async def test_a_click_in_a_channel_pactbot_is_not_enabled_in_runs_nothing(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    settings = config(access={"oncall_usergroups": ["pact-oncall"], "channels": ["C0ALLOWED"]})
    store = SqliteStore(tmp_path / "s.sqlite3", clock=Clock(NOW))
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=Clock(NOW), settings=settings
    ) as bot:
        await bot.bot.services.monitor.refresh()
        await bot.click(kit.TEST_RUN, ORDERS_WEBHOOK, channel="C0ELSEWHERE")
        [refusal] = await slack.wait_for("respond")

    assert "pactbot is not enabled in this channel." in texts(refusal.body)
    assert "C0ALLOWED" not in texts(refusal.body)
    assert broker.count("/execute$") == 0


@pytest.mark.parametrize("value", ["NoSuchWebhook00000000", "ChatNotify00000000000", "x" * 300])
async def test_a_button_naming_no_github_dispatch_webhook_is_refused_politely(
    bot: Running, broker: SampleBroker, value: str
) -> None:
    broker.world.add_webhook(
        "ChatNotify00000000000",
        url="https://chat.example.com/hooks/pact",
        description="Tell the team",
        provider="orders-api",
    )
    await bot.bot.services.monitor.refresh()
    read = len(broker.requests)

    await bot.click(kit.TEST_RUN, value)
    [answer] = await bot.slack.wait_for("respond")

    assert "That button names no webhook that dispatches to GitHub" in texts(answer.body)
    assert broker.requests[read:] == []  # the value never reached the broker


async def test_a_test_from_app_home_that_could_not_run_is_said_in_a_direct_message(
    bot: Running, broker: SampleBroker
) -> None:
    broker.inject(f"/webhooks/{ORDERS_WEBHOOK}/execute$", Fault(500))
    body = slack_requests.home_action(kit.TEST_RUN, ORDERS_WEBHOOK, user_id=ONCALL_USER)

    await bot.post(body)
    posts = await bot.slack.wait_for("chat.postMessage", count=2)  # "running…", then why not

    assert [post.body["channel"] for post in posts] == [ONCALL_USER, ONCALL_USER]
    assert "The webhook Test could not run: the Pact Broker answered HTTP 500" in texts(
        posts[-1].body
    )
    assert bot.slack.calls_to("respond") == []


async def test_a_test_from_app_home_posts_its_result_in_the_digest_channel(bot: Running) -> None:
    body = slack_requests.home_action(kit.TEST_RUN, ORDERS_WEBHOOK, user_id=ONCALL_USER)

    await bot.post(body)
    posts = await bot.slack.wait_for("chat.postMessage", count=2)

    assert [post.body["channel"] for post in posts] == [ONCALL_USER, CHANNEL]
    assert "rejected the token (HTTP 401" in texts(posts[-1].body)
