"""Alerts caught mid-step: two replicas at once, a click during a post, a store failing between a
post and its record, a channel Slack refuses for good, steps that come too late."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from bot.blocks import kit
from bot.errors import PactbotError
from bot.sample.slack import Call, Hold, SampleSlack
from bot.store.redis import RedisStore
from tests.helpers.alert_world import BILLING, SEARCH, Timeline
from tests.helpers.alerting import (
    Bots,
    alerting,
    alerts,
    answer,
    buttons,
    evaluate,
    now_shown,
    steps,
    thread,
)
from tests.helpers.bot import CHANNEL, ONCALL_USER, Clock, Running
from tests.helpers.redis_server import RedisServer

# Checked every 10 s: the lease lasts 30 s, less than the claim on the steps (45 s).
EVERY_10S = alerting(alerts={"check_interval": "10s", "for": "10s", "repeat_interval": "24h"})


async def caught_posting(slack: SampleSlack, bot: Running) -> tuple[Hold, asyncio.Task[None]]:
    """`bot`'s next evaluation, started and caught inside its post to Slack, which Slack holds
    until released."""
    hold = slack.hold("chat.postMessage")
    task = asyncio.ensure_future(bot.bot.services.alerter.evaluate())
    arrived = await asyncio.get_running_loop().run_in_executor(None, hold.arrived.wait, 10)
    assert arrived, "the bot never made the held call"
    return hold, task


async def died_posting(slack: SampleSlack, bot: Running, clock: Clock) -> Hold:
    """`bot` fires, dies inside its post (Slack still holding it) and says nothing for a
    lease (30 s): dead. The hold is left to release."""
    await evaluate(bot, clock, every=1 / 6)
    hold, posting = await caught_posting(slack, bot)
    posting.cancel()
    await asyncio.gather(posting, return_exceptions=True)
    clock.advance(seconds=31)
    return hold


async def test_two_replicas_that_both_think_they_lead_post_the_alert_once(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    # As EVERY_10S, but firing at the sixth of evaluations five minutes apart.
    checked = alerting(alerts={"check_interval": "10s", "for": "30m", "repeat_interval": "24h"})
    async with (
        bots("replica-1", settings=checked) as first,
        bots("replica-2", settings=checked) as second,
    ):
        await evaluate(first, clock, 6)
        hold, posting = await caught_posting(slack, first)
        clock.advance(seconds=31)  # the first one's lease ran out while Slack was slow
        await second.bot.scheduler.renew_lease()  # leads now
        await first.bot.scheduler.renew_lease()  # and the first says it is alive, as it does
        await evaluate(second, clock)  # finds the steps claimed by a replica alive
        hold.release()
        await posting

        assert steps(slack) == ["post"]
        timeline.verify(BILLING)
        await evaluate(second, clock)
    assert steps(slack) == ["post", "resolve"]


async def test_a_leader_that_died_mid_post_is_taken_over_once_it_stops_saying_it_is_alive(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with (
        bots("replica-1", settings=EVERY_10S) as first,
        bots("replica-2", settings=EVERY_10S) as second,
    ):
        # Dead mid-post; its claim on the steps would last 14 s more.
        hold = await died_posting(slack, first, clock)
        hold.release()  # and Slack did the post, its answer lost
        timeline.stale(SEARCH)
        # Takes the steps over 14 s before its claim ends, looks for the post 30 s later (the
        # dead replica's call may still land), finds it and says the join. Had it waited for
        # the claim to end, it would look only after these.
        await evaluate(second, clock, 4, every=1 / 6)

        assert steps(slack) == ["post", "join"]
    [alert] = alerts(slack)
    [joined] = thread(slack, alert)
    assert "web-app → search-api" in joined


async def test_a_post_slack_finishes_after_its_poster_died_is_found_not_posted_again(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with (
        bots("replica-1", settings=EVERY_10S) as first,
        bots("replica-2", settings=EVERY_10S) as second,
    ):
        hold = await died_posting(slack, first, clock)  # Slack still works on its post
        await evaluate(second, clock, every=1 / 6)  # takes the steps over, looks: nothing yet
        hold.release()  # and Slack finishes the dead replica's post
        await evaluate(second, clock, 3, every=1 / 6)  # looked for again 30 s on: found

        assert steps(slack) == ["post"]
        assert len(_alert_posts(slack)) == 1


async def test_a_leader_decides_on_time_while_a_slow_replica_holds_the_steps(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with (
        bots("replica-1", settings=EVERY_10S) as first,
        bots("replica-2", settings=EVERY_10S) as second,
    ):
        await evaluate(first, clock, every=1 / 6)
        hold, posting = await caught_posting(slack, first)  # Slack is slow
        clock.advance(seconds=31)
        timeline.stale(SEARCH)
        for _ in range(2):  # the second leads, the first is alive and still posting
            await second.bot.scheduler.renew_lease()
            await first.bot.scheduler.renew_lease()
            await second.bot.services.alerter.evaluate()
            clock.advance(seconds=10)
        hold.release()
        await posting  # and says what the second decided meanwhile

    assert steps(slack) == ["post", "join"]


async def test_a_leader_whose_own_slack_call_is_slow_decides_on_time_meanwhile(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    alerter = bot.bot.services.alerter
    await evaluate(bot, clock, 6)
    hold = slack.hold("chat.postMessage")
    # The scheduler waits for the steps no longer than an interval; here, not at all.
    await asyncio.wait_for(alerter.evaluate(patience=0), 5)  # fires, Slack holds the post
    timeline.stale(SEARCH)
    for _ in range(7):  # evaluations go on while the post is held
        clock.advance(minutes=5)
        await asyncio.wait_for(alerter.evaluate(patience=0), 5)
    [alert] = (await alerter.state()).alerts
    assert SEARCH in {member.pair for member in alert.members}  # decided on time

    hold.release()
    await alerter.evaluate()  # and said, once the post is done

    assert steps(slack) == ["post", "join"]


async def test_reminders_that_waited_for_slack_are_said_once_not_one_per_interval(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    checked = alerting(alerts={"check_interval": "10s", "for": "10s", "repeat_interval": "10s"})
    async with bots("replica-1", settings=checked) as bot:
        await evaluate(bot, clock, 2, every=1 / 6)  # fired and posted
        slack.fail_next("chat.postMessage", status=503, times=2)
        await evaluate(bot, clock, 3, every=1 / 6)  # a reminder due at each

    assert steps(slack) == ["post", "remind"]


async def test_a_post_slack_takes_after_its_answer_failed_is_found_not_posted_again(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with bots("replica-1", settings=EVERY_10S) as bot:
        await evaluate(bot, clock, every=1 / 6)
        slack.fail_next("chat.postMessage", status=503)
        await evaluate(bot, clock, every=1 / 6)  # fires: Slack answers 503
        [failed] = _alert_posts(slack)
        await evaluate(bot, clock, every=1 / 6)  # 10 s on: not tried again yet
        assert _alert_posts(slack) == [failed]
        async with httpx.AsyncClient() as late:  # and Slack takes the call after all
            sent = {"Authorization": failed.headers["authorization"]}
            await late.post(f"{slack.url}/api/chat.postMessage", json=failed.body, headers=sent)
        await evaluate(bot, clock, 3, every=1 / 6)  # looked for 30 s after it failed: found

    assert steps(slack) == ["post"]
    assert len(_alert_posts(slack)) == 2  # the one answered 503, and its late arrival


def _alert_posts(slack: SampleSlack) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if ":post:" in str(c.body["metadata"])]


async def test_an_acknowledgement_during_another_replicas_post_shows_on_the_message(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    async with bots("replica-1") as leader, bots("replica-2") as other:
        await evaluate(leader, clock, 6)
        hold, posting = await caught_posting(slack, leader)
        [alert_id] = [alert.id for alert in (await other.bot.services.alerter.state()).alerts]
        said = await other.bot.services.alerter.acknowledge(alert_id, ONCALL_USER)
        hold.release()
        await posting

    [alert] = alerts(slack)
    assert said.startswith("acknowledged")
    assert f"acknowledged by <@{ONCALL_USER}>" in now_shown(slack, alert)


async def test_an_acknowledgement_while_the_same_replica_posts_the_alert_posts_it_once(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    hold, posting = await caught_posting(slack, bot)
    alerter = bot.bot.services.alerter
    [alert_id] = [alert.id for alert in (await alerter.state()).alerts]
    acknowledging = asyncio.ensure_future(alerter.acknowledge(alert_id, ONCALL_USER))
    # Time enough to post the alert itself, not found yet: it waits for the post under way.
    await asyncio.wait({acknowledging}, timeout=1)
    hold.release()
    await posting
    said = await acknowledging

    [alert] = alerts(slack)
    assert said.startswith("acknowledged")
    assert f"acknowledged by <@{ONCALL_USER}>" in now_shown(slack, alert)
    assert len(_alert_posts(slack)) == 1


async def test_a_store_failing_between_a_post_and_its_record_posts_nothing_twice(
    own_redis: RedisServer, bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    store = RedisStore(Redis.from_url(own_redis.url), clock=clock)
    async with bots(store=store) as bot:
        await evaluate(bot, clock, 6)
        hold, posting = await caught_posting(slack, bot)
        own_redis.stop()
        hold.release()
        with pytest.raises(PactbotError):
            await posting  # Slack has the alert; the store never heard its ts
        own_redis.start()

        await evaluate(bot, clock, 2)
        timeline.verify(BILLING)
        await evaluate(bot, clock)

    [alert] = alerts(slack)
    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]


async def test_a_channel_slack_refuses_costs_one_post_an_evaluation_until_it_is_fixed(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    slack.fail_next("chat.postMessage", error="not_in_channel", times=10)

    await evaluate(bot, clock, 3)  # refused: nothing else is tried meanwhile
    timeline.stale(SEARCH)
    await evaluate(bot, clock, 7)  # search-api joins the alert nobody has seen yet
    assert alerts(slack) == []
    await evaluate(bot, clock, 1)  # the bot is in the channel now

    [alert] = alerts(slack)
    assert len(slack.calls_to("chat.postMessage")) == 11 + 1  # one try an evaluation; the digest
    assert slack.calls_to("chat.update") == []
    assert "billing-api" in now_shown(slack, alert)
    assert "search-api" in now_shown(slack, alert)  # posted as it stands, once
    assert steps(slack) == ["post"]


async def test_a_double_click_on_silence_24h_silences_each_pair_once(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING, SEARCH)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    alert_id = buttons(alert)[kit.ALERT_SILENCE]

    await asyncio.gather(
        bot.click(kit.ALERT_SILENCE, alert_id, user=ONCALL_USER),
        bot.click(kit.ALERT_SILENCE, alert_id, user=ONCALL_USER),
    )
    said = {await answer(bot, 1), await answer(bot, 2)}

    silenced = await bot.bot.services.alerter.silences()
    assert sorted(s.provider for s in silenced) == ["billing-api", "search-api"]
    assert any("silenced already" in text for text in said)


async def test_a_reminder_slack_refused_until_the_alert_resolved_is_not_sent_late(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    clock.advance(hours=24)
    slack.fail_next("chat.postMessage", status=503)
    await evaluate(bot, clock)  # the reminder is due, and Slack fails it

    timeline.verify(BILLING)
    await evaluate(bot, clock)

    [resolution] = thread(slack, alert)
    assert "Resolved" in resolution
    assert steps(slack) == ["post", "resolve"]


async def test_an_alert_that_resolved_before_slack_took_it_is_never_posted(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    slack.fail_next("chat.postMessage", status=503, times=2)
    await evaluate(bot, clock, 2)

    timeline.verify(BILLING)
    await evaluate(bot, clock, 2)

    assert alerts(slack) == []
    assert [m for m in slack.in_channel(CHANNEL) if m.metadata and "stuck" in m.text] == []


async def test_an_alert_slack_posted_but_whose_answer_was_lost_shows_its_resolution(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 6)
    slack.fail_next("chat.postMessage", status=500, done=True)  # posted, the answer lost
    await evaluate(bot, clock)  # fires
    timeline.verify(BILLING)
    await evaluate(bot, clock, 2)  # over before the post was looked for

    [alert] = alerts(slack)
    assert "Resolved" in now_shown(slack, alert)
    assert steps(slack) == ["post", "resolve"]
