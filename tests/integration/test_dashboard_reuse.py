"""Reads that keep what the last one converted: the same snapshot, and only changes converted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.broker.client import BrokerClient
from bot.broker.dashboard import Dashboard
from bot.broker.snapshot import read_snapshot
from bot.domain.model import PairKey, Snapshot
from bot.domain.selection import Selection
from bot.sample.story import scaled_world
from bot.sample.world import World
from bot.settings import BrokerSettings
from tests.conftest import StartBroker

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GITHUB = "https://api.github.com"
STALE = ("consumer-0000", "provider-000")
FRESH = ("consumer-0009", "provider-000")


def change(world: World) -> None:
    """One stale pair verified, one fresh pair waiting for its new content."""
    world.verify(world.latest(*STALE), at=NOW)
    world.publish(*FRESH, "2.0.0", at=NOW - timedelta(days=2), content="changed")


async def test_a_read_that_keeps_the_last_ones_conversions_finds_what_a_new_read_finds(
    start_broker: StartBroker,
) -> None:
    world = scaled_world(NOW, pairs=120, webhooks=3, stale=6)
    broker = start_broker(world)
    dashboard = Dashboard()
    snapshots: list[tuple[Snapshot, Snapshot]] = []
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        for step in range(3):
            if step == 2:
                change(world)
            now = NOW + timedelta(minutes=5 * step)
            kept = await read_snapshot(client, now=now, github_api_url=GITHUB, dashboard=dashboard)
            new = await read_snapshot(client, now=now, github_api_url=GITHUB)
            snapshots.append((kept, new))

    assert all(kept == new for kept, new in snapshots)
    stale, fresh = PairKey(*STALE), PairKey(*FRESH)
    before, after = snapshots[1][0], snapshots[2][0]
    assert {r.key for r in before.pairs if r.awaits_verification} > {stale}
    assert fresh in {r.key for r in after.pairs if r.awaits_verification}
    assert stale not in {r.key for r in after.pairs if r.awaits_verification}


async def test_only_the_pages_that_changed_are_converted_again(
    start_broker: StartBroker,
) -> None:
    world = scaled_world(NOW, pairs=120, webhooks=3, stale=6)
    broker = start_broker(world)
    dashboard = Dashboard()
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        first = dashboard.select(await client.dashboard(20), Selection())
        again = dashboard.select(await client.dashboard(20), Selection())
        change(world)  # on the first two of six pages
        rows = await client.dashboard(20)
        changed = dashboard.select(rows, Selection())

    assert again is first  # the very same rows: nothing to convert again
    before = dict(zip(first.items, first.known, strict=True))
    after = dict(zip(changed.items, changed.known, strict=True))
    stale, fresh = PairKey(*STALE), PairKey(*FRESH)
    assert before[stale] is None  # waiting: converted at each read, with its history
    assert after[stale] is not None
    assert before[fresh] is not None
    assert after[fresh] is None
    unchanged = {PairKey(row.consumer, row.provider) for row in rows[40:]}
    assert all(after[key] is before[key] for key in unchanged)
    assert all(after[key] == before[key] for key in after if key not in (stale, fresh))


async def test_another_selection_is_selected_anew(start_broker: StartBroker) -> None:
    broker = start_broker(scaled_world(NOW, pairs=60, webhooks=3, stale=3))
    dashboard = Dashboard()
    async with BrokerClient(BrokerSettings(base_url=broker.url)) as client:
        rows = await client.dashboard(1000)
        every = dashboard.select(rows, Selection())
        one = dashboard.select(rows, Selection(provider="provider-001"))

    assert len(one.items) < len(every.items)
    assert {key.provider for key in one.items} == {"provider-001"}
