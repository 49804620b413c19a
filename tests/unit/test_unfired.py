"""Webhooks that did not fire: the broker's trigger rules, read from a snapshot and a `now`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Config
from bot.domain.model import (
    Execution,
    History,
    Pact,
    PairKey,
    PairRecord,
    ProviderVersions,
    Scope,
    Snapshot,
    TargetAnswer,
    Trigger,
    Webhook,
)
from bot.domain.report import Report, build_report
from bot.domain.unfired import CHANGED, PUBLISHED, REQUIRING, Why
from bot.domain.webhooks import HealthKind
from tests.helpers.reports import dispatch_webhook

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GRACE = timedelta(minutes=30)
HOOK = "hookOrdersAbCdEfGhIjKl"
ORDERS = PairKey("web-app", "orders-api")
NEW_PROVIDER = ProviderVersions(any_version=False, main_branch=None, main_branch_version=False)
BUILT = ProviderVersions(any_version=True, main_branch="main", main_branch_version=True)


def hook(*events: str, created: timedelta = timedelta(days=90), enabled: bool = True) -> Webhook:
    webhook = dispatch_webhook(HOOK, "Verify orders-api", "orders-api", "orders-api")
    return replace(
        webhook, events=events or (REQUIRING,), created_at=NOW - created, enabled=enabled
    )


def pair(
    published: timedelta, *, since: timedelta | None = None, key: PairKey = ORDERS
) -> PairRecord:
    """A pair whose latest pact, published `published` ago, waits since `since` ago."""
    waits = NOW - (since if since is not None else published)
    return PairRecord(key, Pact(NOW - published, "2"), None, History(None, waits))


def fired(ago: timedelta, event: str = REQUIRING, status: str = "failure") -> Trigger:
    return Trigger(HOOK, event, NOW - ago, status)


def judged(
    webhook: Webhook,
    record: PairRecord,
    triggers: tuple[Trigger, ...] = (),
    providers: dict[str, ProviderVersions] | None = None,
    executions: tuple[Execution, ...] = (),
    others: tuple[Webhook, ...] = (),
    tests: dict[str, datetime] | None = None,
) -> Report:
    snapshot = Snapshot(
        NOW,
        (record,),
        (webhook, *others),
        {webhook.uuid: executions} if webhook.enabled else {},
        {record.key: triggers},
        providers or {},
    )
    return build_report(snapshot, Config().rules(), NOW, grace=GRACE, tests=tests or {})


def health(report: Report):  # type: ignore[no-untyped-def]
    return next(view.health for view in report.webhooks if view.webhook.uuid == HOOK)


@pytest.mark.parametrize(
    ("facts", "why", "says"),
    [
        (NEW_PROVIDER, Why.NO_PROVIDER_VERSION, "orders-api has no version in the broker yet"),
        (
            ProviderVersions(any_version=True, main_branch=None, main_branch_version=False),
            Why.NO_MAIN_BRANCH,
            "orders-api has no main branch set",
        ),
        (
            ProviderVersions(any_version=True, main_branch="trunk", main_branch_version=False),
            Why.NO_MAIN_VERSION,
            "orders-api has no version on its main branch (trunk)",
        ),
        (BUILT, Why.UNKNOWN, "the broker triggered nothing for the publication"),
    ],
    ids=["no-version", "no-main-branch", "no-main-version", "unknown"],
)
def test_a_publication_with_no_dispatch_for_longer_than_for_did_not_fire_and_says_why(
    facts: ProviderVersions, why: Why, says: str
) -> None:
    found = health(judged(hook(), pair(timedelta(hours=2)), providers={"orders-api": facts}))

    assert found.kind is HealthKind.DID_NOT_FIRE
    assert found.failing
    assert found.unfired is not None
    assert found.unfired.why is why
    assert says in found.unfired.explain()
    assert found.since == NOW - timedelta(hours=2)


def test_a_provider_without_main_branch_version_is_told_what_to_run() -> None:
    found = health(judged(hook(), pair(timedelta(hours=2)), providers={"orders-api": NEW_PROVIDER}))

    assert found.describe() == "did not fire (the provider has no version)"
    assert found.unfired is not None
    said = found.unfired.explain()
    assert "only for the latest version of orders-api's main branch" in said
    assert "pact-broker create-or-update-version --pacticipant orders-api" in said
    assert "record a deployment" in said


def test_a_younger_publication_is_only_a_first_sign_not_yet_did_not_fire() -> None:
    found = health(judged(hook(), pair(timedelta(minutes=10))))

    assert found.kind is HealthKind.NEVER_RUN
    assert not found.failing
    assert found.unanswered_since == NOW - timedelta(minutes=10)


def test_exactly_the_grace_is_not_yet_past_it() -> None:
    found = health(judged(hook(), pair(GRACE)))

    assert found.kind is HealthKind.NEVER_RUN


def test_a_trigger_for_the_publication_means_it_fired() -> None:
    ok = TargetAnswer(success=True, status=204)
    found = health(
        judged(
            hook(),
            pair(timedelta(hours=2)),
            (fired(timedelta(hours=2), status="success"),),
            executions=(Execution(NOW - timedelta(hours=2), ok),),
        )
    )

    assert found.kind is HealthKind.OK
    assert found.unanswered_since is None


def test_an_unchanged_republication_fires_the_requiring_event_again_so_a_missing_one_counts() -> (
    None
):
    # The content waits since 3h; the same unverified content was re-published 1h ago. The
    # broker fired for the first publication (3h) and must have fired again for the second.
    record = pair(timedelta(hours=1), since=timedelta(hours=3))
    found = health(judged(hook(), record, (fired(timedelta(hours=3), status="success"),)))

    assert found.kind is HealthKind.DID_NOT_FIRE
    assert found.since == NOW - timedelta(hours=1)  # the re-publication is the one unanswered


def test_a_content_changed_webhook_is_not_expected_to_fire_for_an_unchanged_republication() -> None:
    record = pair(timedelta(hours=1), since=timedelta(hours=3))
    answered = (fired(timedelta(hours=3), CHANGED, "success"),)
    found = health(
        judged(
            hook(CHANGED),
            record,
            answered,
            executions=(Execution(NOW - timedelta(hours=3), TargetAnswer(True, 204)),),
        )
    )

    assert found.kind is HealthKind.OK
    assert found.unanswered_since is None


def test_a_content_changed_webhook_that_missed_the_change_did_not_fire() -> None:
    record = pair(timedelta(hours=1), since=timedelta(hours=3))
    found = health(judged(hook(CHANGED), record))

    assert found.kind is HealthKind.DID_NOT_FIRE
    assert found.since == NOW - timedelta(hours=3)
    assert found.unfired is not None
    assert found.unfired.why is Why.UNKNOWN  # provider versions do not matter for that event


def test_a_webhook_created_after_the_publication_is_that_reason() -> None:
    found = health(judged(hook(created=timedelta(hours=1)), pair(timedelta(hours=2))))

    assert found.unfired is not None
    assert found.unfired.why is Why.CREATED_AFTER
    assert "created after the publication" in found.describe()


def test_a_trigger_stuck_in_not_run_past_the_grace_did_not_run() -> None:
    stuck = (fired(timedelta(hours=2), status="not_run"),)

    found = health(judged(hook(), pair(timedelta(hours=2)), stuck))

    assert found.unfired is not None
    assert found.unfired.why is Why.NOT_RUN
    assert found.describe() == "did not run (stuck in the broker)"


def test_a_trigger_not_run_yet_within_the_grace_is_no_problem() -> None:
    found = health(
        judged(hook(), pair(timedelta(minutes=1)), (fired(timedelta(minutes=1), status="not_run"),))
    )

    assert found.kind is HealthKind.NEVER_RUN
    assert found.unanswered_since is None


def test_a_disabled_webhook_alone_behind_a_waiting_pair_did_not_fire() -> None:
    found = health(judged(hook(enabled=False), pair(timedelta(hours=2))))

    assert found.kind is HealthKind.DID_NOT_FIRE
    assert found.unfired is not None
    assert found.unfired.why is Why.DISABLED


def test_a_disabled_webhook_beside_an_enabled_one_is_just_disabled() -> None:
    other = replace(hook(PUBLISHED), uuid="hookOtherAbCdEfGhIjKlM")

    found = health(judged(hook(enabled=False), pair(timedelta(hours=2)), others=(other,)))

    assert found.kind is HealthKind.DISABLED


def test_a_failing_dispatch_is_said_before_did_not_fire() -> None:
    dead = TargetAnswer(success=False, status=401, message="Bad credentials")
    found = health(
        judged(
            hook(),
            pair(timedelta(minutes=40)),
            executions=(Execution(NOW - timedelta(hours=5), dead),),
        )
    )

    assert found.kind is HealthKind.TOKEN_DEAD


def test_a_test_that_passed_after_the_last_failure_makes_it_ok_and_a_later_failure_undoes_it() -> (
    None
):
    dead = TargetAnswer(success=False, status=401)
    failures = (
        Execution(NOW - timedelta(hours=5), dead),
        Execution(NOW - timedelta(hours=4), dead),
    )
    record = pair(timedelta(hours=5))
    tested = {HOOK: NOW - timedelta(hours=1)}
    answered = (fired(timedelta(hours=5)),)

    fixed = health(judged(hook(), record, answered, executions=failures, tests=tested))
    assert (fixed.kind, fixed.describe()) == (HealthKind.OK, "ok (a Test passed)")

    again = (*failures, Execution(NOW - timedelta(minutes=30), dead))
    broken = health(judged(hook(), record, answered, executions=again, tests=tested))
    assert broken.kind is HealthKind.TOKEN_DEAD
    assert broken.since == NOW - timedelta(minutes=30)  # the first failure after the Test


def test_a_label_scope_covers_the_pacticipants_carrying_the_label() -> None:
    labelled = Scope(consumer_label="mobile", provider="orders-api")

    assert labelled.covers(ORDERS, {"mobile": frozenset({"web-app"})})
    assert not labelled.covers(ORDERS, {"mobile": frozenset({"ios-app"})})
    assert not labelled.covers(ORDERS)  # labels not read: it matches nothing
    both = Scope(consumer_label="mobile", provider_label="payments")
    assert both.covers(
        ORDERS, {"mobile": frozenset({"web-app"}), "payments": frozenset({"orders-api"})}
    )
