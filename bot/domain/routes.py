"""Where alerts go: routes by provider and consumer globs, the first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from bot.domain.model import PairKey, Scope, Webhook


@dataclass(frozen=True, slots=True)
class Route:
    """Pairs matching these globs alert in `channel`, for these on-call groups."""

    channel: str
    provider: str | None = None
    consumer: str | None = None
    oncall_usergroups: tuple[str, ...] = ()

    def matches(self, pair: PairKey) -> bool:
        return (self.provider is None or fnmatchcase(pair.provider, self.provider)) and (
            self.consumer is None or fnmatchcase(pair.consumer, self.consumer)
        )

    def matches_scope(self, scope: Scope) -> bool:
        """Whether a webhook with `scope` takes this route: each glob matches the name the
        scope gives that side; a side the scope leaves open matches only an open glob."""
        return _glob(self.provider, scope.provider) and _glob(self.consumer, scope.consumer)


def _glob(pattern: str | None, name: str | None) -> bool:
    return pattern is None or (name is not None and fnmatchcase(name, pattern))


def route_for(pair: PairKey, routes: Sequence[Route], default: Route) -> Route:
    """The first route that matches `pair`, else the default one."""
    return next((route for route in routes if route.matches(pair)), default)


def route_of(webhook: Webhook, routes: Sequence[Route], default: Route) -> Route:
    """Where a webhook's incident alerts: the route of its provider (and consumer), else the
    default one; a webhook for every provider, or for a label, alerts in the default."""
    return next((route for route in routes if route.matches_scope(webhook.scope)), default)
