"""The Redis store: what several replicas share.

Every operation is one round trip: one command, or one Lua script where a read decides a write
(compare-and-set, claims, leases), which Redis runs atomically. Scripts are given the caller's
`now`, because expiry is decided by the caller's clock (see `bot.store`); expiring records also
get a physical Redis expiry of their ttl plus `GRACE`, so Redis cleans up after them while a
clock a little behind the server's still sees them.

Keys: `{prefix}doc:{key}` and `{prefix}val:{key}` (hashes), `{prefix}lease:{name}` (hash),
`{prefix}audit:{stream}` (list).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import redis.asyncio
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection
from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.store import Clock, Document, Json

GRACE = timedelta(seconds=60)

# KEYS[1] document; ARGV: expected version ("" for absent), value. Returns the new version or 0.
_PUT = """
local version = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if version then return 0 end
elseif version ~= ARGV[1] then
  return 0
end
local new = (tonumber(version) or 0) + 1
redis.call('HSET', KEYS[1], 'value', ARGV[2], 'version', new)
return new
"""

# KEYS[1] audit list; ARGV: the cutoff, an ISO 8601 UTC time. Entries are appended in time
# order, so the old ones are at the head; an entry without a readable `at` is kept, and keeps
# those after it. Returns how many went.
_TRIM = """
local removed = 0
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local ok, entry = pcall(cjson.decode, head)
  if not (ok and type(entry) == 'table' and type(entry['at']) == 'string') then break end
  if entry['at'] >= ARGV[1] then break end
  redis.call('LPOP', KEYS[1])
  removed = removed + 1
