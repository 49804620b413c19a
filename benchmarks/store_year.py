"""A year of pactbot on the injected clock: does the store stay the same size?

The bot is assembled as `pactbot serve` does, on the sample broker and the sample Slack (both on
loopback, in this process), once on SQLite and once on a Redis of its own. Simulated time moves
an hour at a time for 365 days; each hour the leader evaluates the alerts (`--evaluations-per-hour`
times) and sweeps the store, and each day the digest is posted at 09:00. The story, seeded:

- pairs go stale every day (a publication two days old nobody verified) and are verified the
  next day, so alerts fire and resolve all year;
- the first provider's token dies and is fixed again every few days (webhook incidents);
- 1,000 silences over the year (spans of an hour to three days) and 200 rotations (each started
  and cancelled, their audit lines kept).

At the end of each simulated month it prints what the store holds (audit entries, silences,
alerts, rotations, digest records) and its size: the SQLite file (with its WAL) and the pages
in use, Redis' `used_memory`. The retention is the config's default, except the audit log's:
90 days instead of 365, so that the year is long enough to show every kind past its window.

    python benchmarks/store_year.py [--days 365] [--evaluations-per-hour 1] [--store both]

Exits 1 unless, on each store, the size in the last month is within 10% (and 64 KiB) of the size
in the first month after every window has passed (month 4).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import redis.asyncio

from bot.config import Config
from bot.domain.rotation import Press
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import scaled_world
from bot.sample.world import GITHUB_ACCEPTED, GITHUB_BAD_CREDENTIALS, World
from bot.service.alert_records import ALERTS, SILENCES
from bot.service.rotation_records import AUDIT, ROTATIONS
from bot.service.runtime import Bot, assemble
from bot.settings import BrokerSettings, SlackSettings
from bot.store import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.bot import Clock
from tests.helpers.redis_server import RedisServer

START = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
PAIRS, PROVIDERS = 60, 6
SILENCES_A_YEAR, ROTATIONS_A_YEAR = 1000, 200
CHANNEL, ONCALL = "C0DIGEST", "U0ONCALL"
MONTH = 30  # days
FLAT_FROM_MONTH = 4  # every window (the audit log's 90 days the longest) has passed by then
FLAT_ALLOWED, FLAT_SLACK = 0.10, 64 * 1024


@dataclass
class Tally:
    silences: int = 0
    rotations: int = 0
    digests: int = 0
    evaluations: int = 0
    sizes: list[int] = field(default_factory=list)


async def no_wait(seconds: float) -> None:
    """Slack's pacing between posts is not what this measures."""


