"""The SQLite store: one file, one replica, nothing to run beside the bot.

Only the stdlib `sqlite3`: one connection, used by one worker thread so the event loop never
waits on the disk and no two statements ever overlap on the connection (a cancelled caller
cannot let the next one in early, as it could with a lock around `to_thread`). Writes run in
`BEGIN IMMEDIATE` transactions, so compare-and-set holds even when other processes share the
file. The connection is opened on first use: building a store does no I/O.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import StoreUnavailable
from bot.store import Clock, Document, Json

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS expiring (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS expiring_by_deadline ON expiring (expires_at);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_stream ON audit (stream, id);
"""

# An expired claim only loses to a new one; the upsert's WHERE decides in one statement.
_CLAIM = """
INSERT INTO expiring (key, value, expires_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE expiring.expires_at <= ?
"""
_REPLACE = "INSERT OR REPLACE INTO expiring (key, value, expires_at) VALUES (?, ?, ?)"
_LEASE = """
INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
"""
_LAST_ENTRIES = """
SELECT entry FROM (SELECT id, entry FROM audit WHERE stream = ? ORDER BY id DESC LIMIT ?)
ORDER BY id
"""

# ?1 stream, ?2 cutoff. As in Redis: the entries at the head older than the cutoff go; the
# first without a readable `at`, or not older, stops it.
_TRIM = """
DELETE FROM audit WHERE stream = ?1 AND id < coalesce(
    (SELECT min(id) FROM audit
     WHERE stream = ?1 AND NOT coalesce(json_type(entry, '$.at') = 'text'
                                        AND json_extract(entry, '$.at') < ?2, 0)),
    9223372036854775807
)
"""


