"""What one alert evaluation costs at 5,000 pairs, and whether memory stays flat over 1,000.

The sample broker (5,000 pairs, 20 webhooks, 2% of the pairs stale behind a dead GitHub token)
and the sample Slack run in a process of their own, so that their work is not counted. This
process assembles the bot as `pactbot serve` does, on a Redis of its own (a redis-server on a
free loopback port), and runs the leader's evaluation again and again, the clock moving five
minutes each time, as `alerts.check_interval` would. Every tenth evaluation the broker changes:
five stale pairs are verified (they leave the alert) and five more go stale (they join it). Per
evaluation it measures the bot's CPU time (`time.process_time`), the Redis round trips (counted
on the connection; a pipeline is one) and the commands Redis ran (`INFO commandstats`); and the
process's RSS at the start and end.

    python benchmarks/alerts_scale.py [--evaluations 1000]

Exits 1 when a target is missed: < 250 ms CPU and ≤ 10 round trips per evaluation, RSS flat.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import redis
import redis.asyncio

from bot.config import Config
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import scaled_world
from bot.sample.world import World
from bot.service.collector import tune_collector
from bot.service.runtime import assemble
from bot.settings import BrokerSettings, SlackSettings
from bot.store.redis import RedisStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers.redis_server import RedisServer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PAIRS, WEBHOOKS, STALE = 5000, 20, 100  # 2% stale
CPU_TARGET_MS, ROUND_TRIPS_TARGET = 250, 10
RSS_GROWTH_ALLOWED_MB = 10  # "flat": what allocator noise and caches warming up may add


class CountingConnection(redis.asyncio.Connection):
    """A Redis connection that counts what it sends: one command, or one whole pipeline."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def serve_fakes(pipe: Connection) -> None:
    """In a process of its own: the sample broker and Slack; the pipe says when the broker
    changes, and when to stop."""
    world = scaled_world(NOW, pairs=PAIRS, webhooks=WEBHOOKS, stale=STALE)
    with SampleBroker(world) as broker, SampleSlack() as slack:
        pipe.send((broker.url, slack.url))
        while (round_ := pipe.recv()) != "stop":
            churn(world, round_)
            pipe.send("changed")
        pipe.send(len(broker.requests))


def churn(world: World, round_: int) -> None:
    """Five stale pairs of the dead token's provider verified, five of its fresh ones stale."""
    with world.lock:
        for number in range(5):
            turn = (round_ * 5 + number) % STALE
            leaving = (f"consumer-{turn:04d}", "provider-000")
            joining = (f"consumer-{STALE + turn:04d}", "provider-000")
            world.verify(world.latest(*leaving), at=NOW)
            version = f"2.{round_}.{number}"
            world.publish(*joining, version, at=NOW - timedelta(days=2), content=version)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def commands_run(server: redis.Redis) -> int:
    """Every command Redis ran so far, bar the INFO calls that ask."""
    stats: dict[str, dict[str, int]] = server.info("commandstats")
    return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_info")


async def no_wait(seconds: float) -> None:
    """Slack's pacing between posts is not what this measures."""


async def evaluate_many(
    broker_url: str, slack_url: str, redis_url: str, evaluations: int, fakes: Connection
) -> dict[str, Any]:
    clock = Clock()
    pool = redis.asyncio.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    store = RedisStore(redis.asyncio.Redis(connection_pool=pool), clock=clock)
    config = Config.model_validate({"digest": {"channel": "C0DIGEST"}})
    figures: dict[str, Any] = {"cpu": [], "trips": [], "commands": []}
    with redis.Redis.from_url(redis_url) as server:
        async with assemble(
            config=config,
            broker=BrokerSettings(base_url=broker_url),
            slack=SlackSettings(
                bot_token="xoxb-test", signing_secret="0" * 32, api_base_url=slack_url + "/api/"
            ),
            store=store,
            github_api_url="https://api.github.com",
            clock=clock,
            sleep=no_wait,
            holder="benchmark",
        ) as bot:
            tune_collector()  # as `pactbot serve` does once it is assembled
            alerter = bot.services.alerter
            for number in range(evaluations):
                if number == 10:  # warmed up: scripts loaded, the alert fired, caches full
                    figures["rss_start"] = rss_mb()
                if number % 10 == 9:
                    fakes.send(number // 10)
                    fakes.recv()
                trips, commands = CountingConnection.sent, commands_run(server)
                started = time.process_time()
                await alerter.evaluate()
                figures["cpu"].append(time.process_time() - started)
                figures["trips"].append(CountingConnection.sent - trips)
                figures["commands"].append(commands_run(server) - commands)
                clock.now += timedelta(minutes=5)
            figures["rss_end"] = rss_mb()
            state = await alerter.state()
            figures["firing"] = [len(alert.members) for alert in state.alerts if alert.firing]
    return figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(figures: dict[str, Any], evaluations: int, broker_requests: int) -> bool:
    cpu = [seconds * 1000 for seconds in figures["cpu"]]
    trips, commands = figures["trips"], figures["commands"]
    # An evaluation that changes nothing reads the alerts, the silences and the passed Tests,
    # and writes nothing.
    busy = [ms for ms, trip in zip(cpu, trips, strict=True) if trip > 3]
    start, end = figures["rss_start"], figures["rss_end"]
    print(
        f"{evaluations} evaluations of {PAIRS} pairs, {WEBHOOKS} webhooks, {STALE} stale; "
        f"firing: {figures['firing']} pairs; {broker_requests / evaluations:.0f} broker requests "
        "per evaluation"
    )
    print(
        f"bot CPU per evaluation: median {statistics.median(cpu):.0f} ms, "
        f"p95 {percentile(cpu, 0.95):.0f} ms, max {max(cpu):.0f} ms "
        f"(target < {CPU_TARGET_MS} ms)"
    )
    print(
        f"Redis round trips per evaluation: median {statistics.median(trips):.0f}, "
        f"max {max(trips)} (target <= {ROUND_TRIPS_TARGET}); commands (INFO commandstats): "
        f"median {statistics.median(commands):.0f}, max {max(commands)}"
    )
    print(
        f"evaluations that changed the alerts (and said it in Slack): {len(busy)}, "
        f"CPU median {statistics.median(busy):.0f} ms, max {max(busy):.0f} ms"
    )
    print(f"RSS: {start:.1f} MB after 10 evaluations, {end:.1f} MB after {evaluations}")
    met = {
        "CPU": percentile(cpu, 0.95) < CPU_TARGET_MS,
        "round trips": max(trips) <= ROUND_TRIPS_TARGET,
        "flat memory": end - start <= RSS_GROWTH_ALLOWED_MB,
    }
    for target, ok in met.items():
        print(f"target {target}: {'met' if ok else 'MISSED'}")
    return all(met.values())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--evaluations", type=int, default=1000)
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(theirs,), daemon=True)
    fakes.start()
    broker_url, slack_url = ours.recv()
    with tempfile.TemporaryDirectory() as scratch:
        server = RedisServer(Path(scratch))
        server.start()
        try:
            figures = asyncio.run(
                evaluate_many(broker_url, slack_url, server.url, args.evaluations, ours)
            )
        finally:
            server.stop()
            ours.send("stop")
            broker_requests = ours.recv()
            fakes.join(timeout=10)
    return 0 if report(figures, args.evaluations, broker_requests) else 1


if __name__ == "__main__":
    raise SystemExit(main())
