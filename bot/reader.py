"""Read the broker and judge what it says: the paths every surface shares."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial

from bot.broker import convert
from bot.broker.client import BrokerClient
from bot.broker.dashboard import Dashboard
from bot.broker.schema import WebhookResource
from bot.broker.snapshot import read_snapshot
from bot.config import Config
from bot.domain.canary import CanaryRun, CanaryState, found, recognise, refused
from bot.domain.explain import TestReport, explain_test
from bot.domain.model import Webhook
from bot.domain.report import NO_CANARIES, NO_TESTS, Report, build_report
from bot.domain.selection import Selection
from bot.errors import BrokerBadResponse, BrokerForbidden


async def read_report(
    client: BrokerClient,
    config: Config,
    *,
    now: datetime,
    github_api_url: str,
    selection: Selection | None = None,
    tests: Mapping[str, datetime] = NO_TESTS,
    canaries: Mapping[str, CanaryState] = NO_CANARIES,
    dashboard: Dashboard | None = None,
) -> Report:
    """The report of the pairs the config watches (narrowed by `selection`), at `now`; `tests`
    are the passed webhook Tests pactbot remembers, `canaries` what the canaries last found.
    A publication that waited `alerts.for` without a dispatch is one its webhook did not
    fire. `dashboard`: what this client's previous reads converted (a process that reads
    again and again keeps one)."""
    watched = frozenset(pair.key for pair in config.pairs) if config.pairs else None
    chosen = selection or Selection()
    grace = config.alerts.sustain
    snapshot = await read_snapshot(
        client,
        now=now,
        github_api_url=github_api_url,
        selection=Selection(chosen.consumer, chosen.provider, watched),
        grace=grace,
        dashboard=dashboard,
    )
    # Judging thousands of pairs takes tens of milliseconds of pure Python: in a thread, the
    # interpreter hands the event loop its turn every few milliseconds, so Slack's acks wait
    # for none of it.
    judge = partial(build_report, grace=grace, tests=tests, canaries=canaries)
    return await asyncio.to_thread(judge, snapshot, config.rules(), snapshot.taken_at)


async def run_webhook_test(
    client: BrokerClient,
    resource: WebhookResource,
    *,
    github_api_url: str,
    clock: Callable[[], datetime],
) -> tuple[Webhook, TestReport]:
    """Run the broker's Test of one webhook and explain what its target answered."""
    webhook = convert.to_webhook(resource, github_api_url)
    if resource.links.execute is None:
        raise BrokerBadResponse(
            "GET /webhooks/{uuid}", f"the webhook {webhook.uuid} has no pb:execute link to test"
        )
    result = await client.execute(resource.links.execute.href)
    return webhook, explain_test(webhook, convert.answer_from_test(result), clock())


async def ask_canaries(
    client: BrokerClient,
    webhooks: Sequence[tuple[Webhook, WebhookResource]],
    *,
    github_api_url: str,
    clock: Callable[[], datetime],
) -> dict[str, CanaryRun]:
    """Run the Test of each canary among `webhooks` once, by the canary's uuid: what `check
    --canary` and `doctor` ask (no CI run starts)."""
    runs = {}
    for webhook, resource in webhooks:
        if recognise(webhook) is None:
            continue
        try:
            _, report = await run_webhook_test(
                client, resource, github_api_url=github_api_url, clock=clock
            )
        except BrokerForbidden:
            runs[webhook.uuid] = refused(clock())
        else:
            runs[webhook.uuid] = found(report, clock())
    return runs
