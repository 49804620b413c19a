"""The webhook Test from a button, and what a failing Test offers next."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.blocks import kit
from bot.blocks.help import build_notice, build_refusal
from bot.blocks.webhook import build_recent, build_result, build_rotation_later, build_running
from bot.errors import BrokerError, SlackError
from bot.slack.replies import Respond, post_in_channel, responder, tell_privately
from bot.slack.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    async def test_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await _button(services, body, str(action.get("value", "")), responder(services, body))

    async def rotation_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await tell_privately(services, body, responder(services, body), build_rotation_later())

    app.action(kit.TEST_RUN)(test_button)
    app.action(kit.ROTATION_START)(rotation_button)


async def _button(
    services: Services, body: dict[str, Any], uuid: str, respond: Respond | None
) -> None:
    user = body["user"]["id"]
    # Anyone in the channel can click a button in a message: check every time.
    if not await services.authoriser.may_operate(user):
        log.warning("refused a webhook Test button to %s: not on call or admin", user)
        who = await services.authoriser.who_may()
        refusal = build_refusal(f"Only {who} may run webhook Tests.")
        await tell_privately(services, body, respond, refusal)
        return
    webhook = services.monitor.webhook(uuid)
    recent = await services.runner.claim(uuid, user)
    if recent is not None:
        if webhook is not None:
            message = build_recent(webhook, at=recent.at, by=recent.by, headline=recent.headline)
            await tell_privately(services, body, respond, message)
        return
    if webhook is not None:
        await tell_privately(services, body, respond, build_running(webhook))
    channel = _channel_of(services, body)
    clicked_in = (body.get("channel") or {}).get("id")
    await run_and_post(services, uuid, user, channel, respond if channel == clicked_in else None)


def _channel_of(services: Services, body: dict[str, Any]) -> str:
    """Where the result goes: the clicked message's channel; from App Home, the digest's."""
    channel = body.get("channel") or {}
    if channel.get("id"):
        return str(channel["id"])
    digest = services.config.digest
    return digest.channel if digest else str(body["user"]["id"])


async def run_and_post(
    services: Services, uuid: str, user: str, channel: str, respond: Respond | None
) -> None:
    """Run the claimed Test of `uuid` and post its explained result in `channel`."""
    try:
        webhook, report = await services.runner.run(uuid, user)
    except BrokerError as error:
        notice = build_notice(f"The webhook Test could not run: {error}")
        if respond is not None:
            await respond(**notice.payload(), response_type="ephemeral", replace_original=False)
        return
    result = build_result(webhook, report, by=user, at=services.clock())
    try:
        await post_in_channel(services, channel, result, respond)
    except SlackError as error:
        log.error("cannot post the Test result of %s in %s: %s", uuid, channel, error)
