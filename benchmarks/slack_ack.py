"""How fast `pactbot serve` answers Slack, and how fast it builds the digest.

Runs `pactbot serve` as its own process in HTTP mode against the sample broker (5,000 pairs, 20
webhooks) and the sample Slack, both on loopback in a third process so that they do not slow
the load. This process sends signed `/pact status` commands and button clicks ("Start
rotation"), 50 at a time, and measures the time to each HTTP response: the ack, which Slack
wants within 3 s. Last, it times building the digest of 5,000 pairs.

    python benchmarks/slack_ack.py [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from bot.blocks.digest import build_digest
from bot.broker.client import BrokerClient
from bot.config import Config, digest_day
from bot.reader import read_report
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import scaled_world
from bot.settings import BrokerSettings

# The tests' request builders: signed exactly as Slack signs (v0, HMAC-SHA256).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import slack_requests

SECRET = "0123456789abcdef0123456789abcdef"


def serve_fakes(pipe: Connection) -> None:
    """In a process of its own: the sample broker and Slack, until the pipe says stop."""
    world = scaled_world(datetime.now(UTC), pairs=5000, webhooks=20, stale=50)
    with SampleBroker(world) as broker, SampleSlack() as slack:
        pipe.send((broker.url, slack.url, [slack.response_url() for _ in range(500)]))
        pipe.recv()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_bot(broker_url: str, slack_url: str, port: int, scratch: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PACT_BROKER_BASE_URL": broker_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_BASE_URL": slack_url + "/api/",
        "PORT": str(port),
        "PACTBOT_STORE_URL": f"sqlite:///{scratch / 'pactbot.sqlite3'}",
    }
    command = [sys.executable, "-m", "bot", "serve"]
    return subprocess.Popen(command, env=env, cwd=scratch, stderr=subprocess.DEVNULL)


async def wait_ready(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(600):
        try:
            async with session.get(f"{base}/readyz") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("pactbot serve did not become ready")


def request_body(number: int, response_url: str, distinct: bool) -> bytes:
    if number % 2:
        # Repeated questions are answered from the report's cache; distinct ones are built.
        name = f"consumer-{number % 250:04d}" if distinct else f"provider-{number % 20:03d}"
        return slack_requests.slash_command(f"status {name}", response_url=response_url)
    return slack_requests.block_action(
        "pact_rotation_start",
        "hook0000AbCdEfGhIjKlMn",
        response_url=response_url,
        user_id="U0OPS1",
        channel_id="C0DIGEST",
        message_ts="1733040000.000100",
    )


async def load(
    session: aiohttp.ClientSession,
    base: str,
    urls: list[str],
    total: int,
    concurrency: int,
    distinct: bool,
) -> tuple[list[float], int]:
    """Send `total` signed requests, `concurrency` at a time; the time to each answer."""
    bodies = [request_body(n, urls[n % len(urls)], distinct) for n in range(total)]
    times: list[float] = []
    failures = 0
    gate = asyncio.Semaphore(concurrency)

    async def one(body: bytes) -> None:
        nonlocal failures
        async with gate:
            headers = slack_requests.signed_headers(body, SECRET, int(time.time()))
            started = time.perf_counter()
            async with session.post(f"{base}/slack/events", data=body, headers=headers) as answer:
                await answer.read()
            times.append(time.perf_counter() - started)
            failures += answer.status != 200

    await asyncio.gather(*(one(body) for body in bodies))
    return times, failures


async def digest_seconds(broker_url: str) -> tuple[float, int]:
    """The median time to build the digest of the sample broker's 5,000 pairs."""
    config = Config()
    async with BrokerClient(BrokerSettings(base_url=broker_url)) as client:
        now = datetime.now(UTC)
        report = await read_report(client, config, now=now, github_api_url="https://api.github.com")
    day = digest_day(config.digest, report.taken_at)
    runs = []
    for _ in range(20):
        started = time.perf_counter()
        messages = build_digest(report, day=day)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), len(messages)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(
    broker_url: str, slack_url: str, urls: list[str], args: argparse.Namespace
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        bot = start_bot(broker_url, slack_url, port, Path(scratch))
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                await wait_ready(session, base)
                await load(session, base, urls, 200, args.concurrency, distinct=False)  # warm up
                for distinct in (False, True):
                    started = time.perf_counter()
                    times, failures = await load(
                        session, base, urls, args.requests, args.concurrency, distinct
                    )
                    report(times, failures, time.perf_counter() - started, distinct, args)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(timeout=30)


def report(
    times: list[float], failures: int, elapsed: float, distinct: bool, args: argparse.Namespace
) -> None:
    p50, p99 = percentile(times, 0.50) * 1000, percentile(times, 0.99) * 1000
    kind = "every status question different" if distinct else "status questions repeated"
    print(
        f"acks, {kind}: {len(times)} signed requests, {args.concurrency} at a time (half ", end=""
    )
    print(f"/pact status, half button clicks); {failures} not 200; {len(times) / elapsed:.0f}/s")
    print(f"  ack time: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"  target: p99 < 100 ms: {p99:.1f} ms")


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    fakes = multiprocessing.Process(target=serve_fakes, args=(theirs,), daemon=True)
    fakes.start()
    broker_url, slack_url, urls = ours.recv()
    try:
        await measure(broker_url, slack_url, urls, args)
        median, messages = await digest_seconds(broker_url)
    finally:
        ours.send("stop")
        fakes.join(timeout=10)
    print(f"digest of 5,000 pairs: {median * 1000:.1f} ms to build (median of 20), ", end="")
    print(f"{messages} messages")
    print(f"target: digest < 200 ms: {median * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
