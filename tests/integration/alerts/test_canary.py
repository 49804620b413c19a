"""The canary under `pactbot serve`: the leader runs its Test every `canary.every`, and a token
that dies with nobody publishing is an incident at once, in the channel of the pairs it serves.
What the canary warns of (no repo scope, an expiry, a Test it cannot run) is in the digest."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.blocks import kit
from bot.domain.model import PairKey
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.world import World
from tests.helpers.alert_world import MOBILE_ORDERS, ORDERS, ORDERS_HOOK, Timeline
from tests.helpers.alerting import (
    ORDERS_CHANNEL,
    Bots,
    alerting,
    alerts,
    buttons,
    evaluate,
    now_shown,
    shown,
    steps,
)
from tests.helpers.bot import CHANNEL, Clock, Running
from tests.helpers.canaries import add_canary

CANARY = "canaryGithubTokenAbCdE"
EXECUTE = f"/webhooks/{CANARY}/execute$"


def quiet_orders(timeline: Timeline) -> None:
    """orders-api's webhook and canary; both its pairs verified: nothing waits, nobody
    publishes from here on."""
    timeline.webhook("orders-api", ORDERS_HOOK)
    timeline.fresh(ORDERS, MOBILE_ORDERS)
    add_canary(timeline.world, CANARY)


async def canaries(bot: Running, clock: Clock, *, every: timedelta = timedelta(hours=1)) -> None:
    """What the leader's canary job does once `every` has passed."""
    await bot.bot.scheduler.renew_lease()
    await bot.bot.scheduler.run_canaries()
    clock.advance(seconds=every.total_seconds())


def published_after(world: World, moment: datetime) -> list[PairKey]:
    return [
        PairKey(record.publication.consumer, record.publication.provider)
        for record in world.triggered
        if record.triggered_at >= moment
    ]


async def test_a_token_that_dies_with_nobody_publishing_is_said_within_canary_every(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock, broker: SampleBroker
) -> None:
    quiet_orders(timeline)
    await canaries(bot, clock, every=timedelta(minutes=20))
    assert alerts(slack, ORDERS_CHANNEL) == []
    died = clock.now
    timeline.world.dead_tokens.add("githubToken")  # revoked on Friday evening

    await canaries(bot, clock, every=timedelta(minutes=40))  # not an hour since its last run
    assert alerts(slack, ORDERS_CHANNEL) == []
    await canaries(bot, clock)

    [alert] = alerts(slack, ORDERS_CHANNEL)  # the route of the pairs it serves
    assert alert.ts is not None
    assert float(alert.ts) - died.timestamp() <= timedelta(hours=1).total_seconds()
    text = shown(alert)
    assert "“Verify orders-api” → `acme/orders-api`: token dead (401), found by the canary" in text
    assert "before any publication" in text
    assert (
        "No pair waits behind it now: the next publication of the 2 pairs it fires for will: "
        "mobile-app → orders-api, web-app → orders-api" in text
    )
    assert kit.ROTATION_START in buttons(alert)
    assert published_after(timeline.world, died) == []  # no publication, no dispatch
    assert broker.count(EXECUTE, method="POST") == 2
    assert broker.count(f"/webhooks/{ORDERS_HOOK}/execute$") == 0  # no CI run was started


