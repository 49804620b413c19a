"""Messages about one webhook's Test: the choice, the result with its buttons, a recent run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import MESSAGE_BLOCKS, Block, Message
from bot.domain.explain import TestReport
from bot.domain.model import Webhook
from bot.targets import they_trigger


def build_running(webhook: Webhook) -> Message:
    """The ack of `/pact test`: the Test starts now."""
    text = f":hourglass_flowing_sand: Running the webhook Test for {kit.webhook_name(webhook)}…"
    return Message(f"Running the webhook Test for {webhook.name}", [kit.section(text)])


def build_result(webhook: Webhook, report: TestReport, *, by: str, at: datetime) -> Message:
    """The explained result, posted in the channel; a failure offers the next steps."""
    mark = ":white_check_mark:" if report.passed else ":x:"
    lines = [
        f"{mark} *Webhook Test* of {kit.webhook_name(webhook)}",
        mrkdwn.escape(report.headline),
    ]
    lines += [f"→ {mrkdwn.escape(advice)}" for advice in report.advice]
    lines += [f":warning: {mrkdwn.escape(warning)}" for warning in report.warnings]
    lines += [mrkdwn.escape(note) for note in report.notes]
    blocks: list[Block] = [
        kit.section("\n".join(lines)),
        kit.context(
            f"Run by {mrkdwn.user(by)} {mrkdwn.date(at)} · a Test records nothing in the broker"
        ),
    ]
    if not report.passed:
        blocks.append(
            kit.actions(
                kit.button("Run again", kit.TEST_RUN, webhook.uuid),
                kit.button("Start rotation", kit.ROTATION_START, webhook.uuid),
            )
        )
    verdict = "passed" if report.passed else "failed"
    return Message(f"Webhook Test of {webhook.name} {verdict}: {report.headline}", blocks)


def build_choice(
    webhooks: Sequence[Webhook],
    button: Callable[[Webhook], Block | None],
    command: str,
) -> Message:
    """Several CI-trigger webhooks and no argument: let the person choose one, for
    `/pact <command>`, with `button`."""
    rows = [
        kit.section(kit.webhook_name(webhook) + f" · for {mrkdwn.escape(str(webhook.scope))}",
                    accessory=button(webhook))
        for webhook in webhooks[: MESSAGE_BLOCKS - 2]
    ]  # fmt: skip
    doing = they_trigger(webhook.target for webhook in webhooks)
    blocks = [kit.section(f"{len(webhooks)} webhooks {doing}. Which one?"), *rows]
    if len(webhooks) > len(rows):
        blocks.append(kit.context(f"…and more: `/pact {command} &lt;provider or webhook id&gt;`"))
    return Message(f"Choose the webhook for /pact {command}", blocks)


def build_recent(
    webhook: Webhook, *, at: datetime, by: str, headline: str | None, error: str | None = None
) -> Message:
    """One Test per webhook per minute: say when the last one ran and what it returned."""
    if error:
        said = f" It could not run: {mrkdwn.escape(error)}"
    elif headline:
        said = f" It said: {mrkdwn.escape(headline)}"
    else:
        said = " It is still running."
    text = (
        f":stopwatch: The Test of {kit.webhook_name(webhook)} ran {mrkdwn.date(at, '{time_secs}')} "
        f"(by {mrkdwn.user(by)}).{said}\nEach Test dispatches a real CI run: one per webhook per "
        "minute."
    )
    return Message(f"The Test of {webhook.name} ran less than a minute ago", [kit.section(text)])
