"""The rotation walk-through of `pactbot demo`: the sample story's dead tokens rotated step by step.

The steps are the bot's own (the state machine and the message builder of a real rotation);
the Tests run against the sample broker. Where a person acts outside Slack (a new token pasted
into the secret, the provider verifying), the demo changes the sample world and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from bot.blocks.rotation import RotationPage, build_rotation
from bot.broker.client import BrokerClient
from bot.broker.convert import to_webhook
from bot.broker.schema import WebhookResource
from bot.config import Config
from bot.domain.model import DEFAULT_GITHUB_API_URL
from bot.domain.report import PairRow
from bot.domain.rotation import (
    Moved,
    Press,
    Rotation,
    SeenTest,
    Stage,
    after_test,
    move,
    still_waiting,
    verified,
)
from bot.reader import read_report, run_webhook_test
from bot.render.slack_text import messages_text
from bot.sample.broker import SampleBroker
from bot.sample.world import Target
from bot.targets import Ci, ci_of

_ON_CALL = "U0ONCALL"


def _away(ci: Ci) -> dict[Stage, str]:
    """What the person does away from Slack before pressing Done on each step."""
    return {
        Stage.SIGN_IN: f"signs in to {ci.name} as {ci.account}",
        Stage.GENERATE: f"makes the new {ci.token} through the link",
        Stage.COPY: "copies it, and keeps it out of Slack",
        Stage.PASTE: "pastes it into the PactFlow secret",
        Stage.WATCH: "sees the provider's run pass",
        Stage.REVOKE: f"revokes the old {ci.token}",
    }


class _Clock:
    """Minutes pass between the steps, as they would for a person."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def rotation_walkthrough(
    broker: SampleBroker,
    client: BrokerClient,
    webhook_id: str,
    config: Config,
    now: datetime,
    fixed: Target,
) -> str:
    """The rotation of `webhook_id`'s credential, each step's message as the channel reads it;
    `fixed`: what its CI answers once the secret holds the new one."""
    clock = _Clock(now)
    resource = await client.webhook_by_id(webhook_id)
    rotation = await _started(client, resource, now)
    ci = ci_of(rotation.target)
    assert ci is not None, "the story's webhooks trigger CIs pactbot knows"
    away = _away(ci)
    # The secret the webhook is seen to reference; the machine user the demo's config would name.
    secret = to_webhook(resource, DEFAULT_GITHUB_API_URL).secret or config.rotation.secret_name
    account = config.rotation.account(ci.key) or ("pactflow-acme" if ci.key == "github" else None)
    page = partial(_shown, broker=broker, secret=secret, account=account)
    shown = [page(rotation, now=now, said=f"/pact rotate {rotation.scope.provider}")]
    while rotation.active:
        stage = rotation.stage
        clock.now += timedelta(minutes=3)
        if stage in (Stage.CONFIRM, Stage.RETEST):
            moved = await _test(client, resource, rotation, clock)
            doing = "“Run test”"
        else:
            if stage is Stage.PASTE:
                broker.world.webhooks[webhook_id].target = fixed
            if stage is Stage.WATCH:
                rotation = await _verify_held_up(broker, client, rotation, clock())
            decided = move(rotation, int(stage), Press.DONE, _ON_CALL, clock())
            assert isinstance(decided, Moved), decided
            moved, doing = decided, f"on call {away[stage]}, then presses Done"
        shown.append(page(moved.rotation, now=clock(), said=f"{doing}: {moved.said}"))
        rotation = moved.rotation
    return "\n".join(shown)


async def _started(client: BrokerClient, resource: WebhookResource, now: datetime) -> Rotation:
    webhook, _ = await run_webhook_test(
        client, resource, github_api_url=DEFAULT_GITHUB_API_URL, clock=lambda: now
    )
    assert webhook.target is not None, "the story's webhooks trigger CI builds"
    return Rotation(
        id="r-demo",
        webhook=webhook.uuid,
        webhook_name=webhook.name,
        target=webhook.target,
        channel="C0DEMO",
        started_by=_ON_CALL,
        started_at=now,
        scope=webhook.scope,
    )


async def _test(
    client: BrokerClient, resource: WebhookResource, rotation: Rotation, clock: _Clock
) -> Moved:
    """What the "Run test" button does on the rotation's step."""
    _, report = await run_webhook_test(
        client, resource, github_api_url=DEFAULT_GITHUB_API_URL, clock=clock
    )
    seen = SeenTest(clock(), _ON_CALL, report.kind, report.passed, report.headline)
    waiting = still_waiting(await _pairs(client, rotation, clock()))
    return after_test(rotation, int(rotation.stage), seen, waiting)


async def _verify_held_up(
    broker: SampleBroker, client: BrokerClient, rotation: Rotation, now: datetime
) -> Rotation:
    """The provider's run verifies the pacts it was held from; the leader's watch sees it."""
    world = broker.world
    with world.lock:
        for waiting in rotation.waiting:
            world.verify(world.latest(waiting.pair.consumer, waiting.pair.provider), at=now)
    return verified(rotation, await _pairs(client, rotation, now), now) or rotation


async def _pairs(client: BrokerClient, rotation: Rotation, now: datetime) -> list[PairRow]:
    report = await read_report(client, Config(), now=now, github_api_url=DEFAULT_GITHUB_API_URL)
    return report.covered(rotation.scope)


def _shown(
    rotation: Rotation,
    *,
    broker: SampleBroker,
    secret: str,
    account: str | None,
    now: datetime,
    said: str,
) -> str:
    page = RotationPage(
        machine_user=account,
        secret_name=secret,
        broker_url=broker.url,
        github=False,
        now=now,
    )
    return f"\n> {said}\n\n" + messages_text([build_rotation(rotation, page)])
