"""The store a test opens again, as a restarted process would: SQLite's file or Redis."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.store import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.helpers.bot import Clock

NewStore = Callable[[], Store]


@pytest.fixture(params=["sqlite", "redis"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> NewStore:
    """Open the test's store again, as a restarted process would."""
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return lambda: RedisStore(Redis.from_url(url), prefix=prefix, clock=clock)