def churn(
    world: World, rng: random.Random, now: datetime, yesterday: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Verify yesterday's stale pairs; three others publish a change nobody verifies."""
    with world.lock:
        for pair in yesterday:
            world.verify(world.latest(*pair), at=now)
        chosen = rng.sample(range(PAIRS), 3)
        per_provider = PAIRS // PROVIDERS
        pairs = [
            (f"consumer-{index % per_provider:04d}", f"provider-{index // per_provider:03d}")
            for index in chosen
        ]
        for pair in pairs:
            version = f"{now:%Y%m%d}.{rng.randrange(10**6)}"
            world.publish(*pair, version, at=now - timedelta(days=2), content=version)
    return pairs


async def one_day(
    bot: Bot,
    world: World,
    clock: Clock,
    rng: random.Random,
    tally: Tally,
    args: argparse.Namespace,
    stale: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    services = bot.services
    day = clock.now
    stale = churn(world, rng, day, stale)
    if day.toordinal() % 5 == 0:  # the token dies, or is fixed, every five days
        hook = world.webhooks["hook0000AbCdEfGhIjKlMn"]
        hook.target = (
            GITHUB_ACCEPTED if hook.target is GITHUB_BAD_CREDENTIALS else GITHUB_BAD_CREDENTIALS
        )
    silences_today = SILENCES_A_YEAR // 365 + (rng.random() < (SILENCES_A_YEAR % 365) / 365)
    rotate_today = rng.random() < ROTATIONS_A_YEAR / 365
    for hour in range(24):
        clock.now = day + timedelta(hours=hour)
        await bot.scheduler.renew_lease()
        for _ in range(args.evaluations_per_hour):
            await services.alerter.evaluate()
            tally.evaluations += 1
        if hour == 9:
            await services.digest.daily()
            tally.digests += 1
        if hour == 10:
            for _ in range(silences_today):
                pair = rng.randrange(PAIRS)
                provider = f"provider-{pair // (PAIRS // PROVIDERS):03d}"
                span = timedelta(hours=rng.randint(1, 72))
                made = services.alerter.new_silence(
                    provider=provider,
                    consumer=None,
                    span=span,
                    reason="a release freeze",
                    by=ONCALL,
                )
                await services.alerter.keep(made)
                tally.silences += 1
        if hour == 11 and rotate_today:
            report = await services.monitor.current()
            webhook = rng.choice(report.webhooks).webhook
            started = await services.rotations.start(webhook, (), ONCALL, CHANNEL)
            await services.rotations.press(
                started.rotation.id, int(started.rotation.stage), Press.CANCEL, ONCALL
            )
            tally.rotations += 1
        await bot.scheduler.sweep()
    clock.now = day + timedelta(days=1)
    return stale


async def holdings(store: Store) -> str:
    found = await store.get_many([ALERTS, SILENCES, ROTATIONS])
    alerts, silences, rotations = (found.get(key) for key in (ALERTS, SILENCES, ROTATIONS))
    return (
        f"audit {len(await store.audit(AUDIT, limit=100_000)):5d}, "
        f"silences {len(silences.value['silences']) if silences else 0:3d}, "
        f"alerts {len(alerts.value['alerts']) if alerts else 0:3d}, "
        f"rotations {len(rotations.value['open']) if rotations else 0:2d}, "
        f"digest records {len(await store.keys('digest:')):3d}"
    )


@asynccontextmanager
async def opened(
    kind: str, scratch: Path, clock: Clock
) -> AsyncIterator[tuple[Store, RedisServer | None]]:
    if kind == "sqlite":
        yield SqliteStore(scratch / "pactbot.sqlite3", clock=clock), None
        return
    server = RedisServer(scratch / "redis")
    (scratch / "redis").mkdir()
    server.start()
    try:
        yield RedisStore(redis.asyncio.Redis.from_url(server.url), clock=clock), server
    finally:
        server.stop()


def size(kind: str, scratch: Path, server: RedisServer | None) -> tuple[int, str]:
    """The store's size in bytes, and how it is shown."""
    if server is not None:
        with redis.Redis.from_url(server.url) as client:
            used = int(client.info("memory")["used_memory"])
        return used, f"Redis used_memory {used / 1024:8.1f} KiB"
    path = scratch / "pactbot.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        pages, free, page = (
            db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_count", "freelist_count", "page_size")
        )
    in_use = (pages - free) * page
    wal = path.with_name(path.name + "-wal")
    on_disk = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return (
        in_use,
        f"SQLite file and WAL {on_disk / 1024:8.1f} KiB, pages in use {in_use / 1024:8.1f} KiB",
    )


async def a_year(kind: str, args: argparse.Namespace) -> bool:
    clock, rng = Clock(START), random.Random(args.seed)
    world = scaled_world(START, pairs=PAIRS, webhooks=PROVIDERS, stale=0)
    world.clock = clock
    config = Config.model_validate(
        {"digest": {"channel": CHANNEL, "schedule": "0 9 * * *"}, "retention": {"audit": "90d"}}
    )
    tally = Tally()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as directory,
        SampleBroker(world) as broker,
        SampleSlack(clock=clock) as slack,
    ):
        scratch = Path(directory)
        async with (
            opened(kind, scratch, clock) as (store, server),
            assemble(
                config=config,
                broker=BrokerSettings(base_url=broker.url),
                slack=SlackSettings(
                    bot_token="xoxb-test", signing_secret="0" * 32, api_base_url=slack.url + "/api/"
                ),
                store=store,
                github_api_url="https://api.github.com",
                clock=clock,
                sleep=no_wait,
                holder="benchmark",
            ) as bot,
        ):
            stale: list[tuple[str, str]] = []
            for number in range(1, args.days + 1):
                stale = await one_day(bot, world, clock, rng, tally, args, stale)
                if number % MONTH == 0 or number == args.days:
                    used, shown = size(kind, scratch, server)
                    tally.sizes.append(used)
                    print(
                        f"{kind:6s} day {number:3d}: {shown}; {await holdings(store)}", flush=True
                    )
    print(
        f"{kind:6s} {tally.evaluations} evaluations, {tally.digests} digests, "
        f"{tally.silences} silences, {tally.rotations} rotations "
        f"in {time.monotonic() - started:.0f} s"
    )
    if len(tally.sizes) <= FLAT_FROM_MONTH:
        days = (FLAT_FROM_MONTH + 1) * MONTH
        print(f"{kind:6s} flat after the retention window: not measured (run {days} days or more)")
        return True
    base, last = tally.sizes[FLAT_FROM_MONTH - 1], tally.sizes[-1]
    flat = last <= base * (1 + FLAT_ALLOWED) + FLAT_SLACK
    print(
        f"{kind:6s} flat after the retention window: {'met' if flat else 'MISSED'} "
        f"(month {FLAT_FROM_MONTH}: {base / 1024:.1f} KiB, last: {last / 1024:.1f} KiB)"
    )
    return flat


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--evaluations-per-hour", type=int, default=1)
    parser.add_argument("--store", choices=("sqlite", "redis", "both"), default="both")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    kinds = ("sqlite", "redis") if args.store == "both" else (args.store,)
    results = [asyncio.run(a_year(kind, args)) for kind in kinds]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
