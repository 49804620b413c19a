"""Read a whole snapshot from the broker with few requests.

The request count grows with the webhooks and the pairs waiting for a verification, never with
all pairs (broker-api section 10):

1. `/dashboard`, paged (1,000 rows a page): every pair's latest pact and that content's latest
   verification;
2. `/matrix`, for the pairs whose latest content is unverified only, up to 20 pairs a request:
   their newest verification of any content, and since when they wait;
3. `/webhooks`, then each webhook;
4. for each enabled webhook fired by publications, the webhook status of one pair it covers,
   and the logs of its newest triggered webhook when that failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
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
    items = [item for key, item in sorted(latest.items()) if selection.wants(key)]
    waiting = [
        key
        for key, item in latest.items()
        if selection.wants(key) and item.latest_verification_result is None
    ]
    histories, webhooks = await asyncio.gather(
        read_histories(client, waiting, {key: latest[key].pact.created_at for key in waiting}),
        read_webhooks(client, github_api_url),
    )
    records = tuple(
        convert.to_record(item, histories.get(PairKey(item.consumer.name, item.provider.name)))
        for item in items
    )
    status_links = {key: latest[key].links["pb:webhook-status"].href for key in latest}
    executions = await read_executions(client, watched(webhooks), records, status_links)
    return Snapshot(now, records, tuple(webhooks), executions)


async def read_histories(
    client: BrokerClient, pairs: Sequence[PairKey], published: dict[PairKey, datetime]
) -> dict[PairKey, History]:
    """Matrix histories of `pairs`, batched by provider into a few requests."""
    ordered = sorted(pairs, key=lambda pair: (pair.provider, pair.consumer))
    chunks = [
        ordered[start : start + MATRIX_PAIRS] for start in range(0, len(ordered), MATRIX_PAIRS)
    ]
    found: dict[PairKey, History] = {}
    for histories in await asyncio.gather(
        *(_histories(client, chunk, published) for chunk in chunks)
    ):
        found.update(histories)
    return found


async def _histories(
    client: BrokerClient, chunk: Sequence[PairKey], published: dict[PairKey, datetime]
) -> dict[PairKey, History]:
    rows = (await client.matrix(chunk, MATRIX_LIMIT)).matrix
    complete = len(rows) < MATRIX_LIMIT
    if not complete and len(chunk) > 1:
        # The row limit cut the batch: ask again pair by pair so each gets the whole limit.
        singles = await asyncio.gather(*(_histories(client, [pair], published) for pair in chunk))
        return {pair: history for single in singles for pair, history in single.items()}
    return {pair: convert.to_history(rows, pair, published[pair], complete) for pair in chunk}


async def read_webhooks(client: BrokerClient, github_api_url: str) -> list[Webhook]:
    return [convert.to_webhook(resource, github_api_url) for resource in await client.webhooks()]


async def read_executions(
    client: BrokerClient,
    webhooks: Sequence[Webhook],
    records: Sequence[PairRecord],
    status_links: dict[PairKey, str],
) -> dict[str, tuple[Execution, ...]]:
    """The known real executions of each webhook, read from one covered pair's status."""
    chosen = history_pairs(webhooks, records)
    pairs = sorted(set(chosen.values()))
    read = await asyncio.gather(*(client.webhook_status(status_links[pair]) for pair in pairs))
    statuses = dict(zip(pairs, read, strict=True))
    triggered = {
        uuid: sorted(
            (
                entry
                for entry in statuses[pair].embedded.triggered_webhooks
                if last_segment(entry.links.webhook.href) == uuid
            ),
            key=lambda entry: entry.triggered_at,
        )
        for uuid, pair in chosen.items()
    }
    histories = await asyncio.gather(
        *(_executions(client, entries) for entries in triggered.values())
    )
    return dict(zip(triggered, histories, strict=True))


async def _executions(
    client: BrokerClient, entries: Iterable[schema.TriggeredWebhook]
) -> tuple[Execution, ...]:
    """Executions of triggered webhooks, oldest first; only the newest failure's logs are read.

    Older triggered webhooks count by their status alone, at their trigger time: enough to know
    since when a webhook fails without reading every log.
    """
    done = [entry for entry in entries if entry.status != "not_run"]
    if not done:
        return ()
    *older, newest = done
    executions = [
        Execution(entry.triggered_at, TargetAnswer(entry.status == "success")) for entry in older
    ]
    if newest.status in _FAILED:
        logs = await client.triggered_webhook_logs(newest.links.logs.href)
        executions += [convert.to_execution(logged) for logged in logs.executions]
    else:
        executions.append(Execution(newest.triggered_at, TargetAnswer(newest.status == "success")))
    return tuple(executions)
