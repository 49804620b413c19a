"""What one alert evaluation costs at 5,000 (or 20,000) pairs, and whether memory stays flat,
next to what the previous code costs, measured in the same invocation.

The sample broker (20 webhooks, 2% of the pairs stale behind a dead GitHub token) and the
sample Slack run in a process of their own, so that their work is not counted. A worker process
assembles the bot as `pactbot serve` does, on a Redis of its own (a redis-server on a free
loopback port), and runs the leader's evaluation again and again, the clock moving five minutes
each time, as `alerts.check_interval` would. Every tenth evaluation the broker changes: five
stale pairs are verified (they leave the alert) and five more go stale (they join it). Per
evaluation it measures the bot's CPU time (`time.process_time`), the Redis round trips (counted
on the connection; a pipeline is one) and the commands Redis ran (`INFO commandstats`); and the
process's RSS after ten evaluations and at the end.

Two workers run: one on this checkout, one on the code of `--against` (by default the parent
commit), unpacked with `git archive` into a temporary directory and put first on its
PYTHONPATH. They take turns, ten evaluations each, so that whatever else loads the machine
loads both alike: the ratio is taken on the same machine at the same time.

    python benchmarks/alerts_scale.py [--pairs 5000|20000] [--evaluations 1000] [--against REF]

Exits 1 when a target of this checkout is missed: a median CPU time per evaluation of at most
50 ms at 5,000 pairs (200 ms at 20,000), at most 10 round trips, RSS at most 200 MB and flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

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

# Last: a worker's PYTHONPATH, the tree it measures, comes first.
sys.path.append(str(Path(__file__).resolve().parents[1]))
from tests.helpers.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WEBHOOKS = 20
CPU_TARGET_MS = {5000: 50, 20000: 200}  # median per evaluation
ROUND_TRIPS_TARGET = 10
RSS_TARGET_MB = 200
RSS_GROWTH_ALLOWED_MB = 10  # "flat": what allocator noise and caches warming up may add
BLOCK = 10  # evaluations a worker runs before the other takes its turn; one broker change each


def stale_of(pairs: int) -> int:
    return pairs // 50  # 2%


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


def serve_fakes(pipe: Connection, pairs: int) -> None:
    """In a process of its own: the sample broker and Slack; the pipe says when the broker
    changes, and when to stop."""
    stale = stale_of(pairs)
    world = scaled_world(NOW, pairs=pairs, webhooks=WEBHOOKS, stale=stale)
    with SampleBroker(world) as broker, SampleSlack() as slack:
        pipe.send((broker.url, slack.url))
        while (round_ := pipe.recv()) != "stop":
            churn(world, round_, stale)
            pipe.send("changed")
        pipe.send(len(broker.requests))


def churn(world: World, round_: int, stale: int) -> None:
    """Five stale pairs of the dead token's provider verified, five of its fresh ones stale."""
    with world.lock:
        for number in range(5):
            turn = (round_ * 5 + number) % stale
            leaving = (f"consumer-{turn:04d}", "provider-000")
            joining = (f"consumer-{stale + turn:04d}", "provider-000")
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


async def evaluate_on_demand(
    broker_url: str, slack_url: str, redis_url: str, fakes: Connection, turns: IO[str]
) -> dict[str, Any]:
    """Run as many evaluations as each line of `turns` asks, saying "done" after each turn,
    until the line "finish"; the figures of them all."""
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
            number = 0
            _say("ready")
            while (line := turns.readline().strip()) not in ("finish", ""):
                for _ in range(int(line)):
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
                    number += 1
                _say("done")
            figures["rss_end"] = rss_mb()
            state = await alerter.state()
            figures["firing"] = [len(alert.members) for alert in state.alerts if alert.firing]
    return figures


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def work(pairs: int) -> None:
    """A worker: evaluations on the code on its PYTHONPATH, when told; its figures as JSON."""
    ours, theirs = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(theirs, pairs), daemon=True)
    fakes.start()
    broker_url, slack_url = ours.recv()
    with tempfile.TemporaryDirectory() as scratch:
        server = RedisServer(Path(scratch))
        server.start()
        try:
            figures = asyncio.run(
                evaluate_on_demand(broker_url, slack_url, server.url, ours, sys.stdin)
            )
        finally:
            server.stop()
            ours.send("stop")
            figures["broker_requests"] = ours.recv()
            fakes.join(timeout=10)
    _say(json.dumps(figures))


@dataclass
class Worker:
    """A worker process on one tree of the code."""

    name: str
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, name: str, tree: Path, pairs: int) -> Worker:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", f"--pairs={pairs}"]
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        return cls(name, process)

    def ask(self, line: str) -> str:
        """Send `line`; the worker's answer (empty when it died)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def wait_ready(self) -> bool:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip() == "ready"


def previous_tree(ref: str, into: Path) -> str:
    """Unpack the commit `ref` into `into` (read only: the checkout is left as it is); its
    short id."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", sha], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {sha} failed")
    return sha


