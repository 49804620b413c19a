"""`open_store` reads PACTBOT_STORE_URL's forms; building a store does no I/O."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.store.factory import open_store, redact
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (None, Path("pactbot.sqlite3")),
        ("sqlite:///pactbot.sqlite3", Path("pactbot.sqlite3")),
        ("sqlite:///data/pactbot.sqlite3", Path("data/pactbot.sqlite3")),
        ("sqlite:///./data/pactbot.sqlite3", Path("data/pactbot.sqlite3")),
        ("sqlite:////var/lib/pactbot/store.db", Path("/var/lib/pactbot/store.db")),
        ("SQLite:////var/lib/pactbot/store.db", Path("/var/lib/pactbot/store.db")),
    ],
)
async def test_no_url_or_a_sqlite_url_opens_that_file_like_sqlalchemy(
    url: str | None, path: Path
) -> None:
    store = open_store(url)

    assert isinstance(store, SqliteStore)
    assert store.path == path
    await store.close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6390/2", "redis://127.0.0.1:6390/2"),
        ("redis://:s3cret@127.0.0.1:6390/2", "redis://127.0.0.1:6390/2"),
        ("redis://pactbot:s3cret@redis.internal", "redis://redis.internal:6379/0"),
        ("rediss://:s3cret@cache.example.com:6380/1", "rediss://cache.example.com:6380/1"),
    ],
)
async def test_a_redis_url_opens_a_redis_store_that_shows_no_password(url: str, shown: str) -> None:
    store = open_store(url)

    assert isinstance(store, RedisStore)
    assert store.url == shown
    await store.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgres://db/pactbot",
        "pactbot.sqlite3",
        "/var/lib/pactbot/store.db",
        "",
        "memcached://127.0.0.1:11211",
    ],
)
def test_any_other_url_is_refused_naming_the_variable_and_the_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        open_store(url)

    assert str(raised.value) == (
        f"PACTBOT_STORE_URL {url!r} is not a store URL: use sqlite:///relative/path, "
        "sqlite:////absolute/path, redis://host:port/db or rediss://host:port/db, "
        "or leave it unset for ./pactbot.sqlite3"
    )


@pytest.mark.parametrize(
    "url", ["sqlite:///", "sqlite://", "sqlite:pactbot.sqlite3", "sqlite://host/x"]
)
def test_a_sqlite_url_without_three_slashes_and_a_path_is_refused(url: str) -> None:
    with pytest.raises(
        ConfigError,
        match=r"names no SQLite file: use sqlite:///relative/path or sqlite:////absolute/path$",
    ):
        open_store(url)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ConfigError) as raised:
        open_store("http://admin:s3cret@127.0.0.1:6379/0")

    assert "s3cret" not in str(raised.value)
    assert "'http://admin:***@127.0.0.1:6379/0'" in str(raised.value)


def test_a_redis_url_with_a_port_that_is_not_a_number_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"^PACTBOT_STORE_URL 'redis://:\*\*\*@cache:abc' is not a Redis URL: "
    ):
        open_store("redis://:s3cret@cache:abc")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host/0", "redis://:***@host/0"),
        ("rediss://user:pw@host:6380", "rediss://user:***@host:6380"),
        ("redis://user@host", "redis://user@host"),
    ],
)
def test_redact_hides_only_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown
