"""A snapshot: what it finds, and requests that grow with webhooks and waiting pairs, not pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.broker.client import BrokerClient
from bot.broker.snapshot import read_snapshot
from bot.config import Config
from bot.domain.freshness import State
from bot.domain.report import build_report
from bot.domain.webhooks import HealthKind
from bot.sample.story import ORDERS_WEBHOOK, demo_world, scaled_world
from bot.settings import BrokerSettings
from tests.conftest import StartBroker

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def requests_for(start_broker: StartBroker, *, pairs: int, webhooks: int, stale: int) -> int:
    broker = start_broker(scaled_world(NOW, pairs=pairs, webhooks=webhooks, stale=stale))
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        snapshot = await read_snapshot(client, now=NOW, github_api_url="https://api.github.com")
    report = build_report(snapshot, Config().rules(), NOW)
    assert report.count(State.STALE) == stale
    return len(broker.requests)


async def test_ten_times_the_pairs_cost_no_more_requests(start_broker: StartBroker) -> None:
    small = await requests_for(start_broker, pairs=60, webhooks=3, stale=4)
    large = await requests_for(start_broker, pairs=600, webhooks=3, stale=4)

    assert small == large


async def test_waiting_pairs_are_read_from_the_matrix_in_batches(start_broker: StartBroker) -> None:
    few = await requests_for(start_broker, pairs=300, webhooks=3, stale=5)
    many = await requests_for(start_broker, pairs=300, webhooks=3, stale=45)

    assert many - few == 2  # 45 waiting pairs: three matrix requests of 20 instead of one


async def test_each_webhook_costs_a_read_and_a_status(start_broker: StartBroker) -> None:
    three = await requests_for(start_broker, pairs=300, webhooks=3, stale=5)
    six = await requests_for(start_broker, pairs=300, webhooks=6, stale=5)

    assert six - three == 3 * 2


async def test_the_dead_token_is_found_behind_the_stale_pairs(start_broker: StartBroker) -> None:
    broker = start_broker(scaled_world(NOW, pairs=100, webhooks=4, stale=5))
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        snapshot = await read_snapshot(client, now=NOW, github_api_url="https://api.github.com")

    report = build_report(snapshot, Config().rules(), NOW)

    failing = report.failing_webhooks
    assert [view.webhook.uuid for view in failing] == ["hook0000AbCdEfGhIjKlMn"]
    assert failing[0].health.kind is HealthKind.TOKEN_DEAD
    assert all(row.main_webhook == failing[0] for row in report.problems)
    assert failing[0].health.since == NOW - timedelta(days=2) + timedelta(seconds=5)


async def test_a_webhook_fails_since_the_first_publication_still_waiting(
    start_broker: StartBroker,
) -> None:
    # web-app published a change three days ago and re-published it yesterday; both triggers
    # met the dead token, but the status resource shows only yesterday's.
    broker = start_broker(demo_world(NOW))
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        snapshot = await read_snapshot(client, now=NOW, github_api_url="https://api.github.com")

    report = build_report(snapshot, Config().rules(), NOW)

    orders = next(view for view in report.webhooks if view.webhook.uuid == ORDERS_WEBHOOK)
    assert orders.health.kind is HealthKind.TOKEN_DEAD
    assert orders.health.since == NOW - timedelta(days=3)
    assert orders.health.last_run == NOW - timedelta(days=1) + timedelta(seconds=20)
    assert broker.count("/version/b27f3a0/triggered-webhooks$") == 1
