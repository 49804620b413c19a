"""Read a whole snapshot from the broker with few requests.

The request count grows with the webhooks and the pairs waiting for a verification, never with
all pairs (broker-api section 10):

1. `/dashboard`, paged (1,000 rows a page): every pair's latest pact and that content's latest
   verification;
2. `/matrix`, for the pairs whose latest content is unverified only, 20 pairs a request
   (`bot.broker.waiting`): their newest verification of any content, and since when they wait;
3. `/webhooks`, then each webhook; for a webhook scoped by label, the pacticipants with that
   label (`/pacticipants/label/{label}`: one request per label and 1,000 pacticipants);
4. one webhook status per enabled webhook fired by publications, and for a failing one its
   newest logs and the triggers of the first waiting publication (`bot.broker.executions`);
   for a CI trigger, also the status of its newest waiting publication older than the
   grace per provider (did it fire?);
5. for a provider a webhook of `contract_requiring_verification_published` did not fire for,
   the provider and its main branch: why the broker had nothing to fire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.broker import convert, schema
from bot.broker.client import BrokerClient
from bot.broker.dashboard import Dashboard
from bot.broker.executions import Reading, read_executions
from bot.broker.hal import last_segment
from bot.broker.partial import Sight
from bot.broker.waiting import read_waiting
from bot.domain.model import (
    Labelled,
    PairKey,
    PairRecord,
    ProviderVersions,
    Snapshot,
    Trigger,
    Unseen,
    Webhook,
)
from bot.domain.report import GRACE
from bot.domain.selection import Selection
from bot.domain.unfired import confirmed, needs_provider_facts
from bot.domain.webhooks import watched
from bot.errors import BrokerAuthRejected, BrokerError

log = logging.getLogger(__name__)

DASHBOARD_PAGE = 1000

EVERY_PAIR = Selection()


async def read_snapshot(
    client: BrokerClient,
    *,
    now: datetime,
    github_api_url: str,
    selection: Selection = EVERY_PAIR,
    grace: timedelta = GRACE,
    dashboard: Dashboard | None = None,
) -> Snapshot:
    """Everything `bot.domain` needs about the pairs `selection` wants, read at `now`; a
    dispatch older than `grace` is one a webhook should have made. `dashboard`: what the
    previous reads of this client converted, to convert again only what changed."""
    pairs = (dashboard or Dashboard()).select(await client.dashboard(DASHBOARD_PAGE), selection)
    items, published = pairs.items, pairs.published
    sight = Sight()
    waiting, read = await asyncio.gather(
        read_waiting(client, published), read_webhooks(client, github_api_url, sight)
    )
    webhooks = [webhook for webhook, _ in read]
    labelled = await read_labels(client, read, sight)
    records = pairs.records(waiting)
    first_pacts = {key: found.first_pact for key, found in waiting.items() if found.first_pact}
    reading = Reading(now, grace, labelled)
    history = await read_executions(
        client,
        watched(webhooks),
        records,
        lambda key: items[key].webhook_status,
        first_pacts,
        reading,
        sight,
    )
    providers = await read_providers(client, webhooks, records, history.triggers, reading)
    return Snapshot(
        now,
        records,
        tuple(webhooks),
        history.executions,
        history.triggers,
        providers,
        labelled,
        tuple(sight.blind),
        history.unread,
    )


async def read_webhooks(
    client: BrokerClient, github_api_url: str, sight: Sight | None = None
) -> list[tuple[Webhook, schema.WebhookResource]]:
    """Every webhook, as pactbot sees it and as the broker gave it; with a `sight`, those the
    credentials may read (the rest is said as unseen), else all of them or the error."""
    if sight is None:
        resources = await client.webhooks()
    else:
        links = await sight.optional(client.webhook_links(), Unseen.WEBHOOKS) or []
        found = await asyncio.gather(
            *(
                sight.optional(
                    client.webhook(link.href),
                    Unseen.WEBHOOK,
                    link.name or last_segment(link.href),
                    gone_ok=True,  # deleted since the list was read
                )
                for link in links
            )
        )
        resources = [resource for resource in found if resource is not None]
    return [(convert.to_webhook(resource, github_api_url), resource) for resource in resources]


async def read_labels(
    client: BrokerClient, read: Sequence[tuple[Webhook, schema.WebhookResource]], sight: Sight
) -> Labelled:
    """The pacticipants of each label a webhook is scoped by, from the webhook's own links; a
    label that cannot be read matches no pair, and is said as unseen."""
    links: dict[str, str] = {}
    for webhook, resource in read:
        sides = (
            (webhook.scope.consumer_label, resource.links.consumers),
            (webhook.scope.provider_label, resource.links.providers),
        )
        for label, link in sides:
            if label and link is not None:
                links.setdefault(label, link.href)
    labels = sorted(links)
    names = await asyncio.gather(
        *(sight.optional(client.labelled(links[label]), Unseen.LABELS, label) for label in labels)
    )
    return {
        label: frozenset(found)
        for label, found in zip(labels, names, strict=True)
        if found is not None
    }


async def read_providers(
    client: BrokerClient,
    webhooks: Sequence[Webhook],
    records: Sequence[PairRecord],
    triggers: Mapping[PairKey, Sequence[Trigger]],
    reading: Reading,
) -> dict[str, ProviderVersions]:
    """For each provider a webhook did not fire for, whether it has the versions that the
    broker fires `contract_requiring_verification_published` for."""
    records = [record for record in records if record.awaits_verification]
    wanted = {
        provider
        for webhook in webhooks
        if webhook.enabled
        and (
            provider := needs_provider_facts(
                webhook,
                confirmed(webhook, records, triggers, reading.now, reading.grace, reading.labelled),
            )
        )
    }
    names = sorted(wanted)
    found = await asyncio.gather(*(_provider_versions(client, name) for name in names))
    return {name: facts for name, facts in zip(names, found, strict=True) if facts is not None}


async def _provider_versions(client: BrokerClient, name: str) -> ProviderVersions | None:
    """Why nothing fired may stay unknown: its failure must not lose the whole snapshot."""
    try:
        resource = await client.pacticipant(name)
        branch = resource.main_branch
        has_versions = resource.embedded.latest_version is not None
        on_main = bool(branch and has_versions and await client.branch_exists(name, branch))
    except BrokerAuthRejected:
        raise
    except BrokerError as error:
        log.warning("why %s's webhook did not fire stays unknown: %s", name, error)
        return None
    return convert.to_provider_versions(resource, on_main)
