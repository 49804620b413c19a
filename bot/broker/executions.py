"""Real executions of each webhook, read from as few webhook statuses and logs as possible.

A pair's webhook status lists only the newest triggered webhook per webhook and event. The
statuses of two covered pairs say whether a webhook works now: the newest waiting pair (its
publication fired the webhook and nothing answered it) and the newest published pair (a
dispatch after a fix); the newest trigger of the two decides. When it failed, the logs of that
execution say how (the target's status), and the webhooks triggered by the first publication
of the longest-waiting covered pair say since when. For a CI trigger, the status of its
newest waiting publication older than the grace, per provider, also says whether it fired at
all (`bot.domain.unfired`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.broker import convert, schema
from bot.broker.client import BrokerClient
from bot.broker.hal import last_segment
from bot.broker.partial import Sight
from bot.domain.model import (
    Execution,
    Labelled,
    PairKey,
    PairRecord,
    TargetAnswer,
    Trigger,
    Unseen,
    Webhook,
)
from bot.domain.unfired import checked_pairs
from bot.domain.webhook_logs import parse_log
from bot.domain.webhooks import history_pairs, newest_pairs
from bot.errors import BrokerAuthRejected, BrokerBadResponse, BrokerError

log = logging.getLogger(__name__)
_FAILED = frozenset({"failure", "retrying"})
Found = TypeVar("Found")


@dataclass(frozen=True, slots=True)
class History:
    """What the webhook statuses read said."""

    executions: dict[str, tuple[Execution, ...]]  # per webhook, oldest first
    triggers: dict[PairKey, tuple[Trigger, ...]]  # per pair whose status was read
    unread: frozenset[str]  # the webhooks none of whose statuses the broker let pactbot read


@dataclass(frozen=True, slots=True)
class Reading:
    """When the snapshot is read, how long a dispatch may take, and the labels read."""

    now: datetime
    grace: timedelta
    labelled: Labelled


async def read_executions(
    client: BrokerClient,
    webhooks: Sequence[Webhook],
    records: Sequence[PairRecord],
    status_link: Callable[[PairKey], str],
    first_pacts: dict[PairKey, str],
    reading: Reading,
    sight: Sight,
) -> History:
    """The known real executions of each of `webhooks`, and the triggers of the pairs read;
    `status_link` gives a pair's webhook status (only the few pairs read are asked for)."""
    labelled = reading.labelled
    waiting, newest = (
        history_pairs(webhooks, records, labelled),
        newest_pairs(webhooks, records, labelled),
    )
    chosen = {
        uuid: tuple(dict.fromkeys((pair, newest.get(uuid, pair)))) for uuid, pair in waiting.items()
    }
    awaiting = [record for record in records if record.awaits_verification]
    checked = {
        key
        for webhook in webhooks
        for key in checked_pairs(webhook, awaiting, reading.now, reading.grace, labelled)
    }
    pairs = sorted({pair for both in chosen.values() for pair in both} | checked)
    read = await asyncio.gather(
        *(
            sight.optional(client.webhook_status(status_link(pair)), Unseen.STATUS, str(pair))
            for pair in pairs
        )
    )
    statuses = {pair: status for pair, status in zip(pairs, read, strict=True) if status}
    by_uuid = {webhook.uuid: webhook for webhook in webhooks}
    # The few pairs a first publication can date, found once, not once per webhook.
    dated = [record for record in records if record.history and record.key in first_pacts]
    readable = {
        uuid: [statuses[pair] for pair in both if pair in statuses] for uuid, both in chosen.items()
    }
    histories = await asyncio.gather(
        *(
            _executions(
                client,
                uuid,
                found,
                _dating(by_uuid[uuid], dated, first_pacts, labelled),
                sight,
            )
            for uuid, found in readable.items()
            if found
        )
    )
    triggers = {
        pair: tuple(convert.to_trigger(entry) for entry in status.embedded.triggered_webhooks)
        for pair, status in statuses.items()
    }
    read_for = [uuid for uuid, found in readable.items() if found]
    unread = frozenset(uuid for uuid, found in readable.items() if not found)
    return History(dict(zip(read_for, histories, strict=True)), triggers, unread)


def _dating(
    webhook: Webhook,
    dated: Sequence[PairRecord],
    first_pacts: dict[PairKey, str],
    labelled: Labelled,
) -> str | None:
    """The first waiting publication of the covered pair that has waited longest; `dated`:
    the pairs with a history and a first publication."""
    waiting = [
        (record.history.waiting_since, record.key)
        for record in dated
        if record.history and webhook.scope.covers(record.key, labelled)
    ]
    return first_pacts[min(waiting)[1]] if waiting else None


async def _executions(
    client: BrokerClient,
    uuid: str,
    statuses: Sequence[schema.TriggeredWebhookList],
    first_pact: str | None,
    sight: Sight,
) -> tuple[Execution, ...]:
    found = {entry.links.logs.href: entry for status in statuses for entry in _ran(status, uuid)}
    entries = sorted(found.values(), key=lambda entry: entry.triggered_at)
    if entries and entries[-1].status not in _FAILED:
        return tuple(_by_status(entry) for entry in entries)
    earlier = (
        await _optional(client.triggered_webhooks(first_pact), sight, Unseen.STATUS, uuid)
        if first_pact
        else None
    )
    known = {entry.links.logs.href: entry for entry in (*_ran(earlier, uuid), *entries)}
    ordered = sorted(known.values(), key=lambda entry: entry.triggered_at)
    if not ordered:
        return ()
    *older, newest = ordered
    failed = newest.status in _FAILED
    logs = await _optional(_logs(client, newest), sight, Unseen.LOGS, uuid) if failed else None
    executions = [_by_status(entry) for entry in older] + (logs or [_by_status(newest)])
    return tuple(sorted(executions, key=lambda execution: execution.at))


async def _logs(client: BrokerClient, entry: schema.TriggeredWebhook) -> list[Execution]:
    """The attempts of one triggered webhook; from the text logs on brokers before 2.112.0."""
    href = entry.links.logs.href
    try:
        logs = await client.triggered_webhook_logs(href)
    except BrokerBadResponse:
        text = await client.triggered_webhook_log_text(href)
        return [Execution(entry.triggered_at, parse_log(text, success=False))]
    return [convert.to_execution(logged) for logged in logs.executions]


async def _optional(
    read: Awaitable[Found], sight: Sight, what: Unseen, subject: str
) -> Found | None:
    """A read that only sharpens the picture: its failure must not lose the whole snapshot;
    a refusal is said, other failures logged."""
    try:
        return await sight.optional(read, what, subject)
    except BrokerAuthRejected:
        raise
    except BrokerError as error:
        log.warning("webhook history incomplete: %s", error)
        return None


def _ran(found: schema.TriggeredWebhookList | None, uuid: str) -> list[schema.TriggeredWebhook]:
    """Triggered webhooks of `uuid` that have run at least once, oldest first."""
    entries = found.embedded.triggered_webhooks if found else []
    return sorted(
        (
            entry
            for entry in entries
            if last_segment(entry.links.webhook.href) == uuid and entry.status != "not_run"
        ),
        key=lambda entry: entry.triggered_at,
    )


def _by_status(entry: schema.TriggeredWebhook) -> Execution:
    return Execution(entry.triggered_at, TargetAnswer(entry.status == "success"))
