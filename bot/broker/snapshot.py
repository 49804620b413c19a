"""Read a whole snapshot from the broker with few requests.

The request count grows with the webhooks and the pairs waiting for a verification, never with
all pairs (broker-api section 10):

1. `/dashboard`, paged (1,000 rows a page): every pair's latest pact and that content's latest
   verification;
2. `/matrix`, for the pairs whose latest content is unverified only, 20 pairs a request
   (`bot.broker.waiting`): their newest verification of any content, and since when they wait;
3. `/webhooks`, then each webhook;
4. one webhook status per enabled webhook fired by publications, and for a failing one its
   newest logs and the triggers of the first waiting publication (`bot.broker.executions`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.broker import convert, schema
from bot.broker.client import BrokerClient
from bot.broker.executions import read_executions
from bot.broker.waiting import read_waiting
from bot.domain.model import Snapshot, Webhook
from bot.domain.selection import Selection
from bot.domain.webhooks import watched

DASHBOARD_PAGE = 1000

EVERY_PAIR = Selection()


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
    # Sorted on the names themselves: comparing thousands of PairKeys is many times slower.
    ordered = sorted(latest.items(), key=lambda entry: (entry[0].consumer, entry[0].provider))
    items = {key: item for key, item in ordered if selection.wants(key)}
    published = {
        key: item.published_at
        for key, item in items.items()
        if item.latest_verification_result is None
    }
    waiting, read = await asyncio.gather(
        read_waiting(client, published), read_webhooks(client, github_api_url)
    )
    webhooks = [webhook for webhook, _ in read]
    records = tuple(
        convert.to_record(key, item, waiting[key].history if key in waiting else None)
        for key, item in items.items()
    )
    first_pacts = {key: found.first_pact for key, found in waiting.items() if found.first_pact}
    executions = await read_executions(
        client,
        watched(webhooks),
        records,
        lambda key: items[key].webhook_status,
        first_pacts,
    )
    return Snapshot(now, records, tuple(webhooks), executions)


async def read_webhooks(
    client: BrokerClient, github_api_url: str
) -> list[tuple[Webhook, schema.WebhookResource]]:
    """Every webhook, as pactbot sees it and as the broker gave it."""
    return [
        (convert.to_webhook(resource, github_api_url), resource)
        for resource in await client.webhooks()
    ]