async def test_once_github_accepts_a_new_token_the_canary_resolves_it(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    quiet_orders(timeline)
    timeline.world.dead_tokens.add("githubToken")
    await canaries(bot, clock)
    [alert] = alerts(slack, ORDERS_CHANNEL)

    timeline.world.dead_tokens.clear()  # the secret holds a new token
    await canaries(bot, clock)

    assert steps(slack) == ["post", "resolve"]
    assert "token dead" not in now_shown(slack, alert).split("\n")[0]


async def test_between_canary_runs_the_evaluations_keep_the_incident_open(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    quiet_orders(timeline)
    timeline.world.dead_tokens.add("githubToken")
    await canaries(bot, clock, every=timedelta(minutes=5))

    await evaluate(bot, clock, 11)  # the next hour of evaluations, no canary run among them

    assert steps(slack) == ["post"]


async def test_scopes_without_repo_an_expiry_and_a_hidden_answer_are_in_the_digest(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    quiet_orders(timeline)
    expires = clock.now + timedelta(days=9, hours=1)
    timeline.world.token_headers["githubToken"] = {
        "x-oauth-scopes": "read:org, workflow",
        "github-authentication-token-expiration": f"{expires:%Y-%m-%d %H:%M:%S} UTC",
    }
    await canaries(bot, clock)

    await bot.bot.services.digest.post_here(CHANNEL)
    timeline.world.show_responses = False  # the broker's webhook host whitelist is gone
    await canaries(bot, clock)
    await bot.bot.services.digest.post_here(CHANNEL)

    digests = [
        shown(m)
        for m in slack.in_channel(CHANNEL)
        if "Pact freshness" in m.text and m.thread_ts is None
    ]
    first, second = digests[-2:]  # the daily one went out when the bot first led
    assert (
        'Canary of the secret githubToken: the token\'s scopes are "read:org, workflow", '
        "without repo: the next dispatch to a private repository fails" in first
    )
    assert f"the token expires on {expires:%Y-%m-%d}, in 9d" in first
    assert "webhook host whitelist" in second
    assert "could not ask GitHub" in second
    assert alerts(slack, ORDERS_CHANNEL) == []  # none of this is an incident


async def test_the_weekly_lint_says_the_expiry_the_canary_read_for_each_webhook(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    quiet_orders(timeline)
    expires = clock.now + timedelta(days=10)
    timeline.world.token_headers["githubToken"] = {
        "x-oauth-scopes": "repo",
        "github-authentication-token-expiration": f"{expires:%Y-%m-%d %H:%M:%S} UTC",
    }
    await canaries(bot, clock)
    clock.advance(days=6, hours=-1)  # Monday: the week's first digest lints the webhooks

    await bot.bot.services.digest.post_here(CHANNEL)

    [monday] = [
        shown(m)
        for m in slack.in_channel(CHANNEL)
        if m.text.startswith("Pact freshness · Mon") and m.thread_ts is None
    ]
    assert "Weekly webhook lint" in monday
    assert (
        f"“Verify orders-api” → `acme/orders-api`: GitHub says the webhook's token expires on "
        f"{expires:%Y-%m-%d}, in 4d"
    ) in monday
    assert f"Canary of the secret githubToken: the token expires on {expires:%Y-%m-%d}" in monday


async def test_two_replicas_run_a_canary_once(
    bots: Bots, timeline: Timeline, clock: Clock, broker: SampleBroker
) -> None:
    quiet_orders(timeline)
    settings = alerting(canary={"every": "1h"})
    async with (
        bots("replica-1", settings=settings) as first,
        bots("replica-2", settings=settings) as second,
    ):
        await first.bot.scheduler.renew_lease()
        await second.bot.scheduler.renew_lease()
        assert (first.bot.scheduler.leader, second.bot.scheduler.leader) == (True, False)
        # Both think they lead: a lease that ran out while the first was slow.
        second.bot.scheduler.leader = True
        await first.bot.services.monitor.refresh()
        await second.bot.services.monitor.refresh()
        await asyncio.gather(
            first.bot.scheduler.run_canaries(), second.bot.scheduler.run_canaries()
        )
        assert broker.count(EXECUTE, method="POST") == 1

        clock.advance(minutes=2)  # the first one dies; the second leads from here on
        await second.bot.scheduler.run_canaries()
        assert broker.count(EXECUTE, method="POST") == 1  # ran 2 minutes ago: not due

        clock.advance(hours=1)
        await second.bot.scheduler.run_canaries()
    assert broker.count(EXECUTE, method="POST") == 2
