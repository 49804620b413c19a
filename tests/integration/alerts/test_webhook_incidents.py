"""Webhook incidents as a channel sees them: a dead token said within `check_interval + for` of
its first failed dispatch while its pairs are still pending, a webhook that did not fire said
with the broker's reason, fixed in place by a passing Test, and the same guarantees as pair
alerts (routes, silences, reminders, restarts, metrics, the digest)."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import kit
from bot.sample.slack import Message, SampleSlack
from bot.sample.world import DEFAULT_RETRY_DELAYS, GITHUB_BAD_CREDENTIALS
from tests.helpers import slack_requests
from tests.helpers.alert_world import (
    BILLING,
    BILLING_HOOK,
    MOBILE_ORDERS,
    ORDERS,
    ORDERS_HOOK,
    SEARCH,
    Timeline,
)
from tests.helpers.alerting import (
    ORDERS_CHANNEL,
    ORDERS_ONCALL,
    Bots,
    alerting,
    alerts,
    answer,
    buttons,
    evaluate,
    now_shown,
    shown,
    steps,
    thread,
)
from tests.helpers.bot import CHANNEL, Clock, Running
from tests.integration.test_slack_command import acked, texts


def dead_token_with_a_pending_pair(timeline: Timeline, clock: Clock) -> None:
    """The orders-api token is dead; web-app publishes a change now; a minute later pactbot
    reads the broker for the first time since."""
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.pending(ORDERS)
    clock.advance(minutes=1)


async def test_a_dead_token_is_said_within_35_minutes_of_its_first_failed_dispatch(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    failed_at = clock.now + timedelta(seconds=5)  # the broker dispatches 5 s after publication
    dead_token_with_a_pending_pair(timeline, clock)

    await evaluate(bot, clock, 6)  # failing at 1, 6, ... 26 minutes: not yet
    assert alerts(slack, ORDERS_CHANNEL) == []
    await evaluate(bot, clock, 1)

    [alert] = alerts(slack, ORDERS_CHANNEL)  # the route of the webhook's provider
    assert alert.ts is not None
    assert float(alert.ts) - failed_at.timestamp() <= timedelta(minutes=35).total_seconds()
    text = shown(alert)
    assert "Webhook “Verify orders-api” → `acme/orders-api`: token dead (401)" in text
    assert "*Webhook* “Verify orders-api” → `acme/orders-api`: *token dead (401)* since" in text
    assert "It explains 1 waiting pair:\n• web-app → orders-api · pending · waiting since" in text
    assert "stuck" not in text  # no pair is stale yet: it did not wait for one
    assert "401" in alert.text  # the notification says the cause
    assert set(buttons(alert)) == {
        kit.TEST_RUN,
        kit.ROTATION_START,
        kit.ALERT_ACK,
        kit.ALERT_SILENCE,
    }
    assert alerts(slack, CHANNEL) == []


async def test_a_dispatch_the_broker_is_retrying_counts_as_failed(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.world.retry_delays = DEFAULT_RETRY_DELAYS
    dead_token_with_a_pending_pair(timeline, clock)

    await evaluate(bot, clock, 7)  # the broker retries for 38 minutes: still `retrying`

    [alert] = alerts(slack, ORDERS_CHANNEL)
    assert "token dead (401)" in shown(alert)


async def test_a_webhook_that_did_not_fire_for_a_new_provider_says_why_and_what_to_run(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    published = clock.now
    timeline.webhook("billing-api", BILLING_HOOK, built=False)  # its CI never published
    timeline.pending(BILLING)
    clock.advance(minutes=1)

    await evaluate(bot, clock, 6)
    assert alerts(slack) == []
    await evaluate(bot, clock, 1)

    [alert] = alerts(slack)
    assert alert.ts is not None
    assert float(alert.ts) - published.timestamp() <= timedelta(minutes=35).total_seconds()
    text = shown(alert)
    assert "did not fire (the provider has no version)" in text
    assert "billing-api has no version in the broker yet" in text
    assert "pact-broker create-or-update-version --pacticipant billing-api" in text
    assert "admin-portal → billing-api · pending" in text


async def test_a_passing_test_fixes_it_in_place_and_the_pending_pair_stays_listed(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    dead_token_with_a_pending_pair(timeline, clock)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack, ORDERS_CHANNEL)
    timeline.token(ORDERS_HOOK, dead=False)  # the secret holds a new token

    before = len(slack.calls_to("chat.postMessage"))
    await bot.click(kit.TEST_RUN, buttons(alert)[kit.TEST_RUN], channel=ORDERS_CHANNEL)
    posted = await slack.wait_for("chat.postMessage", before + 1)
    assert "accepted the request" in str(posted[-1].body)  # the Test passed, and is kept
    await evaluate(bot, clock)

    text = now_shown(slack, alert)
    assert "Resolved" in text
    assert "fixed after" in text
    assert "a Test passed; still waiting for a verification: web-app → orders-api (pending)" in text
    assert buttons(slack.messages[(ORDERS_CHANNEL, alert.ts)]) == {}
    [note] = thread(slack, alert)
    assert "Still waiting for a verification: web-app → orders-api (pending)." in note
    assert steps(slack) == ["post", "resolve"]
    await evaluate(bot, clock, 6)  # still pending: no alert of its own
    assert len(alerts(slack, ORDERS_CHANNEL)) == 1


async def test_a_pending_pair_that_goes_stale_joins_under_the_incident_not_a_second_alert(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.pending(ORDERS, ago=timedelta(hours=23))  # stale in an hour
    timeline.pending(MOBILE_ORDERS)

    await evaluate(bot, clock, 7)
    [alert] = alerts(slack, ORDERS_CHANNEL)
    assert "web-app → orders-api · never verified" not in shown(alert)
    await evaluate(bot, clock, 13)  # stale at 1h, for 30 minutes: it fires, under the cause

    [alert] = alerts(slack, ORDERS_CHANNEL)
    text = now_shown(slack, alert)
    assert "• web-app → orders-api · never verified" in text
    assert text.count("web-app → orders-api") == 1
    [joined] = thread(slack, alert)
    assert "Now stuck too: web-app → orders-api." in joined
    assert steps(slack) == ["post", "join"]


async def test_a_restart_says_nothing_twice_and_old_failures_wait_for_for(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock, tmp_path: object
) -> None:
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.pending(ORDERS, ago=timedelta(hours=20))  # failed 20 hours before pactbot started
    async with bots() as first:
        await evaluate(first, clock, 6)
        assert alerts(slack, ORDERS_CHANNEL) == []  # read failing for 25 minutes only
        await evaluate(first, clock, 1)
    assert len(alerts(slack, ORDERS_CHANNEL)) == 1

    async with bots("replica-2") as second:  # the same store: a restart
        await evaluate(second, clock, 3)

    assert steps(slack) == ["post"]


async def test_silence_24h_on_an_incident_silences_its_webhook_and_no_reminder_comes(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    hourly = alerting(alerts={"check_interval": "5m", "for": "30m", "repeat_interval": "1h"})
    dead_token_with_a_pending_pair(timeline, clock)
    async with bots(settings=hourly) as bot:
        await evaluate(bot, clock, 7)
        [alert] = alerts(slack, ORDERS_CHANNEL)
        await _silence_and_wait(bot, slack, timeline, clock, alert)


async def _silence_and_wait(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock, alert: Message
) -> None:
    await bot.click(
        kit.ALERT_SILENCE,
        buttons(alert)[kit.ALERT_SILENCE],
        user=ORDERS_ONCALL,
        channel=ORDERS_CHANNEL,
    )
    said = await answer(bot, 1)
    assert "the webhook “Verify orders-api”" in said
    assert ":mute: silenced until" in now_shown(slack, alert)
    timeline.verify(ORDERS)  # verified by hand; the token is still dead

    await evaluate(bot, clock, 36)  # three repeat intervals
    assert thread(slack, alert) == []
    assert "Resolved" not in now_shown(slack, alert)


async def test_the_digest_metrics_and_diagnose_name_the_webhook_that_did_not_fire(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.webhook("billing-api", BILLING_HOOK, built=False)
    timeline.pending(BILLING, ago=timedelta(hours=2))
    await evaluate(bot, clock, 7)

    await bot.bot.services.digest.post_here(CHANNEL)
    digest = [m for m in slack.in_channel(CHANNEL) if "Pact freshness" in shown(m)][-1]
    text = shown(digest)
    assert "did not fire (the provider has no version)" in text
    assert "For admin-portal → billing-api: billing-api has no version in the broker yet" in text
    assert "Alert in <#C0DIGEST>: webhook “Verify billing-api” did not fire" in text

    metrics = (await bot.http.get(f"{bot.url}/metrics")).text
    assert (
        'pactbot_webhook_incident{description="Verify billing-api",health="did_not_fire",'
        'repository="acme/billing-api",webhook="hookBillingAbCdEfGhIjK"} 1.0'
    ) in metrics
    unanswered = [
        line
        for line in metrics.splitlines()
        if line.startswith("pactbot_webhook_unanswered_publication_seconds{")
        and BILLING_HOOK in line
    ]
    assert unanswered
    assert float(unanswered[0].split()[-1]) >= 2 * 3600

    opened = {"type": "app_home_opened", "user": ORDERS_ONCALL, "channel": "D0HOME", "tab": "home"}
    assert (await bot.post(slack_requests.event(opened))).status_code == 200
    [home] = await slack.wait_for("views.publish")
    assert "did not fire (the provider has no version)" in texts(home.body["view"])

    await bot.command("diagnose billing-api")
    posts = await slack.wait_for("chat.postMessage", len(slack.calls_to("chat.postMessage")) + 1)
    said = str(posts[-1].body)
    assert "the broker did not fire the webhook" in said
    assert "It did not fire because billing-api has no version in the broker yet" in said


async def test_a_label_scoped_webhook_alerts_and_is_diagnosed_and_rotated_for_its_pairs(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    world = timeline.world
    world.version("search-api", "0.1.0", at=clock.now - timedelta(days=90))
    world.label("search-api", "team-search")
    world.add_webhook(
        "hookTeamSearchAbCdEfGh",
        description="Verify team-search providers",
        provider_label="team-search",
        url="https://api.github.com/repos/acme/search-api/dispatches",
        target=GITHUB_BAD_CREDENTIALS,
        created_at=clock.now - timedelta(days=90),
    )
    timeline.pending(SEARCH)
    clock.advance(minutes=1)

    await evaluate(bot, clock, 7)

    [alert] = alerts(slack)  # a label names no provider: the default channel
    assert "“Verify team-search providers” → `acme/search-api`: *token dead (401)*" in shown(alert)
    assert "• web-app → search-api · pending" in shown(alert)
    status = acked(await bot.command("status search-api"))
    assert "webhook: token dead (401)" in status

    posted = len(slack.calls_to("chat.postMessage"))
    await bot.command("diagnose search-api")
    said = str((await slack.wait_for("chat.postMessage", posted + 1))[-1].body)
    assert "token dead: start rotation" in said
    assert "no webhook reaches" not in said

    await bot.command("rotate search-api")
    posts = [str(call.body) for call in await slack.wait_for("chat.postMessage", posted + 2)]
    assert any("Verify team-search providers" in p and "Step 1 of 8" in p for p in posts)
