"""One view of a snapshot: every pair's state and the health of the webhooks that serve it.

Every surface (CLI table, `check`, the digest, App Home) renders this same report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from bot.domain.canary import CanaryState, CanaryView, Verdict
from bot.domain.canary import by_webhook as canary_by_webhook
from bot.domain.canary import views as canary_views
from bot.domain.freshness import Freshness, Rule, State, assess
from bot.domain.model import (
    NO_LABELS,
    Blind,
    HealthKind,
    Labelled,
    PairKey,
    PairRecord,
    Scope,
    Snapshot,
    Webhook,
)
from bot.domain.sight import coverage_unknown, notes
from bot.domain.unfired import (
    confirmed,
    disabled_unfired,
    dispatches,
    judge,
    unanswered,
    waiting,
)
from bot.domain.webhooks import WebhookHealth, health

# A broker that lists no pair is most likely not the broker meant: another one, or the right one
# without the path prefix of the proxy it sits behind. Never read that as "all is well".
NO_PAIRS = "The Pact Broker lists no pairs"
NO_PAIRS_FIX = (
    "check PACT_BROKER_BASE_URL, with the path prefix if the broker sits behind a proxy "
    "(https://proxy.example.com/pact)"
)
# How long a publication may wait for its dispatch before the webhook "did not fire": the
# broker fires within seconds; `alerts.for` in the config.
GRACE = timedelta(minutes=30)
# When a Test of each webhook last passed, as `pactbot serve` remembers it (by uuid).
NO_TESTS: Mapping[str, datetime] = MappingProxyType({})
# What each canary last found, as `pactbot serve` keeps it (by the canary's uuid).
NO_CANARIES: Mapping[str, CanaryState] = MappingProxyType({})


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
    # No webhook known to serve it, but one the credentials could not read might.
    unseen: bool = False

    @property
    def key(self) -> PairKey:
        return self.record.key

    @property
    def state(self) -> State:
        return self.freshness.state

    @property
    def main_webhook(self) -> WebhookView | None:
        """The webhook that says most about this pair: a CI trigger before any other
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
    order = (
        HealthKind.OK,
        HealthKind.NEVER_RUN,
        HealthKind.NOT_CHECKED,
        HealthKind.UNKNOWN,
        HealthKind.DISABLED,
    )
    return 1 + order.index(kind)


