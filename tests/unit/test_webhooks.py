from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.model import (
    DispatchTarget,
    Execution,
    Pact,
    PairKey,
    PairRecord,
    Scope,
    TargetAnswer,
    Verification,
    Webhook,
)
from bot.domain.webhooks import (
    HealthKind,
    classify,
    dispatch_target,
    health,
    history_pairs,
    watched,
)

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
URL = "https://api.github.com/repos/acme/orders-api/dispatches"
OK = TargetAnswer(success=True, status=204)
DEAD = TargetAnswer(success=False, status=401, message="Bad credentials")


def webhook(
    uuid: str = "kJE42wcSbKwfb0QJ3V9sBg",
    *,
    consumer: str | None = None,
    provider: str | None = "orders-api",
    enabled: bool = True,
    events: tuple[str, ...] = ("contract_requiring_verification_published",),
) -> Webhook:
    return Webhook(
        uuid=uuid,
        description="Verify orders-api pacts",
        scope=Scope(consumer=consumer, provider=provider),
        enabled=enabled,
        events=events,
        method="POST",
        url=URL,
        target=dispatch_target(URL, {}),  # as the broker's webhooks are read: a GitHub dispatch
    )


def at(minutes: int, answer: TargetAnswer) -> Execution:
    return Execution(T0 + timedelta(minutes=minutes), answer)


# -- classify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (TargetAnswer(success=True, status=204), HealthKind.OK),
        (TargetAnswer(success=False, status=401), HealthKind.TOKEN_DEAD),
        (TargetAnswer(success=False, status=403), HealthKind.FORBIDDEN),
        (TargetAnswer(success=False, status=404), HealthKind.NO_ACCESS),
        (TargetAnswer(success=False, status=422), HealthKind.REJECTED),
        (TargetAnswer(success=False, status=502), HealthKind.TARGET_ERROR),
        (TargetAnswer(success=False, error="Connection refused"), HealthKind.UNREACHABLE),
        (TargetAnswer(success=False, hidden=True), HealthKind.HIDDEN),
        (TargetAnswer(success=False, status=418), HealthKind.FAILING),
        (TargetAnswer(success=True, hidden=True), HealthKind.OK),
    ],
)
def test_each_target_answer_gets_a_name(answer: TargetAnswer, kind: HealthKind) -> None:
    assert classify(answer) is kind


# -- health ------------------------------------------------------------------------------------


def test_a_webhook_failing_on_every_execution_since_its_last_success_fails_since_the_first() -> (
    None
):
    executions = [at(0, OK), at(10, DEAD), at(20, DEAD), at(30, DEAD)]

    found = health(webhook(), reversed(executions))

    assert found.kind is HealthKind.TOKEN_DEAD
    assert found.failing
    assert found.since == T0 + timedelta(minutes=10)
    assert found.last_run == T0 + timedelta(minutes=30)
    assert found.describe() == "token dead (401)"


def test_one_failure_followed_by_a_success_is_healthy() -> None:
    found = health(webhook(), [at(0, DEAD), at(10, OK)])

    assert found.kind is HealthKind.OK
    assert not found.failing
    assert found.since is None


def test_a_webhook_that_never_ran_and_a_disabled_one_are_not_failing() -> None:
    assert health(webhook(), []).kind is HealthKind.NEVER_RUN
    assert health(webhook(enabled=False), [at(0, DEAD)]).kind is HealthKind.DISABLED
    assert not health(webhook(), []).failing


def test_sso_is_named_when_github_says_so() -> None:
    sso = TargetAnswer(
        success=False, status=403, headers={"x-github-sso": "required; url=https://x"}
    )

    assert health(webhook(), [at(0, sso)]).describe() == "SSO not authorised (403)"
    assert health(webhook(), [at(0, TargetAnswer(success=False, status=403))]).describe() == (
        "forbidden (403)"
    )


def test_other_statuses_are_described_with_their_number() -> None:
    assert health(webhook(), [at(0, TargetAnswer(success=False, status=418))]).describe() == (
        "failing (HTTP 418)"
    )
    assert health(webhook(), [at(0, TargetAnswer(success=False, status=503))]).describe() == (
        "target error (503)"
    )


# -- which webhooks, which pairs --------------------------------------------------------------


def test_only_enabled_webhooks_fired_by_publications_are_watched() -> None:
    notifier = webhook("n", events=("provider_verification_published",))
    off = webhook("off", enabled=False)

    assert [hook.uuid for hook in watched([webhook("a"), notifier, off])] == ["a"]


def record(consumer: str, provider: str, hours_ago: float, verified: bool) -> PairRecord:
    published = T0 - timedelta(hours=hours_ago)
    verification = Verification(published, True) if verified else None
    return PairRecord(PairKey(consumer, provider), Pact(published, "1"), verification)


def test_each_webhook_reads_one_pair_preferring_one_that_waits_for_verification() -> None:
    pairs = [
        record("web", "orders-api", 1, verified=True),
        record("mobile", "orders-api", 30, verified=False),
        record("web", "search-api", 2, verified=True),
    ]
    hooks = [
        webhook("orders", provider="orders-api"),
        webhook("web-only", consumer="web", provider=None),
        webhook("nobody", provider="billing-api"),
    ]

    chosen = history_pairs(hooks, pairs)

    assert chosen == {
        "orders": PairKey("mobile", "orders-api"),
        "web-only": PairKey("web", "orders-api"),
    }


def test_scopes_cover_pairs_and_say_what_they_cover() -> None:
    pair = PairKey("web", "orders-api")

    assert Scope(provider="orders-api").covers(pair)
    assert Scope().covers(pair)
    assert not Scope(consumer="mobile", provider="orders-api").covers(pair)
    assert not Scope(provider_label="team-orders").covers(pair)
    assert str(Scope(provider="orders-api")) == "every consumer of orders-api"
    assert str(Scope(consumer="web", provider="orders-api")) == "web → orders-api"
    assert str(Scope()) == "every pact"


# -- GitHub dispatch targets ------------------------------------------------------------------


def test_a_github_dispatch_url_is_recognised_with_its_repo_and_event_type() -> None:
    body = {"event_type": "contract_requiring_verification_published", "client_payload": {}}

    found = dispatch_target("https://api.github.com/repos/acme/orders-api/dispatches", body)

    assert found == DispatchTarget(
        "https://api.github.com", "acme", "orders-api", "contract_requiring_verification_published"
    )
    assert found is not None


def test_github_enterprise_is_recognised_without_github_api_url() -> None:
    found = dispatch_target("https://git.acme.io/api/v3/repos/platform/orders/dispatches", "{}")

    assert found is not None
    assert (found.api_url, found.slug, found.event_type) == (
        "https://git.acme.io/api/v3",
        "platform/orders",
        None,
    )


def test_github_api_url_names_another_api_host() -> None:
    found = dispatch_target(
        "http://127.0.0.1:9393/repos/example-org/P/dispatches",
        '{"event_type": "verify"}',
        github_api_url="http://127.0.0.1:9393/",
    )

    assert found is not None
    assert (found.api_url, found.slug, found.event_type) == (
        "http://127.0.0.1:9393",
        "example-org/P",
        "verify",
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://api.github.com/repos/acme/orders-api/statuses/${pactbroker.consumerVersionNumber}",
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://api.github.com/repos/acme/dispatches",
        "https://example.org/webhook",
    ],
)
def test_urls_that_are_not_a_repository_dispatch_are_not_classified(url: str) -> None:
    assert dispatch_target(url, {}) is None
