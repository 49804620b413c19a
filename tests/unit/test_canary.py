"""The canary in the pure core: recognised by its description, what GitHub's answer means, which
webhooks it speaks for, and a dead token said at once, before any publication."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.broker.convert import to_webhook
from bot.broker.schema import WebhookResource
from bot.config import Config, load_config
from bot.domain.alerts import AlertState, Route, Rules, Setup, Step, evaluate
from bot.domain.canary import (
    EVENT,
    PROVIDER,
    CanaryRun,
    CanaryState,
    Verdict,
    definition,
    first_state,
    found,
    recognise,
    verdict,
    views,
)
from bot.domain.explain import explain_test
from bot.domain.lint import Lint, lint
from bot.domain.model import Snapshot, TargetAnswer, Webhook
from bot.domain.report import Report, build_report
from bot.domain.webhooks import HealthKind
from bot.errors import ConfigError
from tests.helpers.reports import dispatch_webhook

T0 = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # a Friday evening
HOOK = "hookOrdersAbCdEfGhIjKl"
CANARY = "canaryAbCdEfGhIjKlMnOp"
GITHUB = "https://api.github.com"


def canary_webhook(uuid: str = CANARY, **made: str | None) -> Webhook:
    """The canary as the broker gives it back, made from pactbot's own definition."""
    body = definition(authorization="Bearer ${user.githubToken}", github_api_url=GITHUB, **made)
    body["uuid"] = uuid
    body["_links"] = {"self": {"href": f"https://broker.example/webhooks/{uuid}"}}
    return to_webhook(WebhookResource.model_validate(body), GITHUB)


def orders_webhook(secret: str | None = "githubToken", team: str | None = None) -> Webhook:
    hook = dispatch_webhook(HOOK, "Verify orders-api", "orders-api", "orders-api")
    return replace(hook, secret=secret, team=team)


def test_the_definition_is_a_webhook_no_publication_fires_and_pactbot_finds_again() -> None:
    made = definition(
        authorization="Bearer ${user.githubToken}",
        github_api_url="https://github.example/api/v3/",
        secret="githubToken",
        team="2abbc12a-427d-432a-a521-c870af1739d9",
    )

    request = made["request"]
    assert isinstance(request, dict)
    assert request["url"] == "https://github.example/api/v3/markdown"
    assert request["method"] == "POST"
    assert request["headers"]["Authorization"] == "Bearer ${user.githubToken}"
    assert made["provider"] == {"name": PROVIDER}  # a provider no consumer publishes a pact to
    assert "consumer" not in made
    assert made["events"] == [{"name": EVENT}]
    assert made["teamUuid"] == "2abbc12a-427d-432a-a521-c870af1739d9"
    found = recognise(canary_webhook(secret="githubToken"))
    assert found is not None
    assert (found.uuid, found.secret, found.webhook) == (CANARY, "githubToken", None)


def test_a_webhook_that_only_looks_like_one_is_not_a_canary() -> None:
    copied = replace(canary_webhook(secret="githubToken"), url=f"{GITHUB}/repos/a/b/dispatches")

    assert recognise(copied) is None
    assert recognise(orders_webhook()) is None


@pytest.mark.parametrize(
    ("status", "scopes", "passed", "hidden", "expected"),
    [
        (200, "repo, workflow", True, False, Verdict.ALIVE),
        (200, None, True, False, Verdict.ALIVE),  # a fine-grained token has no scopes header
        (200, "read:org, gist", True, False, Verdict.NO_REPO),
        (401, None, False, False, Verdict.DEAD),
        (None, None, False, True, Verdict.CANNOT_RUN),  # the broker hides GitHub's answer
        (None, None, True, True, Verdict.CANNOT_RUN),
        (503, None, False, False, Verdict.CANNOT_RUN),
    ],
)
def test_what_githubs_answer_means(
    status: int | None, scopes: str | None, passed: bool, hidden: bool, expected: Verdict
) -> None:
    assert verdict(status, scopes, passed=passed, hidden=hidden) is expected


def test_a_dead_token_stays_dead_since_its_first_401_until_github_accepts_one() -> None:
    dead = first_state(CanaryRun(T0, Verdict.DEAD, 401))
    later = dead.after(CanaryRun(T0 + timedelta(hours=1), Verdict.DEAD, 401))
    hidden = later.after(CanaryRun(T0 + timedelta(hours=2), Verdict.CANNOT_RUN))
    alive = hidden.after(CanaryRun(T0 + timedelta(hours=3), Verdict.ALIVE, 200))

    assert (dead.dead_since, later.dead_since, hidden.dead_since) == (T0, T0, T0)
    assert alive.dead_since is None


def test_a_canary_speaks_for_the_webhooks_that_send_its_secret_in_its_team() -> None:
    other_team = replace(orders_webhook(team="team-b"), uuid="hookOtherTeamAbCdEfGhIj")
    other_secret = replace(orders_webhook("billingToken"), uuid="hookBillingAbCdEfGhIjK")
    webhooks = [canary_webhook(secret="githubToken"), orders_webhook(), other_team, other_secret]

    [view] = views(webhooks, {})

    assert [webhook.uuid for webhook in view.webhooks] == [HOOK]


