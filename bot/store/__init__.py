"""Where pactbot keeps what must survive a restart or be shared by replicas.

One small async interface, two backends: SQLite (the default, one file, one replica) and Redis
(several replicas). `open_store(url)` picks one: `sqlite:///relative.sqlite3`,
`sqlite:////absolute/path.sqlite3` (or no URL: `./pactbot.sqlite3`), `redis://host:port/db`.
Every key lives under the store's prefix.

Expiry is decided with the caller's clock, not the server's: each expiring record carries its
deadline, so tests move time instead of sleeping and SQLite and Redis behave alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

Json = Any  # what json.dumps accepts: dicts, lists, strings, numbers, booleans, None
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Document:
    """A JSON value and its version, for compare-and-set."""

    value: Json
    version: int


class Store(Protocol):
    async def get(self, key: str) -> Document | None:
        """The document at `key`, or None."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, Document]:
        """The documents at `keys` that exist, by key, read in one round trip."""

    async def put(self, key: str, value: Json, *, expected: int | None) -> Document | None:
        """Write `value` if the current version is `expected` (None: only if absent).

        Returns the new document (version `expected + 1`, or 1), or None when another writer
        got there first: the caller reads again and decides again.
        """

    async def keys(self, prefix: str) -> list[str]:
        """The keys of the documents whose key starts with `prefix`."""

    async def delete(self, key: str) -> None:
        """Remove the document at `key`, if there is one."""

    async def set_if_absent(self, key: str, value: Json, ttl: timedelta) -> bool:
        """Claim `key` for `ttl`: True for the one caller that set it, False if it was held."""

    async def get_value(self, key: str) -> Json | None:
        """The value at `key` unless it has expired (or was never set)."""

    async def set_value(self, key: str, value: Json, ttl: timedelta) -> None:
        """Store `value` at `key` until `ttl` from now, replacing what was there."""

    async def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the lease `name` for `holder`, or renew it if `holder` has it. False if another
        holder has it and it has not expired."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up, if `holder` has it."""

    async def append_audit(self, stream: str, entry: Json) -> None:
        """Append `entry` to the audit log `stream`: an object whose `at` is when it happened,
        in ISO 8601 UTC, appended in time order. Entries are never changed, and removed only by
        `trim_audit` once older than the retention."""

    async def trim_audit(self, stream: str, before: datetime) -> int:
        """Remove the oldest entries of `stream`, those `at` before `before`; how many went."""

    async def audit(self, stream: str, limit: int = 100) -> list[Json]:
        """The last `limit` entries of `stream`, oldest first."""

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store answers."""

    async def close(self) -> None: ...
