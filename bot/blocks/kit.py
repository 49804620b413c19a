"""Small Block Kit constructors that keep to Slack's limits, and pactbot's shared phrases."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.blocks import mrkdwn
from bot.blocks.limits import (
    ACTIONS_ELEMENTS,
    BUTTON_TEXT,
    BUTTON_VALUE,
    CONTEXT_ELEMENTS,
    HEADER_TEXT,
    SECTION_TEXT,
    Block,
    clip,
)
from bot.domain.alerts import Silence
from bot.domain.freshness import State
from bot.domain.lint import Finding
from bot.domain.model import PairKey, Webhook
from bot.domain.report import PairRow, WebhookView
from bot.domain.sight import NO_PERMISSION
from bot.duration import format_duration
from bot.targets import label

# Every action id a pactbot message or view carries; bot/slack/listeners register each one.
TEST_RUN = "pact_test_run"
ROTATION_START = "pact_rotation_start"
HOME_REFRESH = "pact_home_refresh"
ALERT_ACK = "pact_alert_ack"
ALERT_SILENCE = "pact_alert_silence"
ROTATION_DONE = "pact_rotation_done"
ROTATION_BACK = "pact_rotation_back"
ROTATION_CANCEL = "pact_rotation_cancel"
ROTATION_TEST = "pact_rotation_test"
ROTATION_CHECK = "pact_rotation_check"
ACTION_IDS = frozenset(
    {
        TEST_RUN,
        ROTATION_START,
        HOME_REFRESH,
        ALERT_ACK,
        ALERT_SILENCE,
        ROTATION_DONE,
        ROTATION_BACK,
        ROTATION_CANCEL,
        ROTATION_TEST,
        ROTATION_CHECK,
    }
)

STATE_MARKS = {
    State.BROKER_UNREACHABLE: ":warning:",
    State.STALE: ":red_circle:",
    State.NEVER_VERIFIED: ":black_circle:",
    State.FAILING: ":x:",
    State.PENDING: ":hourglass_flowing_sand:",
    State.IDLE: ":zzz:",
    State.FRESH: ":large_green_circle:",
}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT)}}


def section(text: str, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    elements = [{"type": "mrkdwn", "text": clip(text, SECTION_TEXT)} for text in texts]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT)},
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }
    if style is not None:
        element["style"] = style
    return element


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements[:ACTIONS_ELEMENTS])}


def state_label(state: State) -> str:
    return f"{STATE_MARKS[state]} {state.value.replace('_', ' ')}"


def pair_name(row: PairRow) -> str:
    return name_of(row.key)


def silenced(silence: Silence) -> str:
    return f":mute: silenced {silence_terms(silence)}"


def silence_terms(silence: Silence) -> str:
    """`until <date> by <who> (“why”)`."""
    said = f" (“{mrkdwn.escape(silence.reason)}”)" if silence.reason else ""
    return f"until {mrkdwn.date(silence.ends_at)} by {mrkdwn.user(silence.by)}{said}"


def name_of(pair: PairKey) -> str:
    return f"{mrkdwn.escape(pair.consumer)} → {mrkdwn.escape(pair.provider)}"


def webhook_name(webhook: Webhook) -> str:
    """The webhook's name and, for a CI trigger, what it builds; escaped."""
    name = f"“{mrkdwn.escape(webhook.name)}”"
    if webhook.target:
        name += f" → `{mrkdwn.escape(label(webhook.target))}`"
    return name


def health_text(view: WebhookView) -> str:
    health = view.health
    text = health.describe()
    if health.failing and health.since:
        text += f" since {mrkdwn.date(health.since)}"
    return text


def pair_details(row: PairRow) -> str:
    """Verification age, wait and webhook health of one pair, on one line."""
    freshness = row.freshness
    age = freshness.verification_age
    parts = ["never verified" if age is None else f"verified {format_duration(age)} ago"]
    if freshness.waited is not None:
        parts.append(f"waiting {format_duration(freshness.waited)}")
    view = row.main_webhook
    if view is None:
        parts.append(f"webhook: {NO_PERMISSION}" if row.unseen else "no webhook")
    elif view.webhook.target is None:
        # Not a CI trigger pactbot knows (a chat notification, another server): where it goes.
        host = urlsplit(view.webhook.url).hostname or view.webhook.url
        parts.append(f"webhook to {mrkdwn.escape(host)}: {health_text(view)}")
    else:
        parts.append(f"webhook: {health_text(view)}")
    return " · ".join(parts)


def rotation_button(webhook: Webhook) -> Block | None:
    """A "Start rotation" button, for a webhook that triggers a CI build; else None."""
    if webhook.target is None:
        return None
    return button("Start rotation", ROTATION_START, webhook.uuid)


def test_button(webhook: Webhook) -> Block | None:
    """A "Run webhook test" button, for a webhook that triggers a CI build; else None."""
    if webhook.target is None:
        return None
    return button("Run webhook test", TEST_RUN, webhook.uuid)


def finding_line(finding: Finding) -> str:
    """One lint finding: the webhook, what is wrong, what to do; escaped."""
    problem, fix = mrkdwn.escape(finding.problem), mrkdwn.escape(finding.fix)
    return f"• {webhook_name(finding.webhook)}: {problem} → {fix}"
