"""How long a dead token, and a webhook that does not fire, stay unsaid: the headline figure.

Runs a real `pactbot serve` process against the sample broker and the sample Slack (both in
this process, on loopback), with scaled timings: `alerts.check_interval` 2 s, `alerts.for`
10 s, `canary.every` 2 min, `max_age` 24h. Three stories, one after the other:

1. the orders-api token dies and web-app publishes a change: the broker's dispatch answers
   401 five seconds later. Measured: from that first failed execution to the first Slack
   message that names the webhook and the 401;
2. admin-portal publishes to billing-api, a new provider whose CI never published a version:
   the broker dispatches nothing. Measured: from the publication to the first Slack message
   that names the webhook and says it did not fire;
3. the payments-api token (a secret of its own, with a canary) dies right after the canary's
   Test found it alive, and nobody publishes. Measured: from its death (the sample GitHub
   answers 401 from then on) to the first Slack message that names the webhook and the
   canary. Target: at most `canary.every` + 2 s (the worst case: it died just after a run).

Beside each, what the staleness path alone would take (`max_age + for`). Target for the first
two: at most `check_interval + for` + 2 s.

    python benchmarks/time_to_detect.py [--check-interval 2] [--for 10] [--canary-every 120]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.domain.canary import PROVIDER, definition
from bot.duration import format_duration
from bot.sample.broker import SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.world import DISPATCH_HEADERS, GITHUB_BAD_CREDENTIALS, World

MAX_AGE = timedelta(hours=24)
ORDERS_HOOK, BILLING_HOOK = "hookOrdersAbCdEfGhIjKl", "hookBillingAbCdEfGhIjK"
PAYMENTS_HOOK, PAYMENTS_SECRET = "hookPaymentsAbCdEfGhIj", "paymentsGithubToken"
CHANNEL, BILLING_CHANNEL = "C0DIGEST", "C0BILLING"
# The broker's first attempt runs 5 s after the publication (bot.sample.world).
FIRST_ATTEMPT = timedelta(seconds=5)


def now() -> datetime:
    return datetime.now(UTC)


def world() -> World:
    """Two providers with a GitHub-dispatch webhook each; orders-api's main build ran long ago
    and its pair is fresh, billing-api never published a version."""
    story = World(clock=now)
    start = now()
    for provider, uuid in (("orders-api", ORDERS_HOOK), ("billing-api", BILLING_HOOK)):
        story.add_webhook(
            uuid,
            description=f"Verify {provider}",
            provider=provider,
            url=f"https://api.github.com/repos/acme/{provider}/dispatches",
            created_at=start - timedelta(days=90),
        )
    story.add_webhook(
        PAYMENTS_HOOK,
        description="Verify payments-api",
        provider="payments-api",
        url="https://api.github.com/repos/acme/payments-api/dispatches",
        created_at=start - timedelta(days=90),
        headers=DISPATCH_HEADERS | {"Authorization": f"Bearer ${{user.{PAYMENTS_SECRET}}}"},
    )
    for provider in ("orders-api", "payments-api"):
        story.version(provider, "0.1.0", at=start - timedelta(days=90))
        fresh = story.publish("web-app", provider, "1.0.0", at=start - timedelta(hours=2))
        story.verify(fresh, at=start - timedelta(hours=1))
    story.shows_secret_references = True
    return story


def add_canary(broker: SampleBroker) -> str:
    """Make payments-api's canary as `pactbot canary --create` does: through the broker."""
    made = definition(
        authorization=f"Bearer ${{user.{PAYMENTS_SECRET}}}",
        github_api_url="https://api.github.com",
        secret=PAYMENTS_SECRET,
    )
    httpx.post(f"{broker.url}/pacticipants", json={"name": PROVIDER}).raise_for_status()
    created = httpx.post(f"{broker.url}/webhooks", json=made)
    created.raise_for_status()
    return str(created.json()["uuid"])


