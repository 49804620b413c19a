"""The diagnosis: one test per verdict, and the evidence each one rests on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.config import Config
from bot.domain.diagnosis import RUNS_HINT, Diagnosis, DispatchRun, Verdict, diagnose, facts_from
from bot.domain.explain import explain_test
from bot.domain.model import Execution, PairRecord, Snapshot, TargetAnswer, Webhook
from bot.domain.report import build_report
from tests.helpers.reports import (
    ACCEPTED,
    DEAD_TOKEN,
    NOW,
    Run,
    dispatch_webhook,
    verified,
    waiting,
)

HOOK = "kJE42wcSbKwfb0QJ3V9sBg"
HIDDEN_FAILURE = TargetAnswer(success=False, hidden=True)
NOT_FOUND = TargetAnswer(success=False, status=404, message="Not Found")


def orders(**changes: Any) -> Webhook:
    return replace(
        dispatch_webhook(HOOK, "Verify orders-api", "orders-api", "orders-api"), **changes
    )


def judged(
    webhook: Webhook | None,
    *,
    tested: TargetAnswer | None,
    executions: Sequence[Execution] = (),
    pairs: Sequence[PairRecord] = (),
    runs: Sequence[DispatchRun] | None = None,
    skipped: str | None = None,
) -> Diagnosis:
    """The diagnosis of orders-api from a broker read and, when `tested`, a Test's answer."""
    pairs = pairs or (waiting("web-app", "orders-api", NOW, timedelta(days=2), newest=None),)
    hooks = (webhook,) if webhook else ()
    ran = {webhook.uuid: tuple(executions)} if webhook else {}
    report = build_report(Snapshot(NOW, tuple(pairs), hooks, ran), Config().rules(), NOW)
    facts = facts_from(report, "orders-api", webhook)
    test = explain_test(webhook, tested, NOW) if webhook and tested else None
    return diagnose(replace(facts, test=test, runs=runs, test_skipped=skipped), NOW)


def test_a_401_from_the_test_says_token_dead_start_rotation() -> None:
    found = judged(
        orders(),
        tested=DEAD_TOKEN,
        executions=[Execution(NOW - timedelta(days=2), DEAD_TOKEN)],
    )

    assert found.verdict == "token dead: start rotation"
    assert found.next_step.startswith("Start rotation")
    assert found.test is not None
    assert "rejected the token (HTTP 401" in found.test
    assert found.evidence[0] == ("The webhook last executed for real 2d ago: token dead (401).")
    assert found.evidence[1] == (
        "Consumers last published 2d ago; 1 pair waits for a verification, the longest since 2d ago."
    )


def test_a_disabled_webhook_whose_test_passes_says_webhook_disabled() -> None:
    found = judged(orders(enabled=False), tested=ACCEPTED)

    assert found.verdict == "webhook disabled"
    assert "Enable the webhook" in found.next_step
    assert "The webhook is disabled: the broker does not execute it." in found.evidence


def test_a_dispatch_on_contract_published_says_it_fires_on_every_publish() -> None:
    found = judged(orders(events=("contract_published",)), tested=ACCEPTED)

    assert found.verdict == "listens to contract_published: fires on every publish"
    assert "contract_requiring_verification_published" in found.next_step


def test_a_hidden_failure_says_set_the_webhook_host_whitelist() -> None:
    found = judged(orders(), tested=HIDDEN_FAILURE)

    assert found.verdict == "the broker hides the target's answer: set its webhook host whitelist"
    assert "PACT_BROKER_WEBHOOK_HOST_WHITELIST" in found.next_step


def test_a_provider_no_dispatch_webhook_covers_says_so_and_how_to_make_one() -> None:
    found = judged(None, tested=None)

    assert found.verdict == "no webhook reaches this provider"
    assert "Create a webhook for orders-api" in found.next_step
    assert found.test is None
    assert found.findings == ()


def test_a_passing_test_with_healthy_executions_says_all_healthy() -> None:
    pairs = (verified("web-app", "orders-api", NOW, timedelta(hours=2)),)
    found = judged(
        orders(),
        tested=ACCEPTED,
        executions=[Execution(NOW - timedelta(hours=3), ACCEPTED)],
        pairs=pairs,
    )

    assert found.verdict == "all healthy"
    assert found.next_step == "Nothing to do."
    assert "Consumers last published 3h ago; no pair waits for a verification." in found.evidence


def test_a_failure_the_verdicts_do_not_name_says_the_dispatch_fails_with_the_tests_advice() -> None:
    found = judged(orders(), tested=NOT_FOUND)

    assert found.verdict is Verdict.DISPATCH_FAILS
    assert "repo scope" in found.next_step


def test_without_a_test_the_newest_real_execution_decides() -> None:
    dead = judged(
        orders(),
        tested=None,
        executions=[Execution(NOW - timedelta(hours=5), DEAD_TOKEN)],
        skipped="one ran less than a minute ago",
    )
    unknown = judged(orders(), tested=None, skipped="the Pact Broker answered HTTP 500")

    assert dead.verdict is Verdict.TOKEN_DEAD
    assert dead.test == "The Test did not run: one ran less than a minute ago"
    assert unknown.verdict is Verdict.UNKNOWN


def test_without_runs_the_answer_says_to_set_github_token() -> None:
    found = judged(orders(), tested=ACCEPTED)

    assert found.runs is None
    assert found.evidence[-1] == RUNS_HINT == "Set GITHUB_TOKEN to see the provider's runs."


def test_runs_show_the_newest_dispatch_run_and_none_says_none() -> None:
    runs = [
        Run(NOW - timedelta(days=4), "completed", "success", "https://github.com/r/1", "Verify"),
        Run(NOW - timedelta(days=3), "completed", "failure", "https://github.com/r/2", "Verify"),
    ]

    found = judged(orders(), tested=ACCEPTED, runs=runs)
    none = judged(orders(), tested=ACCEPTED, runs=[])

    assert found.evidence[-1] == (
        "The newest repository_dispatch run in example-org/orders-api started 3d ago: failure."
    )
    assert found.runs is not None
    assert len(found.runs) == 2
    assert none.evidence[-1] == "No repository_dispatch run in example-org/orders-api lately."


def test_publications_the_webhook_never_executed_for_are_pointed_out() -> None:
    found = judged(
        orders(), tested=ACCEPTED, executions=[Execution(NOW - timedelta(days=5), ACCEPTED)]
    )

    assert (
        "The webhook has not executed since those publications: the broker did not fire it."
        in found.evidence
    )


def test_a_healthy_webhook_with_findings_says_to_fix_them() -> None:
    found = judged(orders(inline_credentials=("header X-Api-Key",)), tested=ACCEPTED)

    assert found.verdict is Verdict.HEALTHY
    assert found.next_step == "Fix the findings below before they stop verifications."
    assert [finding.kind.value for finding in found.findings] == ["inline_credential"]
