"""`pactbot doctor` against the sample broker and the fake Slack: one line per check."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.sample.broker import Credentials, Fault, SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK
from tests.conftest import StartBroker
from tests.helpers.cli import Run

CHANNEL = "C0DIGEST"
TOKEN = "ghp_" + "Qw3" * 12


@pytest.fixture
def wired(
    cli_broker: SampleBroker, slack: SampleSlack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> SampleBroker:
    """Everything `pactbot serve` needs, set as an operator sets it."""
    (tmp_path / "pactbot.yml").write_text(f"digest:\n  channel: {CHANNEL}\n", encoding="utf-8")
    slack.add_channel(CHANNEL, "pact-digest")
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv("SLACK_API_BASE_URL", slack.url + "/api/")
    monkeypatch.setenv("PACTBOT_STORE_URL", "sqlite:///pactbot.sqlite3")
    return cli_broker


def line(out: str, name: str) -> str:
    """The first line of the check `name`."""
    return next(text for text in out.splitlines() if text[6:].startswith(name + " "))


def test_all_is_well_exits_0_and_runs_no_test(wired: SampleBroker, run: Run) -> None:
    ran = run("doctor")

    assert ran.code == 0, ran.out
    assert line(ran.out, "config") == "ok    config      pactbot.yml: valid"
    assert line(ran.out, "broker").startswith("ok    broker      http://127.0.0.1:")
    assert line(ran.out, "test") == (
        "ok    test        the token may run the webhook Test (asked without one)"
    )
    assert line(ran.out, "lint") == "ok    lint        4 webhooks, nothing to fix"
    assert line(ran.out, "slack") == "ok    slack       signed in as @bot in Subarachnoid Workspace"
    assert line(ran.out, "channel") == (
        "ok    channel     C0DIGEST (#pact-digest): the bot is in it"
    )
    assert line(ran.out, "store") == "ok    store       sqlite:///pactbot.sqlite3 answers"
    assert ran.out.endswith("All is well.\n")
    # The permission probe reached no webhook the broker has.
    assert wired.count("/execute$", method="POST") == 1
    assert wired.count("/webhooks/pactbot-doctor-permission-probe/execute$", method="POST") == 1


def test_a_read_only_token_fails_the_test_check_and_says_which_token_to_use(
    start_broker: StartBroker, wired: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    readonly = start_broker(wired.world, credentials=Credentials(read_only_token="read-only"))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", readonly.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", "read-only")

    ran = run("doctor")

    assert ran.code == 1
    assert line(ran.out, "test").startswith("FAIL  test        the token is read-only")
    assert "'Read/write token (CI)'" in ran.out
    assert line(ran.out, "broker").startswith("ok")
    # The eighth line: no canary yet, a warning that does not count as a failure.
    assert line(ran.out, "canary").startswith("warn  canary      none: ")
    assert ran.out.endswith("1 of 8 checks failed.\n")


def test_a_bot_not_in_the_digest_channel_fails_with_the_invite_to_type(
    wired: SampleBroker, slack: SampleSlack, run: Run
) -> None:
    slack.add_channel(CHANNEL, "pact-digest", is_member=False)

    ran = run("doctor")

    assert ran.code == 1
    assert line(ran.out, "channel") == (
        "FAIL  channel     C0DIGEST (#pact-digest): the bot is not in it; invite it there "
        "(/invite @pactbot)"
    )


def test_a_digest_channel_slack_does_not_know_fails(
    wired: SampleBroker, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "pactbot.yml").write_text("digest:\n  channel: C0GONE\n", encoding="utf-8")

    ran = run("doctor")

    assert ran.code == 1
    assert "FAIL  channel     C0GONE: Slack refused conversations.info (channel_not_found)" in (
        ran.out
    )


def test_a_rejected_broker_token_fails_and_the_other_checks_still_run(
    wired: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_TOKEN", "wrong")

    ran = run("doctor")

    assert ran.code == 1
    assert "FAIL  broker      the Pact Broker rejected the credentials (401)" in ran.out
    assert "check PACT_BROKER_TOKEN" in ran.out
    assert "wrong" not in ran.out
    assert line(ran.out, "slack").startswith("ok")
    assert line(ran.out, "store").startswith("ok")


def test_a_broker_answering_html_fails_with_what_to_check(wired: SampleBroker, run: Run) -> None:
    wired.inject("^/$", Fault.html())

    ran = run("doctor")

    assert ran.code == 1
    assert "FAIL  broker      unexpected answer from GET /: an HTML page instead of JSON" in ran.out


def test_a_broker_down_fails_after_its_retries(wired: SampleBroker, run: Run) -> None:
    wired.inject("^/$", Fault(500, times=None))

    ran = run("doctor")

    assert ran.code == 1
    assert "FAIL  broker      the Pact Broker answered HTTP 500" in ran.out


def test_a_token_written_into_a_webhook_is_a_lint_failure_that_never_shows_it(
    wired: SampleBroker, run: Run
) -> None:
    wired.world.webhooks[ORDERS_WEBHOOK].body = {"event_type": "x", "token": TOKEN}

    ran = run("doctor")

    assert ran.code == 1
    assert (
        "FAIL  lint        “Verify orders-api pacts”: a credential is written into the webhook "
        "(body token)" in ran.out
    )
    assert TOKEN not in ran.out + ran.err


def test_bad_config_and_missing_settings_each_fail_with_a_sentence(
    wired: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pactbot.yml").write_text("defaults:\n  policy: strict\n", encoding="utf-8")
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.delenv("PACT_BROKER_BASE_URL")

    ran = run("doctor")

    assert ran.code == 1
    assert line(ran.out, "config").startswith("FAIL  config      pactbot.yml: defaults.policy")
    assert line(ran.out, "broker").startswith("FAIL  broker      PACT_BROKER_BASE_URL is not set")
    assert line(ran.out, "slack").startswith("FAIL  slack       SLACK_BOT_TOKEN is not set")


def test_a_store_that_does_not_answer_fails(
    wired: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PACTBOT_STORE_URL", f"redis://:secret@127.0.0.1:{port}/0")

    ran = run("doctor")

    assert ran.code == 1
    assert line(ran.out, "store").startswith("FAIL  store       cannot use the Redis store")
    assert "secret" not in ran.out
