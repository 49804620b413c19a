"""Alert messages as a channel sees them: fired after 30 minutes, updated in place, resolved,
reminded, acknowledged, routed, and in the digest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.blocks import kit
from bot.domain.model import PairKey
from bot.sample.broker import Fault, SampleBroker
from bot.sample.slack import SampleSlack
from tests.helpers.alert_world import BILLING, MOBILE_ORDERS, ORDERS, ORDERS_HOOK, SEARCH, Timeline
from tests.helpers.alerting import (
    NOW,
    ORDERS_CHANNEL,
    ORDERS_ONCALL,
    Bots,
    alerting,
    alerts,
    answer,
    buttons,
    evaluate,
    shown,
    steps,
    thread,
)
from tests.helpers.bot import ADMIN, CHANNEL, ONCALL_GROUP, ONCALL_USER, STRANGER, Clock, Running

# Firing, updating in place, resolving ----------------------------------------------------------


async def test_a_pair_alerts_once_it_was_stale_for_30_minutes_and_resolves_in_place(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.fresh(SEARCH)
    timeline.stale(BILLING)

    await evaluate(bot, clock, 6)  # stale at 0, 5, ... 25 minutes: not yet
    assert alerts(slack) == []
    await evaluate(bot, clock, 3)  # 30 minutes: fires once, then holds
    [alert] = alerts(slack)
    assert "admin-portal → billing-api" in shown(alert)
    assert "search-api" not in shown(alert)
    assert alert.edits == 0

    timeline.verify(BILLING)
    await evaluate(bot, clock)

    [resolved] = alerts(slack)
    assert "Resolved" in shown(resolved)
    assert "admin-portal → billing-api" in shown(resolved)
    assert resolved.edits == 1
    assert thread(slack, resolved) == [
        "Resolved: it lasted 15m\n:white_check_mark: Resolved: it lasted 15m."
    ]
    assert buttons(resolved) == {}


async def test_a_pending_reading_in_between_starts_the_30_minutes_again(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 5)
    timeline.fresh(BILLING)  # a new publication, verified: the pair is fresh for a moment
    await evaluate(bot, clock, 1)
    timeline.stale(BILLING)

    await evaluate(bot, clock, 6)
    assert alerts(slack) == []
    await evaluate(bot, clock, 1)
    assert len(alerts(slack)) == 1


async def test_pairs_join_and_leave_the_one_message_of_their_channel(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 4)
    timeline.stale(SEARCH)  # stale 20 minutes after the first
    await evaluate(bot, clock, 3)  # BILLING fires
    [alert] = alerts(slack)
    assert "search-api" not in shown(alert)

    await evaluate(bot, clock, 4)  # SEARCH has been stale for 30 minutes: it joins
    [alert] = alerts(slack)
    assert "web-app → search-api" in shown(alert)
    assert "billing-api" in shown(alert)
    assert alert.edits == 1
    [joined] = [m for m in slack.in_channel(CHANNEL) if m.thread_ts == alert.ts]
    assert "Now stuck too: web-app → search-api." in shown(joined)
    assert joined.broadcast  # an edit notifies nobody: the news shows in the channel too

    timeline.verify(BILLING)
    await evaluate(bot, clock)  # BILLING leaves
    [alert] = alerts(slack)
    assert "billing-api" not in shown(alert)
    assert "Resolved" not in shown(alert)

    timeline.verify(SEARCH)
    await evaluate(bot, clock)
    [alert] = alerts(slack)
    assert "Resolved" in shown(alert)
    assert "billing-api" in shown(alert)  # who was in it
    assert "search-api" in shown(alert)
    assert steps(slack) == ["post", "join", "resolve"]


async def test_many_pairs_that_fire_together_are_one_message_within_slacks_limits(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    many = [PairKey(f"consumer-{n:03d}", f"provider-{n % 40:03d}") for n in range(400)]
    timeline.stale(*many)

    await evaluate(bot, clock, 7)

    [alert] = alerts(slack)
    assert "400 pairs stuck without a verification" in shown(alert)
    assert len(alert.blocks) <= 50
    assert "more" in shown(alert)


# Root cause first ---------------------------------------------------------------------------


async def test_a_dead_token_is_one_alert_naming_the_webhook_the_repo_the_status_and_its_pairs(
    bots: Bots, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.webhook("orders-api", ORDERS_HOOK, dead=True)
    timeline.stale(ORDERS, MOBILE_ORDERS)
    async with bots(settings=alerting(routes=[])) as bot:
        timeline.stale(BILLING)  # no webhook reaches billing-api: a stale pair of its own
        await evaluate(bot, clock, 7)

    [alert] = alerts(slack)
    text = shown(alert)
    assert "Verify orders-api" in text
    assert "acme/orders-api" in text
    assert "token dead (401)" in text
    assert "since" in text
    # Each pair behind the cause with its state and since when it waits (issue 9).
    assert (
        "It explains 2 waiting pairs:\n• mobile-app → orders-api · never verified · waiting since"
        in text
    )
    assert "\n• web-app → orders-api · never verified · waiting since" in text
    assert "admin-portal → billing-api" in text
    assert text.count("web-app → orders-api") == 1  # folded under its cause, not listed again
    assert buttons(alert) == {
        kit.TEST_RUN: ORDERS_HOOK,
        kit.ROTATION_START: ORDERS_HOOK,
        kit.ALERT_ACK: buttons(alert)[kit.ALERT_ACK],
        kit.ALERT_SILENCE: buttons(alert)[kit.ALERT_SILENCE],
    }
    assert "401" in alert.text  # the notification says the cause


# The broker itself ----------------------------------------------------------------------------


async def test_a_broker_unreadable_for_30_minutes_is_one_alert_and_pair_alerts_hold_still(
    bot: Running, broker: SampleBroker, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [pairs] = alerts(slack)
    timeline.verify(BILLING)  # the broker would say so, if it answered
    broker.inject(".*", Fault(503, times=None))

    await evaluate(bot, clock, 6)
    assert len(alerts(slack)) == 1
    await evaluate(bot, clock, 3)

    down = [m for m in alerts(slack) if m.ts != pairs.ts]
    assert len(down) == 1
    assert "The Pact Broker cannot be read" in shown(down[0])
    assert "503" in shown(down[0])
    assert "Resolved" not in shown(slack.messages[(CHANNEL, pairs.ts)])  # not heard ≠ fresh
    await bot.command("status")  # still answers, and says what it cannot reach
    assert "The Pact Broker cannot be read" in await answer(bot, 1)

    broker.heal()
    await evaluate(bot, clock)

    assert "answers again" in shown(slack.messages[(CHANNEL, down[0].ts)])
    assert "Resolved" in shown(slack.messages[(CHANNEL, pairs.ts)])
    assert len(alerts(slack)) == 2


@pytest.mark.parametrize(
    "fault",
    [
        Fault(500, times=None),
        Fault.html(times=None),
        Fault.garbage(times=None),
        Fault(delay=0.5, times=None),  # slower than the bot waits: a timeout
        Fault(disconnect=True, times=None),
    ],
    ids=["500", "html", "garbage", "timeout", "disconnect"],
)
async def test_a_broker_failing_for_less_than_30_minutes_raises_nothing_and_loses_nothing(
    fault: Fault,
    bot: Running,
    broker: SampleBroker,
    slack: SampleSlack,
    timeline: Timeline,
    clock: Clock,
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)

    broker.inject("/dashboard", fault)
    await evaluate(bot, clock, 5)
    broker.heal()
    await evaluate(bot, clock, 2)

    assert alerts(slack) == [alert]  # no broker alert, no second pair alert
    timeline.verify(BILLING)
    await evaluate(bot, clock)
    assert "Resolved" in shown(alerts(slack)[0])


# Reminders and acknowledgements ------------------------------------------------------------


async def test_a_reminder_every_24h_until_acknowledged_then_none_for_24h(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    fired = NOW + timedelta(minutes=30)

    clock.now = fired + timedelta(hours=23, minutes=55)
    await evaluate(bot, clock)
    assert thread(slack, alert) == []
    await evaluate(bot, clock)  # 24h after it fired
    [reminder] = thread(slack, alert)
    assert "Still firing after 24h" in reminder
    assert "nobody acknowledged it" in reminder

    await bot.click(kit.ALERT_ACK, buttons(alert)[kit.ALERT_ACK], user=ONCALL_USER)
    assert "Acknowledged" in await answer(bot, 1)
    assert f"acknowledged by <@{ONCALL_USER}>" in shown(slack.messages[(CHANNEL, alert.ts)])
    acked = clock.now

    clock.now = acked + timedelta(hours=23, minutes=55)
    await evaluate(bot, clock)
    assert len(thread(slack, alert)) == 1  # held for the acknowledgement's 24h
    clock.now = acked + timedelta(hours=24)
    await evaluate(bot, clock)
    assert len(thread(slack, alert)) == 2  # and it reminds again after
    assert f"acknowledged by <@{ONCALL_USER}>" in thread(slack, alert)[1]


# Buttons --------------------------------------------------------------------------------------


async def test_a_double_click_an_old_alert_or_a_stranger_changes_nothing_and_says_why(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    alert_id = buttons(alert)[kit.ALERT_ACK]

    await bot.click(kit.ALERT_ACK, alert_id, user=STRANGER)
    assert f"Only members of <!subteam^{ONCALL_GROUP}>" in await answer(bot, 1)
    assert slack.messages[(CHANNEL, alert.ts)].edits == 0

    await bot.click(kit.ALERT_ACK, alert_id, user=ONCALL_USER)
    assert "Acknowledged" in await answer(bot, 2)
    await bot.click(kit.ALERT_ACK, alert_id, user=ONCALL_USER)
    assert "You acknowledged this alert already" in await answer(bot, 3)
    assert slack.messages[(CHANNEL, alert.ts)].edits == 1

    await bot.click(kit.ALERT_SILENCE, alert_id, user=STRANGER)
    assert "Only members of" in await answer(bot, 4)

    timeline.verify(BILLING)
    await evaluate(bot, clock)
    edits = slack.messages[(CHANNEL, alert.ts)].edits
    await bot.click(kit.ALERT_ACK, alert_id, user=ADMIN)
    assert "This alert has resolved already" in await answer(bot, 5)
    await bot.click(kit.ALERT_SILENCE, alert_id, user=ADMIN)
    assert "This alert has resolved already" in await answer(bot, 6)
    await bot.click(kit.ALERT_ACK, "0a1b2c3d4e5f", user=ADMIN)
    assert "no longer kept" in await answer(bot, 7)
    assert slack.messages[(CHANNEL, alert.ts)].edits == edits
    assert await bot.bot.services.alerter.silences() == []


async def test_silence_24h_from_the_alert_quiets_its_pairs_and_shows_it(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)

    await bot.click(kit.ALERT_SILENCE, buttons(alert)[kit.ALERT_SILENCE], user=ONCALL_USER)
    said = await answer(bot, 1)
    assert "every pair" not in said
    assert "admin-portal → billing-api" in said
    assert f"by <@{ONCALL_USER}>" in said
    assert ":mute: silenced until" in shown(slack.messages[(CHANNEL, alert.ts)])
    await bot.click(kit.ALERT_SILENCE, buttons(alert)[kit.ALERT_SILENCE], user=ONCALL_USER)
    assert "silenced already" in await answer(bot, 2)

    await evaluate(bot, clock, 1, every=60 * 24)
    assert thread(slack, alert) == []  # silenced: no reminder


# Routing ---------------------------------------------------------------------------------------


async def test_routes_send_pairs_to_their_channel_and_only_its_on_call_may_press(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(ORDERS, BILLING)
    await evaluate(bot, clock, 7)

    [orders] = alerts(slack, ORDERS_CHANNEL)
    [billing] = alerts(slack, CHANNEL)
    assert "orders-api" in shown(orders)
    assert "billing-api" not in shown(orders)
    assert "billing-api" in shown(billing)
    assert "orders-api" not in shown(billing)

    await bot.click(
        kit.ALERT_ACK, buttons(orders)[kit.ALERT_ACK], user=ONCALL_USER, channel=ORDERS_CHANNEL
    )
    assert "Only members of <!subteam^S0ORDERS> and" in await answer(bot, 1)
    await bot.click(kit.ALERT_ACK, buttons(billing)[kit.ALERT_ACK], user=ORDERS_ONCALL)
    assert f"Only members of <!subteam^{ONCALL_GROUP}> and" in await answer(bot, 2)
    await bot.click(
        kit.ALERT_ACK, buttons(orders)[kit.ALERT_ACK], user=ORDERS_ONCALL, channel=ORDERS_CHANNEL
    )
    assert "Acknowledged" in await answer(bot, 3)
    await bot.click(kit.ALERT_ACK, buttons(billing)[kit.ALERT_ACK], user=ADMIN)
    assert "Acknowledged" in await answer(bot, 4)


# The digest ------------------------------------------------------------------------------------


async def test_the_digest_has_a_line_per_firing_alert_with_its_age_and_who_acknowledged(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(ORDERS, BILLING)
    await evaluate(bot, clock, 7)
    [orders] = alerts(slack, ORDERS_CHANNEL)
    await bot.click(
        kit.ALERT_ACK, buttons(orders)[kit.ALERT_ACK], user=ORDERS_ONCALL, channel=ORDERS_CHANNEL
    )
    await answer(bot, 1)
    clock.advance(hours=2)

    await bot.bot.services.digest.post_here(CHANNEL)

    digest = [m for m in slack.in_channel(CHANNEL) if "Pact freshness" in shown(m)][-1]
    text = shown(digest)
    assert "Alert in <#C0ORDERS>: 1 pair, firing for 2h" in text
    assert f"acknowledged by <@{ORDERS_ONCALL}>" in text
    assert "Alert in <#C0DIGEST>: 1 pair, firing for 2h" in text
