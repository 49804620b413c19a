"""A token that may read pacts but not webhooks: freshness still answers, and every surface says
what it could not see and the permission that would show it. Driven with each optional read
refused (403) one at a time, and all of them at once, through `check`, `status`, `doctor` and
`pactbot serve` (one evaluation and a digest)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.sample.broker import Credentials, Fault, SampleBroker
from bot.sample.slack import SampleSlack
from bot.sample.story import ORDERS_WEBHOOK, demo_world
from bot.sample.world import World
from bot.store.sqlite import SqliteStore
from tests.conftest import StartBroker
from tests.helpers import slack_requests
from tests.helpers.alerting import alerting, alerts, evaluate, shown
from tests.helpers.bot import CHANNEL, Clock, running_bot
from tests.helpers.cli import TOKEN, Run
from tests.integration.test_slack_command import texts

LABEL_HOOK = "hookStorefrontAbCdEfGh"
# Each read that only explains freshness: the path the broker (or a proxy) refuses, and the
# words the note opens with.
REFUSED = {
    "webhooks": (r"^/webhooks$", "webhook health unknown: the credentials may not read webhooks (403 at /webhooks)"),
    "webhook": (rf"^/webhooks/{ORDERS_WEBHOOK}$", f"the webhooks Verify orders-api pacts unknown: the credentials may not read them (403 at /webhooks/{ORDERS_WEBHOOK})"),
    "status": (r"/webhooks/status$", "the real executions of some webhooks unknown: the credentials may not read webhook statuses"),
    "logs": (r"/logs$", "what some webhooks' targets answered unknown: the credentials may not read triggered-webhook logs"),
    "labels": (r"^/pacticipants/label/", "webhooks scoped by the label storefront match no pair: the credentials may not read pacticipants (403 at /pacticipants/label/storefront)"),
}  # fmt: skip
# The refusals after which pactbot cannot tell which webhooks serve a pair.
COVERAGE = {"webhooks", "webhook", "labels"}
CASES = [*REFUSED, "all"]


def world(now: datetime) -> World:
    """The demo's broker, plus a webhook for the consumers labelled storefront (checkout)."""
    story = demo_world(now)
    story.label("checkout", "storefront")
    story.add_webhook(
        LABEL_HOOK,
        description="Verify storefront consumers",
        consumer_label="storefront",
        url="https://api.github.com/repos/acme/storefront/dispatches",
        created_at=now - timedelta(days=90),
    )
    return story


def refuse(broker: SampleBroker, case: str) -> None:
    for name, (path, _) in REFUSED.items():
        if case in (name, "all"):
            broker.inject(path, Fault(403, b"", "text/plain", times=None, method="GET"))


def expected_notes(case: str) -> list[str]:
    names = list(REFUSED) if case == "all" else [case]
    if case == "all":  # the list refused: no single webhook, status or log is read
        names = ["webhooks"]
    return [REFUSED[name][1] for name in names]


def said(notes: list[str], case: str) -> bool:
    """Whether `notes` are the expected ones, each opening as expected, in order."""
    wanted = expected_notes(case)
    return len(notes) == len(wanted) and all(
        note.startswith(opening) for note, opening in zip(notes, wanted, strict=True)
    )


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def partial(start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, case: str) -> SampleBroker:
    broker = start_broker(world(datetime.now(UTC)), credentials=Credentials(token=TOKEN))
    refuse(broker, case)
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)
    return broker


def test_check_judges_the_pairs_it_could_read_and_says_what_it_could_not(
    partial: SampleBroker, run: Run, case: str
) -> None:
    ran = run("check")

    assert ran.code == 1  # web-app → orders-api is stale, whatever else is unknown
    assert "✗ web-app → orders-api: stale" in ran.out
    assert "check failed: 2 of 6 pairs stale or never verified" in ran.out
    for note in expected_notes(case):
        assert f"! {note}" in ran.out
    assert "reach" not in ran.out
    assert "unreachable" not in ran.out
    billing = ran.out.split("✗ admin-portal → billing-api")[1].split("\n")[1]
    if case in COVERAGE or case == "all":
        assert billing == "    webhook: unknown (no permission)"
    else:
        assert billing == "    webhook: no webhook fires for this pair"


def test_require_webhooks_makes_a_missing_view_exit_2(
    partial: SampleBroker, run: Run, case: str
) -> None:
    ran = run("check", "--require-webhooks")

    assert ran.code == 2
    assert ran.err.startswith(
        "pactbot: cannot tell whether the webhooks work (--require-webhooks): "
    )


def test_status_carries_the_note_as_data(partial: SampleBroker, run: Run, case: str) -> None:
    text = run("status")
    data = json.loads(run("status", "--json").out)

    assert text.code == 0
    billing_row = next(line for line in text.out.splitlines() if "billing-api" in line)
    unknown = case in COVERAGE or case == "all"
    assert billing_row.endswith("unknown (no permission)" if unknown else "no webhook")
    assert said(data["notes"], case)
    assert {item["status"] for item in data["not_visible"]} == {403}
    billing = next(p for p in data["pairs"] if p["provider"] == "billing-api")
    assert billing["webhooks_unknown"] is (case in COVERAGE or case == "all")


def test_doctor_names_the_permission_each_refused_read_needs(
    partial: SampleBroker, run: Run, case: str
) -> None:
    ran = run("doctor")

    refused = [line for line in ran.out.splitlines() if line.startswith("FAIL  read")]
    assert refused
    for line in refused:
        assert "refused (403 at /" in line
        assert "permission to read" in line
        assert "PactFlow: " in line
    broker = next(line for line in ran.out.splitlines() if line[6:].startswith("broker "))
    assert broker.startswith("ok    broker      http://127.0.0.1:")
    assert "the dashboard and the matrix (contract data)" in broker


def test_a_token_that_may_not_read_contracts_fails_doctor_and_check_says_the_broker_refused(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    broker = start_broker(world(datetime.now(UTC)), credentials=Credentials(token=TOKEN))
    broker.inject(r"^/dashboard$", Fault(403, b"", "text/plain", times=None))
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)
    monkeypatch.setenv("PACT_BROKER_TOKEN", TOKEN)

    assert run("check").code == 2  # freshness itself cannot be read: pactbot cannot tell
    doctor = run("doctor")
    assert "FAIL  broker      the Pact Broker refused to answer (403)" in doctor.out
    assert "contract_data:read:*" in doctor.out


def test_an_open_source_broker_behind_a_proxy_that_refuses_webhooks_reads_the_same(
    start_broker: StartBroker, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    broker = start_broker(
        world(datetime.now(UTC)), credentials=Credentials(basic=("reader", "s3cret-reader"))
    )
    refuse(broker, "webhooks")
    monkeypatch.setenv("PACT_BROKER_BASE_URL", broker.url)
    monkeypatch.setenv("PACT_BROKER_USERNAME", "reader")
    monkeypatch.setenv("PACT_BROKER_PASSWORD", "s3cret-reader")

    ran = run("check")

    assert ran.code == 1
    assert f"! {REFUSED['webhooks'][1]}" in ran.out
    assert "let GET /webhooks through" in ran.out


# pactbot serve -------------------------------------------------------------------------------


async def test_serve_alerts_on_pairs_says_what_it_cannot_see_and_raises_no_broker_alert(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path, case: str
) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock = Clock(now)
    broker = start_broker(world(now))
    refuse(broker, case)
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    async with running_bot(
        broker=broker, slack=slack, store=store, clock=clock, settings=alerting(routes=[])
    ) as bot:
        await evaluate(bot, clock, 7)
        await bot.bot.services.digest.post_here(CHANNEL)
        await bot.bot.scheduler.check_readiness()
        ready = await bot.http.get(f"{bot.url}/readyz")
        metrics = (await bot.http.get(f"{bot.url}/metrics")).text
        opened = {"type": "app_home_opened", "user": "U0ONCALL", "channel": "D0", "tab": "home"}
        assert (await bot.post(slack_requests.event(opened))).status_code == 200
        [home] = await slack.wait_for("views.publish")

    [alert] = alerts(slack)
    assert "cannot be read" not in shown(alert)  # no "broker unreachable" alert
    assert "web-app → orders-api" in shown(alert)  # the stale pair fires as usual
    digest = next(m for m in slack.in_channel(CHANNEL) if m.text.startswith("Pact freshness"))
    text = shown(digest)
    assert ":see_no_evil: *Not visible to pactbot*" in text
    for note in expected_notes(case):
        assert note.split(" (")[0] in text
    assert "Not visible to pactbot" in texts(home.body["view"])
    assert ready.status_code == 200
    assert said(ready.json()["not_visible"], case)
    assert 'pactbot_broker_not_visible{path="/' in metrics
    assert 'status="403"' in metrics


async def test_the_digest_does_not_say_all_is_well_when_the_webhooks_cannot_be_read(
    start_broker: StartBroker, slack: SampleSlack, tmp_path: Path
) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock = Clock(now)
    quiet = World(clock=lambda: now)
    fresh = quiet.publish("web-app", "search-api", "1", at=now - timedelta(hours=2))
    quiet.verify(fresh, at=now - timedelta(hours=1))
    broker = start_broker(quiet)
    refuse(broker, "webhooks")
    store = SqliteStore(tmp_path / "pactbot.sqlite3", clock=clock)
    async with running_bot(broker=broker, slack=slack, store=store, clock=clock) as bot:
        await bot.bot.services.digest.post_here(CHANNEL)

    [digest] = [m for m in slack.in_channel(CHANNEL) if m.text.startswith("Pact freshness")]
    assert (
        "Nothing waits too long for a verification; the webhooks' health is partly unknown."
        in shown(digest)
    )
    assert "no webhook incident can fire for what cannot be read" in shown(digest)


def test_the_sample_broker_refuses_as_told(start_broker: StartBroker) -> None:
    broker = start_broker(world(datetime.now(UTC)))
    refuse(broker, "all")

    with httpx.Client(base_url=broker.url) as client:
        assert client.get("/webhooks").status_code == 403
        assert client.get("/dashboard").status_code == 200