class SqliteStore:
    """A `Store` in one SQLite file; several prefixes may share the file."""

    def __init__(
        self,
        path: Path,
        *,
        prefix: str = "pactbot:",
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._path = path
        self._prefix = prefix
        self._clock = clock
        self._connection: sqlite3.Connection | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pactbot-sqlite")
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    async def get(self, key: str) -> Document | None:
        """The document at `key`, or None."""
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Document]:
        """The documents at `keys` that exist, by key, read in one query."""
        marks = ", ".join("?" * len(keys))
        sql = f"SELECT key, value, version FROM documents WHERE key IN ({marks})"
        params = tuple(self._prefix + key for key in keys)
        rows: list[tuple[str, str, int]] = await self._run(
            lambda db: db.execute(sql, params).fetchall()
        )
        return {
            key[len(self._prefix) :]: Document(json.loads(value), version)
            for key, value, version in rows
        }

    async def put(self, key: str, value: Json, *, expected: int | None) -> Document | None:
        """Write `value` if the current version is `expected` (None: only if absent)."""
        text = _encode(value)
        if expected is None:
            sql = "INSERT INTO documents VALUES (?, ?, 1) ON CONFLICT (key) DO NOTHING"
            params: tuple[object, ...] = (self._prefix + key, text)
        else:
            sql = "UPDATE documents SET value = ?, version = ? WHERE key = ? AND version = ?"
            params = (text, expected + 1, self._prefix + key, expected)
        changed = await self._write(lambda db: db.execute(sql, params).rowcount)
        return Document(json.loads(text), (expected or 0) + 1) if changed else None

    async def keys(self, prefix: str) -> list[str]:
        """The keys of the documents whose key starts with `prefix`."""
        start = self._prefix + prefix
        sql = "SELECT key FROM documents WHERE substr(key, 1, ?) = ? ORDER BY key"
        params = (len(start), start)
        rows: list[tuple[str]] = await self._run(lambda db: db.execute(sql, params).fetchall())
        return [key[len(self._prefix) :] for (key,) in rows]

    async def delete(self, key: str) -> None:
        """Remove the document at `key`, if there is one."""
        sql = "DELETE FROM documents WHERE key = ?"
        await self._write(lambda db: db.execute(sql, (self._prefix + key,)))

    async def set_if_absent(self, key: str, value: Json, ttl: timedelta) -> bool:
        """Claim `key` for `ttl`: True for the one caller that set it, False if it was held."""
        now = self._now()
        params = (self._prefix + key, _encode(value), now + ttl.total_seconds(), now)
        return bool(await self._write(lambda db: self._expire(db, now, _CLAIM, params)))

    async def get_value(self, key: str) -> Json | None:
        """The value at `key` unless it has expired (or was never set)."""
        sql = "SELECT value FROM expiring WHERE key = ? AND expires_at > ?"
        row = await self._read(sql, (self._prefix + key, self._now()))
        return None if row is None else json.loads(row[0])

    async def set_value(self, key: str, value: Json, ttl: timedelta) -> None:
        """Store `value` at `key` until `ttl` from now, replacing what was there."""
        now = self._now()
        params = (self._prefix + key, _encode(value), now + ttl.total_seconds())
        await self._write(lambda db: self._expire(db, now, _REPLACE, params))

    async def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the lease `name` for `holder`, or renew it; False if another holder has it."""
        now = self._now()
        params = (self._prefix + name, holder, now + ttl.total_seconds(), now)
        return bool(await self._write(lambda db: db.execute(_LEASE, params).rowcount))

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up, if `holder` has it."""
        sql = "DELETE FROM leases WHERE name = ? AND holder = ?"
        await self._write(lambda db: db.execute(sql, (self._prefix + name, holder)))

    async def append_audit(self, stream: str, entry: Json) -> None:
        """Append `entry` to the audit log `stream`."""
        sql = "INSERT INTO audit (stream, entry) VALUES (?, ?)"
        params = (self._prefix + stream, _encode(entry))
        await self._write(lambda db: db.execute(sql, params))

    async def trim_audit(self, stream: str, before: datetime) -> int:
        """Remove the oldest entries of `stream`, those `at` before `before`; how many went."""
        params = (self._prefix + stream, before.astimezone(UTC).isoformat())
        removed: int = await self._write(lambda db: db.execute(_TRIM, params).rowcount)
        return removed

    async def audit(self, stream: str, limit: int = 100) -> list[Json]:
        """The last `limit` entries of `stream`, oldest first."""
        if limit <= 0:
            return []
        params = (self._prefix + stream, limit)
        rows = await self._run(lambda db: db.execute(_LAST_ENTRIES, params).fetchall())
        return [json.loads(entry) for (entry,) in rows]

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the file can be opened and read."""
        await self._read("SELECT 1", ())

    async def close(self) -> None:
        """Close the file; the store cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._worker, self._disconnect)
        self._worker.shutdown(wait=True)

    # -- plumbing --------------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock().timestamp()

    def _expire(
        self, db: sqlite3.Connection, now: float, sql: str, params: tuple[object, ...]
    ) -> int:
        # Keys are often unique (one claim per event), so expired rows would pile up forever.
        db.execute(
            "DELETE FROM expiring WHERE expires_at <= ? AND substr(key, 1, ?) = ?",
            (now, len(self._prefix), self._prefix),
        )
        return db.execute(sql, params).rowcount

    async def _read(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = await self._run(lambda db: db.execute(sql, params).fetchone())
        return row

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(lambda db: _in_transaction(db, work))

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreUnavailable(f"the SQLite store at {self._where()} has been closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._call, work)

    def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return work(self._connect())
        except sqlite3.Error as error:
            opening = self._connection is None
            hint = "; check that its directory exists and is writable" if opening else ""
            raise StoreUnavailable(
                f"cannot use the SQLite store at {self._where()}: {error}{hint}"
            ) from None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # isolation_level=None: we issue BEGIN and COMMIT ourselves.
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            try:
                _prepare(db)
            except sqlite3.Error:
                db.close()
                raise
            self._connection = db
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _where(self) -> Path:
        return self._path.absolute()


def _prepare(db: sqlite3.Connection) -> None:
    """Switch to WAL and create the tables; several replicas may open a new file at once."""
    for attempt in range(20):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            return
        except sqlite3.OperationalError as error:
            # Changing the journal mode does not wait for a busy handler: another connection
            # preparing the same new file makes it fail at once with "database is locked".
            if "locked" not in str(error) or attempt == 19:
                raise
            time.sleep(0.05)  # in the store's worker thread, never on the event loop


def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    # IMMEDIATE takes the write lock up front: a read-then-write cannot interleave with another
    # process's, and a busy file is reported at BEGIN rather than halfway through.
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise
    db.execute("COMMIT")
    return result


def _encode(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
