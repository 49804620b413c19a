"""An alert's buttons ("Acknowledge", "Silence 24h") and `/pact silence`, `unsilence`, `silences`.

Anyone in a channel can press a button in it, so every press is checked against the on-call
groups of the alert's route; a press that changes nothing (twice, on an old alert, by someone
not on call) says why, to that person only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit
from bot.blocks.help import build_help, build_notice
from bot.blocks.limits import Message
from bot.blocks.silences import build_silenced, build_silences, build_unsilenced
from bot.domain.alerts import Alert, not_kept
from bot.domain.command import Command, Invalid
from bot.domain.model import PairKey
from bot.domain.silence_request import parse_silence
from bot.errors import PactbotError
from bot.slack.guard import allowed_here, operator
from bot.slack.replies import Reply
from bot.slack.services import Services

log = logging.getLogger(__name__)

BUTTON_SILENCE = timedelta(hours=24)

# Checked against the on-call groups of the routes of what they cover, not only `access`'s.
ROUTED = frozenset({"silence", "unsilence"})

_Do = Callable[[Services, Alert, str], Awaitable[Message]]


def register(app: AsyncApp, services: Services) -> None:
    async def acknowledge_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        reply = Reply(services.poster, ack, body, replaces=False)
        await reply.ack()
        await _press(services, body, reply, str(action.get("value", "")), _acknowledge)

    async def silence_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        reply = Reply(services.poster, ack, body, replaces=False)
        await reply.ack()
        await _press(services, body, reply, str(action.get("value", "")), _silence_alert)

    app.action(kit.ALERT_ACK)(acknowledge_button)
    app.action(kit.ALERT_SILENCE)(silence_button)


async def _press(
    services: Services, body: dict[str, Any], reply: Reply, alert_id: str, do: _Do
) -> None:
    if not await allowed_here(services, reply, (body.get("channel") or {}).get("id")):
        return
    try:
        alert = (await services.alerter.state()).alert(alert_id)
        if alert is None:
            await reply.say(Message(_sentence(not_kept(services.alerter.rules))))
            return
        groups = services.alerter.oncall_of(alert.channel)
        if await operator(services, reply, "act on this alert", groups):
            await reply.say(await do(services, alert, reply.user))
    except PactbotError as error:
        log.error("an alert button of %s failed: %s", reply.user, error)
        await reply.say(build_notice(f"Nothing changed: {error.said}"))


async def _acknowledge(services: Services, alert: Alert, user: str) -> Message:
    return Message(_sentence(await services.alerter.acknowledge(alert.id, user)))


async def _silence_alert(services: Services, alert: Alert, user: str) -> Message:
    result = await services.alerter.silence_alert(alert.id, BUTTON_SILENCE, user)
    return Message(_sentence(result)) if isinstance(result, str) else build_silenced(result)


def _sentence(said: str) -> str:
    return said[:1].upper() + said[1:] + "."


# /pact silence, unsilence, silences --------------------------------------------------------


async def silence(services: Services, parsed: Command, _: dict[str, Any], reply: Reply) -> None:
    try:
        known = await _known_pairs(services)
        request = parse_silence(parsed.argument, known)
        if isinstance(request, Invalid):
            await reply.say(build_help(request))
            return
        made = services.alerter.new_silence(
            provider=request.provider,
            consumer=request.consumer,
            span=request.span,
            reason=request.reason,
            by=reply.user,
        )
        groups = services.alerter.oncall_for(pair for pair in known if made.names(pair))
        if not await operator(services, reply, "silence this", groups):
            return
        await services.alerter.keep(made)
    except PactbotError as error:
        await reply.say(build_notice(f"Nothing was silenced: {error.said}"))
        return
    await reply.say(Message(f"Silenced: `{made.id}`."))
    await reply.announce(build_silenced([made]))


async def unsilence(services: Services, parsed: Command, _: dict[str, Any], reply: Reply) -> None:
    silence_id = parsed.argument.strip().lower()
    try:
        found = next((s for s in await services.alerter.silences() if s.id == silence_id), None)
        if found is None:
            problem = (
                f"no silence `{silence_id}` is in force" if silence_id else "say which silence"
            )
            await reply.say(build_help(Invalid(f"{problem}; `/pact silences` lists them")))
            return
        known = [row.key for row in services.monitor.latest.rows] if services.monitor.latest else []
        groups = services.alerter.oncall_for(pair for pair in known if found.names(pair))
        if not await operator(services, reply, "end this silence", groups):
            return
        ended = await services.alerter.unsilence(found.id)
    except PactbotError as error:
        await reply.say(build_notice(f"The silence was not ended: {error.said}"))
        return
    if ended is None:  # it ended on its own meanwhile
        await reply.say(Message(f"The silence {found.id} has ended already."))
        return
    await reply.say(Message(f"Ended the silence `{found.id}`."))
    await reply.announce(build_unsilenced(ended, reply.user))


async def silences(services: Services, parsed: Command, _: dict[str, Any], reply: Reply) -> None:
    await reply.ack(Message("Reading the silences…"))  # the store may be slow: ack first
    try:
        await reply.say(build_silences(await services.alerter.silences()))
    except PactbotError as error:
        await reply.say(build_notice(f"The silences cannot be read: {error.said}"))


async def _known_pairs(services: Services) -> list[PairKey]:
    """The pairs of the last report; a silence may be set while the broker is down."""
    report = services.monitor.latest or await services.monitor.current()
    return [row.key for row in report.rows]
