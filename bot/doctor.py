"""`pactbot doctor`: whether pactbot can do its work here, one line per check.

It checks what `pactbot serve` needs (the config, the broker and its credentials, Slack, the
digest and route channels, the store), lints the broker's webhooks and runs the canaries' Tests.
Nothing it does starts a CI run: whether the broker token may run the Test is asked of a webhook
that does not exist, and a canary only asks GitHub to render Markdown. Every failing line says
what to do. Exit 0 when nothing failed, else 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from bot.broker import convert
from bot.broker.client import BrokerClient
from bot.broker.partial import Sight
from bot.broker.schema import WebhookResource
from bot.config import Config
from bot.domain.canary import Verdict, first_state, views
from bot.domain.lint import lint_all
from bot.domain.model import PairKey, Unseen, Webhook
from bot.domain.sight import NEEDS, permission
from bot.errors import BrokerError, BrokerForbidden, PactbotError, SlackError
from bot.reader import ask_canaries
from bot.retry import Sleep
from bot.service.metrics import Metrics
from bot.service.slack_client import build_client
from bot.settings import BrokerSettings, ServiceSettings, SlackSettings
from bot.store.factory import open_store, redact
from bot.targets import is_github

# The pairs looked at for a webhook status that lists a dispatch whose logs to read.
_LOOKED_AT = 5
_CONTRACTS = (
    "freshness needs it: give the token's user permission to read contract data (PactFlow: "
    "contract_data:read:* or contract_data:manage:team)"
)
_READ_ONLY = (
    "the token is read-only: /pact test and /pact diagnose need a read/write one (PactFlow: "
    "'Read/write token (CI)'; open-source broker: the read/write basic-auth user)"
)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # cannot tell; not counted as a failure
    SKIP = "skip"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    name: str
    said: str


@dataclass(frozen=True, slots=True)
class Setup:
    """What doctor checks: each setting as read, or the error reading it gave."""

    config_path: Path | None
    config: Config | PactbotError
    broker: BrokerSettings | PactbotError
    slack: SlackSettings | PactbotError
    service: ServiceSettings | PactbotError
    github_api_url: str


async def doctor(setup: Setup, out: TextIO, *, clock: Callable[[], datetime], sleep: Sleep) -> int:
    """Print one line per check; 0 when none failed, else 1."""
    checks = [_config(setup)]
    checks += await _broker(setup, clock, sleep)
    checks += await _slack(setup, sleep)
    checks.append(await _store(setup, clock))
    for check in checks:
        out.write(f"{check.status.value:<4}  {check.name:<11} {check.said}\n")
    failed = sum(1 for check in checks if check.status is Status.FAIL)
    out.write(f"\n{failed} of {len(checks)} checks failed.\n" if failed else "\nAll is well.\n")
    return 1 if failed else 0


def _config(setup: Setup) -> Check:
    if isinstance(setup.config, PactbotError):
        return Check(Status.FAIL, "config", str(setup.config))
    where = str(setup.config_path) if setup.config_path else "no config file (the defaults)"
    return Check(Status.OK, "config", f"{where}: valid")


async def _broker(setup: Setup, clock: Callable[[], datetime], sleep: Sleep) -> list[Check]:
    settings = setup.broker
    if isinstance(settings, PactbotError):
        return [Check(Status.FAIL, "broker", str(settings))]
    async with BrokerClient(settings, clock=clock, sleep=sleep) as client:
        try:
            await client.index()
        except BrokerError as error:
            return [Check(Status.FAIL, "broker", str(error))]
        found = await _reads(client)
        if found.read is None:
            return found.refused
        said = f"{settings.base_url} answers and lets pactbot read {found.read}"
        reached = Check(Status.OK, "broker", said)
        if found.webhooks is None:
            return [reached, *found.refused, await _test_permission(client)]
        read = [(convert.to_webhook(r, setup.github_api_url), r) for r in found.webhooks]
        lint = _lint([webhook for webhook, _ in read])
        canaries = await _canaries(client, read, setup.github_api_url, clock)
        return [reached, *found.refused, await _test_permission(client), *lint, *canaries]


@dataclass(frozen=True, slots=True)
class _Reads:
    read: str | None  # what answered, in words; None when freshness cannot be read
    refused: list[Check]  # a failing line per read refused
    webhooks: list[WebhookResource] | None  # None when their list was refused


async def _reads(client: BrokerClient) -> _Reads:
    """Make once each read `pactbot serve` makes, and name the permission each refused one
    needs. The dashboard and the matrix are needed; the rest only explains freshness."""
    try:
        rows = await client.dashboard_page(1, _LOOKED_AT)
        if rows:
            await client.matrix([PairKey(rows[0].consumer, rows[0].provider)], 1)
    except BrokerForbidden as error:
        return _Reads(None, [Check(Status.FAIL, "broker", f"{error}; {_CONTRACTS}")], None)
    except BrokerError as error:
        return _Reads(None, [Check(Status.FAIL, "broker", str(error))], None)
    sight = Sight()
    links = await sight.optional(client.webhook_links(), Unseen.WEBHOOKS)
    read = [
        await sight.optional(client.webhook(link.href), Unseen.WEBHOOK, link.name)
        for link in links or ()
    ]
    webhooks = [webhook for webhook in read if webhook is not None]
    entries = []
    for row in rows:  # the first pair whose webhook status lists a dispatch, for its logs
        found = await sight.optional(client.webhook_status(row.webhook_status), Unseen.STATUS)
        entries = found.embedded.triggered_webhooks if found else []
        if entries or found is None:
            break
    if entries:
        await sight.optional(client.triggered_webhook_logs(entries[0].links.logs.href), Unseen.LOGS)
    labels = [
        link
        for webhook in webhooks
        for link in (webhook.links.consumers, webhook.links.providers)
        if link is not None
    ]
    if labels:
        await sight.optional(client.labelled(labels[0].href), Unseen.LABELS)
    made = {
        Unseen.WEBHOOKS: True,
        Unseen.WEBHOOK: bool(links),
        Unseen.STATUS: bool(rows),
        Unseen.LOGS: bool(entries),
        Unseen.LABELS: bool(labels),
    }
    refused = {blind.what for blind in sight.blind}
    answered = [NEEDS[what][0] for what, tried in made.items() if tried and what not in refused]
    words = "the dashboard and the matrix (contract data)"
    if answered:
        words += f", {', '.join(answered)} (webhooks)"
    checks = [
        Check(
            Status.FAIL,
            "read",
            f"{NEEDS[blind.what][0]}: refused ({blind.status} at {blind.path}): "
            f"{permission(blind)}",
        )
        for blind in sight.blind
    ]
    return _Reads(words, checks, webhooks if links is not None else None)


async def _test_permission(client: BrokerClient) -> Check:
    try:
        allowed = await client.may_run_tests()
    except BrokerError as error:
        return Check(Status.FAIL, "test", str(error))
    if allowed is None:
        return Check(
            Status.WARN,
            "test",
            "cannot tell whether the token may run the webhook Test; `pactbot test-webhook` "
            "tells (it dispatches a real CI run)",
        )
    if not allowed:
        return Check(Status.FAIL, "test", _READ_ONLY)
    return Check(Status.OK, "test", "the token may run the webhook Test (asked without one)")


def _lint(webhooks: list[Webhook]) -> list[Check]:
    findings = lint_all(webhooks)
    if not findings:
        return [Check(Status.OK, "lint", f"{len(webhooks)} webhooks, nothing to fix")]
    return [
        Check(Status.FAIL, "lint", f"“{found.webhook.name}”: {found.problem} → {found.fix}")
        for found in findings
    ]


async def _canaries(
    client: BrokerClient,
    read: list[tuple[Webhook, WebhookResource]],
    github_api_url: str,
    clock: Callable[[], datetime],
) -> list[Check]:
    """What each canary finds now; a hint where there is none."""
    webhooks = [webhook for webhook, _ in read]
    if not any(is_github(webhook.target) for webhook in webhooks):
        return []
    runs = await ask_canaries(client, read, github_api_url=github_api_url, clock=clock)
    found = views(webhooks, {uuid: first_state(run) for uuid, run in runs.items()})
    if not found:
        return [Check(Status.WARN, "canary", _NO_CANARY)]
    checks = []
    for view in found:
        last = view.state.last if view.state else None
        if last is None:
            continue
        about = f"“{view.name}” asks about {view.canary.asks_about}"
        served = f"{len(view.webhooks)} webhook{'s' if len(view.webhooks) != 1 else ''}"
        status = _CANARY_STATUS[last.verdict]
        said = f"{about} ({served}): {last.headline}"
        if last.verdict is Verdict.DEAD:
            said += " Rotate it: `/pact rotate <provider>` walks through it."
        checks.append(Check(status, "canary", said))
        checks += [Check(Status.WARN, "canary", f"{about}: {w}") for w in view.warnings(clock())]
    return checks


_NO_CANARY = (
    "none: a dead GitHub token is found only when a publication's dispatch fails; "
    "`pactbot canary` prints a canary that finds it within canary.every (an hour by default), "
    "with no CI run"
)
_CANARY_STATUS = {
    Verdict.ALIVE: Status.OK,
    Verdict.DEAD: Status.FAIL,
    Verdict.NO_REPO: Status.WARN,
    Verdict.CANNOT_RUN: Status.WARN,
}


async def _slack(setup: Setup, sleep: Sleep) -> list[Check]:
    settings = setup.slack
    if isinstance(settings, PactbotError):
        return [Check(Status.FAIL, "slack", str(settings))]
    client = build_client(
        token=settings.bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        metrics=Metrics(),
        sleep=sleep,
    )
    try:
        me = await client.auth_test()
    except SlackError as error:
        return [Check(Status.FAIL, "slack", str(error))]
    checks = [Check(Status.OK, "slack", f"signed in as @{me.get('user')} in {me.get('team')}")]
    channels = _channels(setup.config)
    if not channels:
        said = "the config names no digest.channel and no route channel"
        return [*checks, Check(Status.SKIP, "channel", said)]
    for channel in channels:
        try:
            found = (await client.conversations_info(channel=channel))["channel"]
        except SlackError as error:
            checks.append(Check(Status.FAIL, "channel", f"{channel}: {error}"))
            continue
        checks.append(_membership(channel, found))
    return checks


def _channels(config: Config | PactbotError) -> list[str]:
    """The digest channel and the route channels, each once, in the config's order."""
    if isinstance(config, PactbotError):
        return []
    digest = [config.digest.channel] if config.digest else []
    return list(dict.fromkeys(digest + [route.channel for route in config.routes]))


def _membership(channel: str, found: dict[str, object]) -> Check:
    name = f"{channel} (#{found.get('name')})"
    if found.get("is_archived"):
        return Check(Status.FAIL, "channel", f"{name} is archived: choose another in the config")
    if not found.get("is_member"):
        return Check(
            Status.FAIL,
            "channel",
            f"{name}: the bot is not in it; invite it there (/invite @pactbot)",
        )
    return Check(Status.OK, "channel", f"{name}: the bot is in it")


async def _store(setup: Setup, clock: Callable[[], datetime]) -> Check:
    service = setup.service
    if isinstance(service, PactbotError):
        return Check(Status.FAIL, "store", str(service))
    url = service.pactbot_store_url
    where = redact(url) if url else "./pactbot.sqlite3 (PACTBOT_STORE_URL unset)"
    try:
        store = open_store(url, clock=clock)
    except PactbotError as error:
        return Check(Status.FAIL, "store", str(error))
    try:
        await store.ping()
    except PactbotError as error:
        return Check(Status.FAIL, "store", str(error))
    finally:
        await store.close()
    return Check(Status.OK, "store", f"{where} answers")
