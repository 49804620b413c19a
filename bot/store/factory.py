"""Pick the store a URL names: `open_store(settings.store_url)`.

Accepted (the paths like SQLAlchemy's, three slashes then the path):

    (no URL)                     ./pactbot.sqlite3
    sqlite:///relative/path      relative to the working directory (also sqlite:///./path)
    sqlite:////absolute/path
    redis://[:password@]host:port/db, rediss://... (TLS)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import redis.asyncio

from bot.errors import ConfigError
from bot.store import Clock, Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore

DEFAULT_PATH = Path("pactbot.sqlite3")

_FORMS = (
    "use sqlite:///relative/path, sqlite:////absolute/path, redis://host:port/db or "
    "rediss://host:port/db, or leave it unset for ./pactbot.sqlite3"
)
_SQLITE = "sqlite:///"


def open_store(
    url: str | None,
    *,
    prefix: str = "pactbot:",
    clock: Clock = lambda: datetime.now(UTC),
) -> Store:
    """The store `url` names; does no I/O, so `await store.ping()` to know it answers."""
    if url is None:
        return SqliteStore(DEFAULT_PATH, prefix=prefix, clock=clock)
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        return SqliteStore(_sqlite_path(url), prefix=prefix, clock=clock)
    if scheme in ("redis", "rediss"):
        return RedisStore(_redis_client(url), prefix=prefix, clock=clock)
    raise ConfigError(f"PACTBOT_STORE_URL {redact(url)!r} is not a store URL: {_FORMS}")


def redact(url: str) -> str:
    """`url` with any password replaced by ***, fit for messages and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if password is None:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@" + parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl()


def _sqlite_path(url: str) -> Path:
    if url[: len(_SQLITE)].lower() != _SQLITE or len(url) == len(_SQLITE):
        raise ConfigError(
            f"PACTBOT_STORE_URL {redact(url)!r} names no SQLite file: "
            "use sqlite:///relative/path or sqlite:////absolute/path"
        )
    return Path(url[len(_SQLITE) :])


def _redis_client(url: str) -> redis.asyncio.Redis:
    try:
        # Bounded waits: a store that hangs would stall every listener behind it.
        return redis.asyncio.Redis.from_url(url, socket_connect_timeout=5.0, socket_timeout=5.0)
    except ValueError as error:
        raise ConfigError(
            f"PACTBOT_STORE_URL {redact(url)!r} is not a Redis URL: {error}"
        ) from None
