"""A sample broker world that tests script as time moves: pairs go stale, recover and flap.

"Stale" is what a user sees: a pact published more than `max_age` (24h) ago that no provider
verified. Each call acts at the clock's `now`, so a test reads as a timeline.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.model import PairKey
from bot.sample.world import GITHUB_ACCEPTED, GITHUB_BAD_CREDENTIALS, Publication, World
from tests.helpers.bot import Clock

ORDERS = PairKey("web-app", "orders-api")
MOBILE_ORDERS = PairKey("mobile-app", "orders-api")
SEARCH = PairKey("web-app", "search-api")
BILLING = PairKey("admin-portal", "billing-api")
ORDERS_HOOK = "hookOrdersAbCdEfGhIjKl"
BILLING_HOOK = "hookBillingAbCdEfGhIjK"


@dataclass
class Timeline:
    clock: Clock
    world: World = field(init=False)
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.world = World(clock=self.clock)

    def fresh(self, *pairs: PairKey) -> None:
        """Publish a change of each pair an hour ago, verified now."""
        for pair in pairs:
            published = self._publish(pair, self.clock.now - timedelta(hours=1))
            self.world.verify(published, at=self.clock.now)

    def stale(self, *pairs: PairKey) -> None:
        """Publish a change of each pair that has waited 25 hours for a verification."""
        for pair in pairs:
            self._publish(pair, self.clock.now - timedelta(hours=25))

    def pending(self, *pairs: PairKey, ago: timedelta = timedelta(0)) -> None:
        """Publish a change of each pair `ago` (now, by default): it waits for a verification."""
        for pair in pairs:
            self._publish(pair, self.clock.now - ago)

    def verify(self, *pairs: PairKey) -> None:
        """The provider verifies each pair's latest pact now."""
        for pair in pairs:
            self.world.verify(self.world.latest(pair.consumer, pair.provider), at=self.clock.now)

    def webhook(self, provider: str, uuid: str, *, dead: bool = False, built: bool = True) -> None:
        """A GitHub-dispatch webhook for `provider`, whose main build has run (so publications
        fire it) unless not `built`; `dead`: its token answers 401."""
        if built:
            self.world.version(provider, "0.1.0", at=self.clock.now - timedelta(days=90))
        target = GITHUB_BAD_CREDENTIALS if dead else GITHUB_ACCEPTED
        self.world.add_webhook(
            uuid,
            description=f"Verify {provider}",
            provider=provider,
            url=f"https://api.github.com/repos/acme/{provider}/dispatches",
            target=target,
            created_at=self.clock.now - timedelta(days=90),
        )

    def token(self, uuid: str, *, dead: bool) -> None:
        """The webhook's GitHub token dies, or is rotated (real executions change from now)."""
        self.world.webhooks[uuid].target = GITHUB_BAD_CREDENTIALS if dead else GITHUB_ACCEPTED

    def _publish(self, pair: PairKey, at: datetime) -> Publication:
        version = f"{next(self._versions):07x}"
        return self.world.publish(pair.consumer, pair.provider, version, at=at, content=version)
