"""One view of a snapshot: every pair's state and the health of the webhooks that serve it.

Every surface (CLI table, `check`, the digest, App Home) renders this same report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.freshness import Freshness, Rule, State, assess
from bot.domain.model import PairKey, PairRecord, Scope, Snapshot, Webhook
from bot.domain.webhooks import HealthKind, WebhookHealth, health

# A broker that lists no pair is most likely not the broker meant: another one, or the right one
# without the path prefix of the proxy it sits behind. Never read that as "all is well".
NO_PAIRS = "The Pact Broker lists no pairs"
NO_PAIRS_FIX = (
    "check PACT_BROKER_BASE_URL, with the path prefix if the broker sits behind a proxy "
    "(https://proxy.example.com/pact)"
)


@dataclass(frozen=True, slots=True)
class WebhookView:
    webhook: Webhook
    health: WebhookHealth


@dataclass(frozen=True, slots=True)
class PairRow:
    record: PairRecord
    rule: Rule
    freshness: Freshness
    webhooks: tuple[WebhookView, ...]

    @property
    def key(self) -> PairKey:
        return self.record.key

    @property
    def state(self) -> State:
        return self.freshness.state

    @property
    def main_webhook(self) -> WebhookView | None:
        """The webhook that says most about this pair: a GitHub dispatch before any other
        (a notification on `contract_published` explains no missing verification), and a
        failing one before a healthy one."""
        return min(
            self.webhooks,
            key=lambda view: (view.webhook.target is None, _summary_rank(view.health.kind)),
            default=None,
        )


def _summary_rank(kind: HealthKind) -> int:
    if kind.failing:
        return 0
    order = (HealthKind.OK, HealthKind.NEVER_RUN, HealthKind.NOT_CHECKED, HealthKind.DISABLED)
    return 1 + order.index(kind)


@dataclass(frozen=True, slots=True)
class Report:
    taken_at: datetime
    rows: tuple[PairRow, ...]
    webhooks: tuple[WebhookView, ...]
    # Each row's names, lower-cased once: `/pact status <name>` searches thousands of pairs.
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(f"{row.key.consumer}\n{row.key.provider}".lower() for row in self.rows)
        object.__setattr__(self, "_names", names)

    def matching(self, text: str) -> list[PairRow]:
        """The rows whose consumer or provider contains `text`, in any case."""
        wanted = text.strip().lower()
        if not wanted:
            return list(self.rows)
        return [row for row, names in zip(self.rows, self._names, strict=True) if wanted in names]

    def covered(self, scope: Scope) -> list[PairRow]:
        """The rows of the pairs a webhook with `scope` fires for."""
        return [row for row in self.rows if scope.covers(row.key)]

    @property
    def problems(self) -> tuple[PairRow, ...]:
        return tuple(row for row in self.rows if row.state.is_problem)

    def count(self, state: State) -> int:
        return sum(1 for row in self.rows if row.state is state)

    @property
    def failing_webhooks(self) -> tuple[WebhookView, ...]:
        return tuple(view for view in self.webhooks if view.health.failing)


def build_report(snapshot: Snapshot, rule_for: Callable[[PairKey], Rule], now: datetime) -> Report:
    """Assess every pair of `snapshot` at `now`, most urgent first."""
    views = tuple(
        WebhookView(webhook, _health_of(webhook, snapshot)) for webhook in snapshot.webhooks
    )
    verifying = [view for view in views if view.webhook.triggers_verification]
    # Most webhooks name their provider: only those of the pair's provider (and the unscoped
    # ones) need asking, not every webhook for every pair.
    by_provider: dict[str, tuple[WebhookView, ...]] = {}
    rows = []
    for record in snapshot.pairs:
        rule = rule_for(record.key)
        provider = record.key.provider
        if provider not in by_provider:
            by_provider[provider] = tuple(
                view for view in verifying if view.webhook.scope.provider in (None, provider)
            )
        covering = tuple(
            view for view in by_provider[provider] if view.webhook.scope.covers(record.key)
        )
        rows.append(PairRow(record, rule, assess(record, rule, now), covering))
    rows.sort(key=_urgency)
    return Report(snapshot.taken_at, tuple(rows), views)


def _health_of(webhook: Webhook, snapshot: Snapshot) -> WebhookHealth:
    executions = snapshot.executions.get(webhook.uuid)
    if executions is None and webhook.enabled:
        return WebhookHealth(HealthKind.NOT_CHECKED)
    return health(webhook, executions or ())


def _urgency(row: PairRow) -> tuple[int, float, PairKey]:
    freshness = row.freshness
    waited = freshness.waited or freshness.verification_age or timedelta(0)
    return (row.state.urgency, -waited.total_seconds(), row.key)
