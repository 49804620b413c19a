"""`pactbot check` and `status` on webhooks: a dead token or a webhook that did not fire fails
the gate while its pairs are still pending; label-scoped webhooks serve their pairs; a consumer
re-publishing unchanged content is neither a false "did not fire" nor a missed one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sample.broker import Credentials, SampleBroker
from bot.sample.world import GITHUB_BAD_CREDENTIALS, REQUIRING_VERIFICATION, World
from tests.conftest import StartBroker
from tests.helpers.cli import TOKEN, Run

ORDERS_HOOK = "hookOrdersAbCdEfGhIjKl"
BILLING_HOOK = "hookBillingAbCdEfGhIjK"
SEARCH_HOOK = "hookMobileAbCdEfGhIjKl"


def dispatch(world: World, uuid: str, provider: str | None, now: datetime, **scope: str) -> None:
    world.add_webhook(
        uuid,
        description=f"Verify {provider or scope.get('provider_label')}",
        provider=provider,
        url=f"https://api.github.com/repos/acme/{provider or 'mobile'}/dispatches",
        created_at=now - timedelta(days=90),
        **scope,
    )


def webhooks_world(now: datetime) -> World:
    """orders-api's token died an hour ago, its pair pending; billing-api is a new provider
    whose CI never published, its pair pending two hours; a webhook for consumers labelled
    `mobile` serves mobile-app → search-api."""
    world = World(clock=lambda: now)
    for provider in ("orders-api", "search-api"):
        world.version(provider, "0.1.0", at=now - timedelta(days=90))
    dispatch(world, ORDERS_HOOK, "orders-api", now)
    dispatch(world, BILLING_HOOK, "billing-api", now)
    dispatch(world, SEARCH_HOOK, "search-api", now, consumer_label="mobile")
    world.version("mobile-app", "0.9.0", at=now - timedelta(days=9))
    world.label("mobile-app", "mobile")
    world.webhooks[ORDERS_HOOK].target = GITHUB_BAD_CREDENTIALS
    world.publish("web-app", "orders-api", "1.0.0", at=now - timedelta(hours=1))
    world.publish("admin-portal", "billing-api", "1.0.0", at=now - timedelta(hours=2))
    search = world.publish("mobile-app", "search-api", "1.0.0", at=now - timedelta(hours=3))
    world.verify(search, at=now - timedelta(hours=2))
    return world


@pytest.fixture
def hooks_broker(start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch) -> SampleBroker:
    started = start_broker(webhooks_world(datetime.now(UTC)), credentials=Credentials(token=TOKEN))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", started.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)
    return started


def test_a_dead_token_fails_the_check_while_its_pair_is_only_pending(
    hooks_broker: SampleBroker, run: Run
) -> None:
    ran = run("check", "--provider", "orders-api")

    assert ran.code == 1
    assert (
        '✗ webhook "Verify orders-api" → GitHub acme/orders-api: token dead (401) since ' in ran.out
    )
    assert '("Bad credentials")' in ran.out
    assert "check failed: 1 webhook they wait on failing or not firing (none of 1 pairs" in ran.out


def test_freshness_only_is_the_old_gate(hooks_broker: SampleBroker, run: Run) -> None:
    ran = run("check", "--provider", "orders-api", "--freshness-only")

    assert ran.code == 0
    assert '! webhook "Verify orders-api"' in ran.out
    assert "check passed: none of 1 pairs is stale or never verified" in ran.out


def test_a_webhook_that_did_not_fire_fails_the_check_and_says_what_to_run(
    hooks_broker: SampleBroker, run: Run
) -> None:
    ran = run("check", "--provider", "billing-api")

    assert ran.code == 1
    assert (
        '✗ webhook "Verify billing-api" → GitHub acme/billing-api: did not fire (the provider has '
        "no version) since "
    ) in ran.out
    assert "billing-api has no version in the broker yet" in ran.out
    assert "pact-broker create-or-update-version --pacticipant billing-api" in ran.out


def test_a_publication_younger_than_for_is_not_yet_did_not_fire(
    hooks_broker: SampleBroker, run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "pactbot.yml"
    config.write_text("alerts:\n  for: 3h\n", encoding="utf-8")

    ran = run("check", "--provider", "billing-api", "--config", str(config))

    assert ran.code == 0
    assert "did not fire" not in ran.out


def test_github_format_annotates_the_webhooks_and_the_pairs(
    hooks_broker: SampleBroker, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))

    ran = run("check", "--format", "github")
    relaxed = run("check", "--format", "github", "--freshness-only")

    assert ran.code == 1
    assert "::error title=Pact webhook%3A Verify orders-api::" in ran.out
    assert "::error title=Pact webhook%3A Verify billing-api::" in ran.out
    assert "did not fire (the provider has no version)" in ran.out
    assert relaxed.code == 0
    assert "::warning title=Pact webhook%3A Verify orders-api::" in relaxed.out


def test_status_says_did_not_fire_and_the_label_scoped_webhook_serves_its_pairs(
    hooks_broker: SampleBroker, run: Run
) -> None:
    ran = run("status")

    rows = {line.split("  ")[0]: line for line in ran.out.splitlines()[1:4]}
    assert "did not fire (the provider has no version)" in rows["admin-portal → billing-api"]
    assert "token dead (401)" in rows["web-app → orders-api"]
    assert rows["mobile-app → search-api"].rstrip().endswith("ok")  # not "no webhook"
    assert "2 webhooks failing" in ran.out


def test_status_json_carries_did_not_fire_as_data(hooks_broker: SampleBroker, run: Run) -> None:
    report = json.loads(run("status", "--json").out)

    hooks = {hook["id"]: hook for hook in report["webhooks"]}
    billing = hooks[BILLING_HOOK]
    assert billing["health"] == "did_not_fire"
    assert billing["did_not_fire"]["reason"] == "no_provider_version"
    assert billing["did_not_fire"]["consumer"] == "admin-portal"
    assert "has no version in the broker yet" in billing["did_not_fire"]["explanation"]
    assert billing["oldest_unanswered_publication"] is not None
    assert hooks[ORDERS_HOOK]["oldest_unanswered_publication"] is not None
    assert hooks[SEARCH_HOOK]["scope"] == "consumers labelled mobile → search-api"
    assert report["ok"] is False
    assert report["fresh"] is True
    assert set(report["failing_webhooks"]) == {ORDERS_HOOK, BILLING_HOOK}
    search = next(pair for pair in report["pairs"] if pair["provider"] == "search-api")
    assert search["webhooks"] == [SEARCH_HOOK]


def test_the_labels_are_read_with_one_request_per_label(
    hooks_broker: SampleBroker, run: Run
) -> None:
    run("status")

    assert hooks_broker.count("^/pacticipants/label/mobile$") == 1
    assert hooks_broker.count("^/pacticipants$") == 0


# A consumer re-publishing unchanged content ------------------------------------------------------


def republished_world(now: datetime, *, lost: bool) -> World:
    """A change of web-app's pact two hours ago, dispatched; the same content re-published
    an hour ago, which fires contract_requiring_verification_published again (unless `lost`:
    the broker triggered nothing for it)."""
    world = World(clock=lambda: now)
    world.version("orders-api", "0.1.0", at=now - timedelta(days=90))
    dispatch(world, ORDERS_HOOK, "orders-api", now)
    world.add_webhook(
        "hookChangedAbCdEfGhIjK",
        description="Verify orders-api on change",
        provider="orders-api",
        url="https://api.github.com/repos/acme/orders-api-changes/dispatches",
        events=("contract_content_changed",),
        created_at=now - timedelta(days=90),
    )
    world.publish("web-app", "orders-api", "1.0.0", at=now - timedelta(hours=2), content="v2")
    again = world.publish(
        "web-app", "orders-api", "1.0.1", at=now - timedelta(hours=1), content="v2"
    )
    if lost:
        world.triggered = [
            record
            for record in world.triggered
            if not (record.publication is again and record.event == REQUIRING_VERIFICATION)
        ]
    return world


@pytest.mark.parametrize("lost", [False, True], ids=["fired", "lost"])
def test_an_unchanged_republication_is_neither_a_false_nor_a_missed_did_not_fire(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run, lost: bool
) -> None:
    broker = start_broker(republished_world(datetime.now(UTC), lost=lost))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)

    report = json.loads(run("status", "--json").out)

    hooks = {hook["id"]: hook for hook in report["webhooks"]}
    # contract_content_changed fired for the change, not for the unchanged re-publication: ok.
    assert hooks["hookChangedAbCdEfGhIjK"]["health"] == "ok"
    if lost:
        assert hooks[ORDERS_HOOK]["health"] == "did_not_fire"
        assert hooks[ORDERS_HOOK]["did_not_fire"]["reason"] == "unknown"
    else:
        assert hooks[ORDERS_HOOK]["health"] == "ok"
