"""What `pactbot check`, `status` and `test-webhook` do, for the CLI and for `pactbot demo`.

Each command reads the broker through `bot.broker`, decides with `bot.domain`, prints with
`bot.render.text` and returns its exit code. None of this imports Slack code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.blocks.digest import build_digest
from bot.blocks.limits import Message
from bot.broker import convert
from bot.broker.client import BrokerClient
from bot.broker.schema import WebhookResource
from bot.broker.snapshot import read_webhooks
from bot.config import Config, digest_day, lint_day
from bot.domain.canary import CanaryState, Verdict, first_state
from bot.domain.freshness import Policy
from bot.domain.report import NO_CANARIES, NO_PAIRS_FIX, Report
from bot.domain.selection import Selection, closest
from bot.domain.webhook_choice import dispatching
from bot.errors import BrokerNotFound, UsageError
from bot.reader import ask_canaries, read_report, run_webhook_test
from bot.render import text
from bot.render.slack_text import messages_text
from bot.retry import Sleep
from bot.settings import BrokerSettings
from bot.targets import they_trigger


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"


@dataclass(frozen=True, slots=True)
class Context:
    broker: BrokerSettings
    config: Config
    github_api_url: str
    clock: Callable[[], datetime]
    out: TextIO
    err: TextIO
    step_summary: Path | None = None
    step_outputs: Path | None = None  # GITHUB_OUTPUT: `check --format github` sets its counts
    github_token: SecretStr | None = None  # serve: finds the runs a rotation's re-test started
    sleep: Sleep = asyncio.sleep  # the waits between retries


async def check(
    context: Context,
    *,
    consumer: str | None = None,
    provider: str | None = None,
    max_age: timedelta | None = None,
    policy: Policy | None = None,
    output: Format = Format.TEXT,
    freshness_only: bool = False,
    require_webhooks: bool = False,
    canary: bool = False,
) -> int:
    """Exit 0 when no selected pair is stale or never verified and no webhook they wait on
    fails or did not fire (`freshness_only`: the pairs alone), 1 otherwise; 2 when a part of
    the broker could not be read and `require_webhooks` asks for all of it. With `canary`,
    the canaries' Tests run first: a dead token fails the check whatever the pairs say, and
    a canary that cannot ask GitHub makes it 2 when nothing else failed."""
    canaries = await _ask_canaries(context) if canary else NO_CANARIES
    report = await _report(context, consumer, provider, max_age, policy, canaries)
    gate = text.Gate(webhooks=not freshness_only)
    if output is Format.JSON:
        _write_json(context, report)
    else:
        context.out.write(text.check_text(report, gate) + text.canary_text(report))
    if output is Format.GITHUB:
        context.out.write(text.github_annotations(report, gate))
        if context.step_summary is not None:
            _append(context, context.step_summary, text.github_summary(report))
        if context.step_outputs is not None:
            _append(context, context.step_outputs, text.github_outputs(report, gate))
    if require_webhooks and report.blind:
        context.err.write(
            "pactbot: cannot tell whether the webhooks work (--require-webhooks): "
            f"{report.notes[0]}\n"
        )
        return 2
    found = {state.last.verdict for state in canaries.values()}
    if Verdict.DEAD in found or not gate.passes(report):
        return 1
    return 2 if Verdict.CANNOT_RUN in found else 0  # a canary that cannot ask cannot tell


async def _ask_canaries(context: Context) -> dict[str, CanaryState]:
    """Run each canary's Test once; none to run is a usage error, not a pass."""
    async with _client(context) as client:
        read = await read_webhooks(client, context.github_api_url)
        runs = await ask_canaries(
            client, read, github_api_url=context.github_api_url, clock=context.clock
        )
    if not runs:
        raise UsageError(
            "--canary: the broker has no canary webhook; `pactbot canary` prints one (or makes "
            "it, with --create)"
        )
    return {uuid: first_state(run) for uuid, run in runs.items()}


async def status(
    context: Context,
    *,
    consumer: str | None = None,
    provider: str | None = None,
    as_json: bool = False,
) -> int:
    """Print every selected pair, most urgent first."""
    report = await _report(context, consumer, provider, None, None)
    if as_json:
        _write_json(context, report)
    else:
        context.out.write(text.status_table(report))
    return 0


