"""The daily digest: once per day per channel, across restarts, failures and replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.sample.broker import Fault, SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import demo_world, scaled_world
from bot.sample.world import GITHUB_ACCEPTED, Target, World
from bot.service.scheduler import due_today
from bot.store import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers.bot import CHANNEL, Clock, Running, running_bot
from tests.integration.test_slack_command import texts

# Tuesday 1 December 2026, 10:00 in Berlin: the 09:00 digest is due.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")

Bots = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture
def broker(start_broker: StartBroker) -> SampleBroker:
    return start_broker(demo_world(NOW))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def bots(broker: SampleBroker, slack: SampleSlack, tmp_path: Path, clock: Clock) -> Bots:
    """Start bot processes (replicas) that share one SQLite file."""

    def start(
        holder: str = "replica-1", store: Store | None = None
    ) -> AbstractAsyncContextManager[Running]:
        chosen = store or SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
        return running_bot(broker=broker, slack=slack, store=chosen, clock=clock, holder=holder)

    return start


async def leading(bot: Running) -> Running:
    await bot.bot.scheduler.renew_lease()
    assert bot.bot.scheduler.leader
    return bot


def digests(slack: SampleSlack) -> list[str]:
    return [message.ts for message in slack.in_channel(CHANNEL) if message.thread_ts is None]


async def test_the_leader_posts_the_digest_once_however_often_it_runs(
    bots: Bots, slack: SampleSlack
) -> None:
    async with bots() as bot:
        await leading(bot)
        await bot.bot.scheduler.run_digest()
        await bot.bot.scheduler.run_digest()

    assert len(digests(slack)) == 1
    first = slack.calls_to("chat.postMessage")[0].body
    assert "Pact freshness · Tue 1 Dec 2026" in texts(first)
    assert "1 stale" in first["text"]


async def test_a_restart_does_not_post_the_days_digest_again(
    bots: Bots, slack: SampleSlack
) -> None:
    async with bots() as bot:
        await leading(bot)
        await bot.bot.scheduler.run_digest()
    async with bots() as restarted:
        await leading(restarted)  # becoming leader catches up a missed digest: not this one
        await restarted.bot.scheduler.run_digest()

    assert len(digests(slack)) == 1


async def test_a_replica_that_is_not_the_leader_posts_nothing(
    bots: Bots, slack: SampleSlack, clock: Clock
) -> None:
    clock.now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, before the digest
    async with bots("replica-1") as first, bots("replica-2") as second:
        await leading(first)
        await second.bot.scheduler.renew_lease()
        await second.bot.scheduler.run_digest()

        assert not second.bot.scheduler.leader
        assert digests(slack) == []
        await first.bot.scheduler.run_digest()
        assert len(digests(slack)) == 1


async def test_a_restarted_process_is_not_taken_for_the_one_it_replaces(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path, clock: Clock
) -> None:
    # Both run in this process: the same host name and PID, as a restarted container's PID 1.
    def store() -> SqliteStore:
        return SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)

    async with running_bot(
        broker=broker, slack=slack, store=store(), clock=clock, holder=None
    ) as old:
        await leading(old)
        async with running_bot(
            broker=broker, slack=slack, store=store(), clock=clock, holder=None
        ) as new:
            await new.bot.scheduler.renew_lease()

            assert not new.bot.scheduler.leader  # the old one's lease has not expired yet


async def test_the_next_day_gets_its_own_digest(
    bots: Bots, slack: SampleSlack, clock: Clock
) -> None:
    async with bots() as bot:
        await leading(bot)
        await bot.bot.scheduler.run_digest()
        clock.advance(days=1)
        await bot.bot.scheduler.renew_lease()
        await bot.bot.scheduler.run_digest()

    assert len(digests(slack)) == 2


async def test_a_broker_that_cannot_be_read_is_said_once_and_the_notice_becomes_the_digest(
    bots: Bots, slack: SampleSlack, broker: SampleBroker, clock: Clock
) -> None:
    broker.inject("^/dashboard$", Fault.html(times=None))
    async with bots() as bot:
        await leading(bot)
        first = await bot.bot.services.digest.daily()
        second = await bot.bot.services.digest.daily()
        [notice] = slack.in_channel(CHANNEL)
        said = texts(slack.calls_to("chat.postMessage")[0].body)
        broker.heal()  # the broker answers again
        clock.advance(minutes=30)
        await bot.bot.scheduler.renew_lease()
        recovered = await bot.bot.services.digest.daily()

    assert first.retry_at == NOW + timedelta(minutes=30)
    assert second.retry_at is not None
    assert (
        "The Pact Broker could not be read for today's digest: unexpected answer from GET /dashboard"
        in said
    )
    assert "all fine" not in said.lower()
    assert recovered.said == "posted"
    assert [message.ts for message in slack.in_channel(CHANNEL)] == [notice.ts]
    updated = slack.calls_to("chat.update")[0].body
    assert updated["ts"] == notice.ts
    assert "1 stale" in updated["text"]


async def test_the_last_retry_of_the_day_is_not_scheduled_for_tomorrow(
    bots: Bots, broker: SampleBroker, clock: Clock
) -> None:
    broker.inject("^/dashboard$", Fault.html(times=None))
    clock.now = datetime(2026, 12, 1, 22, 45, tzinfo=UTC)  # 23:45 in Berlin
    async with bots() as bot:
        await leading(bot)
        outcome = await bot.bot.services.digest.daily()

    assert outcome.retry_at is None


async def test_a_channel_the_bot_cannot_post_in_is_reported_and_retried(
    bots: Bots, slack: SampleSlack
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel")
    async with bots() as bot:
        failed = await bot.bot.services.digest.daily()
        problems = bot.bot.services.health.report()["problems"]
        posted = await bot.bot.services.digest.daily()

    assert "not_in_channel" in failed.said
    assert failed.retry_at is not None
    assert problems == [
        "cannot post to C0DIGEST: Slack refused chat.postMessage (not_in_channel): invite the bot "
        "to the channel (/invite @pactbot)"
    ]
    assert posted.said == "posted"
    assert len(digests(slack)) == 1


async def test_a_large_digest_continues_in_its_thread_within_slacks_limits(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path, clock: Clock
) -> None:
    broker = start_broker(scaled_world(NOW, pairs=5000, webhooks=20, stale=50))
    store = SqliteStore(tmp_path / "large.sqlite3", clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        await leading(bot)
        await bot.bot.scheduler.run_digest()

    posts = slack.calls_to("chat.postMessage")
    [top] = digests(slack)
    assert len(posts) > 1
    assert all(len(post.body["blocks"]) <= 50 for post in posts)
    assert all(post.body.get("thread_ts") == top for post in posts[1:])
    assert "more sections in the thread" in texts(posts[0].body)
    everything = "\n".join(texts(post.body) for post in posts)
    assert everything.count("consumer-") >= 5000


async def test_a_thread_reply_that_failed_is_sent_on_the_retry_and_nothing_twice(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path, clock: Clock
) -> None:
    broker = start_broker(scaled_world(NOW, pairs=3000, webhooks=20, stale=50))
    store = SqliteStore(tmp_path / "large.sqlite3", clock=clock)
    slack.fail_next("chat.postMessage", status=500, after=1)  # the digest goes out, a reply not
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        first = await bot.bot.services.digest.daily()
        broker.inject("^/dashboard$", Fault.html(times=None))  # the retry needs no broker
        clock.advance(minutes=30)
        second = await bot.bot.services.digest.daily()
        third = await bot.bot.services.digest.daily()

    [top] = digests(slack)
    replies = [message for message in slack.in_channel(CHANNEL) if message.thread_ts]
    failed, resent = slack.calls_to("chat.postMessage")[1:]
    assert first.said.startswith("posted, but 1 thread replies are not sent yet: ")
    assert first.retry_at == NOW + timedelta(minutes=30)
    assert (second.said, third.said) == ("posted", "already posted or being posted")
    assert [reply.thread_ts for reply in replies] == [top]
    assert "part 2 of 2" in texts(replies[0].blocks)
    assert (resent.body["blocks"], resent.body["text"]) == (
        failed.body["blocks"],
        failed.body["text"],
    )


async def test_a_broker_that_lists_no_pairs_gets_a_digest_naming_the_setting_to_check(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path, clock: Clock
) -> None:
    broker = start_broker(World(clock=clock))  # a wrong base URL or path prefix reads like this
    store = SqliteStore(tmp_path / "empty.sqlite3", clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        await bot.bot.services.digest.daily()
        status = await bot.command("status")  # answered in the ack: the digest just read it

    said = texts(slack.calls_to("chat.postMessage")[0].body)
    assert (
        "The Pact Broker lists no pairs*: check PACT_BROKER_BASE_URL, with the path prefix" in said
    )
    assert "Nothing waits too long" not in said
    assert "The Pact Broker lists no pairs*: check PACT_BROKER_BASE_URL" in texts(status.json())


async def test_becoming_leader_after_the_digest_time_posts_the_missed_digest(
    bots: Bots, slack: SampleSlack
) -> None:
    async with bots() as bot:
        await bot.bot.scheduler.renew_lease()  # leader now, at 10:00 in Berlin on a Tuesday

    assert len(digests(slack)) == 1


def test_the_digest_is_due_only_on_scheduled_days_after_its_time() -> None:
    weekdays = "0 9 * * 1-5"

    assert due_today(weekdays, BERLIN, NOW) == datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
    assert due_today(weekdays, BERLIN, datetime(2026, 12, 1, 7, 59, tzinfo=UTC)) is None
    assert due_today(weekdays, BERLIN, datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) is None  # Saturday


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_with_redis_one_replica_leads_and_another_takes_over_within_a_minute(
    broker: SampleBroker, slack: SampleSlack, clock: Clock, redis_url: str, redis_prefix: str
) -> None:
    def store() -> RedisStore:
        return RedisStore(Redis.from_url(redis_url), prefix=redis_prefix, clock=clock)

    async with (
        running_bot(broker=broker, slack=slack, store=store(), clock=clock, holder="a") as first,
        running_bot(broker=broker, slack=slack, store=store(), clock=clock, holder="b") as second,
    ):
        a, b = first.bot.scheduler, second.bot.scheduler
        await a.renew_lease()
        await b.renew_lease()
        assert (a.leader, b.leader) == (True, False)
        # The leader dies: it renews no more. Within a minute the other replica leads.
        clock.advance(seconds=46)
        await b.renew_lease()
        assert b.leader
        await a.run_digest()  # a stale leader that wakes up: the store still says posted once
        await b.run_digest()

    assert len(digests(slack)) == 1


async def test_a_digest_whose_answer_was_lost_is_found_on_the_retry_not_posted_again(
    broker: SampleBroker, tmp_path: Path, clock: Clock
) -> None:
    with SampleSlack(clock=clock) as slack:  # its message times follow the bot's clock
        slack.fail_next("chat.postMessage", status=500, done=True)  # posted; the answer is lost
        store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
        async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
            first = await bot.bot.services.digest.daily()
            clock.advance(minutes=30)
            second = await bot.bot.services.digest.daily()

        assert first.retry_at == NOW + timedelta(minutes=30)
        assert second.said == "posted"
        assert len(digests(slack)) == 1


async def test_a_replica_that_died_posting_the_digest_is_not_posted_for_twice(
    broker: SampleBroker, tmp_path: Path, clock: Clock
) -> None:
    with SampleSlack(clock=clock) as slack:
        store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
        async with running_bot(
            broker=broker, slack=slack, store=store, clock=clock, holder="dead"
        ) as dying:
            await dying.bot.services.digest.daily()
            # As if it died between Slack's answer and its own record: the day still "tried".
            key = f"digest:{CHANNEL}:2026-12-01"
            found = await store.get(key)
            assert found is not None
            value = {k: v for k, v in found.value.items() if k in ("tried_at", "at")}
            await store.put(
                key, value | {"state": "claimed", "holder": "dead"}, expected=found.version
            )
        clock.advance(minutes=11)
        taking_over = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
        async with running_bot(
            broker=broker, slack=slack, store=taking_over, clock=clock, holder="next"
        ) as next_one:
            outcome = await next_one.bot.services.digest.daily()

        assert outcome.said == "posted"
        assert len(digests(slack)) == 1


@pytest.mark.parametrize(
    ("day", "linted"),
    [
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), True),  # Monday: the week's first digest
        (NOW, False),  # Tuesday
    ],
)
async def test_the_first_digest_of_the_week_carries_the_webhook_lint(
    broker: SampleBroker,
    slack: SampleSlack,
    tmp_path: Path,
    day: datetime,
    linted: bool,
) -> None:
    orders = broker.world.webhooks["kJE42wcSbKwfb0QJ3V9sBg"]
    orders.events = ["contract_published"]
    clock = Clock(day)
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        await leading(bot)
        await bot.bot.scheduler.run_digest()

    shown = "\n".join(texts(call.body) for call in slack.calls_to("chat.postMessage"))
    assert ("*Weekly webhook lint*: 1 to fix" in shown) is linted
    assert ("it listens to contract_published: it fires on every publish" in shown) is linted


async def test_a_token_the_last_test_said_expires_soon_is_in_the_weekly_lint(
    broker: SampleBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    orders = broker.world.webhooks["kJE42wcSbKwfb0QJ3V9sBg"]
    expiring = {"github-authentication-token-expiration": "2026-12-05 10:00:00 UTC"}
    orders.target = Target(204, {**GITHUB_ACCEPTED.headers, **expiring})
    clock = Clock(monday - timedelta(days=3))  # the Test ran on Friday
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        await bot.bot.services.runner.run("kJE42wcSbKwfb0QJ3V9sBg", "U0ONCALL")
        clock.now = monday
        await leading(bot)
        await bot.bot.scheduler.run_digest()

    shown = "\n".join(texts(call.body) for call in slack.calls_to("chat.postMessage"))
    assert "GitHub says the webhook's token expires on 2026-12-05, in 5d" in shown