def config(path: Path, check_interval: float, sustain: float, canary_every: float) -> Path:
    path.write_text(
        f"defaults:\n  max_age: 24h\n"
        f"digest:\n  channel: {CHANNEL}\n  schedule: '0 9 * * 1-5'\n"
        f"alerts:\n  check_interval: {check_interval:g}s\n  for: {sustain:g}s\n"
        f"canary:\n  every: {canary_every:g}s\n"
        f"routes:\n  - provider: billing-*\n    channel: {BILLING_CHANNEL}\n",
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(
    broker: SampleBroker, slack: SampleSlack, scratch: Path, settings: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "PACT_BROKER_BASE_URL": broker.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "SLACK_API_BASE_URL": slack.url + "/api/",
        "PORT": str(port),
        "PACTBOT_STORE_URL": f"sqlite:///{scratch / 'pactbot.sqlite3'}",
        "PACTBOT_CONFIG": str(settings),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=scratch, stderr=subprocess.DEVNULL
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(base: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("pactbot serve did not become ready")


def first_post(slack: SampleSlack, says: Callable[[str], bool], limit: float) -> datetime | None:
    """When a chat.postMessage that `says` first reached Slack, watching for `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for call in slack.calls_to("chat.postMessage"):
            if says(str(call.body)):
                return now()
        time.sleep(0.05)
    return None


def line(name: str, seconds: float | None, target: float, otherwise: str) -> bool:
    took = f"{seconds:.1f} s" if seconds is not None else "never (within the wait)"
    met = seconds is not None and seconds <= target
    print(
        f"{name}: {took} to the first Slack message (target <= {target:.0f} s: "
        f"{'met' if met else 'MISSED'}); {otherwise}"
    )
    return met


def next_run(broker: SampleBroker, canary: str, limit: float) -> None:
    """Wait for the canary's next Test (pactbot's leader runs it), for `limit` seconds."""
    executed = f"/webhooks/{canary}/execute$"
    ran = broker.count(executed, method="POST")
    deadline = time.monotonic() + limit
    while broker.count(executed, method="POST") == ran:
        if time.monotonic() > deadline:
            raise SystemExit("pactbot serve never ran the canary's Test")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check-interval", type=float, default=2.0)
    parser.add_argument("--for", dest="sustain", type=float, default=10.0)
    parser.add_argument("--canary-every", type=float, default=120.0)
    args = parser.parse_args()
    target = args.check_interval + args.sustain + 2
    stale_path = MAX_AGE + timedelta(seconds=args.sustain)
    story = world()
    with (
        tempfile.TemporaryDirectory() as scratch,
        SampleBroker(story) as broker,
        SampleSlack() as slack,
    ):
        canary = add_canary(broker)
        settings = config(
            Path(scratch) / "pactbot.yml", args.check_interval, args.sustain, args.canary_every
        )
        process, base = serve(broker, slack, Path(scratch), settings)
        try:
            wait_ready(base)
            time.sleep(3 * args.check_interval)  # a leader, and a first quiet evaluation

            with story.lock:  # the token dies; the next publication's dispatch answers 401
                story.webhooks[ORDERS_HOOK].target = GITHUB_BAD_CREDENTIALS
                published = now()
                story.publish("web-app", "orders-api", "1.1.0", at=published, content="v2")
            failed = published + FIRST_ATTEMPT
            said = first_post(
                slack, lambda body: "Verify orders-api" in body and "401" in body, 10 * target
            )
            dead = (said - failed).total_seconds() if said else None

            published = now()
            story.publish("admin-portal", "billing-api", "1.0.0", at=published)
            said = first_post(
                slack,
                lambda body: "Verify billing-api" in body and "did not fire" in body,
                10 * target,
            )
            unfired = (said - published).total_seconds() if said else None

            next_run(broker, canary, 2 * args.canary_every + 30)  # it finds the token alive
            died = now()
            with story.lock:
                story.dead_tokens.add(PAYMENTS_SECRET)
            said = first_post(
                slack,
                lambda body: "Verify payments-api" in body and "found by the canary" in body,
                2 * args.canary_every + 30,
            )
            by_canary = (said - died).total_seconds() if said else None
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(
        f"pactbot serve, check_interval {args.check_interval:g} s, for {args.sustain:g} s, "
        f"canary.every {args.canary_every:g} s, max_age {format_duration(MAX_AGE)}"
    )
    stale = f"the staleness path alone (max_age + for): {stale_path.total_seconds():.0f} s"
    ok = line("token dead (401), from the first failed execution", dead, target, stale)
    ok &= line(
        "did not fire (a provider with no main-branch version), from the publication",
        unfired,
        target,
        stale,
    )
    ok &= line(
        "token dead (401), nobody publishing: from its death to the canary's alert",
        by_canary,
        args.canary_every + 2,
        "without the canary: not until someone publishes, then check_interval + for",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
