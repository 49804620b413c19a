"""Reports built from plain domain values, for the Block Kit builders and their tests.

`sample_report` covers every pair state and one failing webhook, `hostile_report` is the same
with names that would ping a channel if any builder forgot to escape them, and `large_report`
is the size of a big organisation's broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks import kit, mrkdwn
from bot.blocks.alert import build_alert, build_joined, build_reminder, build_resolution
from bot.blocks.diagnosis import build_diagnose_choice, build_diagnosis
from bot.blocks.digest import build_digest, build_digest_failure
from bot.blocks.help import build_help, build_notice, build_refusal, build_token_refusal
from bot.blocks.home import build_home, build_home_failure
from bot.blocks.limits import Message
from bot.blocks.rotation import (
    RotationPage,
    build_rotation,
    build_rotation_note,
    build_rotation_running,
    build_watch_over,
)
from bot.blocks.silences import build_silenced, build_silences, build_unsilenced
from bot.blocks.status import build_status
from bot.blocks.webhook import (
    build_choice,
    build_recent,
    build_result,
    build_running,
)
from bot.config import Config
from bot.domain.alerts import Alert, AlertState, Route, Rules, Setup, Silence, evaluate
from bot.domain.command import Invalid
from bot.domain.diagnosis import Diagnosis, diagnose, facts_from
from bot.domain.explain import TestReport, explain_test
from bot.domain.model import (
    DispatchTarget,
    Execution,
    History,
    Pact,
    PairKey,
    PairRecord,
    Scope,
    Snapshot,
    TargetAnswer,
    Verification,
    Webhook,
)
from bot.domain.report import Report, WebhookView, build_report
from bot.domain.rotation import (
    LastRotation,
    Outcome,
    Rotated,
    Rotation,
    RunSeen,
    SeenTest,
    Stage,
    Waiting,
)
from bot.domain.webhooks import HealthKind

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday
DAY = NOW.date()
ONCALL = "U0ONCALL"
ONCALL_GROUP = "S0ONCALL"

# Would page the channel, ping a person and spoof a link if it reached mrkdwn unescaped.
HOSTILE = "<!channel> & <@U123> <https://evil.example|Approve> *bold*"

DEAD_TOKEN = TargetAnswer(success=False, status=401, message="Bad credentials")
ACCEPTED = TargetAnswer(success=True, status=204)
PRICING_DISPATCH = "7f1c2a9e-0b3d-4c5e-8f60-1a2b3c4d5e6f"
SEARCH_DISPATCH = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
CONTRACTS_CHANNEL = "3e9d8c7b-6a5f-4e3d-9c2b-0a1f2e3d4c5b"

_VERIFY = ("contract_requiring_verification_published",)
_Rename = Callable[[str], str]


def _plain(name: str) -> str:
    return name


def _hostile(name: str) -> str:
    return f"{name} {HOSTILE}"


def dispatch_webhook(
    uuid: str, description: str, provider: str | None, repo: str, *, enabled: bool = True
) -> Webhook:
    """A webhook that fires a GitHub `repository_dispatch` for `provider`'s pacts."""
    url = f"https://api.github.com/repos/example-org/{repo}/dispatches"
    return Webhook(
        uuid=uuid,
        description=description,
        scope=Scope(provider=provider),
        enabled=enabled,
        events=_VERIFY,
        method="POST",
        url=url,
        target=DispatchTarget("https://api.github.com", "example-org", repo, "pact_changed"),
    )


def notification_webhook(uuid: str, description: str) -> Webhook:
    """A chat notification on every publication: it triggers no verification run."""
    return Webhook(
        uuid=uuid,
        description=description,
        scope=Scope(),
        enabled=True,
        events=("contract_published",),
        method="POST",
        url="https://hooks.slack.example/services/T000/B000/XXXX",
    )