def compare(workers: list[Worker], evaluations: int) -> dict[str, dict[str, Any] | None]:
    """Both workers in turns of BLOCK evaluations; each one's figures (None if it failed)."""
    alive = [worker for worker in workers if worker.wait_ready()]
    for done in range(0, evaluations, BLOCK):
        turn = str(min(BLOCK, evaluations - done))
        alive = [worker for worker in alive if worker.ask(turn) == "done"]
    results: dict[str, dict[str, Any] | None] = {worker.name: None for worker in workers}
    for worker in alive:
        results[worker.name] = json.loads(worker.ask("finish"))
    for worker in workers:
        if worker.process.stdin is not None:
            worker.process.stdin.close()
        worker.process.wait(timeout=60)
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class Summary:
    """One worker's figures, as the report prints them."""

    cpu: list[float]  # ms
    trips: list[int]
    commands: list[int]
    busy: list[float]  # ms, of the evaluations that changed the alerts
    rss_start: float
    rss_end: float
    firing: list[int]
    requests: float  # broker requests per evaluation

    @classmethod
    def of(cls, figures: dict[str, Any], evaluations: int) -> Summary:
        cpu = [seconds * 1000 for seconds in figures["cpu"]]
        trips = figures["trips"]
        # An evaluation that changes nothing reads the alerts, the silences and the passed
        # Tests, and writes nothing.
        busy = [ms for ms, trip in zip(cpu, trips, strict=True) if trip > 3]
        return cls(
            cpu,
            trips,
            figures["commands"],
            busy,
            figures["rss_start"],
            figures["rss_end"],
            figures["firing"],
            figures["broker_requests"] / evaluations,
        )

    def cpu_line(self) -> str:
        cpu = self.cpu
        return (
            f"median {statistics.median(cpu):.0f} ms, p95 {percentile(cpu, 0.95):.0f} ms, "
            f"max {max(cpu):.0f} ms"
        )

    def trips_line(self) -> str:
        return f"median {statistics.median(self.trips):.0f}, max {max(self.trips)}"

    def commands_line(self) -> str:
        return f"median {statistics.median(self.commands):.0f}, max {max(self.commands)}"

    def busy_line(self) -> str:
        if not self.busy:
            return "0"
        busy = self.busy
        return f"{len(busy)}, CPU median {statistics.median(busy):.0f} ms, max {max(busy):.0f} ms"

    def rss_line(self, evaluations: int) -> str:
        start, end = self.rss_start, self.rss_end
        return f"{start:.1f} MB after 10 evaluations, {end:.1f} MB after {evaluations}"


def report(
    pairs: int,
    evaluations: int,
    ours: Summary,
    theirs: Summary | None,
    against: str,
) -> bool:
    """Print this checkout's figures, each line followed by the previous code's; whether every
    target is met."""

    def beside(text: str) -> str:
        return f"  | {against}: {text}" if theirs is not None else ""

    stale, target = stale_of(pairs), CPU_TARGET_MS[pairs]
    print(
        f"{evaluations} evaluations of {pairs} pairs, {WEBHOOKS} webhooks, {stale} stale; "
        f"firing: {ours.firing} pairs; {ours.requests:.0f} broker requests per evaluation"
        + beside(f"firing: {theirs.firing} pairs; {theirs.requests:.0f} requests" if theirs else "")
    )
    ratio = ""
    if theirs is not None:
        times = statistics.median(theirs.cpu) / statistics.median(ours.cpu)
        ratio = f"; median {times:.1f}x less CPU than {against}"
    print(
        f"bot CPU per evaluation: {ours.cpu_line()} (target median <= {target} ms)"
        + beside(theirs.cpu_line() if theirs else "")
        + ratio
    )
    print(
        f"Redis round trips per evaluation: {ours.trips_line()} (target <= {ROUND_TRIPS_TARGET}); "
        f"commands (INFO commandstats): {ours.commands_line()}"
        + beside(f"{theirs.trips_line()}; commands {theirs.commands_line()}" if theirs else "")
    )
    print(
        f"evaluations that changed the alerts (and said it in Slack): {ours.busy_line()}"
        + beside(theirs.busy_line() if theirs else "")
    )
    print(
        f"RSS: {ours.rss_line(evaluations)}"
        + beside(theirs.rss_line(evaluations) if theirs else "")
    )
    met = {
        "CPU": statistics.median(ours.cpu) <= target,
        "round trips": max(ours.trips) <= ROUND_TRIPS_TARGET,
        "flat memory": ours.rss_end <= RSS_TARGET_MB
        and ours.rss_end - ours.rss_start <= RSS_GROWTH_ALLOWED_MB,
    }
    for name, ok in met.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    return all(met.values())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, choices=sorted(CPU_TARGET_MS), default=5000)
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument(
        "--against", default="HEAD~1", help="the commit to compare with (default: HEAD~1)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        work(args.pairs)
        return 0
    if args.evaluations <= 10:
        parser.error("--evaluations: more than 10, the first 10 warm up")
    with tempfile.TemporaryDirectory() as scratch:
        sha = previous_tree(args.against, Path(scratch))
        against = f"{args.against} ({sha})"
        workers = [
            Worker.start("this checkout", ROOT, args.pairs),
            Worker.start(against, Path(scratch), args.pairs),
        ]
        results = compare(workers, args.evaluations)
    ours = results["this checkout"]
    if ours is None:
        raise SystemExit("the worker on this checkout failed; its error is above")
    theirs = results[against]
    if theirs is None:
        print(f"({against} could not be measured; its error is above)")
    summary = Summary.of(theirs, args.evaluations) if theirs is not None else None
    ok = report(args.pairs, args.evaluations, Summary.of(ours, args.evaluations), summary, against)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
