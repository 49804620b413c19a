"""Signed requests from Slack to the real Bolt app: slash commands, button clicks and events.

The bodies have the shapes of the fixtures in tests/fixtures/slack-api (`inbound.*`), and the
payloads name the bot of `bot.sample.slack.Identity`, so they agree with the fake Slack. Every
timestamp is passed in: the tests own the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any
from urllib.parse import quote, urlencode

from bot.sample.slack import Identity

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
USER_ID = "U0OPS1"
CHANNEL_ID = "C0DIGEST"
TEAM_ID = "T0TEAM"
# Message and action timestamps, fixed so that payloads are the same on every run.
MESSAGE_TS = "1733040000.000100"
ACTION_TS = "1733040001.000000"
EVENT_TIME = 1733040002

_BOT = Identity()
# Slack gives every request its own trigger_id and every event its own event_id.
_ids = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `X-Slack-Signature` of `body`: v0 HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, secret: str, timestamp: int, content_type: str | None = None
) -> dict[str, str]:
    """The headers Slack sends with `body`; the content type is guessed when not given."""
    if content_type is None:
        content_type = JSON if body.startswith(b"{") else FORM
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": sign(body, secret, timestamp),
    }


def slash_command(
    text: str,
    *,
    response_url: str,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    command: str = "/pact",
    **fields: str,
) -> bytes:
    """A form-encoded `/pact` request with every field of inbound.slash_command.fields.json."""
    form = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",  # the deprecated verification token, unused
        "team_id": team_id,
        "team_domain": "pact-test",
        # Empty outside Enterprise Grid, which Bolt reads as no enterprise.
        "enterprise_id": "",
        "enterprise_name": "",
        "channel_id": channel_id,
        "channel_name": "digest",
        "user_id": user_id,
        "user_name": "ops",
        "command": command,
        "text": text,
        "response_url": response_url,
        "trigger_id": _trigger_id(),
        "api_app_id": _BOT.app_id,
        "is_enterprise_install": "false",
    }
    return urlencode(form | fields).encode()


def block_action(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    message_ts: str = MESSAGE_TS,
    block_id: str = "pact_actions",
    team_id: str = TEAM_ID,
    message_blocks: list[Any] | None = None,
    action_ts: str = ACTION_TS,
) -> bytes:
    """A click on a button in a channel message, shaped as inbound.block_actions.block_kit_message."""
    action = _button(action_id, value, block_id, action_ts)
    blocks = message_blocks or [_button_block(action)]
    payload = _interaction(user_id, team_id, action) | {
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "channel": {"id": channel_id},
        "message": {
            "bot_id": _BOT.bot_id,
            "type": "message",
            "text": "Pact",
            "user": _BOT.user_id,
            "ts": message_ts,
            "app_id": _BOT.app_id,
            "blocks": blocks,
            "team": team_id,
        },
        "response_url": response_url,
    }
    return _form_payload(payload)


def home_action(
    action_id: str,
    value: str,
    *,
    user_id: str = USER_ID,
    view_id: str = "V0HOME0001",
    block_id: str = "pact_home",
    team_id: str = TEAM_ID,
    view_blocks: list[Any] | None = None,
    action_ts: str = ACTION_TS,
) -> bytes:
    """A click on a button in the App Home tab (container "view"; no response_url there)."""
    action = _button(action_id, value, block_id, action_ts)
    view = {
        "id": view_id,
        "team_id": team_id,
        "type": "home",
        "blocks": view_blocks or [_button_block(action)],
        "private_metadata": "",
        "callback_id": "",
        "state": {"values": {}},
        "hash": "1733040000.0000001",
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": None,
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": _BOT.app_id,
        "external_id": "",
        "bot_id": _BOT.bot_id,
    }
    payload = _interaction(user_id, team_id, action) | {
        "container": {"type": "view", "view_id": view_id},
        "view": view,
    }
    return _form_payload(payload)


def event(
    event_dict: dict[str, Any], *, team_id: str = TEAM_ID, event_time: int = EVENT_TIME
) -> bytes:
    """A JSON event_callback envelope, like inbound.event_callback.app_home_opened.json."""
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        "enterprise_id": None,
        "api_app_id": _BOT.app_id,
        "event": event_dict,
        "type": "event_callback",
        "event_id": f"Ev{next(_ids):08d}",
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": _BOT.user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()


def _trigger_id() -> str:
    return f"{next(_ids)}.1733040000.sample"


def _button(action_id: str, value: str, block_id: str, action_ts: str) -> dict[str, Any]:
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id},
        "value": value,
        "type": "button",
        "action_ts": action_ts,
    }


def _button_block(action: dict[str, Any]) -> dict[str, Any]:
    """The block the clicked button sits in, when the test does not give the real one."""
    return {
        "type": "section",
        "block_id": action["block_id"],
        "text": {"type": "mrkdwn", "text": "Pact", "verbatim": False},
        "accessory": {key: action[key] for key in ("type", "action_id", "text", "value")},
    }


def _interaction(user_id: str, team_id: str, action: dict[str, Any]) -> dict[str, Any]:
    """The fields every block_actions payload has."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "ops", "team_id": team_id},
        "api_app_id": _BOT.app_id,
        "trigger_id": _trigger_id(),
        "team": {"id": team_id},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }


def _form_payload(payload: dict[str, Any]) -> bytes:
    """The wire form of an interaction: one form field `payload` holding URL-encoded JSON."""
    return ("payload=" + quote(json.dumps(payload, separators=(",", ":")))).encode()
