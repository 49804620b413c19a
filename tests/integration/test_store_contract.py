"""One contract, both stores: SQLite in a temp file and a real Redis, with a clock the test moves."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.errors import StoreUnavailable
from bot.store import Document, Json, Store
from bot.store.factory import open_store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from tests.helpers.redis_server import RedisServer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)
SECOND = timedelta(seconds=1)

NESTED: Json = {
    "pair": {"consumer": "Zürich-web ✓", "provider": "orders 🚀"},
    "versions": [1, 2.5, -3, None, True, False, "", [], {}],
    "text": 'quotes " and \\ backslashes, <!channel> & <@U1>, 日本語',
}

OpenStore = Callable[..., Store]


class FakeClock:
    """The time the stores see; tests move it instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture(params=["sqlite", "redis"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Callable[[str], Store]:
    """Build a store of one backend for a prefix; every store of a test shares the backend."""
    if request.param == "sqlite":
        path = tmp_path / "pactbot.sqlite3"
        return lambda prefix: SqliteStore(path, prefix=prefix, clock=clock)
    url: str = request.getfixturevalue("redis_url")
    base: str = request.getfixturevalue("redis_prefix")
    return lambda prefix: RedisStore(Redis.from_url(url), prefix=base + prefix, clock=clock)


@pytest.fixture
async def stores(backend: Callable[[str], Store]) -> AsyncIterator[OpenStore]:
    """Open stores on the test's backend; all are closed when the test ends."""
    opened: list[Store] = []

    def open_one(prefix: str = "pactbot:") -> Store:
        opened.append(backend(prefix))
        return opened[-1]

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
def store(stores: OpenStore) -> Store:
    return stores()


# -- documents ---------------------------------------------------------------------------------


async def test_a_document_is_absent_until_put_then_read_back_at_version_one(store: Store) -> None:
    assert await store.get("monitor") is None

    written = await store.put("monitor", {"pairs": 6}, expected=None)

    assert written == Document({"pairs": 6}, 1)
    assert await store.get("monitor") == Document({"pairs": 6}, 1)


async def test_several_documents_are_read_at_once_and_the_absent_ones_left_out(
    stores: OpenStore,
) -> None:
    store, neighbour = stores(), stores(prefix="neighbour:")
    await store.put("alerts", {"firing": 1}, expected=None)
    await store.put("silences", [], expected=None)
    await store.put("silences", ["orders-api"], expected=1)
    await neighbour.put("canaries", {"x": 1}, expected=None)

    found = await store.get_many(["alerts", "silences", "canaries"])

    assert found == {"alerts": Document({"firing": 1}, 1), "silences": Document(["orders-api"], 2)}
    assert await store.get_many([]) == {}


async def test_put_without_an_expected_version_only_creates(store: Store) -> None:
    await store.put("monitor", "first", expected=None)

    assert await store.put("monitor", "second", expected=None) is None
    assert await store.get("monitor") == Document("first", 1)


async def test_put_with_an_expected_version_fails_when_there_is_no_document(store: Store) -> None:
    assert await store.put("monitor", "value", expected=1) is None
    assert await store.get("monitor") is None


async def test_each_write_moves_the_version_on_and_a_stale_version_is_refused(
    store: Store,
) -> None:
    await store.put("monitor", "v1", expected=None)
    assert await store.put("monitor", "v2", expected=1) == Document("v2", 2)
    assert await store.put("monitor", "v3", expected=2) == Document("v3", 3)

    assert await store.put("monitor", "late", expected=2) is None
    assert await store.get("monitor") == Document("v3", 3)


async def test_of_two_writers_holding_the_same_version_exactly_one_wins(stores: OpenStore) -> None:
    first, second = stores(), stores()
    await first.put("monitor", "start", expected=None)

    results = await asyncio.gather(
        first.put("monitor", "from first", expected=1),
        second.put("monitor", "from second", expected=1),
    )

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].version == 2
    assert await first.get("monitor") == await second.get("monitor") == winners[0]


async def test_twenty_concurrent_increments_that_retry_on_conflict_end_at_twenty(
    stores: OpenStore,
) -> None:
    replicas = [stores(), stores()]

    async def increment(store: Store) -> None:
        while True:
            current = await store.get("counter")
            count = 0 if current is None else current.value
            expected = None if current is None else current.version
            if await store.put("counter", count + 1, expected=expected) is not None:
                return

    await asyncio.gather(*(increment(replicas[i % 2]) for i in range(20)))

    assert await replicas[0].get("counter") == Document(20, 20)


# -- claims and expiring values ----------------------------------------------------------------


async def test_a_claim_is_granted_once_and_again_only_when_its_ttl_has_passed(
    store: Store, clock: FakeClock
) -> None:
    assert await store.set_if_absent("event:42", "replica-a", TTL) is True
    assert await store.set_if_absent("event:42", "replica-b", TTL) is False

    clock.advance(TTL - SECOND)
    assert await store.set_if_absent("event:42", "replica-b", TTL) is False
    assert await store.get_value("event:42") == "replica-a"

    clock.advance(SECOND)
    assert await store.set_if_absent("event:42", "replica-b", TTL) is True
    assert await store.get_value("event:42") == "replica-b"


async def test_a_value_is_read_until_its_ttl_has_passed(store: Store, clock: FakeClock) -> None:
    assert await store.get_value("digest") is None
    await store.set_value("digest", {"sent": 3}, TTL)

    clock.advance(TTL - SECOND)
    assert await store.get_value("digest") == {"sent": 3}

    clock.advance(SECOND)
    assert await store.get_value("digest") is None


async def test_setting_a_value_again_replaces_it_and_its_deadline(
    store: Store, clock: FakeClock
) -> None:
    await store.set_value("digest", "old", TTL)
    clock.advance(TTL - SECOND)

    await store.set_value("digest", "new", TTL)
    clock.advance(TTL - SECOND)

    assert await store.get_value("digest") == "new"


async def test_a_set_value_holds_a_claim_until_it_expires(store: Store, clock: FakeClock) -> None:
    await store.set_value("event:42", "seen", TTL)

    assert await store.set_if_absent("event:42", "again", TTL) is False
    clock.advance(TTL)
    assert await store.set_if_absent("event:42", "again", TTL) is True


async def test_a_document_and_a_value_with_the_same_key_are_independent(store: Store) -> None:
    await store.put("shared", "document", expected=None)
    await store.set_value("shared", "value", TTL)

    assert await store.get("shared") == Document("document", 1)
    assert await store.get_value("shared") == "value"


# -- leases ------------------------------------------------------------------------------------


async def test_a_lease_is_renewed_by_its_holder_and_refused_to_others_until_it_expires(
    store: Store, clock: FakeClock
) -> None:
    assert await store.acquire_lease("scheduler", "replica-a", TTL) is True
    assert await store.acquire_lease("scheduler", "replica-b", TTL) is False

    clock.advance(TTL - SECOND)
    assert await store.acquire_lease("scheduler", "replica-a", TTL) is True

    clock.advance(TTL - SECOND)  # past the first deadline, within the renewed one
    assert await store.acquire_lease("scheduler", "replica-b", TTL) is False


async def test_an_expired_lease_is_taken_over_by_another_holder(
    store: Store, clock: FakeClock
) -> None:
    await store.acquire_lease("scheduler", "replica-a", TTL)
    clock.advance(TTL)

    assert await store.acquire_lease("scheduler", "replica-b", TTL) is True
    assert await store.acquire_lease("scheduler", "replica-a", TTL) is False


async def test_only_the_holder_can_release_a_lease(store: Store) -> None:
    await store.acquire_lease("scheduler", "replica-a", TTL)

    await store.release_lease("scheduler", "replica-b")
    assert await store.acquire_lease("scheduler", "replica-b", TTL) is False

    await store.release_lease("scheduler", "replica-a")
    assert await store.acquire_lease("scheduler", "replica-b", TTL) is True


# -- audit -------------------------------------------------------------------------------------


async def test_audit_entries_come_back_oldest_first_and_the_limit_keeps_the_newest(
    store: Store,
) -> None:
    for number in range(5):
        await store.append_audit("rotation", {"step": number})

    assert await store.audit("rotation") == [{"step": number} for number in range(5)]
    assert await store.audit("rotation", limit=3) == [{"step": 2}, {"step": 3}, {"step": 4}]
    assert await store.audit("rotation", limit=0) == []


async def test_an_audit_stream_never_written_is_empty_and_streams_are_separate(
    store: Store,
) -> None:
    await store.append_audit("rotation", "rotated")

    assert await store.audit("webhook-tests") == []
    assert await store.audit("rotation") == ["rotated"]


async def test_trimming_removes_the_entries_older_than_the_cutoff_and_keeps_the_rest(
    store: Store,
) -> None:
    for days in (400, 366, 365, 10, 0):
        at = (NOW - timedelta(days=days)).isoformat()
        await store.append_audit("rotations", {"at": at, "days": days})
    await store.append_audit("silences", {"at": (NOW - timedelta(days=400)).isoformat()})

    assert await store.trim_audit("rotations", NOW - timedelta(days=365)) == 2
    assert [entry["days"] for entry in await store.audit("rotations")] == [365, 10, 0]
    assert await store.trim_audit("rotations", NOW - timedelta(days=365)) == 0  # idempotent
    assert len(await store.audit("silences")) == 1  # another stream is its own
    assert await store.trim_audit("never-written", NOW) == 0


async def test_an_entry_without_a_time_is_never_trimmed_nor_what_follows_it(store: Store) -> None:
    old = (NOW - timedelta(days=400)).isoformat()
    await store.append_audit("rotations", {"at": old, "n": 1})
    await store.append_audit("rotations", "a note with no time")
    await store.append_audit("rotations", {"at": old, "n": 3})

    assert await store.trim_audit("rotations", NOW) == 1
    assert await store.audit("rotations") == ["a note with no time", {"at": old, "n": 3}]


# -- listing and removing documents ------------------------------------------------------------


async def test_documents_are_listed_by_prefix_and_removed_one_by_one(stores: OpenStore) -> None:
    store, neighbour = stores(), stores(prefix="neighbour:")
    for key in ("digest:C1:2026-11-01", "digest:C1:2026-11-02", "digest:C[2]*:2026-11-01"):
        await store.put(key, {"state": "posted"}, expected=None)
    await store.put("alerts", {}, expected=None)
    await neighbour.put("digest:C1:2026-10-01", {}, expected=None)

    assert await store.keys("digest:C1:") == ["digest:C1:2026-11-01", "digest:C1:2026-11-02"]
    assert await store.keys("digest:C[2]*") == ["digest:C[2]*:2026-11-01"]  # taken literally

    await store.delete("digest:C1:2026-11-01")
    await store.delete("digest:C1:2026-11-01")  # gone already: nothing to do

    assert await store.keys("digest:") == ["digest:C1:2026-11-02", "digest:C[2]*:2026-11-01"]
    assert await store.get("digest:C1:2026-11-01") is None
    assert await store.put("digest:C1:2026-11-01", "again", expected=None) == Document("again", 1)
    assert await neighbour.keys("digest:") == ["digest:C1:2026-10-01"]


async def test_a_closed_store_refuses_in_a_sentence_and_opens_no_connection(store: Store) -> None:
    await store.put("alerts", {}, expected=None)
    await store.close()

    with pytest.raises(StoreUnavailable, match=r"store at .* has been closed"):
        await store.get("alerts")
    with pytest.raises(StoreUnavailable, match=r"has been closed"):
        await store.append_audit("rotations", {"at": NOW.isoformat()})
    await store.close()  # closing twice is harmless


# -- everything at once ------------------------------------------------------------------------


async def test_json_values_round_trip_unchanged_through_every_kind_of_record(
    store: Store,
) -> None:
    await store.put("document", NESTED, expected=None)
    await store.set_value("value", NESTED, TTL)
    await store.set_if_absent("claim", NESTED, TTL)
    await store.append_audit("stream", NESTED)

    assert await store.get("document") == Document(NESTED, 1)
    assert await store.get_value("value") == NESTED
    assert await store.get_value("claim") == NESTED
    assert await store.audit("stream") == [NESTED]


async def test_stores_with_different_prefixes_on_one_backend_see_nothing_of_each_other(
    stores: OpenStore,
) -> None:
    ours, theirs = stores("ours:"), stores("theirs:")
    await ours.put("monitor", "ours", expected=None)
    await ours.set_value("digest", "ours", TTL)
    await ours.acquire_lease("scheduler", "replica-a", TTL)
    await ours.append_audit("rotation", "ours")

    assert await theirs.get("monitor") is None
    assert await theirs.put("monitor", "theirs", expected=None) == Document("theirs", 1)
    assert await theirs.get_value("digest") is None
    assert await theirs.acquire_lease("scheduler", "replica-b", TTL) is True
    assert await theirs.audit("rotation") == []
    assert await ours.get("monitor") == Document("ours", 1)


async def test_what_was_written_survives_closing_and_reopening_the_store(
    stores: OpenStore,
) -> None:
    before = stores()
    await before.put("monitor", NESTED, expected=None)
    await before.set_value("digest", "sent", TTL)
    await before.acquire_lease("scheduler", "replica-a", TTL)
    await before.append_audit("rotation", "rotated")
    await before.close()

    after = stores()

    assert await after.get("monitor") == Document(NESTED, 1)
    assert await after.get_value("digest") == "sent"
    assert await after.acquire_lease("scheduler", "replica-b", TTL) is False
    assert await after.audit("rotation") == ["rotated"]


async def test_a_store_that_answers_passes_ping(store: Store) -> None:
    await store.ping()


# -- unavailable -------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_redis_on_a_closed_port_is_unavailable_naming_the_url_but_not_the_password() -> None:
    port = _closed_port()
    store = open_store(f"redis://:s3cret@127.0.0.1:{port}/0")
    try:
        for operation in (store.ping, lambda: store.get("monitor"), lambda: store.audit("s")):
            with pytest.raises(StoreUnavailable) as raised:
                await operation()
            message = str(raised.value)
            assert message.startswith(f"cannot use the Redis store at redis://127.0.0.1:{port}/0: ")
            assert "s3cret" not in message
    finally:
        await store.close()


@pytest.mark.parametrize("parent", ["missing-directory", "a-file"])
async def test_a_sqlite_store_whose_file_cannot_be_created_is_unavailable_and_names_it(
    tmp_path: Path, parent: str
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    path = tmp_path / parent / "pactbot.sqlite3"
    store = SqliteStore(path)
    try:
        for operation in (store.ping, lambda: store.put("monitor", 1, expected=None)):
            with pytest.raises(StoreUnavailable) as raised:
                await operation()
            assert str(raised.value) == (
                f"cannot use the SQLite store at {path}: unable to open database file; "
                "check that its directory exists and is writable"
            )
    finally:
        await store.close()


async def test_a_redis_store_answers_again_once_a_restarted_server_is_back(
    redis_server: RedisServer, redis_url: str, redis_prefix: str
) -> None:
    store = RedisStore(Redis.from_url(redis_url), prefix=redis_prefix)
    try:
        await store.ping()
        redis_server.stop()
        with pytest.raises(StoreUnavailable, match=r"^cannot use the Redis store at redis://"):
            await store.ping()

        redis_server.start()

        await store.ping()
        assert redis_server.url == redis_url
    finally:
        await store.close()
