from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.broker.convert import answer_from_test
from bot.broker.schema import ExecuteResult
from bot.domain.explain import explain_test, token_expiry
from bot.domain.model import Scope, TargetAnswer, Webhook
from bot.domain.webhooks import HealthKind, dispatch_target
from bot.targets import ci_of
from bot.targets.github import GITHUB
from tests.helpers.fixtures import captured, fixture

NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)


def github_webhook(enabled: bool = True) -> Webhook:
    url = "https://api.github.com/repos/example-org/bar-provider/dispatches"
    return Webhook(
        uuid="d2181b32-8b03-4daf-8cc0-d9168b2f6fac",
        description="Verify Bar",
        scope=Scope(provider="Bar"),
        enabled=enabled,
        events=("contract_requiring_verification_published",),
        method="POST",
        url=url,
        target=dispatch_target(url, {}),
    )


def explain(result: dict[str, Any], now: datetime = NOW, enabled: bool = True) -> Any:
    answer = answer_from_test(ExecuteResult.model_validate(result))
    return explain_test(github_webhook(enabled), answer, now)


def test_a_401_says_the_token_is_dead_and_how_to_rotate_it() -> None:
    report = explain(captured("08_webhook_execute_401"))

    assert report.kind is HealthKind.TOKEN_DEAD
    assert not report.passed
    assert report.headline.startswith(
        'GitHub (example-org/bar-provider) rejected the token (HTTP 401 "Bad credentials")'
    )
    assert "machine user" in report.advice[0]


def test_a_204_passes() -> None:
    report = explain(captured("09_webhook_execute_204"))

    assert report.passed
    assert report.kind is HealthKind.OK
    assert "(HTTP 204)" in report.headline
    assert report.warnings == ()


def test_the_token_expiry_header_is_reported_and_warned_about_within_14_days() -> None:
    result = fixture("derived/webhook-execute-204-response-shown.json")  # expires 2025-05-25

    soon = explain(result, now=NOW)
    later = explain(result, now=datetime(2025, 1, 1, tzinfo=UTC))

    assert soon.passed
    assert soon.warnings == ("the token expires on 2025-05-25, in 4d 19h: rotate it before then",)
    assert later.warnings == ()
    assert later.notes == ("the token expires on 2025-05-25",)


def test_a_token_without_the_repo_scope_is_warned_about() -> None:
    result = fixture("derived/webhook-execute-204-response-shown.json")
    result["response"]["headers"]["x-oauth-scopes"] = "public_repo, workflow"

    report = explain(result, now=datetime(2025, 1, 1, tzinfo=UTC))

    assert report.warnings == (
        'the token\'s scopes are "public_repo, workflow": repository_dispatch needs the classic '
        "repo scope",
    )


def test_a_hidden_answer_says_so_and_names_the_whitelist() -> None:
    report = explain(fixture("derived/webhook-execute-401-response-hidden.json"))

    assert report.kind is HealthKind.HIDDEN
    assert not report.passed
    assert "hides what GitHub (example-org/bar-provider) answered" in report.headline
    assert "PACT_BROKER_WEBHOOK_HOST_WHITELIST" in report.advice[0]


def test_a_connection_error_gives_its_text() -> None:
    report = explain(fixture("derived/webhook-execute-connection-error-response-shown.json"))

    assert report.kind is HealthKind.UNREACHABLE
    assert "Connection refused" in report.headline


def test_the_status_is_read_from_the_logs_when_the_response_is_missing() -> None:
    result = captured("08_webhook_execute_401")
    del result["response"]

    report = explain(result)

    assert report.kind is HealthKind.TOKEN_DEAD
    assert '"Bad credentials"' in report.headline


def test_not_found_explains_that_github_hides_private_repositories() -> None:
    result = captured("08_webhook_execute_401")
    result["response"] = {"status": 404, "headers": {}, "body": fixture("github-dispatch-404.json")}

    report = explain(result)

    assert report.kind is HealthKind.NO_ACCESS
    assert "lacks the repo scope" in report.headline


def test_sso_and_validation_failures_get_their_own_advice() -> None:
    result = captured("08_webhook_execute_401")
    result["response"] = {"status": 403, "headers": {"X-GitHub-SSO": "required; url=https://x"}}
    sso = explain(result)
    result["response"] = {"status": 422, "body": {"message": "Validation Failed"}}
    rejected = explain(result)

    assert "SAML single sign-on" in sso.headline
    assert "Configure SSO" in sso.advice[0]
    assert rejected.kind is HealthKind.REJECTED
    assert '"Validation Failed"' in rejected.headline


def test_a_disabled_webhook_is_pointed_out() -> None:
    report = explain(captured("09_webhook_execute_204"), enabled=False)

    assert report.warnings == (
        "the webhook is disabled: the Test ran it, but real publications do not",
    )


def test_expiry_headers_in_other_forms_or_absent_are_handled() -> None:
    def expiry(value: str) -> datetime | None:
        headers = {"github-authentication-token-expiration": value}
        return token_expiry(TargetAnswer(success=True, headers=headers), GITHUB)

    assert expiry("2026-03-01 00:00:00 -0800") == datetime.fromisoformat(
        "2026-03-01T00:00:00-08:00"
    )
    assert expiry("") is None
    assert expiry("soon") is None


def test_the_expiry_header_is_read_only_from_the_ci_that_documents_it() -> None:
    headers = {"github-authentication-token-expiration": "2025-05-25 10:00:00 UTC"}
    answer = TargetAnswer(success=True, status=200, headers=headers)
    gitlab = dispatch_target("https://gitlab.example.com/api/v4/projects/7/trigger/pipeline", {})

    assert token_expiry(answer, ci_of(github_webhook().target)) == datetime(
        2025, 5, 25, 10, tzinfo=UTC
    )
    assert token_expiry(answer, ci_of(gitlab)) is None
    assert token_expiry(answer, None) is None
