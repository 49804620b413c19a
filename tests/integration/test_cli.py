"""`pactbot check`, `status` and `test-webhook`, run as a user runs them, against the sample broker."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.sample.broker import Credentials, Fault, SampleBroker
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.sample.world import Target, World
from tests.conftest import StartBroker

TOKEN = "cli-test-token"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def broker(start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch) -> SampleBroker:
    # The CLI reads the real clock, so the story is told relative to it.
    started = start_broker(demo_world(datetime.now(UTC)), credentials=Credentials(token=TOKEN))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", started.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)
    return started


Run = Callable[..., Ran]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*argv: str) -> Ran:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def test_check_fails_on_a_stale_pair_and_names_the_dead_token(
    broker: SampleBroker, run: Run
) -> None:
    ran = run("check")

    assert ran.code == 1
    assert ran.err == ""
    assert (
        "✗ web-app → orders-api: stale: the latest pact has waited 3d for a verification (max 1d)"
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


def test_check_passes_when_the_selected_pairs_are_fine(broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--provider", "Pricing Service")

    assert ran.code == 0
    assert "check passed: none of 2 pairs is stale or never verified" in ran.out


def test_a_failing_verification_does_not_fail_the_check(broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--consumer", "checkout", "--provider", "inventory-api")

    assert ran.code == 0
    assert (
        "! checkout → inventory-api: failing: the latest pact's verification failed 4h ago"
        in ran.out
    )


def test_max_age_and_policy_flags_change_the_verdict(broker: SampleBroker, run: Run) -> None:
    assert run("check", "--provider", "orders-api", "--max-age", "7d").code == 0
    strict = run("check", "--provider", "search-api", "--policy", "age")
    assert strict.code == 1
    assert "newest verification is 12d old (max 1d)" in strict.out
    assert run("check", "--provider", "search-api").code == 0


def test_an_unknown_pacticipant_exits_2_with_the_closest_names(
    broker: SampleBroker, run: Run
) -> None:
    ran = run("check", "--consumer", "web-ap")

    assert ran.code == 2
    assert ran.out == ""
    assert (
        ran.err
        == "pactbot: the Pact Broker has no pact with the consumer 'web-ap'; closest: web-app\n"
    )


def test_json_output_has_every_pair_and_webhook(broker: SampleBroker, run: Run) -> None:
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
    broker: SampleBroker, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    ran = run("check", "--format", "github")

    assert ran.code == 1
    assert (
        "::error title=Pact stale: web-app → orders-api::the latest pact has waited 3d" in ran.out
    )
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("earlier step\n### Pact verification freshness\n")
    assert (
        "| web-app → orders-api | **stale** | 5d 23h ago | 3d | token dead (401) since " in written
    )


def test_the_config_file_limits_the_pairs_and_sets_their_max_age(
    broker: SampleBroker, run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "pactbot.yml"
    config.write_text(
        "pairs:\n  - {consumer: web-app, provider: orders-api, max_age: 4d}\n"
        "  - {consumer: checkout, provider: Pricing Service}\n",
        encoding="utf-8",
    )

    ran = run("check")  # found as ./pactbot.yml

    assert ran.code == 0
    assert "none of 2 pairs" in ran.out


def test_a_config_pair_the_broker_lacks_exits_2(
    broker: SampleBroker, run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "watched.yml"
    config.write_text("pairs:\n  - {consumer: webapp, provider: orders-api}\n", encoding="utf-8")

    ran = run("check", "--config", str(config))

    assert ran.code == 2
    assert (
        "has no pact webapp → orders-api (listed under pairs in the config file); closest: web-app → orders-api"
        in ran.err
    )


def test_an_invalid_config_exits_2_naming_the_file_and_key(
    broker: SampleBroker, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("defaults:\n  policy: strict\n", encoding="utf-8")
    monkeypatch.setenv("PACTBOT_CONFIG", str(config))

    ran = run("status")

    assert ran.code == 2
    assert (
        ran.err
        == f"pactbot: {config}: defaults.policy: 'strict' is not accepted; use 'age' or 'demand'\n"
    )


def test_a_missing_broker_url_exits_2_naming_the_variable(run: Run) -> None:
    ran = run("check")

    assert ran.code == 2
    assert ran.err.startswith(
        "pactbot: PACT_BROKER_BASE_URL is not set: set it (or pass --broker-base-url)"
    )


def test_flags_override_the_environment(
    broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PACT_BROKER_TOKEN", "wrong")

    ran = run("status", "--broker-base-url", broker.url, "--broker-token", TOKEN)

    assert ran.code == 0


def test_a_broken_broker_exits_2_with_the_reason(broker: SampleBroker, run: Run) -> None:
    broker.inject("^/dashboard$", Fault.html(times=None))

    ran = run("check")

    assert ran.code == 2
    assert "an HTML page instead of JSON: a proxy or login page answered" in ran.err


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (Fault(429, headers={"Retry-After": "600"}), "answered HTTP 429 for "),
        (Fault.garbage(), "unexpected answer from GET /dashboard: malformed JSON"),
        (
            Fault.without("items", 0, "latestVerificationResult"),
            "the field items.0.latestVerificationResult is missing",
        ),
    ],
)
def test_every_broker_fault_exits_2_with_a_sentence(
    broker: SampleBroker, run: Run, fault: Fault, said: str
) -> None:
    broker.inject("^/dashboard$", fault)

    ran = run("check")

    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("pactbot: ")
    assert said in ran.err


def test_python_dash_m_bot_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip().startswith("pactbot 0.")


def test_rejected_credentials_exit_2_naming_the_variable(
    broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_TOKEN", "expired-token")

    ran = run("check")

    assert ran.code == 2
    assert "rejected the credentials (401)" in ran.err
    assert "check PACT_BROKER_TOKEN" in ran.err
    assert "expired-token" not in ran.err


def test_a_wrong_duration_flag_is_a_usage_error(broker: SampleBroker, run: Run) -> None:
    with pytest.raises(SystemExit) as raised:
        run("check", "--max-age", "6 hours")

    assert raised.value.code == 2


def test_an_empty_broker_cannot_be_checked(
    start_broker: StartBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_BASE_URL", start_broker(World()).url)

    ran = run("check")

    assert ran.code == 2
    assert "nothing to check: the Pact Broker at http://127.0.0.1:" in ran.err


def test_status_lists_every_pair_most_urgent_first(broker: SampleBroker, run: Run) -> None:
    ran = run("status")

    lines = ran.out.splitlines()
    assert ran.code == 0
    assert lines[0].split() == ["PAIR", "STATE", "VERIFIED", "WAITING", "WEBHOOK"]
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


def test_status_json_is_the_same_report(broker: SampleBroker, run: Run) -> None:
    ran = run("status", "--json")

    assert [pair["state"] for pair in json.loads(ran.out)["pairs"]] == [
        "stale", "never_verified", "failing", "pending", "idle", "fresh",
    ]  # fmt: skip


def test_test_webhook_exits_1_on_a_dead_token_unlike_the_official_cli(
    broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", ORDERS_WEBHOOK)

    assert ran.code == 1
    assert 'rejected the token (HTTP 401 "Bad credentials")' in ran.out
    assert broker.count(f"/webhooks/{ORDERS_WEBHOOK}/execute$", method="POST") == 1


def test_test_webhook_by_provider_exits_0_when_github_accepts(
    broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", "--provider", "Pricing Service")

    assert ran.code == 0
    assert "✓ GitHub (acme/pricing-service) accepted the request (HTTP 204)" in ran.out


def test_test_webhook_with_a_hidden_failure_exits_1_and_explains(
    broker: SampleBroker, run: Run
) -> None:
    broker.world.show_responses = False

    ran = run("test-webhook", "--provider", "orders-api")

    assert ran.code == 1
    assert "the broker hides what GitHub (acme/orders-api) answered" in ran.out
    assert "PACT_BROKER_WEBHOOK_HOST_WHITELIST" in ran.out


def test_test_webhook_reports_an_unreachable_target(broker: SampleBroker, run: Run) -> None:
    broker.world.webhooks[ORDERS_WEBHOOK].target = Target(
        None, error="Failed to open TCP connection to api.github.com:443 (getaddrinfo)"
    )

    ran = run("test-webhook", ORDERS_WEBHOOK)

    assert ran.code == 1
    assert (
        "The broker could not reach GitHub (acme/orders-api): Failed to open TCP connection"
        in ran.out
    )


def test_an_unknown_webhook_id_exits_2_with_the_closest_ids(broker: SampleBroker, run: Run) -> None:
    ran = run("test-webhook", "kJE42wcSbKwfb0QJ3V9sBX")

    assert ran.code == 2
    assert ran.err == (
        "pactbot: the Pact Broker has no webhook 'kJE42wcSbKwfb0QJ3V9sBX'; "
        f"closest: {ORDERS_WEBHOOK} (Verify orders-api pacts)\n"
    )
    assert broker.count("/execute$") == 0


def test_several_candidate_webhooks_are_listed_instead_of_guessed(
    broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook")

    assert ran.code == 2
    assert "4 webhooks dispatch to GitHub here; choose one:" in ran.err
    assert f"pactbot test-webhook {ORDERS_WEBHOOK}" in ran.err
    assert broker.count("/execute$") == 0


def test_an_unknown_provider_for_the_test_names_the_closest(broker: SampleBroker, run: Run) -> None:
    ran = run("test-webhook", "--provider", "order-api")

    assert ran.code == 2
    assert "no GitHub-dispatch webhook for the provider 'order-api'; closest: orders-api" in ran.err


def test_a_read_only_token_cannot_run_the_test(
    start_broker: StartBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = start_broker(
        demo_world(datetime.now(UTC)), credentials=Credentials(read_only_token="read-only")
    )
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", "read-only")

    ran = run("test-webhook", ORDERS_WEBHOOK)

    assert ran.code == 2
    assert "a read-only token cannot run it; use a read/write token" in ran.err


def test_the_demo_runs_every_command_against_its_sample_broker(run: Run) -> None:
    ran = run("demo")

    assert ran.code == 0
    assert "$ pactbot status\n" in ran.out
    assert "$ pactbot check\n" in ran.out
    assert f"$ pactbot test-webhook {ORDERS_WEBHOOK}\n" in ran.out
    assert "(exit code 1)" in ran.out
    assert 'rejected the token (HTTP 401 "Bad credentials")' in ran.out
    for state in ("stale", "never verified", "failing", "pending", "idle", "fresh"):
        assert f"1 {state}" in ran.out
