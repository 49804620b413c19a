"""`/pact silence`, `unsilence` and `silences`: who, why, until when; quiet, but still shown."""

from __future__ import annotations

import pytest

from bot.sample.slack import SampleSlack
from tests.helpers.alert_world import BILLING, ORDERS, SEARCH, Timeline
from tests.helpers.alerting import (
    ORDERS_ONCALL,
    alerts,
    answer,
    evaluate,
    shown,
)
from tests.helpers.bot import CHANNEL, ONCALL_GROUP, STRANGER, Clock, Running

# Silences ------------------------------------------------------------------------------------


async def test_a_silence_keeps_a_pair_quiet_until_it_ends_and_the_digest_still_shows_it(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING, SEARCH)
    await bot.bot.services.monitor.refresh()

    await bot.command("silence admin-portal/billing-api 2h release freeze")
    assert "Silenced" in await answer(bot, 1)  # to the person who asked
    said = await answer(bot, 2)  # and to the whole channel
    assert "admin-portal → billing-api" in said
    assert "release freeze" in said
    assert (await bot.slack.wait_for("respond", 2))[1].body["response_type"] == "in_channel"

    await evaluate(bot, clock, 7)
    [alert] = alerts(slack)
    assert "search-api" in shown(alert)
    assert "billing-api" not in shown(alert)

    await bot.command("silences")
    listed = await answer(bot, 3)
    assert "admin-portal → billing-api" in listed
    assert "release freeze" in listed

    await bot.bot.scheduler.renew_lease()
    await bot.bot.services.digest.post_here(CHANNEL)
    digest = [m for m in slack.in_channel(CHANNEL) if "Pact freshness" in shown(m)][-1]
    assert ":mute: silenced until" in shown(digest)
    assert "Alert in <#C0DIGEST>: 1 pair, firing for" in shown(digest)

    await evaluate(bot, clock, 18)  # 2h after the silence began: it has ended by itself
    [alert] = alerts(slack)
    assert "billing-api" in shown(slack.messages[(CHANNEL, alert.ts)])
    await bot.command("silences")
    assert "No silence in force" in await answer(bot, 4)


async def test_unsilence_ends_a_silence_now(
    bot: Running, slack: SampleSlack, timeline: Timeline, clock: Clock
) -> None:
    timeline.stale(BILLING)
    await bot.bot.services.monitor.refresh()
    await bot.command("silence billing-api 1d")
    await answer(bot, 2)
    [made] = await bot.bot.services.alerter.silences()
    await evaluate(bot, clock, 7)
    assert alerts(slack) == []

    await bot.command(f"unsilence {made.id}")
    assert f"ended the silence of every pair of *billing-api* (`{made.id}`)" in await answer(bot, 4)
    await evaluate(bot, clock)

    assert len(alerts(slack)) == 1


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "silence billing-apy 2h",
            "the broker knows no provider or consumer/provider pair “billing-apy”; did you mean",
        ),
        ("silence billing-api", "say for how long"),
        ("silence billing-api 90d", "a silence lasts at most 30d"),
        ("silence", "say what to silence"),
        ("unsilence s-123456", "no silence `s-123456` is in force"),
        ("unsilence", "say which silence"),
    ],
)
async def test_a_wrong_silence_says_what_was_wrong_and_silences_nothing(
    typed: str, said: str, bot: Running, timeline: Timeline
) -> None:
    timeline.stale(BILLING)
    await bot.bot.services.monitor.refresh()

    await bot.command(typed)

    assert said in await answer(bot, 1)
    assert await bot.bot.services.alerter.silences() == []


async def test_someone_not_on_call_may_not_silence(bot: Running, timeline: Timeline) -> None:
    timeline.stale(BILLING)
    await bot.bot.services.monitor.refresh()

    await bot.command("silence billing-api 2h", user=STRANGER)

    assert "Only members of" in await answer(bot, 1)
    assert await bot.bot.services.alerter.silences() == []


async def test_the_on_call_of_a_route_may_silence_its_pairs_and_no_others(
    bot: Running, timeline: Timeline
) -> None:
    timeline.stale(ORDERS, BILLING)
    await bot.bot.services.monitor.refresh()

    await bot.command("silence orders-api 2h", user=ORDERS_ONCALL)
    assert "every pair of *orders-api*" in await answer(bot, 2)
    await bot.command("silence billing-api 2h", user=ORDERS_ONCALL)
    assert f"Only members of <!subteam^{ONCALL_GROUP}>" in await answer(bot, 3)
    assert [s.provider for s in await bot.bot.services.alerter.silences()] == ["orders-api"]
