"""Alerts as a channel sees them: evaluations run as the leader runs them, and what Slack shows.

Each evaluation is what the scheduler's leader runs every `alerts.check_interval`; tests call it
themselves after moving the clock, five minutes at a time unless they say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from bot.config import Config
from bot.sample.slack import Message, SampleSlack
from tests.helpers.bot import CHANNEL, Clock, Running, config
from tests.integration.test_slack_command import texts

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORDERS_CHANNEL = "C0ORDERS"
ORDERS_GROUP = "S0ORDERS"
ORDERS_ONCALL = "U0ORDERS"

Bots = Callable[..., AbstractAsyncContextManager[Running]]


def alerting(**sections: Any) -> Config:
    """Alerts every 5 minutes after 30 minutes stale; orders-* pairs go to their own channel."""
    routes = [
        {"provider": "orders-*", "channel": ORDERS_CHANNEL, "oncall_usergroups": ["orders-oncall"]}
    ]
    alerts = {"check_interval": "5m", "for": "30m", "repeat_interval": "24h"}
    return config(**({"alerts": alerts, "routes": routes} | sections))


async def evaluate(bot: Running, clock: Clock, times: int = 1, *, every: float = 5) -> None:
    """`times` evaluations, moving the clock `every` minutes after each."""
    for _ in range(times):
        await bot.bot.scheduler.renew_lease()
        await bot.bot.scheduler.evaluate_alerts()
        clock.advance(minutes=every)


def alerts(slack: SampleSlack, channel: str = CHANNEL) -> list[Message]:
    """The alert messages of `channel`, firing or resolved."""
    return [m for m in slack.in_channel(channel) if m.thread_ts is None and _step(m)]


def marked(slack: SampleSlack) -> list[Message]:
    """Every message of an alert step Slack shows (alerts, reminders, resolution notes), oldest
    first; a call Slack refused shows nothing."""
    with_mark = [message for message in slack.messages.values() if _step(message)]
    return sorted(with_mark, key=lambda message: float(message.ts))


def steps(slack: SampleSlack) -> list[str]:
    """The step each of them was posted for: `post`, `remind` or `resolve`, oldest first."""
    return [_step(message) or "" for message in marked(slack)]


def _step(message: Message) -> str | None:
    """The alert step a message was posted for (its mark is `<alert>:<step>:<time>`)."""
    mark = str((message.metadata or {}).get("event_payload", {}).get("mark", ""))
    parts = mark.split(":")
    return (
        parts[1] if len(parts) == 3 and parts[1] in ("post", "join", "remind", "resolve") else None
    )


def thread(slack: SampleSlack, message: Message) -> list[str]:
    replies = slack.in_channel(message.channel)
    return [shown(reply) for reply in replies if reply.thread_ts == message.ts]


def shown(message: Message) -> str:
    return message.text + "\n" + texts(message.blocks)


def now_shown(slack: SampleSlack, message: Message) -> str:
    """What `message` shows now, after any edits."""
    return shown(slack.messages[(message.channel, message.ts)])


def buttons(message: Message) -> dict[str, str]:
    """The message's buttons: action id → value."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "button":
                found[node["action_id"]] = node["value"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks)
    return found


async def answer(bot: Running, count: int) -> str:
    """The text of the `count`th answer through a response_url (ephemeral or in the channel)."""
    calls = await bot.slack.wait_for("respond", count)
    return texts(calls[count - 1].body)
