"""Webhook health read from the broker's history: since when, from which pair, despite gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.broker.client import BrokerClient
from bot.broker.snapshot import read_snapshot
from bot.config import Config
from bot.domain.report import Report, build_report
from bot.domain.webhooks import HealthKind
from bot.sample.broker import Fault, SampleBroker
from bot.sample.world import GITHUB_ACCEPTED, GITHUB_BAD_CREDENTIALS, World
from bot.settings import BrokerSettings
from tests.conftest import StartBroker

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOOK = "hookOrdersAbCdEfGhIjKl"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def orders_world() -> World:
    """Two consumers of orders-api; the token died before web-app's change five days ago."""
    world = World(clock=lambda: NOW)
    hook = world.add_webhook(
        HOOK,
        description="Verify orders-api",
        provider="orders-api",
        url="https://api.github.com/repos/acme/orders-api/dispatches",
        created_at=ago(90),
    )
    for consumer in ("web-app", "mobile-app"):
        first = world.publish(consumer, "orders-api", "1", at=ago(10), content=f"{consumer} 1")
        world.verify(first, at=ago(10))
    hook.target = GITHUB_BAD_CREDENTIALS
    world.publish("web-app", "orders-api", "2", at=ago(5), content="web-app 2")
    world.publish("mobile-app", "orders-api", "2", at=ago(1), content="mobile-app 2")
    return world


async def report_of(broker: SampleBroker) -> Report:
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        snapshot = await read_snapshot(client, now=NOW, github_api_url="https://api.github.com")
    return build_report(snapshot, Config().rules(), NOW)


def orders_health(report: Report) -> tuple[HealthKind, datetime | None]:
    view = next(view for view in report.webhooks if view.webhook.uuid == HOOK)
    return view.health.kind, view.health.since


async def test_a_webhook_fails_since_the_longest_waiting_pair_started_waiting(
    start_broker: StartBroker,
) -> None:
    report = await report_of(start_broker(orders_world()))

    assert orders_health(report) == (HealthKind.TOKEN_DEAD, ago(5))


async def test_a_trigger_not_yet_attempted_does_not_hide_a_dead_token(
    start_broker: StartBroker,
) -> None:
    world = orders_world()
    world.deliver = False  # the broker has queued mobile-app's new trigger, not run it yet
    world.publish(
        "mobile-app", "orders-api", "3", at=NOW - timedelta(seconds=2), content="mobile-app 3"
    )

    report = await report_of(start_broker(world))

    # The first failed attempt ran five seconds after web-app's publication.
    assert orders_health(report) == (HealthKind.TOKEN_DEAD, ago(5) + timedelta(seconds=5))


async def test_a_recovered_webhook_is_healthy_again(start_broker: StartBroker) -> None:
    world = orders_world()
    world.webhooks[HOOK].target = GITHUB_ACCEPTED
    world.publish(
        "mobile-app", "orders-api", "3", at=NOW - timedelta(hours=1), content="mobile-app 3"
    )

    report = await report_of(start_broker(world))

    assert orders_health(report)[0] is HealthKind.OK


async def test_logs_only_as_text_on_an_older_broker_are_read_too(start_broker: StartBroker) -> None:
    broker = start_broker(orders_world())
    broker.inject("^/triggered-webhooks/.*/logs$", Fault(406, b"", "text/plain"))  # no JSON form

    report = await report_of(broker)

    assert orders_health(report)[0] is HealthKind.TOKEN_DEAD
    assert broker.count("/logs$") == 2


async def test_unreadable_logs_leave_the_webhook_failing_without_losing_the_snapshot(
    start_broker: StartBroker,
) -> None:
    broker = start_broker(orders_world())
    broker.inject("^/triggered-webhooks/.*/logs$", Fault(404, b"", times=None))
    broker.inject("/triggered-webhooks$", Fault.html(times=None))

    report = await report_of(broker)

    kind, since = orders_health(report)
    assert kind is HealthKind.FAILING  # failing, though the broker would not say how
    assert since == ago(1)
    assert len(report.rows) == 2


async def test_a_notification_webhook_never_stands_for_a_pairs_dispatch(
    start_broker: StartBroker,
) -> None:
    world = orders_world()
    world.add_webhook(
        "slackNotifyAbCdEfGhIjKl",
        description="Tell #team-orders",
        provider="orders-api",
        url="https://hooks.slack.com/services/T0/B0/x",
        events=("contract_published",),
        created_at=ago(90),
    )

    report = await report_of(start_broker(world))

    assert {row.main_webhook.webhook.uuid for row in report.rows if row.main_webhook} == {HOOK}
