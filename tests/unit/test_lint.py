"""Webhook lint: what in a webhook's definition keeps verifications from starting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.broker.convert import to_webhook
from bot.broker.schema import WebhookResource
from bot.domain.lint import Lint, lint
from bot.domain.model import Webhook
from bot.domain.webhooks import DEFAULT_GITHUB_API_URL
from tests.helpers.fixtures import fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TOKEN = "ghp_" + "a1B2c3D4" * 4 + "zz"
DISPATCH = "https://api.github.com/repos/acme/orders-api/dispatches"
GOOD_BODY = {"event_type": "contract_requiring_verification_published", "client_payload": {}}
SECRET_HEADERS = {"Authorization": "Bearer ${user.githubToken}"}


def webhook(
    *,
    url: str = DISPATCH,
    headers: dict[str, str] | None = None,
    body: Any = None,
    events: tuple[str, ...] = ("contract_requiring_verification_published",),
    enabled: bool = True,
) -> Webhook:
    """A webhook as the broker's GET /webhooks/{uuid} shows it, read by pactbot."""
    resource = WebhookResource.model_validate(
        {
            "uuid": "kJE42wcSbKwfb0QJ3V9sBg",
            "description": "Verify orders-api pacts",
            "provider": {"name": "orders-api"},
            "enabled": enabled,
            "request": {
                "method": "POST",
                "url": url,
                "headers": SECRET_HEADERS if headers is None else headers,
                "body": GOOD_BODY if body is None else body,
            },
            "events": [{"name": event} for event in events],
            "_links": {},
        }
    )
    return to_webhook(resource, DEFAULT_GITHUB_API_URL)


def kinds(found: Webhook, **tested: Any) -> list[Lint]:
    return [finding.kind for finding in lint(found, **tested)]


def test_a_webhook_written_as_the_field_guide_says_has_no_finding() -> None:
    assert lint(webhook()) == []


def test_a_token_in_the_body_is_named_by_where_it_is_never_by_what_it_is() -> None:
    found = webhook(body=GOOD_BODY | {"client_payload": {"auth": {"token": TOKEN}}})

    [finding] = lint(found)

    assert finding.kind is Lint.INLINE_CREDENTIAL
    assert "(body client_payload.auth.token)" in finding.problem
    assert TOKEN not in finding.problem + finding.fix
    assert "${user.githubToken}" in finding.fix


def test_a_bearer_literal_in_a_header_is_found_but_a_secret_reference_and_the_mask_are_not() -> (
    None
):
    literal = webhook(headers={"Authorization": "Bearer 0123456789abcdef"})
    masked = webhook(headers={"Authorization": "**********", "X-Token": "Bearer **********"})

    [finding] = lint(literal)

    assert "(header Authorization)" in finding.problem
    assert "0123456789abcdef" not in finding.problem
    assert lint(masked) == []


def test_every_github_token_shape_is_found_in_any_header_the_body_text_or_the_url() -> None:
    for prefix in ("ghp_", "github_pat_", "gho_", "ghs_"):
        secret = prefix + "x" * 30
        assert kinds(webhook(headers={"X-Api-Key": secret})) == [Lint.INLINE_CREDENTIAL]
        assert kinds(webhook(body=f'{{"event_type": "x", "t": "{secret}"}}')) == [
            Lint.INLINE_CREDENTIAL
        ]
        assert kinds(webhook(url=DISPATCH + f"?access_token={secret}")) == [Lint.INLINE_CREDENTIAL]


def test_the_docs_template_placeholder_token_is_a_finding() -> None:
    template = fixture("webhook-template-github-dispatch.json")

    found = webhook(headers=template["request"]["headers"], body=template["request"]["body"])

    assert kinds(found) == [Lint.INLINE_CREDENTIAL]


def test_a_disabled_dispatch_webhook_is_a_finding() -> None:
    [finding] = lint(webhook(enabled=False))

    assert finding.kind is Lint.DISABLED
    assert "no verification starts" in finding.problem


def test_contract_published_on_a_dispatch_fires_on_every_publish() -> None:
    [finding] = lint(webhook(events=("contract_published",)))

    assert finding.kind is Lint.EVERY_PUBLISH
    assert "contract_requiring_verification_published" in finding.fix


def test_a_chat_notification_on_every_publish_is_no_finding() -> None:
    chat = webhook(
        url="https://hooks.slack.example/services/T0/B0/X", events=("contract_published",)
    )

    assert lint(chat) == []


def test_a_github_url_that_is_not_a_repository_dispatch_is_a_finding() -> None:
    for url in (
        "https://api.github.com/repos/acme/orders-api/actions/workflows/verify.yml/runs",
        "https://github.example.com/api/v3/repos/acme/orders-api/hooks",
    ):
        [finding] = lint(webhook(url=url))
        assert finding.kind is Lint.NOT_A_DISPATCH
        assert "/repos/<owner>/<repo>/dispatches" in finding.fix


def test_a_dispatch_without_event_type_is_a_finding() -> None:
    [finding] = lint(
        webhook(body={"client_payload": {"sha": "${pactbroker.providerVersionNumber}"}})
    )

    assert finding.kind is Lint.NO_EVENT_TYPE
    assert "422" in finding.problem


def test_a_token_github_says_expires_within_two_weeks_is_a_finding() -> None:
    soon = lint(webhook(), expires=NOW + timedelta(days=3), now=NOW)
    gone = lint(webhook(), expires=NOW - timedelta(days=1), now=NOW)

    assert [finding.problem for finding in soon] == [
        "GitHub says the webhook's token expires on 2026-12-04, in 3d"
    ]
    assert [finding.problem for finding in gone] == [
        "GitHub says the webhook's token expired on 2026-11-30"
    ]
    assert lint(webhook(), expires=NOW + timedelta(days=60), now=NOW) == []
    assert lint(webhook(), expires=None, now=NOW) == []  # no expiry: what the guide advises
