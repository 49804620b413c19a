"""`/pact`: parse, check who may, answer at once, then do the slow part."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks.digest import build_digest_failure
from bot.blocks.help import build_help, build_notice, build_refusal, build_token_refusal
from bot.blocks.limits import Message
from bot.blocks.webhook import build_choice, build_recent, build_running
from bot.domain.command import Command, Invalid, TokenTyped, parse
from bot.domain.webhook_choice import dispatching
from bot.errors import BrokerError, SlackError
from bot.slack.listeners.tests import run_and_post
from bot.slack.replies import Reply, Respond, responder
from bot.slack.services import Services

log = logging.getLogger(__name__)

COMMAND = "/pact"


def register(app: AsyncApp, services: Services) -> None:
    async def pact(ack: AsyncAck, command: dict[str, Any]) -> None:
        respond = responder(services, command)
        await handle(services, command, Reply(ack, respond), respond)

    app.command(COMMAND)(pact)


async def handle(
    services: Services, command: dict[str, Any], reply: Reply, respond: Respond | None
) -> None:
    user, channel = command["user_id"], command["channel_id"]
    parsed = parse(command.get("text") or "")
    if isinstance(parsed, TokenTyped):
        # Never log or echo the text: it is a credential now exposed in Slack's logs.
        log.warning("refused a /pact command from %s: it held something shaped like a token", user)
        await reply.ack(build_token_refusal())
        return
    if not services.authoriser.channel_allowed(channel):
        log.warning("refused /pact from %s in %s: not an allowed channel", user, channel)
        await reply.ack(build_refusal("`/pact` is not enabled in this channel."))
        return
    if isinstance(parsed, Invalid):
        await reply.ack(build_help(parsed))
        return
    if parsed.restricted and not await services.authoriser.may_operate(user):
        log.warning("refused /pact %s to %s: not on call or admin", parsed.name, user)
        who = await services.authoriser.who_may()
        await reply.ack(build_refusal(f"Only {who} may run `/pact {parsed.name}`."))
        return
    await _SUBCOMMANDS[parsed.name](services, parsed, command, reply, respond)


async def _status(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply, _: Respond | None
) -> None:
    if not services.monitor.fresh:
        await reply.ack(Message("Reading the Pact Broker…"))
    try:
        report = await services.monitor.current()
    except BrokerError as error:
        await reply.say(build_notice(f"The Pact Broker cannot be read: {error}"), replace=True)
        return
    await reply.say(services.status_answers.get(report, parsed.argument), replace=True)


async def _test(
    services: Services,
    parsed: Command,
    command: dict[str, Any],
    reply: Reply,
    respond: Respond | None,
) -> None:
    user, channel = command["user_id"], command["channel_id"]
    if not services.monitor.fresh:
        await reply.ack(Message("Reading the Pact Broker's webhooks…"))
    try:
        report = await services.monitor.current()
        providers = {row.key.provider for row in report.rows}
        webhooks = [view.webhook for view in report.webhooks]
        candidates = dispatching(webhooks, parsed.argument, providers)
    except BrokerError as error:
        await reply.say(build_notice(str(error)), replace=True)
        return
    if len(candidates) > 1:
        await reply.say(build_choice(candidates), replace=True)
        return
    webhook = candidates[0]
    recent = await services.runner.claim(webhook.uuid, user)
    if recent is not None:
        await reply.say(build_recent(webhook, at=recent.at, by=recent.by, headline=recent.headline))
        return
    await reply.say(build_running(webhook), replace=True)
    await run_and_post(services, webhook.uuid, user, channel, respond)


async def _digest(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply, _: Respond | None
) -> None:
    channel = command["channel_id"]
    await reply.ack(Message("Posting the digest here…"))
    try:
        await services.digest.post_here(channel)
    except BrokerError as error:
        failure = build_digest_failure(str(error), day=services.digest.today(), retry_at=None)
        await reply.say(failure, replace=True)
    except SlackError as error:
        await reply.say(build_notice(f"Cannot post the digest here: {error}"), replace=True)
    else:
        await reply.say(Message("Posted the digest."), replace=True)


async def _help(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply, _: Respond | None
) -> None:
    await reply.ack(build_help())


_SUBCOMMANDS = {"status": _status, "test": _test, "digest": _digest, "help": _help}
