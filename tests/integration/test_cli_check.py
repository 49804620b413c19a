"""`pactbot check` and `status` as a user runs them, against the sample cli_broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sample.broker import SampleBroker
from bot.sample.story import GITLAB_WEBHOOK, ORDERS_WEBHOOK
from tests.helpers.cli import TOKEN, Run


def test_check_fails_on_a_stale_pair_and_names_the_dead_token(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("check")

    assert ran.code == 1
    assert ran.err == ""
    assert (
        "✗ web-app → orders-api: stale: the latest pact has waited 3d for a verification (max 24h)"
        in ran.out
    )
    assert (
        '    webhook: "Verify orders-api pacts" → GitHub acme/orders-api: token dead (401) since '
        in ran.out
    )
    assert '("Bad credentials")' in ran.out
    assert "✗ admin-portal → billing-api: never verified" in ran.out
    assert "    webhook: no webhook fires for this pair" in ran.out
    assert "! checkout → inventory-api: failing" in ran.out
    assert "check failed: 2 of 6 pairs stale or never verified" in ran.out


def test_check_passes_when_the_selected_pairs_are_fine(cli_broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--provider", "Pricing Service")

    assert ran.code == 0
    assert "check passed: none of 2 pairs is stale or never verified" in ran.out


def test_a_failing_verification_does_not_fail_the_check(cli_broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--consumer", "checkout", "--provider", "inventory-api")

    assert ran.code == 0
    assert (
        "! checkout → inventory-api: failing: the latest pact's verification failed 4h ago"
        in ran.out
    )


def test_max_age_and_policy_flags_change_the_verdict(cli_broker: SampleBroker, run: Run) -> None:
    # orders-api's token is dead: only the freshness gate lets its max-age decide alone.
    assert run("check", "--provider", "orders-api", "--max-age", "7d", "--freshness-only").code == 0
    strict = run("check", "--provider", "search-api", "--policy", "age")
    assert strict.code == 1
    assert "newest verification is 12d old (max 24h)" in strict.out
    assert run("check", "--provider", "search-api").code == 0


def test_json_output_has_every_pair_and_webhook(cli_broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--format", "json")

    report = json.loads(ran.out)
    assert ran.code == 1
    assert report["ok"] is False
    states = {(pair["consumer"], pair["provider"]): pair["state"] for pair in report["pairs"]}
    assert states[("web-app", "orders-api")] == "stale"
    assert report["pairs"][0]["state"] == "stale"  # most urgent first
    orders = next(hook for hook in report["webhooks"] if hook["id"] == ORDERS_WEBHOOK)
    assert (orders["health"], orders["target_status"], orders["github_repository"]) == (
        "token_dead",
        401,
        "acme/orders-api",
    )


def test_github_format_annotates_and_writes_the_step_summary(
    cli_broker: SampleBroker, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    ran = run("check", "--format", "github")

    assert ran.code == 1
    assert (
        "::error title=Pact stale%3A web-app → orders-api::the latest pact has waited 3d" in ran.out
    )
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("earlier step\n### Pact verification freshness\n")
    assert "| web-app → orders-api | **stale** | 5d 23h ago | " in written
    assert " (3d) | token dead (401) since " in written


def test_the_config_file_limits_the_pairs_and_sets_their_max_age(
    cli_broker: SampleBroker, run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "pactbot.yml"
    config.write_text(
        "pairs:\n  - {consumer: web-app, provider: orders-api, max_age: 4d}\n"
        "  - {consumer: checkout, provider: Pricing Service}\n",
        encoding="utf-8",
    )

    ran = run("check", "--freshness-only")  # found as ./pactbot.yml

    assert ran.code == 0
    assert "none of 2 pairs" in ran.out


def test_flags_override_the_environment(
    cli_broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PACT_BROKER_TOKEN", "wrong")

    ran = run("status", "--broker-base-url", cli_broker.url, "--broker-token", TOKEN)

    assert ran.code == 0


def test_status_lists_every_pair_most_urgent_first(cli_broker: SampleBroker, run: Run) -> None:
    ran = run("status")

    lines = ran.out.splitlines()
    assert ran.code == 0
    assert lines[0].split() == ["PAIR", "STATE", "VERIFIED", "WAITING", "SINCE", "WEBHOOK"]
    assert [line.split("  ")[0] for line in lines[1:7]] == [
        "web-app → orders-api",
        "admin-portal → billing-api",
        "checkout → inventory-api",
        "web-app → Pricing Service",
        "web-app → search-api",
        "checkout → Pricing Service",
    ]
    assert "no webhook" in lines[2]
    assert lines[-1].startswith(
        "6 pairs: 1 stale, 1 never verified, 1 failing, 1 pending, 1 idle, 1 fresh; 1 webhook failing"
    )


def test_status_json_is_the_same_report(cli_broker: SampleBroker, run: Run) -> None:
    ran = run("status", "--json")

    assert [pair["state"] for pair in json.loads(ran.out)["pairs"]] == [
        "stale", "never_verified", "failing", "pending", "idle", "fresh",
    ]  # fmt: skip


def test_python_dash_m_bot_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip().startswith("pactbot 0.")


def test_the_demo_runs_every_command_against_its_sample_broker(run: Run) -> None:
    ran = run("demo")

    assert ran.code == 0
    assert "$ pactbot status\n" in ran.out
    assert "$ pactbot check\n" in ran.out
    assert f"$ pactbot test-webhook {ORDERS_WEBHOOK}\n" in ran.out
    assert "(exit code 1)" in ran.out
    assert 'rejected the token (HTTP 401 "Bad credentials")' in ran.out
    # Six pairs, one in each state, and a GitLab (stale) and an Azure DevOps (fresh) one.
    for count, state in ((2, "stale"), (1, "never verified"), (1, "failing"), (1, "pending")):
        assert f"{count} {state}" in ran.out
    assert "1 idle, 2 fresh" in ran.out
    assert f"$ pactbot test-webhook {GITLAB_WEBHOOK}\n" in ran.out
    assert 'GitLab (acme/shipping-api) answered 404 "404 Not Found"' in ran.out
    assert "The daily digest, as the channel reads it:" in ran.out
    # The canary finds the orders-api token dead, and the others' token alive.
    canary = ran.out[ran.out.index("$ pactbot check --canary\n") :]
    assert "✗ canary of the secret githubToken" in canary
    assert "GitHub rejected the token (HTTP 401)" in canary
    assert "✓ canary of the secret platformGithubToken" in canary
    written = ran.out.split("Its Block Kit JSON is in ")[1].split(" ")[0]
    blocks = json.loads(Path(written).read_text(encoding="utf-8"))
    assert blocks[0]["blocks"][0]["type"] == "header"


def test_the_demo_ends_with_the_dead_token_rotated_step_by_step(run: Run) -> None:
    ran = run("demo")

    rotation, gitlab = ran.out[ran.out.index("“Start rotation” on that alert") :].split(
        "The same for shipping-api's GitLab pipeline trigger token"
    )
    steps = [line for line in rotation.splitlines() if line.startswith("Step ")]
    assert steps == [
        "Step 1 of 8 · Confirm the diagnosis",
        "Step 2 of 8 · Sign in to GitHub as the machine user",
        "Step 3 of 8 · Generate a classic token",
        "Step 4 of 8 · Copy it",
        "Step 5 of 8 · Paste it into the PactFlow secret",
        "Step 6 of 8 · Test again",
        "Step 7 of 8 · Watch the provider's run",
        "Step 8 of 8 · Revoke the old token",
    ]
    assert "Diagnosis confirmed." in rotation
    assert "The new token works." in rotation
    assert "✅ web-app → orders-api, verified" in rotation
    assert "✅ Token rotated. Finished by @U0ONCALL" in rotation
    assert "ghp_" not in rotation  # the walk-through never shows a token
    # The GitLab trigger token, with GitLab's own steps and pages.
    assert "Step 3 of 8 · Add a pipeline trigger token" in gitlab
    assert "https://gitlab.com/acme/shipping-api/-/settings/ci_cd#js-pipeline-triggers" in gitlab
    assert "edit gitlabTriggerToken" in gitlab
    assert "✅ Token rotated. Finished by @U0ONCALL" in gitlab
