"""`pactbot test-webhook`: the broker's Test, run for real and explained."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.sample.broker import Credentials, Fault, SampleBroker
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.sample.world import Target
from tests.conftest import StartBroker
from tests.helpers.cli import Run


def test_test_webhook_exits_1_on_a_dead_token_unlike_the_official_cli(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", ORDERS_WEBHOOK)

    assert ran.code == 1
    assert 'rejected the token (HTTP 401 "Bad credentials")' in ran.out
    assert cli_broker.count(f"/webhooks/{ORDERS_WEBHOOK}/execute$", method="POST") == 1


def test_test_webhook_by_provider_exits_0_when_github_accepts(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", "--provider", "Pricing Service")

    assert ran.code == 0
    assert "✓ GitHub (acme/pricing-service) accepted the request (HTTP 204)" in ran.out


def test_test_webhook_with_a_hidden_failure_exits_1_and_explains(
    cli_broker: SampleBroker, run: Run
) -> None:
    cli_broker.world.show_responses = False

    ran = run("test-webhook", "--provider", "orders-api")

    assert ran.code == 1
    assert "the broker hides what GitHub (acme/orders-api) answered" in ran.out
    assert "PACT_BROKER_WEBHOOK_HOST_WHITELIST" in ran.out


def test_test_webhook_reports_an_unreachable_target(cli_broker: SampleBroker, run: Run) -> None:
    cli_broker.world.webhooks[ORDERS_WEBHOOK].target = Target(
        None, error="Failed to open TCP connection to api.github.com:443 (getaddrinfo)"
    )

    ran = run("test-webhook", ORDERS_WEBHOOK)

    assert ran.code == 1
    assert (
        "The broker could not reach GitHub (acme/orders-api): Failed to open TCP connection"
        in ran.out
    )


def test_an_unknown_webhook_id_exits_2_with_the_closest_ids(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", "kJE42wcSbKwfb0QJ3V9sBX")

    assert ran.code == 2
    assert ran.err == (
        "pactbot: the Pact Broker has no webhook 'kJE42wcSbKwfb0QJ3V9sBX'; "
        f"closest: {ORDERS_WEBHOOK} (Verify orders-api pacts)\n"
    )
    assert cli_broker.count("/execute$") == 0


def test_several_candidate_webhooks_are_listed_instead_of_guessed(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook")

    assert ran.code == 2
    assert "4 webhooks dispatch to GitHub here; choose one:" in ran.err
    assert f"pactbot test-webhook {ORDERS_WEBHOOK}" in ran.err
    assert cli_broker.count("/execute$") == 0


def test_an_unknown_provider_for_the_test_names_the_closest(
    cli_broker: SampleBroker, run: Run
) -> None:
    ran = run("test-webhook", "--provider", "order-api")

    assert ran.code == 2
    assert "no CI-trigger webhook for 'order-api'; closest: orders-api" in ran.err


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


def test_a_misspelt_provider_starts_no_test_even_with_a_webhook_for_every_pact(
    cli_broker: SampleBroker, run: Run
) -> None:
    cli_broker.world.add_webhook(
        "everyPactAbCdEfGhIjKlMn",
        description="Verify everything",
        url="https://api.github.com/repos/acme/monorepo/dispatches",
    )

    ran = run("test-webhook", "--provider", "ordrs-api")

    assert ran.code == 2
    assert ran.err == (
        "pactbot: the Pact Broker has no CI-trigger webhook for 'ordrs-api' (webhooks for every "
        "pact, testable by id: everyPactAbCdEfGhIjKlMn); closest: orders-api, inventory-api, "
        "search-api\n"
    )
    assert cli_broker.count("/execute$") == 0


async def test_a_test_the_broker_does_not_answer_in_time_may_still_have_run(
    start_broker: StartBroker,
) -> None:
    from bot.broker.client import BrokerClient, Timeouts
    from bot.errors import BrokerError
    from bot.settings import BrokerSettings

    broker = start_broker(demo_world(datetime.now(UTC)))
    broker.inject("/execute$", Fault(delay=0.5))
    client = BrokerClient(BrokerSettings(base_url=broker.url), timeouts=Timeouts(test=0.1))

    with pytest.raises(BrokerError) as raised:
        async with client:
            await client.execute(f"{broker.url}/webhooks/{ORDERS_WEBHOOK}/execute")

    assert str(raised.value) == (
        f"the Pact Broker did not answer the Test within 0 s at {broker.url}/webhooks/"
        f"{ORDERS_WEBHOOK}/execute; it may still have dispatched a CI run, so check the provider's "
        "CI before running it again"
    )
    assert broker.count("/execute$") == 1