async def webhook_test(
    context: Context, *, webhook_id: str | None = None, provider: str | None = None
) -> int:
    """Run the broker's webhook Test and explain it: exit 0 on a 2xx from the target, else 1."""
    async with _client(context) as client:
        resource = await _choose_webhook(context, client, webhook_id, provider)
        title = text.webhook_title(convert.to_webhook(resource, context.github_api_url))
        context.out.write(f"Running the webhook Test of {title}\n")
        _, report = await run_webhook_test(
            client, resource, github_api_url=context.github_api_url, clock=context.clock
        )
    context.out.write(text.test_text(report))
    return 0 if report.passed else 1


async def digest(context: Context, *, json_path: Path | None = None) -> int:
    """Print today's digest as its channel would read it (and its Block Kit JSON to a file)."""
    config = context.config
    async with _client(context) as client:
        report = await read_report(
            client, config, now=context.clock(), github_api_url=context.github_api_url
        )
    day = digest_day(config.digest, report.taken_at)
    messages = build_digest(report, day=day, lint=lint_day(config.digest, day))
    context.out.write(messages_text(messages))
    if json_path is not None:
        write_blocks(json_path, messages)
    return 0


def write_blocks(path: Path, messages: Sequence[Message]) -> None:
    """Write the messages' Block Kit JSON, one payload per message, for the Block Kit Builder."""
    payload = [message.payload() for message in messages]
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def _write_json(context: Context, report: Report) -> None:
    context.out.write(json.dumps(text.report_json(report), indent=2) + "\n")


def _client(context: Context) -> BrokerClient:
    return BrokerClient(context.broker, clock=context.clock, sleep=context.sleep)


async def _report(
    context: Context,
    consumer: str | None,
    provider: str | None,
    max_age: timedelta | None,
    policy: Policy | None,
    canaries: Mapping[str, CanaryState] = NO_CANARIES,
) -> Report:
    config = context.config.with_rule(max_age, policy)
    async with _client(context) as client:
        report = await read_report(
            client,
            config,
            now=context.clock(),
            github_api_url=context.github_api_url,
            selection=Selection(consumer, provider),
            canaries=canaries,
        )
    if not report.rows:
        where = f"the Pact Broker at {context.broker.base_url}"
        if consumer or provider or context.config.pairs:
            raise UsageError(f"nothing to check: no pair of {where} is both listed and selected")
        raise UsageError(f"nothing to check: {where} lists no pairs; {NO_PAIRS_FIX}")
    return report


async def _choose_webhook(
    context: Context, client: BrokerClient, webhook_id: str | None, provider: str | None
) -> WebhookResource:
    if webhook_id is not None:
        try:
            return await client.webhook_by_id(webhook_id)
        except BrokerNotFound:
            known = await read_webhooks(client, context.github_api_url)
            names = {webhook.uuid: webhook for webhook, _ in known}
            near = closest(webhook_id, names)
            raise BrokerNotFound(
                f"webhook {webhook_id!r}", [f"{uuid} ({names[uuid].name})" for uuid in near]
            ) from None
    known = await read_webhooks(client, context.github_api_url)
    candidates = dispatching([webhook for webhook, _ in known], provider or "")
    if len(candidates) > 1:
        choices = "\n".join(
            f"  pactbot test-webhook {webhook.uuid}   # {text.webhook_title(webhook)}"
            for webhook in candidates
        )
        raise UsageError(
            f"{len(candidates)} webhooks {they_trigger(w.target for w in candidates)} here; choose "
            f"one:\n{choices}"
        )
    resources = {webhook.uuid: resource for webhook, resource in known}
    return resources[candidates[0].uuid]


def _append(context: Context, path: Path, written: str) -> None:
    """Append to a file GitHub Actions reads after the step (the summary, the outputs)."""
    try:
        with path.open("a", encoding="utf-8") as found:
            found.write(written)
    except OSError as error:
        context.err.write(f"pactbot: cannot append to {path} ({error.strerror})\n")
