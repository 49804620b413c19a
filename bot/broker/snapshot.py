"""Read a whole snapshot from the broker with few requests.

The request count grows with the webhooks and the pairs waiting for a verification, never with
all pairs (broker-api section 10):

1. `/dashboard`, paged (1,000 rows a page): every pair's latest pact and that content's latest
   verification;
2. `/matrix`, for the pairs whose latest content is unverified only, up to 20 pairs a request:
   their newest verification of any content, and since when they wait;
3. `/webhooks`, then each webhook;
4. for each enabled webhook fired by publications, the webhook status of one pair it covers;
   when its newest execution failed, that execution's logs and the webhooks triggered by the
   first publication still waiting, which date the failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.broker import convert, schema
from bot.broker.client import BrokerClient
from bot.broker.hal import last_segment
from bot.domain.model import (
    Execution,
    History,
    PairKey,
    PairRecord,
    Snapshot,
    TargetAnswer,
    Webhook,
)
from bot.domain.selection import Selection
from bot.domain.webhooks import history_pairs, watched

DASHBOARD_PAGE = 1000
MATRIX_PAIRS = 20
MATRIX_LIMIT = 1000

EVERY_PAIR = Selection()
_FAILED = frozenset({"failure", "retrying"})


@dataclass(frozen=True, slots=True)
class _Waiting:
    history: History
    first_pact: str | None  # the link of the first publication that still waits


async def read_snapshot(
    client: BrokerClient,
    *,
    now: datetime,
    github_api_url: str,
    selection: Selection = EVERY_PAIR,
) -> Snapshot:
    """Everything `bot.domain` needs about the pairs `selection` wants, read at `now`."""
    latest = convert.latest_per_pair(await client.dashboard(DASHBOARD_PAGE))
    selection.check(latest.keys())
    items = {key: item for key, item in sorted(latest.items()) if selection.wants(key)}
    published = {
        key: item.pact.created_at
        for key, item in items.items()
        if item.latest_verification_result is None
    }
    waiting, webhooks = await asyncio.gather(
        read_waiting(client, published), read_webhooks(client, github_api_url)
    )
    records = tuple(
        convert.to_record(item, waiting[key].history if key in waiting else None)
        for key, item in items.items()
    )
    status_links = {key: item.links["pb:webhook-status"].href for key, item in items.items()}
    first_pacts = {key: found.first_pact for key, found in waiting.items() if found.first_pact}
    executions = await read_executions(
        client, watched(webhooks), records, status_links, first_pacts
    )
    return Snapshot(now, records, tuple(webhooks), executions)


async def read_waiting(
    client: BrokerClient, published: dict[PairKey, datetime]
) -> dict[PairKey, _Waiting]:
    """Matrix histories of the waiting pairs (`published`: their latest publication), batched
    by provider into requests of `MATRIX_PAIRS` pairs."""
    ordered = sorted(published, key=lambda pair: (pair.provider, pair.consumer))
    chunks = [
        ordered[start : start + MATRIX_PAIRS] for start in range(0, len(ordered), MATRIX_PAIRS)
    ]
    found: dict[PairKey, _Waiting] = {}
    for batch in await asyncio.gather(*(_waiting(client, chunk, published) for chunk in chunks)):
        found.update(batch)
    return found


async def _waiting(
    client: BrokerClient, chunk: Sequence[PairKey], published: dict[PairKey, datetime]
) -> dict[PairKey, _Waiting]:
    rows = (await client.matrix(chunk, MATRIX_LIMIT)).matrix
    complete = len(rows) < MATRIX_LIMIT
    if not complete and len(chunk) > 1:
        # The row limit cut the batch: ask again pair by pair so each gets the whole limit.
        singles = await asyncio.gather(*(_waiting(client, [pair], published) for pair in chunk))
        return {pair: waiting for single in singles for pair, waiting in single.items()}
    found = {}
    for pair in chunk:
        run = convert.waiting_run(rows, pair)
        first = run[-1].pact.links.get("self") if run else None
        history = convert.to_history(rows, pair, published[pair], complete)
        found[pair] = _Waiting(history, first.href if first else None)
    return found


async def read_webhooks(client: BrokerClient, github_api_url: str) -> list[Webhook]:
    return [convert.to_webhook(resource, github_api_url) for resource in await client.webhooks()]


async def read_executions(
    client: BrokerClient,
    webhooks: Sequence[Webhook],
    records: Sequence[PairRecord],
    status_links: dict[PairKey, str],
    first_pacts: dict[PairKey, str],
) -> dict[str, tuple[Execution, ...]]:
    """The known real executions of each webhook, read from one covered pair's status."""
    chosen = history_pairs(webhooks, records)
    pairs = sorted(set(chosen.values()))
    read = await asyncio.gather(*(client.webhook_status(status_links[pair]) for pair in pairs))
    statuses = dict(zip(pairs, read, strict=True))
    histories = await asyncio.gather(
        *(
            _executions(client, uuid, statuses[pair], first_pacts.get(pair))
            for uuid, pair in chosen.items()
        )
    )
    return dict(zip(chosen, histories, strict=True))


async def _executions(
    client: BrokerClient,
    uuid: str,
    status: schema.TriggeredWebhookList,
    first_pact: str | None,
) -> tuple[Execution, ...]:
    """The executions of one webhook, oldest first, in as few reads as the question needs.

    The status lists only the newest triggered webhook per event. When that failed, its logs
    say how (the target's status), and when the pair has waited through several publications,
    the first of them says since when: older triggers count by status, at their trigger time.
    """
    entries = _done(status, uuid)
    if not entries:
        return ()
    *older, newest = entries
    if newest.status not in _FAILED:
        return tuple(_by_status(entry) for entry in entries)
    logs, earlier = await asyncio.gather(
        client.triggered_webhook_logs(newest.links.logs.href),
        client.triggered_webhooks(first_pact) if first_pact else _nothing(),
    )
    before = [entry for entry in _done(earlier, uuid) if entry.triggered_at < newest.triggered_at]
    executions = [_by_status(entry) for entry in (*before, *older)]
    executions += [convert.to_execution(logged) for logged in logs.executions]
    return tuple(sorted(executions, key=lambda execution: execution.at))


def _done(found: schema.TriggeredWebhookList | None, uuid: str) -> list[schema.TriggeredWebhook]:
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


async def _nothing() -> None:
    return None
