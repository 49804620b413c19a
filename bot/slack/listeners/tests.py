"""The webhook Test from a button, and what a failing Test offers next; which webhook a
command or a button names."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit
from bot.blocks.help import build_notice
from bot.blocks.limits import Block, Message
from bot.blocks.webhook import build_choice, build_recent, build_result, build_running
from bot.domain.command import Command
from bot.domain.model import Webhook
from bot.domain.webhook_choice import dispatching
from bot.errors import BrokerError, BrokerNotFound, SlackError, StoreUnavailable
from bot.slack.guard import allowed_here, operator
from bot.slack.replies import Reply
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def test_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        reply = Reply(services.poster, ack, body, replaces=False)
        await reply.ack()
        await _button(services, body, str(action.get("value", "")), reply)

    app.action(kit.TEST_RUN)(test_button)


async def _button(services: Services, body: dict[str, Any], uuid: str, reply: Reply) -> None:
    clicked_in = (body.get("channel") or {}).get("id")
    # Anyone in the channel can click a button in a message: check every time. App Home is no
    # channel: the allowlist does not apply there.
    if not await allowed_here(services, reply, clicked_in):
        return
    if not await operator(services, reply, "run webhook Tests"):
        return
    webhook = await button_webhook(services, reply, uuid, "test")
    if webhook is not None:
        await start_test(services, reply, webhook, clicked_in or home_channel(services, reply))


async def chosen_webhook(
    services: Services,
    reply: Reply,
    parsed: Command,
    button: Callable[[Webhook], Block | None],
) -> Webhook | None:
    """The CI-trigger webhook `/pact <command> [provider | webhook id]` names; when it
    names several (or none is given), they are offered with `button`, and None."""
    try:
        report = await services.monitor.current()
    except BrokerError as error:
        await reply.say(build_notice(str(error)))
        return None
    webhooks = [view.webhook for view in report.webhooks]
    pairs = [row.key for row in report.rows]
    try:
        candidates = dispatching(webhooks, parsed.argument, pairs, report.labelled)
    except BrokerNotFound as error:
        # Not found may only mean not visible: then that is what to say.
        said = "; ".join(report.notes) if report.coverage_unknown else str(error)
        await reply.say(build_notice(said))
        return None
    if len(candidates) > 1:
        await reply.say(build_choice(candidates, button, parsed.name))
        return None
    return candidates[0]


async def button_webhook(
    services: Services, reply: Reply, uuid: str, command: str
) -> Webhook | None:
    """The CI-trigger webhook a button's value names, as the latest report knows it."""
    try:
        await services.monitor.current()
    except BrokerError as error:
        await reply.say(build_notice(f"The Pact Broker cannot be read: {error.said}"))
        return None
    # The value comes back from the client: only a webhook the broker lists may be run.
    webhook = services.monitor.webhook(uuid)
    if webhook is None or webhook.target is None:
        log.warning("refused a %s button for %r: not a CI-trigger webhook", command, uuid[:64])
        await reply.say(
            build_notice(
                "That button names no webhook that dispatches to GitHub (any more). "
                f"`/pact {command}` lists the ones there are."
            )
        )
        return None
    return webhook


def home_channel(services: Services, reply: Reply) -> str:
    """Where a Test or a rotation started in App Home goes: the digest's channel, else a
    direct message."""
    digest = services.config.digest
    return digest.channel if digest else reply.user


async def start_test(services: Services, reply: Reply, webhook: Webhook, channel: str) -> None:
    """Claim the Test of `webhook` (one a minute), run it and post its result in `channel`."""
    try:
        recent = await services.runner.claim(webhook.uuid, reply.user)
    except StoreUnavailable as error:
        await reply.say(build_notice(f"The webhook Test cannot start: {error.said}"))
        return
    if recent is not None:
        await reply.say(
            build_recent(
                webhook, at=recent.at, by=recent.by, headline=recent.headline, error=recent.error
            )
        )
        return
    await reply.say(build_running(webhook))
    await _run_and_post(services, reply, webhook.uuid, channel)


async def _run_and_post(services: Services, reply: Reply, uuid: str, channel: str) -> None:
    try:
        webhook, report = await services.runner.run(uuid, reply.user)
    except BrokerError as error:
        await reply.say(build_notice(f"The webhook Test could not run: {error.said}"))
        return
    result = build_result(webhook, report, by=reply.user, at=services.clock())
    await post_result(reply, channel, result)


async def post_result(reply: Reply, channel: str, result: Message) -> None:
    """Post `result` in `channel`; where Slack refuses, tell at least the one who asked."""
    try:
        await reply.post_in_channel(channel, result)
    except SlackError as error:
        log.error("cannot post %r in %s: %s", result.text[:80], channel, error)
        await reply.say(result)
