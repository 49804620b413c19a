"""`pactbot demo`: the commands a user would run, against a sample broker on loopback.

Nothing leaves this machine: the sample broker (the same one the tests use) runs in-process on
127.0.0.1 and its webhooks' GitHub answers are part of its story (`bot.sample.story`).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot import commands
from bot.blocks.alert import build_alert
from bot.blocks.digest import build_digest
from bot.blocks.limits import Message
from bot.broker.client import BrokerClient
from bot.canary_setup import canary
from bot.config import Config, digest_day
from bot.demo_rotation import rotation_walkthrough
from bot.domain.alerts import AlertState, Route, Rules, Setup, evaluate
from bot.domain.model import DEFAULT_GITHUB_API_URL
from bot.domain.report import Report
from bot.duration import format_duration
from bot.errors import PactbotError
from bot.reader import read_report
from bot.render.slack_text import messages_text
from bot.sample.broker import Credentials, SampleBroker
from bot.sample.story import GITLAB_WEBHOOK, ORDERS_WEBHOOK, demo_story
from bot.sample.world import GITHUB_ACCEPTED, GITLAB_PIPELINE_CREATED
from bot.settings import BrokerSettings

_TOKEN = "demo-read-write-token"  # the sample broker's own, never a real credential
_CHANNEL = "C0DEMO"


async def run_demo(out: TextIO) -> int:
    """Print what `status`, `check`, `test-webhook`, the canary and the digest say about the
    sample story."""
    now, config = datetime.now(UTC), Config()
    with SampleBroker(demo_story(now), credentials=Credentials(token=_TOKEN)) as broker:
        out.write(
            f"pactbot demo: a sample Pact Broker runs on {broker.url} with "
            f"{len(list(broker.world.pairs()))} pairs and {len(broker.world.webhooks)} webhooks.\n"
            "No Slack, no real broker: nothing leaves this machine (the sample broker plays "
            "CIs' answers too).\n"
        )

        def context(output: TextIO) -> commands.Context:
            return commands.Context(
                broker=BrokerSettings(base_url=broker.url, token=_TOKEN),
                config=config,
                github_api_url=DEFAULT_GITHUB_API_URL,
                clock=lambda: now,
                out=output,
                err=output,
            )

        steps: list[tuple[str, Callable[[TextIO], Awaitable[int]]]] = [
            ("pactbot status", lambda output: commands.status(context(output))),
            ("pactbot check", lambda output: commands.check(context(output))),
            (
                f"pactbot test-webhook {ORDERS_WEBHOOK}",
                lambda output: commands.webhook_test(context(output), webhook_id=ORDERS_WEBHOOK),
            ),
            (
                f"pactbot test-webhook {GITLAB_WEBHOOK}",
                lambda output: commands.webhook_test(context(output), webhook_id=GITLAB_WEBHOOK),
            ),
            # A canary per secret: its Test asks GitHub about the token, no CI run starts.
            ("pactbot canary --create", lambda output: canary(context(output), create=True)),
            ("pactbot check --canary", lambda output: commands.check(context(output), canary=True)),
        ]
        for command, step in steps:
            captured = io.StringIO()
            try:
                code = await step(captured)
            except PactbotError as error:
                captured.write(f"pactbot: {error}\n")
                code = 2
            out.write(f"\n$ {command}\n{captured.getvalue()}(exit code {code})\n")
        every = format_duration(config.canary.every)
        out.write(
            f"\nUnder `pactbot serve` the leader runs each canary's Test every {every} "
            "(canary.every): a token that dies while nobody publishes is an alert within "
            f"{every}, not at the next publication.\n"
        )
        async with BrokerClient(BrokerSettings(base_url=broker.url, token=_TOKEN)) as client:
            report = await read_report(
                client, config, now=now, github_api_url=DEFAULT_GITHUB_API_URL
            )
            messages = build_digest(report, day=digest_day(config.digest, report.taken_at))
            out.write("\nThe daily digest, as the channel reads it:\n\n" + messages_text(messages))
            sustain = format_duration(config.alerts.sustain)
            out.write(
                f"\nThe alert on-call gets once that has lasted {sustain} (alerts.for):\n\n"
                + messages_text([_alert(report, config)])
            )
            path = Path(tempfile.gettempdir()) / "pactbot-demo-digest.json"
            commands.write_blocks(path, messages)
            out.write(
                f"\nIts Block Kit JSON is in {path} (paste a message's blocks into Slack's Block "
                "Kit Builder to see it).\n"
            )
            walkthrough = await rotation_walkthrough(
                broker, client, ORDERS_WEBHOOK, config, now, GITHUB_ACCEPTED
            )
            gitlab = await rotation_walkthrough(
                broker, client, GITLAB_WEBHOOK, config, now, GITLAB_PIPELINE_CREATED
            )
    out.write(
        "\n“Start rotation” on that alert: the token rotated step by step, one message edited "
        "in place (each press also goes into its thread):\n" + walkthrough
    )
    out.write(
        "\nThe same for shipping-api's GitLab pipeline trigger token, with GitLab's own "
        "steps:\n" + gitlab
    )
    out.write("\nPoint PACT_BROKER_BASE_URL at your own broker to see yours.\n")
    return 0


def _alert(report: Report, config: Config) -> Message:
    """The alert the same reading raises when it was also the reading `alerts.for` ago."""
    rules = Rules(config.alerts.sustain, config.alerts.repeat_interval, config.retention.alerts)
    setup = Setup(rules, [], Route(_CHANNEL))
    earlier, _ = evaluate(AlertState(), report, None, setup, report.taken_at - rules.sustain)
    state, _ = evaluate(earlier, report, None, setup, report.taken_at)
    return build_alert(state.alerts[0], report.taken_at)
