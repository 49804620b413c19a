"""Every way `pactbot` cannot tell: exit 2 and one sentence that says why."""

from __future__ import annotations

import io
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import commands
from bot.config import Config
from bot.errors import BrokerUnreachable
from bot.sample.broker import Fault, SampleBroker
from bot.sample.world import World
from bot.settings import BrokerSettings
from tests.conftest import StartBroker
from tests.helpers.cli import Run


def test_an_unknown_pacticipant_exits_2_with_the_closest_names(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("check", "--consumer", "web-ap")

    assert ran.code == 2
    assert ran.out == ""
    assert (
        ran.err
        == "pactbot: the Pact Broker has no pact with the consumer 'web-ap'; closest: web-app\n"
    )


def test_a_config_pair_the_broker_lacks_exits_2(
    cli_broker: SampleBroker, run: Run, tmp_path: Path
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
    cli_broker: SampleBroker, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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


def test_a_broken_broker_exits_2_with_the_reason(cli_broker: SampleBroker, run: Run) -> None:
    cli_broker.inject("^/dashboard$", Fault.html(times=None))

    ran = run("check")

    assert ran.code == 2
    assert "an HTML page instead of JSON: a proxy or login page answered" in ran.err


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (Fault(429, headers={"Retry-After": "600"}), "rate limits pactbot (HTTP 429)"),
        (Fault.garbage(), "unexpected answer from GET /dashboard: malformed JSON"),
        (
            Fault.without("items", 0, "latestVerificationResult"),
            "the field items.0.latestVerificationResult is missing",
        ),
    ],
)
def test_every_broker_fault_exits_2_with_a_sentence(
    cli_broker: SampleBroker, run: Run, fault: Fault, said: str
) -> None:
    cli_broker.inject("^/dashboard$", fault)

    ran = run("check")

    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith("pactbot: ")
    assert said in ran.err


def test_rejected_credentials_exit_2_naming_the_variable(
    cli_broker: SampleBroker, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACT_BROKER_TOKEN", "expired-token")

    ran = run("check")

    assert ran.code == 2
    assert "rejected the credentials (401)" in ran.err
    assert "check PACT_BROKER_TOKEN" in ran.err
    assert "expired-token" not in ran.err


def test_a_wrong_duration_flag_is_a_usage_error(cli_broker: SampleBroker, run: Run) -> None:
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
    assert ran.err.endswith(
        " lists no pairs; check PACT_BROKER_BASE_URL, with the path prefix if the broker sits "
        "behind a proxy (https://proxy.example.com/pact)\n"
    )


async def test_an_unreachable_broker_is_named_with_its_url_after_the_retries() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    context = commands.Context(
        broker=BrokerSettings(base_url=f"http://127.0.0.1:{port}"),
        config=Config(),
        github_api_url="https://api.github.com",
        clock=lambda: datetime.now(UTC),
        out=io.StringIO(),
        err=io.StringIO(),
        sleep=sleep,
    )

    with pytest.raises(BrokerUnreachable) as raised:
        await commands.status(context)

    assert str(raised.value).startswith(
        f"cannot reach the Pact Broker at http://127.0.0.1:{port}/dashboard?page=1&size=1000: "
        "connection failed"
    )
    assert waits == [0.5, 1.0, 2.0]


def test_credentials_that_may_not_read_exit_2(cli_broker: SampleBroker, run: Run) -> None:
    cli_broker.inject("^/dashboard$", Fault(403, b"", times=None))

    ran = run("check")

    assert ran.code == 2
    assert "the Pact Broker refused to answer (403) at " in ran.err
    assert "the credentials may not read this resource" in ran.err


def test_a_missing_link_in_an_answer_is_named(cli_broker: SampleBroker, run: Run) -> None:
    cli_broker.inject("^/dashboard$", Fault.without("items", 0, "_links", "pb:webhook-status"))

    ran = run("check")

    assert ran.code == 2
    assert (
        "unexpected answer from GET /dashboard: the field items.0._links.pb:webhook-status.href is missing"
        in ran.err
    )


def test_a_consumer_and_provider_without_a_pact_between_them_exit_2(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("check", "--consumer", "checkout", "--provider", "orders-api")

    assert ran.code == 2
    assert ran.err == (
        "pactbot: the Pact Broker has no pact between 'checkout' and 'orders-api'; closest: "
        "checkout → Pricing Service, checkout → inventory-api\n"
    )


def test_a_filter_that_excludes_every_listed_pair_exits_2(
    cli_broker: SampleBroker, run: Run, tmp_path: Path
) -> None:
    (tmp_path / "pactbot.yml").write_text(
        "pairs:\n  - {consumer: web-app, provider: orders-api}\n", encoding="utf-8"
    )

    ran = run("check", "--provider", "search-api")

    assert ran.code == 2
    assert "nothing to check: no pair of the Pact Broker at " in ran.err
    assert "is both listed and selected" in ran.err


def test_unreadable_webhook_logs_do_not_stop_the_check(cli_broker: SampleBroker, run: Run) -> None:
    cli_broker.inject("/logs$", Fault(404, b"", times=None))
    cli_broker.inject("/triggered-webhooks$", Fault(404, b"", times=None))

    ran = run("check", "--provider", "orders-api")

    assert ran.code == 1
    assert "✗ web-app → orders-api: stale" in ran.out
    assert '"Verify orders-api pacts" → GitHub acme/orders-api: failing since' in ran.out