def verified(
    consumer: str, provider: str, now: datetime, ago: timedelta, *, success: bool = True
) -> PairRecord:
    """A pair whose latest pact was verified `ago` before `now`."""
    published = now - ago - timedelta(hours=1)
    return PairRecord(
        PairKey(consumer, provider),
        Pact(published, "1.4.0", "main"),
        Verification(now - ago, success, "2.0.0"),
    )


def waiting(
    consumer: str, provider: str, now: datetime, since: timedelta, *, newest: timedelta | None
) -> PairRecord:
    """A pair whose latest pact has waited `since` for a verification; `newest` is how long
    ago an older content was verified (None: never)."""
    verification = Verification(now - newest, True, "1.9.0") if newest is not None else None
    return PairRecord(
        PairKey(consumer, provider),
        Pact(now - since, "1.5.0", "main"),
        None,
        History(verification, now - since),
    )


def _executions(now: datetime) -> dict[str, tuple[Execution, ...]]:
    """The dispatch worked three days ago; every publication since got a 401."""
    return {
        PRICING_DISPATCH: (
            Execution(now - timedelta(days=3), ACCEPTED),
            Execution(now - timedelta(days=2), DEAD_TOKEN),
            Execution(now - timedelta(hours=20), DEAD_TOKEN),
        ),
        SEARCH_DISPATCH: (Execution(now - timedelta(days=4, hours=1), ACCEPTED),),
        CONTRACTS_CHANNEL: (Execution(now - timedelta(hours=2), TargetAnswer(True, 200)),),
    }


def _snapshot(now: datetime, name: _Rename) -> Snapshot:
    checkout, mobile, admin = name("Checkout Web"), name("Mobile App"), name("Admin Portal")
    pricing, inventory = name("Pricing Service"), name("Inventory Service")
    payments, search, users = name("Payments API"), name("Search API"), name("User Service")
    pairs = (
        waiting(checkout, pricing, now, timedelta(days=2), newest=timedelta(days=5)),  # stale
        waiting(mobile, pricing, now, timedelta(hours=30), newest=timedelta(days=4)),  # stale
        waiting(admin, inventory, now, timedelta(days=3), newest=None),  # never verified
        verified(checkout, payments, now, timedelta(hours=6), success=False),  # failing
        waiting(checkout, inventory, now, timedelta(hours=2), newest=timedelta(days=1)),  # pending
        verified(mobile, search, now, timedelta(days=4)),  # idle
        verified(admin, users, now, timedelta(hours=3)),  # fresh
    )
    webhooks = (
        dispatch_webhook(
            PRICING_DISPATCH, name("Verify Pricing Service"), pricing, "pricing-service"
        ),
        dispatch_webhook(SEARCH_DISPATCH, name("Verify Search API"), search, "search-api"),
        notification_webhook(CONTRACTS_CHANNEL, name("Tell #contracts")),
    )
    return Snapshot(now, pairs, webhooks, _executions(now))


def sample_report(now: datetime = NOW) -> Report:
    """Seven pairs, one in each state (two stale behind a dead GitHub token), and three
    webhooks: two GitHub dispatches (one failing), one chat notification."""
    return build_report(_snapshot(now, _plain), Config().rules(), now)


def hostile_report(now: datetime = NOW) -> Report:
    """`sample_report` with `HOSTILE` in every pacticipant name and webhook description."""
    return build_report(_snapshot(now, _hostile), Config().rules(), now)


def large_report(now: datetime = NOW, pairs: int = 5000) -> Report:
    """`pairs` pairs with long names, 20 webhooks, 50 pairs stale behind one dead token."""
    consumers = [
        f"customer-facing-checkout-orchestration-consumer-{n:03d}-eu-west-1a" for n in range(100)
    ]
    providers = [
        f"inventory-and-pricing-aggregation-provider-service-{n:03d}-eu-west-1"
        for n in range(max(20, pairs // 100 + 1))
    ]
    dead = dispatch_webhook(
        PRICING_DISPATCH, "Verify the first provider", providers[0], "provider-000"
    )
    healthy = [
        dispatch_webhook(
            f"00000000-0000-4000-8000-{n:012d}",
            f"Verify provider {n}",
            providers[n],
            f"provider-{n:03d}",
        )
        for n in range(1, 20)
    ]
    executions = {dead.uuid: (Execution(now - timedelta(days=2), DEAD_TOKEN),)}
    executions |= {hook.uuid: (Execution(now - timedelta(hours=1), ACCEPTED),) for hook in healthy}
    records = []
    for index in range(pairs):
        consumer, provider = consumers[index % 100], providers[index // 100]
        if index < 50:
            record = waiting(consumer, provider, now, timedelta(days=2), newest=timedelta(days=3))
        elif index % 97 == 0:
            record = waiting(consumer, provider, now, timedelta(days=3), newest=None)
        elif index % 13 == 0:
            record = verified(consumer, provider, now, timedelta(hours=5), success=False)
        elif index % 11 == 0:
            record = waiting(consumer, provider, now, timedelta(hours=3), newest=timedelta(days=1))
        elif index % 7 == 0:
            record = verified(consumer, provider, now, timedelta(days=3))
        else:
            record = verified(consumer, provider, now, timedelta(hours=index % 20 + 1))
        records.append(record)
    snapshot = Snapshot(now, tuple(records), (dead, *healthy), executions)
    return build_report(snapshot, Config().rules(), now)


def failing_test(webhook: Webhook, now: datetime = NOW) -> TestReport:
    """The broker's Test of `webhook`: GitHub says the token is dead."""
    return explain_test(webhook, DEAD_TOKEN, now)


def passing_test(webhook: Webhook, now: datetime = NOW) -> TestReport:
    """The broker's Test of `webhook`: GitHub accepted it; the token expires in ten days."""
    expiry = (now + timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S UTC")
    headers = {"x-oauth-scopes": "repo", "github-authentication-token-expiration": expiry}
    return explain_test(webhook, TargetAnswer(success=True, status=204, headers=headers), now)


def dispatch_of(report: Report) -> Webhook:
    """The report's GitHub-dispatch webhook with the dead token."""
    return next(view.webhook for view in report.webhooks if view.webhook.uuid == PRICING_DISPATCH)


@dataclass(frozen=True)
class Run:
    """A provider's workflow run, with the fields a diagnosis reads of GitHub's."""

    created_at: datetime
    status: str
    conclusion: str | None
    html_url: str
    display_title: str


def diagnosis_of(report: Report, said: str) -> Diagnosis:
    """The diagnosis of the dead-token webhook's provider, with `said` in every outside text:
    a credential's place, a run's title and link."""
    webhook = dispatch_of(report)
    facts = facts_from(report, webhook.scope.provider, webhook)
    assert facts.webhook is not None
    linted = replace(webhook, inline_credentials=(f"header {said}",))
    run = Run(NOW - timedelta(days=3), "completed", said, f"https://github.com/{said}", said)
    facts = replace(
        facts,
        webhook=WebhookView(linted, facts.webhook.health),
        test=failing_test(webhook),
        runs=[run],
    )
    return diagnose(facts, NOW)


def linted(report: Report, said: str) -> Report:
    """`report` with its dead-token webhook disabled and a credential written into it at a
    place named `said`."""
    views = tuple(
        replace(
            view,
            webhook=replace(view.webhook, enabled=False, inline_credentials=(f"header {said}",)),
        )
        if view.webhook.uuid == PRICING_DISPATCH
        else view
        for view in report.webhooks
    )
    return replace(report, webhooks=views)


def firing(report: Report, *, channel: str = "C0DIGEST") -> AlertState:
    """The alert state after `report`'s problems have been stale for an hour, one alert firing,
    plus a broker alert that stood for a while."""
    sustained = AlertState(
        watch={row.key: report.taken_at - timedelta(hours=1) for row in report.rows}
    )
    setup = Setup(Rules(timedelta(minutes=30), timedelta(hours=24)), [], Route(channel))
    state, _ = evaluate(sustained, report, None, setup, report.taken_at)
    return state


def silence_of(report: Report, said: str) -> Silence:
    """A silence of the first problem pair, with `said` as its reason."""
    pair = report.problems[0].key
    start = report.taken_at - timedelta(hours=1)
    return Silence(
        "s-0a1b2c", pair.provider, pair.consumer, said, ONCALL, start, start + timedelta(days=1)
    )


def _broker_alert(report: Report, said: str) -> Alert:
    setup = Setup(Rules(timedelta(minutes=30), timedelta(hours=24)), [], Route("C0DIGEST"))
    down = AlertState(broker_down_since=report.taken_at - timedelta(hours=1))
    state, _ = evaluate(down, None, said, setup, report.taken_at)
    return state.alerts[0]


def rotated_long_ago(report: Report) -> Rotated:
    """Every GitHub-dispatch webhook of `report` rotated two years ago: practice is due."""
    long_ago = report.taken_at - timedelta(days=730)
    last = {
        view.webhook.uuid: LastRotation(view.webhook.uuid, "r-0", ONCALL, long_ago, long_ago)
        for view in report.webhooks
        if view.webhook.target
    }
    return Rotated(last)


def rotation_messages(report: Report, said: str) -> dict[str, Message]:
    """The rotation's message at each step and once over, the pairs it watches and its notes."""
    webhook = dispatch_of(report)
    assert webhook.target is not None
    now = report.taken_at
    started = Rotation(
        id="r-0a1b2c3d",
        webhook=webhook.uuid,
        webhook_name=webhook.name,
        target=webhook.target,
        channel="C0DIGEST",
        started_by=ONCALL,
        started_at=now,
        scope=webhook.scope,
    )
    page = RotationPage(
        machine_user=said,
        secret_name=said,
        broker_url="https://broker.example",
        github=True,
        now=now,
    )
    waiting = tuple(Waiting(row.key, now - timedelta(days=2)) for row in report.rows)
    test = SeenTest(now, ONCALL, HealthKind.TOKEN_DEAD, False, said)
    run = RunSeen(now, "https://github.com/acme/run/1", said, "completed", "failure")
    messages = {
        f"rotation step {int(stage)}": build_rotation(
            replace(started, stage=stage, test=test, run=run), page
        )
        for stage in Stage
    }
    watching = replace(started, stage=Stage.WATCH, passed_at=now, waiting=waiting, run=run)
    return messages | {
        "rotation watching": build_rotation(watching, page),
        "rotation finished": build_rotation(
            replace(watching, outcome=Outcome.FINISHED, ended_by=ONCALL, ended_at=now), page
        ),
        "rotation cancelled": build_rotation(
            replace(started, outcome=Outcome.CANCELLED, ended_by=ONCALL, ended_at=now), page
        ),
        "rotation note": build_rotation_note(ONCALL, said, now),
        "rotation running": build_rotation_running(replace(started, ts="1733040000.000100")),
        "rotation watch over": build_watch_over(watching),
        "rotation choice": build_choice([webhook], kit.rotation_button, "rotate"),
    }


def _alert_messages(report: Report, said: str) -> dict[str, Message]:
    alert = firing(report).alerts[0]
    acked = replace(alert, acked_by=ONCALL, acked_at=report.taken_at)
    later = report.taken_at + timedelta(hours=5)
    resolved = replace(alert, members=(), resolved_at=later)
    broker = _broker_alert(report, said)
    silences = [silence_of(report, said)]
    silenced = replace(
        alert, members=tuple(replace(m, silenced_by="s-0a1b2c") for m in alert.members)
    )
    return {
        "alert": build_alert(alert, report.taken_at),
        "alert acknowledged": build_alert(acked, report.taken_at),
        "alert silenced": build_alert(silenced, report.taken_at, silences),
        "alert resolved": build_alert(resolved, later),
        "alert reminder": build_reminder(alert, later),
        "alert reminder after an acknowledgement": build_reminder(acked, later),
        "alert resolution": build_resolution(resolved, later),
        "alert joined": build_joined(alert, tuple(m.pair for m in alert.members)),
        "silenced": build_silenced(silences),
        "silences": build_silences(silences),
        "no silences": build_silences([]),
        "unsilenced": build_unsilenced(silences[0], ONCALL),
        "broker alert": build_alert(broker, report.taken_at),
        "broker alert resolved": build_alert(replace(broker, resolved_at=later), later),
    }


# Everything pactbot renders from a report ---------------------------------------------------

Payload = dict[str, Any]


def rendered(report: Report, *, said: str = "the broker answered HTTP 503") -> dict[str, Payload]:
    """What every builder sends to Slack for `report`, by a short name; `said` stands for the
    free text that came from outside (a broker error, a query, a Test's headline)."""
    dispatches = [view.webhook for view in report.webhooks if view.webhook.target]
    webhook = dispatch_of(report)
    payloads = {
        f"digest {number}": message.payload()
        for number, message in enumerate(build_digest(report, day=DAY), start=1)
    }
    alerts = firing(report).alerts
    with_alerts = build_digest(report, day=DAY, alerts=alerts, silences=[silence_of(report, said)])
    payloads |= {
        f"digest with alerts {number}": message.payload()
        for number, message in enumerate(with_alerts, start=1)
    }
    payloads |= {
        f"digest with lint {number}": message.payload()
        for number, message in enumerate(
            build_digest(linted(report, said), day=DAY, lint=True), start=1
        )
    }
    retry = NOW + timedelta(minutes=15)
    messages = {
        "digest failure": build_digest_failure(said, day=DAY, retry_at=retry),
        "status": build_status(report),
        "status with a query": build_status(report, query=report.rows[0].key.provider),
        "status without a match": build_status(report, query=said),
        "running": build_running(webhook),
        "failing test": build_result(webhook, failing_test(webhook), by=ONCALL, at=NOW),
        "passing test": build_result(webhook, passing_test(webhook), by=ONCALL, at=NOW),
        "choice": build_choice(dispatches, kit.test_button, "test"),
        "recent test": build_recent(webhook, at=NOW, by=ONCALL, headline=said),
        "recent test still running": build_recent(webhook, at=NOW, by=ONCALL, headline=None),
        "help": build_help(),
        "help after a typo": build_help(Invalid(f"there is no `/pact {said}`", "status")),
        "token refusal": build_token_refusal(),
        "refusal": build_refusal(f"Only {mrkdwn.usergroup(ONCALL_GROUP)} may run `/pact test`."),
        "notice": build_notice(f"The Pact Broker cannot be read: {said}"),
        "diagnosis": build_diagnosis(diagnosis_of(report, said), by=ONCALL, at=NOW),
        "diagnose choice": build_diagnose_choice(dispatches),
        **_alert_messages(report, said),
        **rotation_messages(report, said),
    }
    payloads |= {name: message.payload() for name, message in messages.items()}
    rotated = rotated_long_ago(report)
    payloads |= {
        f"digest with rotations {number}": message.payload()
        for number, message in enumerate(build_digest(report, day=DAY, rotated=rotated), 1)
    }
    payloads["status with rotations"] = build_status(report, rotated=rotated).payload()
    payloads["home with rotations"] = build_home(report, rotated)
    payloads["home"] = build_home(report)
    payloads["home failure"] = build_home_failure(said)
    return payloads


def walk(node: object) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `node`, `node` itself first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def text_objects(payload: Payload) -> list[dict[str, Any]]:
    """Every Block Kit text object (`plain_text` or `mrkdwn`) in `payload`'s blocks."""
    kinds = ("plain_text", "mrkdwn")
    return [
        found
        for found in walk(payload.get("blocks", []))
        if found.get("type") in kinds and isinstance(found.get("text"), str)
    ]


def action_ids(payload: Payload) -> set[str]:
    return {found["action_id"] for found in walk(payload.get("blocks", [])) if "action_id" in found}
