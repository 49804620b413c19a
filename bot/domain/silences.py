"""Silences: quiet for a provider's pairs, one pair, or one webhook, until they end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.model import PairKey, Scope


@dataclass(frozen=True, slots=True)
class Silence:
    """Quiet for a provider's pairs, or one pair's, until `ends_at`; who asked, and why."""

    id: str
    provider: str
    consumer: str | None
    reason: str
    by: str
    starts_at: datetime
    ends_at: datetime
    # A silence of one webhook's incident ("Silence 24h" on it): its id, and its name to show.
    webhook: str | None = None
    webhook_name: str | None = None

    def covers(self, pair: PairKey, now: datetime) -> bool:
        return self.in_force(now) and self.names(pair)

    def in_force(self, now: datetime) -> bool:
        # Not `starts_at <= now`: a silence holds from the moment it is set, and a decision is
        # dated at its reading's time, which a read under way when it was set comes before.
        return now < self.ends_at

    def names(self, pair: PairKey) -> bool:
        """Whether `pair` is what this silence is of, whenever it is in force."""
        if self.webhook is not None:
            return False
        return pair.provider == self.provider and self.consumer in (None, pair.consumer)

    def names_webhook(self, uuid: str, scope: Scope) -> bool:
        """Whether the incident of the webhook `uuid` is what this silence is of: that webhook,
        or the webhooks of the provider (or the pair) it silences."""
        if self.webhook is not None:
            return self.webhook == uuid
        return scope.provider == self.provider and self.consumer in (None, scope.consumer)


def silence_for(pair: PairKey, silences: Sequence[Silence], now: datetime) -> Silence | None:
    return next((silence for silence in silences if silence.covers(pair, now)), None)


def silence_of_webhook(
    uuid: str, scope: Scope, silences: Sequence[Silence], now: datetime
) -> Silence | None:
    found = (s for s in silences if s.in_force(now) and s.names_webhook(uuid, scope))
    return next(found, None)
