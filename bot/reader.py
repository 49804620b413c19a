"""Read the broker and judge what it says: the one path every surface takes to a report."""

from __future__ import annotations

from datetime import datetime

from bot.broker.client import BrokerClient
from bot.broker.snapshot import read_snapshot
from bot.config import Config
from bot.domain.report import Report, build_report
from bot.domain.selection import Selection


async def read_report(
    client: BrokerClient,
    config: Config,
    *,
    now: datetime,
    github_api_url: str,
    selection: Selection | None = None,
) -> Report:
    """The report of the pairs the config watches (narrowed by `selection`), at `now`."""
    watched = frozenset(pair.key for pair in config.pairs) if config.pairs else None
    chosen = selection or Selection()
    snapshot = await read_snapshot(
        client,
        now=now,
        github_api_url=github_api_url,
        selection=Selection(chosen.consumer, chosen.provider, watched),
    )
    return build_report(snapshot, config.rules(), snapshot.taken_at)
