"""What alerting guarantees: each step in Slack exactly once across replicas and a killed leader,
across restarts and lost answers, through Slack's 429s and 5xx and a Redis restarted under it."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

from redis.asyncio import Redis

from bot.sample.slack import SampleSlack
from bot.store.redis import RedisStore
from tests.helpers.alert_world import BILLING, MOBILE_ORDERS, ORDERS, ORDERS_HOOK, SEARCH, Timeline
from tests.helpers.alerting import (
    NOW,
    ORDERS_CHANNEL,
    Bots,
    alerting,
    alerts,
    answer,
    evaluate,
    marked,
    now_shown,
    steps,
    thread,
)
from tests.helpers.bot import CHANNEL, Clock, Running, Sleeps
from tests.helpers.redis_server import RedisServer
from tests.helpers.stores import NewStore


def digests(slack: SampleSlack) -> int:
    messages = slack.in_channel(CHANNEL)
    return sum(1 for m in messages if m.thread_ts is None and m.text.startswith("Pact freshness"))


# Exactly once, three replicas -------------------------------------------------------------------


async def test_three_replicas_on_one_redis_say_each_step_once_through_a_killed_leader(
    bots: Bots,
    slack: SampleSlack,
    timeline: Timeline,
    clock: Clock,
    redis_url: str,
    redis_prefix: str,
) -> None:
    settings = alerting(alerts={"check_interval": "5m", "for": "30m", "repeat_interval": "1h"})
    timeline.webhook("orders-api", ORDERS_HOOK)
    timeline.fresh(SEARCH)
    timeline.stale(BILLING)  # incident 1: stale from the start, fires at step 6
    async with AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(
                bots(
                    f"replica-{n}",
                    store=RedisStore(Redis.from_url(redis_url), prefix=redis_prefix, clock=clock),
                    settings=settings,
                )
            )
            for n in (1, 2, 3)
        ]
        alive = list(replicas)
        for step in range(60):
            if step < 40:  # search-api flaps: stale, fresh, stale, ... never for 30 minutes
                (timeline.stale if step % 2 == 0 else timeline.verify)(SEARCH)
            if step == 18:  # a reminder is due; Slack takes it, its answer is lost, the leader dies
                slack.fail_next("chat.postMessage", status=500, done=True)
            if step == 34:
                timeline.verify(BILLING)
            if step == 36:  # incident 2: the orders-api token dies, a pair waits behind it
                timeline.token(ORDERS_HOOK, dead=True)
                timeline.stale(ORDERS)
            if step == 50:  # the token is fixed: a new publication is dispatched and verified
                timeline.token(ORDERS_HOOK, dead=False)
                timeline.fresh(ORDERS)
            await _round(alive)
            if step == 18:
                alive = await _kill_the_leader(alive, clock)
            clock.advance(minutes=5)

        assert steps(slack) == ["post", "remind", "remind", "resolve", "post", "resolve"]
        [billing] = alerts(slack, CHANNEL)
        assert len(thread(slack, billing)) == 3  # two reminders and the resolution note
        assert "Resolved" in now_shown(slack, billing)
        [orders] = alerts(slack, ORDERS_CHANNEL)
        posts = slack.calls_to("chat.postMessage")
        [fired] = [
            c for c in posts if c.body["channel"] == ORDERS_CHANNEL and "thread_ts" not in c.body
        ]
        assert "token dead (401)" in fired.body["text"]  # the cause, named when it fired
        assert "Resolved" in now_shown(slack, orders)
        assert not any("search-api" in now_shown(slack, m) for m in marked(slack))  # it flapped
        assert digests(slack) == 1

        clock.now = NOW.replace(hour=8, minute=5) + timedelta(days=1)  # 09:05 in Berlin
        await _round(alive)
        assert digests(slack) == 2


async def _round(alive: list[Running]) -> None:
    """One scheduler tick on every replica at once: lease, alert evaluation, digest."""
    for replica in alive:
        await replica.bot.scheduler.renew_lease()
    await asyncio.gather(*(replica.bot.scheduler.evaluate_alerts() for replica in alive))
    await asyncio.gather(*(replica.bot.scheduler.run_digest() for replica in alive))


async def _kill_the_leader(alive: list[Running], clock: Clock) -> list[Running]:
    """Stop the leader as a SIGKILL would (no lease given back); another leads within a minute."""
    [leader] = [replica for replica in alive if replica.bot.scheduler.leader]
    others = [replica for replica in alive if replica is not leader]
    clock.advance(seconds=30)
    for replica in others:
        await replica.bot.scheduler.renew_lease()
    assert not any(replica.bot.scheduler.leader for replica in others)  # its lease still holds
    clock.advance(seconds=16)  # 46 s after its last renewal: the 45 s lease has run out
    for replica in others:
        await replica.bot.scheduler.renew_lease()
    assert sum(replica.bot.scheduler.leader for replica in others) == 1
    return others


# Restarts ----------------------------------------------------------------------------------------


async def test_a_restart_mid_incident_updates_the_alert_and_still_resolves_it(
    new_store: NewStore, bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with bots(store=new_store()) as first:
        await evaluate(first, clock, 7)
    [alert] = alerts(slack)

    timeline.stale(SEARCH)
    async with bots(store=new_store()) as restarted:
        await evaluate(restarted, clock, 7)  # search-api joins the alert
        assert "web-app → search-api" in now_shown(slack, alert)
        timeline.verify(BILLING, SEARCH)
        await evaluate(restarted, clock)

    assert alerts(slack) == [alert]
    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "join", "resolve"]


async def test_an_alert_whose_answer_was_lost_is_found_after_a_restart_not_posted_again(
    new_store: NewStore, bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with bots(store=new_store()) as first:
        await evaluate(first, clock, 6)
        slack.fail_next("chat.postMessage", status=500, done=True)
        await evaluate(first, clock)  # Slack shows the alert; the bot never heard its ts
    assert len(alerts(slack)) == 1

    async with bots(store=new_store()) as restarted:
        await evaluate(restarted, clock)
        timeline.verify(BILLING)
        await evaluate(restarted, clock)

    [alert] = alerts(slack)
    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]


# Slack failing -------------------------------------------------------------------------------------


async def test_a_rate_limited_alert_waits_as_slack_asks_and_goes_out_once(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock, sleeps: Sleeps
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    slack.fail_next("chat.postMessage", error="ratelimited", headers={"Retry-After": "3"})

    await evaluate(bot, clock, 3)

    assert steps(slack) == ["post"]
    assert 3.0 in sleeps.waits


async def test_slack_failing_for_a_while_delays_the_alert_but_sends_it_once(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    slack.fail_next("chat.postMessage", status=503, times=6)

    await evaluate(bot, clock, 6)  # half an hour of Slack failing: one try an evaluation
    assert steps(slack) == []
    await evaluate(bot, clock, 3)

    assert steps(slack) == ["post"]


async def test_an_edit_slack_refused_is_made_at_the_next_evaluation(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    slack.fail_next("chat.update", status=500, times=4)  # more than the client retries
    timeline.verify(BILLING)

    await evaluate(bot, clock)
    assert "Resolved" not in now_shown(slack, alert)
    await evaluate(bot, clock)

    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]


# Redis restarted under a running bot -------------------------------------------------------------


async def test_redis_restarted_under_a_running_bot_loses_no_alert_and_sends_nothing_twice(
    own_redis: RedisServer,
    bots: Bots,
    slack: SampleSlack,
    timeline: Timeline,
    clock: Clock,
) -> None:
    timeline.stale(BILLING)
    store = RedisStore(Redis.from_url(own_redis.url), clock=clock)
    async with bots(store=store) as bot:
        await evaluate(bot, clock, 7)
        [alert] = alerts(slack)

        own_redis.stop()
        await evaluate(bot, clock, 2)  # nothing can be kept: nothing is said, nothing breaks
        await bot.command("status")
        assert "admin-portal → billing-api" in await answer(bot, 1)  # /pact status still serves
        own_redis.start()

        await evaluate(bot, clock, 2)  # back by itself: the same alert, still firing
        assert alerts(slack) == [alert]
        timeline.verify(BILLING)
        await evaluate(bot, clock)

    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]


# Webhook incidents: the same guarantees ------------------------------------------------------------


async def test_three_replicas_say_a_webhook_incident_once_through_a_lost_answer_and_a_dead_leader(
    bots: Bots,
    slack: SampleSlack,
    timeline: Timeline,
    clock: Clock,
    redis_url: str,
    redis_prefix: str,
) -> None:
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.pending(ORDERS)  # a pending pair only: the incident does not wait for staleness
    clock.advance(minutes=1)
    async with AsyncExitStack() as stack:
        replicas = [
            await stack.enter_async_context(
                bots(
                    f"replica-{n}",
                    store=RedisStore(Redis.from_url(redis_url), prefix=redis_prefix, clock=clock),
                )
            )
            for n in (1, 2, 3)
        ]
        alive = list(replicas)
        for step in range(20):
            if step == 6:  # the alert is due; Slack posts it, its answer is lost, the leader dies
                slack.fail_next("chat.postMessage", status=500, done=True)
            if step == 12:  # rotated: the rotation's re-test passes
                timeline.token(ORDERS_HOOK, dead=False)
                runner = alive[0].bot.services.runner
                assert await runner.claim(ORDERS_HOOK, "U0ONCALL") is None
                await runner.run(ORDERS_HOOK, "U0ONCALL")
            await _round(alive)
            if step == 6:
                alive = await _kill_the_leader(alive, clock)
            clock.advance(minutes=5)

    assert steps(slack) == ["post", "resolve"]
    [alert] = alerts(slack, ORDERS_CHANNEL)
    assert "a Test passed" in now_shown(slack, alert)


async def test_a_webhook_incident_survives_a_restart_and_resolves_once(
    new_store: NewStore, bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.pending(ORDERS)
    clock.advance(minutes=1)
    async with bots(store=new_store()) as first:
        await evaluate(first, clock, 7)
    [alert] = alerts(slack, ORDERS_CHANNEL)

    async with bots(store=new_store()) as restarted:
        await evaluate(restarted, clock, 3)  # nothing new: not posted again
        timeline.token(ORDERS_HOOK, dead=False)
        timeline.pending(MOBILE_ORDERS)  # mobile-app publishes: a real dispatch succeeds
        clock.advance(minutes=1)
        await evaluate(restarted, clock)

    assert alerts(slack, ORDERS_CHANNEL) == [alert]
    assert "a real dispatch succeeded" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]