end
return removed
"""

# KEYS[1] value; ARGV: value, deadline, now, physical ttl (ms). Returns 1 if claimed.
_CLAIM = """
local deadline = redis.call('HGET', KEYS[1], 'expires_at')
if deadline and tonumber(deadline) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'expires_at', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS[1] value; ARGV: value, deadline, physical ttl (ms).
_SET = """
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'expires_at', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1] lease; ARGV: holder, deadline, now, physical ttl (ms). Returns 1 if held by ARGV[1].
_ACQUIRE = """
local lease = redis.call('HMGET', KEYS[1], 'holder', 'expires_at')
if lease[1] and lease[1] ~= ARGV[1] and tonumber(lease[2]) > tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'expires_at', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS[1] lease; ARGV: holder.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    """A `Store` in Redis; `close()` closes the client it was given."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "pactbot:",
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock
        self._url = _describe(client)
        self._closed = False
        self._put = client.register_script(_PUT)
        self._claim = client.register_script(_CLAIM)
        self._set = client.register_script(_SET)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._trim = client.register_script(_TRIM)

    @property
    def url(self) -> str:
        """Where the server is, without credentials."""
        return self._url

    async def get(self, key: str) -> Document | None:
        """The document at `key`, or None."""
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Document]:
        """The documents at `keys` that exist, by key, read in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._key("doc", key), ["value", "version"])
        with self._answering():
            found = await pipe.execute()
        return {
            key: Document(json.loads(value), int(version))
            for key, (value, version) in zip(keys, found, strict=True)
            if value is not None and version is not None
        }

    async def put(self, key: str, value: Json, *, expected: int | None) -> Document | None:
        """Write `value` if the current version is `expected` (None: only if absent)."""
        text = _encode(value)
        args = ["" if expected is None else str(expected), text]
        with self._answering():
            version = await self._put(keys=[self._key("doc", key)], args=args)
        return Document(json.loads(text), int(version)) if version else None

    async def keys(self, prefix: str) -> list[str]:
        """The keys of the documents whose key starts with `prefix`."""
        start = self._key("doc", "")
        pattern = _glob_escaped(start + prefix) + "*"
        with self._answering():
            found = [key async for key in self._redis.scan_iter(match=pattern, count=1000)]
        return sorted(key.decode()[len(start) :] for key in found)

    async def delete(self, key: str) -> None:
        """Remove the document at `key`, if there is one."""
        with self._answering():
            await self._redis.delete(self._key("doc", key))

    async def set_if_absent(self, key: str, value: Json, ttl: timedelta) -> bool:
        """Claim `key` for `ttl`: True for the one caller that set it, False if it was held."""
        now = self._now()
        args: list[str | int] = [_encode(value), _at(now, ttl), repr(now), _physical(ttl)]
        with self._answering():
            return bool(await self._claim(keys=[self._key("val", key)], args=args))

    async def get_value(self, key: str) -> Json | None:
        """The value at `key` unless it has expired (or was never set)."""
        with self._answering():
            found = await self._redis.hmget(self._key("val", key), ["value", "expires_at"])
        value, deadline = found
        if value is None or deadline is None or float(deadline) <= self._now():
            return None
        return json.loads(value)

    async def set_value(self, key: str, value: Json, ttl: timedelta) -> None:
        """Store `value` at `key` until `ttl` from now, replacing what was there."""
        args: list[str | int] = [_encode(value), _at(self._now(), ttl), _physical(ttl)]
        with self._answering():
            await self._set(keys=[self._key("val", key)], args=args)

    async def acquire_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the lease `name` for `holder`, or renew it; False if another holder has it."""
        now = self._now()
        args: list[str | int] = [holder, _at(now, ttl), repr(now), _physical(ttl)]
        with self._answering():
            return bool(await self._acquire(keys=[self._key("lease", name)], args=args))

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up, if `holder` has it."""
        with self._answering():
            await self._release(keys=[self._key("lease", name)], args=[holder])

    async def append_audit(self, stream: str, entry: Json) -> None:
        """Append `entry` to the audit log `stream`."""
        text = _encode(entry)
        with self._answering():
            await self._redis.rpush(self._key("audit", stream), text)

    async def trim_audit(self, stream: str, before: datetime) -> int:
        """Remove the oldest entries of `stream`, those `at` before `before`; how many went."""
        cutoff = before.astimezone(UTC).isoformat()
        with self._answering():
            return int(await self._trim(keys=[self._key("audit", stream)], args=[cutoff]))

    async def audit(self, stream: str, limit: int = 100) -> list[Json]:
        """The last `limit` entries of `stream`, oldest first."""
        if limit <= 0:
            return []  # LRANGE -0 -1 would be the whole list
        with self._answering():
            entries = await self._redis.lrange(self._key("audit", stream), -limit, -1)
        return [json.loads(entry) for entry in entries]

    async def ping(self) -> None:
        """Raise `StoreUnavailable` unless the server answers."""
        with self._answering():
            await self._redis.ping()

    async def close(self) -> None:
        """Close the client and its connections; the store cannot be used afterwards (a call
        still under way at shutdown must not open a connection that nobody closes)."""
        self._closed = True
        await self._redis.aclose()

    # -- plumbing --------------------------------------------------------------------------------

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    def _now(self) -> float:
        return self._clock().timestamp()

    @contextmanager
    def _answering(self) -> Iterator[None]:
        if self._closed:
            raise StoreUnavailable(f"the Redis store at {self._url} has been closed")
        try:
            yield
        except RedisError as error:
            raise StoreUnavailable(f"cannot use the Redis store at {self._url}: {error}") from None


def _glob_escaped(text: str) -> str:
    """`text` matched literally by SCAN's MATCH pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def _describe(client: redis.asyncio.Redis) -> str:
    """The server's address as a URL, built from the parts that are not secret."""
    pool = client.connection_pool
    options = pool.connection_kwargs
    if issubclass(pool.connection_class, UnixDomainSocketConnection):
        return f"unix://{options.get('path', '')}?db={options.get('db', 0)}"
    scheme = "rediss" if issubclass(pool.connection_class, SSLConnection) else "redis"
    host = options.get("host", "localhost")
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{options.get('port', 6379)}/{options.get('db', 0)}"


def _at(now: float, ttl: timedelta) -> str:
    """The deadline as text Lua reads back exactly (repr round-trips a float)."""
    return repr(now + ttl.total_seconds())


def _physical(ttl: timedelta) -> int:
    return int((ttl + GRACE).total_seconds() * 1000)


def _encode(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
