"""`/pact`: parse, answer at once, then check who may and do the slow part."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit
from bot.blocks.digest import build_digest_failure
from bot.blocks.help import build_checking, build_help, build_notice, build_token_refusal
from bot.blocks.limits import Message
from bot.domain.command import Command, Invalid, TokenTyped, parse
from bot.errors import BrokerError, SlackError
from bot.slack.guard import allowed_here, operator
from bot.slack.listeners import alerts, rotation
from bot.slack.listeners.diagnose import diagnose_command
from bot.slack.listeners.tests import chosen_webhook, start_test
from bot.slack.replies import Reply
from bot.slack.services import Services

log = logging.getLogger(__name__)

# Checked against the on-call groups of the route of what they touch, not only `access`'s.
ROUTED = alerts.ROUTED | {"rotate"}

COMMAND = "/pact"


def register(app: AsyncApp, services: Services) -> None:
    async def pact(ack: AsyncAck, command: dict[str, Any]) -> None:
        await handle(services, command, Reply(services.poster, ack, command, replaces=True))

    app.command(COMMAND)(pact)


async def handle(services: Services, command: dict[str, Any], reply: Reply) -> None:
    parsed = parse(command.get("text") or "")
    if isinstance(parsed, TokenTyped):
        # Never log or echo the text: it is a credential now exposed in Slack's logs.
        log.warning(
            "refused a /pact command from %s: it held something shaped like a token", reply.user
        )
        await reply.ack(build_token_refusal())
        return
    # Answered in the ack: the allowlist is in the config, no I/O.
    if not await allowed_here(services, reply, command["channel_id"]):
        return
    if isinstance(parsed, Invalid):
        await reply.ack(build_help(parsed))
        return
    if parsed.restricted:
        await reply.ack(build_checking(parsed.name))
        # A silence is checked against the on-call groups of the routes of what it covers.
        if parsed.name not in ROUTED and not await operator(
            services, reply, f"run `/pact {parsed.name}`"
        ):
            return
    await _SUBCOMMANDS[parsed.name](services, parsed, command, reply)


async def _status(services: Services, parsed: Command, _: dict[str, Any], reply: Reply) -> None:
    if not services.monitor.fresh:
        await reply.ack(Message("Reading the Pact Broker…"))
    try:
        report = await services.monitor.current()
    except BrokerError as error:
        await reply.say(build_notice(f"The Pact Broker cannot be read: {error}"))
        return
    rotated = await services.rotations.rotated()
    await reply.say(services.status_answers.get(report, parsed.argument, rotated))


async def _test(services: Services, parsed: Command, command: dict[str, Any], reply: Reply) -> None:
    webhook = await chosen_webhook(services, reply, parsed, kit.test_button)
    if webhook is not None:
        await start_test(services, reply, webhook, command["channel_id"])


async def _digest(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply
) -> None:
    await reply.say(Message("Posting the digest here…"))
    try:
        await services.digest.post_here(command["channel_id"])
    except BrokerError as error:
        failure = build_digest_failure(str(error), day=services.digest.today(), retry_at=None)
        await reply.say(failure)
    except SlackError as error:
        await reply.say(build_notice(f"Cannot post the digest here: {error}"))
    else:
        await reply.say(Message("Posted the digest."))


async def _help(services: Services, parsed: Command, _: dict[str, Any], reply: Reply) -> None:
    await reply.ack(build_help())


_SUBCOMMANDS = {
    "status": _status,
    "test": _test,
    "rotate": rotation.rotate,
    "diagnose": diagnose_command,
    "silence": alerts.silence,
    "unsilence": alerts.unsilence,
    "silences": alerts.silences,
    "digest": _digest,
    "help": _help,
}