def test_where_the_broker_masks_the_secret_the_only_secret_canary_asks_about_the_webhooks() -> None:
    masked = orders_webhook(secret=None)

    [alone] = views([canary_webhook(secret="githubToken"), masked], {})
    two = views(
        [
            canary_webhook(secret="githubToken"),
            canary_webhook("canaryTwoAbCdEfGhIjKlM", secret="billingToken"),
            masked,
        ],
        {},
    )
    copied = views([canary_webhook(webhook=HOOK), masked], {})

    assert [webhook.uuid for webhook in alone.webhooks] == [HOOK]
    assert [view.webhooks for view in two] == [(), ()]  # cannot tell whose token it sends
    assert [webhook.uuid for webhook in copied[0].webhooks] == [HOOK]


def test_the_canary_is_no_webhook_of_the_report_and_the_lint_leaves_it_alone() -> None:
    canary = canary_webhook(secret="githubToken")
    snapshot = Snapshot(T0, (), (canary, orders_webhook()), {})

    report = build_report(snapshot, Config().rules(), T0)

    assert [view.webhook.uuid for view in report.webhooks] == [HOOK]
    assert [view.canary.uuid for view in report.canaries] == [CANARY]
    assert [finding.kind for finding in lint(canary)] == []
    posting = replace(canary, description="Render the README")  # not a canary: it is linted
    assert [finding.kind for finding in lint(posting)] == [Lint.NOT_A_DISPATCH]


def report_at(now: datetime, state: CanaryState | None) -> Report:
    """The orders-api webhook and its canary, no publication at all."""
    webhooks = (canary_webhook(secret="githubToken"), orders_webhook())
    snapshot = Snapshot(now, (), webhooks, {HOOK: ()})
    canaries = {CANARY: state} if state else {}
    return build_report(snapshot, Config().rules(), now, canaries=canaries)


def test_a_canary_401_makes_the_webhook_dead_before_any_publication() -> None:
    state = first_state(CanaryRun(T0, Verdict.DEAD, 401))

    [view] = report_at(T0, state).webhooks

    assert view.health.kind is HealthKind.TOKEN_DEAD
    assert view.health.since == T0
    assert view.health.describe() == (
        "token dead (401), found by the canary before any publication"
    )


def test_a_canary_that_finds_the_token_alive_again_ends_it() -> None:
    dead = first_state(CanaryRun(T0, Verdict.DEAD, 401))
    alive = dead.after(CanaryRun(T0 + timedelta(hours=1), Verdict.ALIVE, 200))

    [view] = report_at(T0 + timedelta(hours=1), alive).webhooks

    assert not view.health.failing


def test_a_canary_401_is_an_incident_at_once_without_waiting_for() -> None:
    setup = Setup(Rules(timedelta(minutes=30), timedelta(hours=24)), [], Route("C0DIGEST"))
    state = first_state(CanaryRun(T0, Verdict.DEAD, 401))

    after, actions = evaluate(AlertState(), report_at(T0, state), None, setup, T0)

    assert [action.step for action in actions] == [Step.POST]
    [alert] = after.alerts
    [cause] = alert.causes
    assert cause.health == "token dead (401), found by the canary before any publication"


def test_the_digest_warnings_say_a_token_without_repo_and_an_expiry_within_two_weeks() -> None:
    def warnings(run: CanaryRun) -> list[str]:
        [view] = report_at(T0, first_state(run)).canaries
        return view.warnings(T0)

    soon = CanaryRun(T0, Verdict.ALIVE, 200, T0 + timedelta(days=10), "repo")
    later = CanaryRun(T0, Verdict.ALIVE, 200, T0 + timedelta(days=30), "repo")

    assert warnings(CanaryRun(T0, Verdict.NO_REPO, 200, scopes="read:org")) == [
        'the token\'s scopes are "read:org", without repo: the next dispatch to a private '
        "repository fails (GitHub answers 404)"
    ]
    assert warnings(soon) == ["the token expires on 2026-12-14, in 10d: rotate it before then"]
    assert warnings(later) == []
    assert warnings(CanaryRun(T0, Verdict.ALIVE, 200)) == []


def test_canary_every_below_a_minute_is_refused_at_its_key(tmp_path: Path) -> None:
    path = tmp_path / "pactbot.yml"
    path.write_text("canary:\n  every: 30s\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert "canary.every" in str(raised.value)
    assert "a webhook's Test runs at most once a minute" in str(raised.value)
    path.write_text("canary:\n  every: 15m\n", encoding="utf-8")
    assert load_config(path).canary.every == timedelta(minutes=15)
    assert Config().canary.every == timedelta(hours=1)


def test_a_hidden_answer_says_how_to_show_it() -> None:
    answer = TargetAnswer(success=False, hidden=True)
    run = found(explain_test(canary_webhook(secret="githubToken"), answer, T0), T0)

    assert run.verdict is Verdict.CANNOT_RUN
    assert "webhook host whitelist" in run.headline
