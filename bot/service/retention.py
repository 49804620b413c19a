"""What is over leaves the store, so that it stays the same size year after year.

The leader sweeps every hour, by `retention` in the config: the rotations' audit entries, ended
silences, each day's digest record, and rotations no longer kept (a day after they end, or
after the day their held-up pairs are watched). Resolved alerts leave with the evaluation that
finds them past `retention.alerts`: the alert document is rewritten then anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import Retention
from bot.service.alert_records import SILENCES, SilenceRecord, load_silences
from bot.service.digest import DIGESTS
from bot.service.rotation_records import AUDIT, ROTATIONS, load_rotations
from bot.store import Store

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Swept:
    """How many of each went."""

    audit: int = 0
    silences: int = 0
    digests: int = 0
    rotations: int = 0

    def __str__(self) -> str:
        return (
            f"{self.audit} audit entries, {self.silences} ended silences, "
            f"{self.digests} digest records, {self.rotations} rotations"
        )


class Sweeper:
    def __init__(self, retention: Retention, store: Store, clock: Callable[[], datetime]) -> None:
        self._retention = retention
        self._store = store
        self._clock = clock

    async def sweep(self) -> Swept:
        """Remove what is past its retention; a write another replica made first is left for
        the next sweep (it is the leader's job, so that is rare)."""
        now = self._clock()
        swept = Swept(
            audit=await self._store.trim_audit(AUDIT, now - self._retention.audit),
            silences=await self._silences(now),
            digests=await self._digests(now),
            rotations=await self._rotations(now),
        )
        if swept != Swept():
            log.info("removed what is past its retention: %s", swept)
        return swept

    async def _silences(self, now: datetime) -> int:
        found = await self._store.get(SILENCES)
        if found is None:
            return 0
        silences = load_silences(found).silences
        kept = load_silences(found).kept(now, self._retention.silences)
        if len(kept) == len(silences):
            return 0
        written = await self._store.put(
            SILENCES, SilenceRecord(silences=tuple(kept)).dump(), expected=found.version
        )
        return len(silences) - len(kept) if written else 0

    async def _digests(self, now: datetime) -> int:
        # A record's day is the digest's own, in its timezone: a day more covers any of them.
        before = (now - self._retention.digests - timedelta(days=1)).date()
        removed = 0
        for key in await self._store.keys(DIGESTS):
            day = _day_of(key)
            if day is not None and day < before:
                await self._store.delete(key)
                removed += 1
        return removed

    async def _rotations(self, now: datetime) -> int:
        found = await self._store.get(ROTATIONS)
        if found is None:
            return 0
        book = load_rotations(found)
        swept = book.swept(now)
        gone = len(book.open) - len(swept.open)
        if gone == 0:
            return 0
        written = await self._store.put(ROTATIONS, swept.dump(), expected=found.version)
        return gone if written else 0


def _day_of(key: str) -> date | None:
    """The day of a digest record's key, `digest:<channel>:<day>`; None for any other key."""
    try:
        return date.fromisoformat(key.rsplit(":", 1)[-1])
    except ValueError:
        return None
