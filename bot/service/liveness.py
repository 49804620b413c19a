"""Which replicas are alive, and how long the scheduler's lease lasts.

Every replica says it is alive at each lease renewal, for as long as a lease lasts. Work that
another replica claimed (the alerts' Slack steps) is taken over as soon as its holder stops
saying so, instead of when the claim runs out: a replica killed in the middle of a Slack call
would otherwise hold the alerts up for the rest of its claim. A replica that is alive but slow
keeps saying so, and keeps its claim.
"""

from __future__ import annotations

from datetime import timedelta

from bot.store import Store

_ALIVE = "alive:"


def lease_timing(check_interval: timedelta) -> tuple[timedelta, timedelta]:
    """How often the lease is renewed, and how long it lasts: three renewals' worth, so one
    slow renewal does not hand it over, and a dead leader is replaced within a minute (or
    within three alert evaluations, when they come more often than every 15 s)."""
    every = min(timedelta(seconds=15), check_interval)
    return every, 3 * every


async def say_alive(store: Store, holder: str, ttl: timedelta) -> None:
    await store.set_value(_ALIVE + holder, True, ttl)


async def alive(store: Store, holder: str) -> bool:
    return await store.get_value(_ALIVE + holder) is not None
