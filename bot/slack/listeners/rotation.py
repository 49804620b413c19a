"""`/pact rotate`, the "Start rotation" buttons, and the buttons of a rotation's message.

Anyone in the channel can press a button in it: every press is checked against the on-call
groups of the webhook's route, and a press that changes nothing (twice, on an old or finished
rotation, by someone not on call) says why, to that person only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit, mrkdwn
from bot.blocks.help import build_notice
from bot.blocks.limits import Message
from bot.blocks.rotation import PRESSES, build_rotation_running, build_unmoved
from bot.domain.command import Command
from bot.domain.model import Webhook
from bot.domain.rotation import Press
from bot.errors import BrokerError, PactbotError, SlackError
from bot.slack.guard import allowed_here, operator
from bot.slack.listeners.tests import button_webhook, chosen_webhook, home_channel
from bot.slack.replies import Reply
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def start_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        reply = Reply(services.poster, ack, body, replaces=False)
        await reply.ack()
        channel = (body.get("channel") or {}).get("id")
        if not await allowed_here(services, reply, channel):
            return
        webhook = await button_webhook(services, reply, str(action.get("value", "")), "rotate")
        if webhook is not None:
            await _start(services, reply, webhook, channel or home_channel(services, reply))

    async def step_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        reply = Reply(services.poster, ack, body, replaces=False)
        await reply.ack()
        if not await allowed_here(services, reply, (body.get("channel") or {}).get("id")):
            return
        press = PRESSES[str(action.get("action_id"))]
        await _press(services, reply, str(action.get("value", "")), press)

    app.action(kit.ROTATION_START)(start_button)
    for action_id in PRESSES:
        app.action(action_id)(step_button)


async def rotate(
    services: Services, parsed: Command, command: dict[str, Any], reply: Reply
) -> None:
    """`/pact rotate [provider | webhook id]`."""
    webhook = await chosen_webhook(services, reply, parsed, kit.rotation_button)
    if webhook is not None:
        await _start(services, reply, webhook, command["channel_id"])


async def _start(services: Services, reply: Reply, webhook: Webhook, channel: str) -> None:
    if webhook.target is None:
        name = mrkdwn.escape(webhook.name)
        await reply.say(
            Message(
                "That webhook does not dispatch to GitHub",
                [kit.section(f"“{name}” does not dispatch to GitHub: it has no token to rotate.")],
            )
        )
        return
    try:
        # Where the rotation under way is, is no secret (its message is in a channel), and
        # saying so first spares a burst of clicks the on-call check over every pair.
        running = await services.rotations.running(webhook.uuid)
        if running is not None:
            await reply.say(build_rotation_running(running))
            return
        groups = await _groups(services, webhook)
    except BrokerError as error:
        await reply.say(build_notice(f"The Pact Broker cannot be read: {error.said}"))
        return
    except PactbotError as error:
        await reply.say(build_notice(f"The rotation cannot start: {error.said}"))
        return
    if not await operator(services, reply, "rotate this webhook's token", groups):
        return
    try:
        started = await services.rotations.start(webhook, groups, reply.user, channel)
    except SlackError as error:
        await reply.say(
            build_notice(f"The rotation cannot start: its message cannot be posted here: {error}")
        )
        return
    except PactbotError as error:
        await reply.say(build_notice(f"The rotation cannot start: {error.said}"))
        return
    if not started.new:
        await reply.say(build_rotation_running(started.rotation))
    else:
        await reply.say(Message("The rotation's message is in the channel: go on there."))


async def _press(services: Services, reply: Reply, value: str, press: Press) -> None:
    rotation_id, _, stage = value.partition(":")
    if not stage.isdigit():
        log.warning("refused a rotation button of %s: its value %r", reply.user, value[:64])
        await reply.say(Message("That button names no rotation step."))
        return
    try:
        rotation = await services.rotations.get(rotation_id)
        groups = rotation.groups if rotation else None
        if not await operator(services, reply, "act on this rotation", groups):
            return
        rotations = services.rotations
        if press is Press.TEST:
            refused = await rotations.run_test(rotation_id, int(stage), reply.user)
        elif press is Press.CHECK:
            refused = await rotations.check_run(rotation_id, int(stage), reply.user)
        else:
            refused = await rotations.press(rotation_id, int(stage), press, reply.user)
    except PactbotError as error:
        log.error("a rotation button of %s failed: %s", reply.user, error)
        await reply.say(build_notice(f"Nothing changed: {error.said}"))
        return
    if refused is not None:
        await reply.say(build_unmoved(refused))


async def _groups(services: Services, webhook: Webhook) -> tuple[str, ...]:
    """The on-call groups of the routes of the pairs `webhook` fires for."""
    report = await services.monitor.current()
    return services.webhook_oncall.get(report, webhook, services.alerter.oncall_of_any)
