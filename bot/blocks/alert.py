"""Alert messages: the message that fires and is edited in place, and what goes in its thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import Block, Message, pack_lines
from bot.domain.alerts import Alert, Cause, Kind, Member, Silence
from bot.domain.model import PairKey
from bot.duration import format_duration

# A message someone reads at 3 a.m.: the first causes (a section and buttons each) and pairs,
# well inside Slack's 50 blocks; `/pact status` has the rest.
_CAUSES = 10
_LISTED = 25


def build_alert(alert: Alert, now: datetime, silences: Sequence[Silence] = ()) -> Message:
    """The alert's message as it stands: firing or resolved; silenced pairs marked."""
    if alert.kind is Kind.BROKER:
        return _broker(alert, now)
    if not alert.firing:
        return _resolved(alert, now)
    blocks: list[Block] = []
    for cause in alert.causes[:_CAUSES]:
        blocks += _cause(cause, [m for m in alert.members if m.cause == cause.webhook])
    if len(alert.causes) > _CAUSES:
        blocks.append(kit.context(f"…and {len(alert.causes) - _CAUSES} more failing webhooks"))
    shown = {cause.webhook for cause in alert.causes[:_CAUSES]}
    others = [m for m in alert.members if m.cause not in shown]
    if others:
        lines = ["*Waiting for a verification*"] if shown else []
        lines += [_line(m, now, silences) for m in others[:_LISTED]]
        if len(others) > _LISTED:
            lines.append(f"…and {len(others) - _LISTED} more: `/pact status` lists every pair")
        blocks += [kit.section(text) for text in pack_lines(lines)]
    pairs = _pairs(len(alert.members))
    head = f":rotating_light: *{pairs} stuck without a verification*"
    footer = _footer(alert)
    buttons = kit.actions(
        kit.button("Acknowledge", kit.ALERT_ACK, alert.id, style="primary"),
        kit.button("Silence 24h", kit.ALERT_SILENCE, alert.id),
    )
    text = f"{pairs} stuck without a verification" + (
        f": {alert.causes[0].name} {alert.causes[0].health}" if alert.causes else ""
    )
    return Message(text, [kit.section(head), *blocks, kit.context(footer), buttons])


def _cause(cause: Cause, members: list[Member]) -> list[Block]:
    since = f" since {mrkdwn.date(cause.since)}" if cause.since else ""
    pairs = ", ".join(kit.name_of(m.pair) for m in members[:20])
    more = f" and {len(members) - 20} more" if len(members) > 20 else ""
    text = (
        f"*Webhook* “{mrkdwn.escape(cause.name)}” → `{mrkdwn.escape(cause.repository)}`: "
        f"*{mrkdwn.escape(cause.health)}*{since}\nIt explains {_pairs(len(members), 'waiting ')}"
        f": {pairs}{more}"
    )
    return [
        kit.section(text),
        kit.actions(
            kit.button("Run webhook test", kit.TEST_RUN, cause.webhook),
            kit.button("Start rotation", kit.ROTATION_START, cause.webhook),
        ),
    ]


def _line(member: Member, now: datetime, silences: Sequence[Silence]) -> str:
    state = member.state.value.replace("_", " ")
    # A date, not an age: the message is edited only when what it lists changes.
    since = (
        f"waiting since {mrkdwn.date(member.waiting_since)}"
        if member.waiting_since
        else f"stale since {mrkdwn.date(member.stale_since)}"
    )
    line = f"• {kit.name_of(member.pair)} · {state} · {since}"
    silence = next((s for s in silences if s.id == member.silenced_by), None)
    if silence is not None:
        line += f" · {kit.silenced(silence)}"
    return line


def _footer(alert: Alert) -> str:
    footer = f"Firing since {mrkdwn.date(alert.fired_at)}"
    if alert.acked_by and alert.acked_at:
        footer += f" · acknowledged by {mrkdwn.user(alert.acked_by)} {mrkdwn.date(alert.acked_at)}"
    return footer


def _resolved(alert: Alert, now: datetime) -> Message:
    lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
    pairs = ", ".join(kit.name_of(pair) for pair in alert.seen[:30])
    more = f" and {len(alert.seen) - 30} more" if len(alert.seen) > 30 else ""
    text = f":white_check_mark: *Resolved* after {lasted}: none of {pairs}{more} waits here now."
    return Message(f"Resolved after {lasted}", [kit.section(text), kit.context(_footer(alert))])


def _broker(alert: Alert, now: datetime) -> Message:
    if not alert.firing:
        lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
        text = f":white_check_mark: *The Pact Broker answers again* after {lasted} unread."
        return Message("The Pact Broker answers again", [kit.section(text)])
    text = (
        f":warning: *The Pact Broker cannot be read*: {mrkdwn.escape(alert.error or 'no answer')}\n"
        "While it cannot, no pair alert fires or resolves: not hearing is not hearing “fresh”."
    )
    buttons = kit.actions(kit.button("Acknowledge", kit.ALERT_ACK, alert.id, style="primary"))
    return Message(
        "The Pact Broker cannot be read", [kit.section(text), kit.context(_footer(alert)), buttons]
    )


def build_reminder(alert: Alert, now: datetime) -> Message:
    """The reminder in the thread while the alert fires and no acknowledgement holds it."""
    lasted = format_duration(now - alert.fired_at)
    what = (
        "the broker still cannot be read"
        if alert.kind is Kind.BROKER
        else f"{_pairs(len(alert.members))} still waiting"
    )
    if alert.acked_by and alert.acked_at:
        who = f"acknowledged by {mrkdwn.user(alert.acked_by)} {mrkdwn.date(alert.acked_at)}"
        text = f":alarm_clock: Still firing after {lasted}: {what}; {who}, and no change since."
    else:
        text = f":alarm_clock: Still firing after {lasted}: {what}, and nobody acknowledged it."
    return Message(f"Still firing after {lasted}", [kit.section(text)])


def build_resolution(alert: Alert, now: datetime) -> Message:
    """The note in the thread when the alert resolves."""
    lasted = format_duration((alert.resolved_at or now) - alert.fired_at)
    text = f":white_check_mark: Resolved: it lasted {lasted}."
    return Message(f"Resolved: it lasted {lasted}", [kit.section(text)])


def build_joined(alert: Alert, pairs: Sequence[PairKey]) -> Message:
    """The note, in the thread and the channel, when pairs newly fire into an open alert."""
    names = ", ".join(kit.name_of(pair) for pair in pairs[:20])
    more = f" and {len(pairs) - 20} more" if len(pairs) > 20 else ""
    text = f":rotating_light: Now stuck too: {names}{more}."
    return Message(f"{_pairs(len(pairs))} more stuck without a verification", [kit.section(text)])


def _pairs(count: int, kind: str = "") -> str:
    return f"{count} {kind}pair{'s' if count != 1 else ''}"