@dataclass(frozen=True, slots=True)
class Report:
    taken_at: datetime
    rows: tuple[PairRow, ...]
    webhooks: tuple[WebhookView, ...]
    labelled: Labelled = field(default_factory=lambda: NO_LABELS)
    blind: tuple[Blind, ...] = ()  # what the credentials could not read
    # The canary webhooks (not among `webhooks`): what each asks about and last found.
    canaries: tuple[CanaryView, ...] = ()
    # Found at the first question and kept, as walking thousands of rows is long, but not at
    # every reading, as most reports (one per alert evaluation) are never asked: each row's
    # names lower-cased (`/pact status <name>` searches them), the rows in each state (a
    # summary asks about every state), the problems (`check` and the digest ask again and
    # again).
    _names: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _counts: Counter[State] | None = field(default=None, init=False, repr=False, compare=False)
    _problems: tuple[PairRow, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    # The rows waiting for a verification behind each webhook that triggers one, most urgent
    # first: what an incident lists, found once per report, not per alert evaluation.
    _waiting: Mapping[str, tuple[PairRow, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        waiting: dict[str, list[PairRow]] = {}
        for row in self.rows:
            if row.record.awaits_verification:
                for view in row.webhooks:
                    waiting.setdefault(view.webhook.uuid, []).append(row)
        object.__setattr__(self, "_waiting", {uuid: tuple(rows) for uuid, rows in waiting.items()})

    def waiting_behind(self, webhook: Webhook) -> tuple[PairRow, ...]:
        """The pairs `webhook` fires for whose latest pact waits for a verification, most
        urgent first."""
        if webhook.triggers_verification:
            return self._waiting.get(webhook.uuid, ())
        return tuple(row for row in self.covered(webhook.scope) if row.record.awaits_verification)

    def matching(self, text: str) -> list[PairRow]:
        """The rows whose consumer or provider contains `text`, in any case."""
        wanted = text.strip().lower()
        if not wanted:
            return list(self.rows)
        names = self._names
        if names is None:
            names = tuple(f"{row.key.consumer}\n{row.key.provider}".lower() for row in self.rows)
            object.__setattr__(self, "_names", names)
        return [row for row, found in zip(self.rows, names, strict=True) if wanted in found]

    def covered(self, scope: Scope) -> list[PairRow]:
        """The rows of the pairs a webhook with `scope` fires for."""
        return [row for row in self.rows if scope.covers(row.key, self.labelled)]

    @property
    def problems(self) -> tuple[PairRow, ...]:
        problems = self._problems
        if problems is None:
            problems = tuple(row for row in self.rows if row.state.is_problem)
            object.__setattr__(self, "_problems", problems)
        return problems

    def count(self, state: State) -> int:
        counts = self._counts
        if counts is None:
            counts = Counter(row.state for row in self.rows)
            object.__setattr__(self, "_counts", counts)
        return counts[state]

    @property
    def notes(self) -> list[str]:
        """What could not be read, each kind in one sentence with what would fix it."""
        return notes(self.blind)

    @property
    def coverage_unknown(self) -> bool:
        """Whether a pair with no webhook known may have one pactbot could not read."""
        return coverage_unknown(self.blind)

    @property
    def failing_webhooks(self) -> tuple[WebhookView, ...]:
        """The webhooks whose dispatches fail, or that did not fire."""
        return tuple(view for view in self.webhooks if view.health.failing)

    def depended_on(self, rows: Iterable[PairRow]) -> list[WebhookView]:
        """The failing CI-trigger webhooks that `rows` wait on, each once."""
        found = {
            view.webhook.uuid: view
            for row in rows
            for view in row.webhooks
            if view.health.failing and dispatches(view.webhook)
        }
        return list(found.values())

    def unanswered_since(self, view: WebhookView) -> datetime | None:
        """The oldest publication behind `view`'s webhook still waiting for a verification that
        no successful dispatch answered, while it fails or has not fired."""
        health = view.health
        if not (health.failing or health.unanswered_since):
            return None
        last = health.last_success
        found = [
            since
            for row in self.waiting_behind(view.webhook)
            if (since := row.freshness.waiting_since) is not None and (last is None or since > last)
        ]
        if health.unanswered_since is not None:
            found.append(health.unanswered_since)
        return min(found, default=None)


def build_report(
    snapshot: Snapshot,
    rule_for: Callable[[PairKey], Rule],
    now: datetime,
    *,
    grace: timedelta = GRACE,
    tests: Mapping[str, datetime] = NO_TESTS,
    canaries: Mapping[str, CanaryState] = NO_CANARIES,
) -> Report:
    """Assess every pair of `snapshot` at `now`, most urgent first; a publication older than
    `grace` that its webhook did not dispatch makes that webhook fail; `tests` are the passed
    Tests pactbot saw, `canaries` what the canaries last found."""
    asking = canary_views(snapshot.webhooks, canaries)
    spoken = canary_by_webhook(asking)
    asked = {view.canary.uuid for view in asking}
    # Only waiting pairs can leave a webhook unfired: judged from them, once for every webhook.
    awaiting = tuple(record for record in snapshot.pairs if record.awaits_verification)
    views = tuple(
        WebhookView(
            webhook,
            _health_of(webhook, snapshot, awaiting, now, grace, tests, spoken.get(webhook.uuid)),
        )
        for webhook in snapshot.webhooks
        if webhook.uuid not in asked
    )
    verifying = [view for view in views if view.webhook.triggers_verification]
    rows = _rows(snapshot, rule_for, now, verifying, coverage_unknown(snapshot.blind))
    return Report(snapshot.taken_at, rows, views, snapshot.labelled, snapshot.blind, asking)


def _rows(
    snapshot: Snapshot,
    rule_for: Callable[[PairKey], Rule],
    now: datetime,
    verifying: Sequence[WebhookView],
    blind_coverage: bool,
) -> tuple[PairRow, ...]:
    """Every pair's row, most urgent first: by state, then longest waiting (or oldest
    verification) first, then by the names."""
    labelled = snapshot.labelled
    # Most webhooks name their provider: only those of the pair's provider (and the unscoped
    # ones) need asking, not every webhook for every pair; and when each of those covers every
    # pair of the provider, none needs asking.
    by_provider: dict[str, tuple[tuple[WebhookView, ...], bool]] = {}
    ranked = []
    for index, record in enumerate(snapshot.pairs):
        key = record.key
        found = by_provider.get(key.provider)
        if found is None:
            views_of = tuple(
                view for view in verifying if view.webhook.scope.provider in (None, key.provider)
            )
            whole = all(_any_consumer(view.webhook.scope) for view in views_of)
            found = by_provider[key.provider] = (views_of, whole)
        views_of, whole = found
        covering = (
            views_of
            if whole
            else tuple(view for view in views_of if view.webhook.scope.covers(key, labelled))
        )
        rule = rule_for(key)
        freshness = assess(record, rule, now)
        row = PairRow(record, rule, freshness, covering, not covering and blind_coverage)
        waited = freshness.waited or freshness.verification_age or timedelta(0)
        # Sorted on plain values, the names and not the PairKey (thousands of ties compared in
        # C); the index keeps equals in the snapshot's order, and rows are never compared.
        seconds = -waited.total_seconds()
        ranked.append((freshness.state.urgency, seconds, key.consumer, key.provider, index, row))
    ranked.sort()
    return tuple(entry[-1] for entry in ranked)


def _health_of(
    webhook: Webhook,
    snapshot: Snapshot,
    records: Sequence[PairRecord],
    now: datetime,
    grace: timedelta,
    tests: Mapping[str, datetime],
    canary: CanaryState | None,
) -> WebhookHealth:
    """`records`: the pairs that wait for a verification; `canary`: what the canary that
    speaks for this webhook's token last found."""
    if webhook.uuid in snapshot.unread:
        return WebhookHealth(HealthKind.UNKNOWN)
    executions = snapshot.executions.get(webhook.uuid)
    if executions is None and webhook.enabled:
        return WebhookHealth(HealthKind.NOT_CHECKED)
    labelled = snapshot.labelled
    alone = disabled_unfired(webhook, snapshot.webhooks, records, labelled)
    early: datetime | None
    if alone is not None:
        found = [alone] if now - alone.since > grace else []
        early = alone.since
    else:
        found = confirmed(webhook, records, snapshot.triggers, now, grace, labelled)
        early = _early_sign(webhook, snapshot, records, now, grace)
    return health(
        webhook,
        executions or (),
        unfired=judge(webhook, found, snapshot.providers),
        unanswered_since=early,
        passed_test=max(filter(None, (tests.get(webhook.uuid), _alive(canary))), default=None),
        canary_dead=canary.dead_since if canary else None,
    )


def _alive(canary: CanaryState | None) -> datetime | None:
    """When the canary last found the token alive: for the webhook, as good as a passed Test."""
    alive = canary is not None and canary.last.verdict in (Verdict.ALIVE, Verdict.NO_REPO)
    return canary.last.at if canary is not None and alive else None


def _early_sign(
    webhook: Webhook,
    snapshot: Snapshot,
    records: Sequence[PairRecord],
    now: datetime,
    grace: timedelta,
) -> datetime | None:
    """Since when the newest waiting publication of `webhook`'s pairs has no dispatch, if so."""
    if not webhook.enabled or not dispatches(webhook):
        return None
    newest = next(iter(waiting(webhook, records, snapshot.labelled)), None)
    if newest is None or newest.key not in snapshot.triggers:
        return None
    found = unanswered(webhook, newest, snapshot.triggers[newest.key], now, grace)
    return found.since if found else None


def _any_consumer(scope: Scope) -> bool:
    """Whether a scope that names a pair's provider (or none) covers every pair of it."""
    return scope.consumer is None and scope.consumer_label is None and scope.provider_label is None
