"""The rotation's message: the step it is at, what to do, where to do it, and its buttons.

The message is edited in place as the rotation moves, so it always shows where it stands; who
did what, and when, goes into its thread. Nothing here ever asks for a token: step 4 says to
keep it out of Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.blocks import kit, mrkdwn
from bot.blocks.kit import (
    ROTATION_BACK,
    ROTATION_CANCEL,
    ROTATION_CHECK,
    ROTATION_DONE,
    ROTATION_TEST,
)
from bot.blocks.limits import Block, Message, pack_lines
from bot.domain.model import Webhook
from bot.domain.rotation import Outcome, Press, Rotated, Rotation, Stage, Waiting, retest_advice
from bot.duration import format_duration
from bot.targets import Ci, ci_of, fill, is_github, label
from bot.targets.base import NEVER_IN_SLACK, Runbook, Step

PRESSES = {
    ROTATION_DONE: Press.DONE,
    ROTATION_BACK: Press.BACK,
    ROTATION_CANCEL: Press.CANCEL,
    ROTATION_TEST: Press.TEST,
    ROTATION_CHECK: Press.CHECK,
}
# The waiting pairs listed one by one; the rest are counted.
SHOWN_PAIRS = 20


@dataclass(frozen=True, slots=True)
class RotationPage:
    """What the steps' words and links need besides the rotation."""

    # Who holds the credential, as the config names them: GitHub's machine user, or the
    # account `rotation.accounts` names for another CI.
    machine_user: str | None
    secret_name: str
    broker_url: str
    github: bool  # GITHUB_TOKEN is set: step 7 finds the run a GitHub dispatch started
    now: datetime
    canary: bool = False  # a canary asks about the webhook's token: step 6 asks it


def build_rotation(rotation: Rotation, page: RotationPage) -> Message:
    repo = mrkdwn.escape(label(rotation.target))
    name = mrkdwn.escape(rotation.webhook_name)
    ci = _ci(rotation)
    blocks: list[Block] = [
        kit.header(f"Rotating a webhook's {ci.name} {ci.token}"),
        kit.context(
            f"Webhook “{name}” → `{repo}` · started by {mrkdwn.user(rotation.started_by)} "
            f"{mrkdwn.date(rotation.started_at)} · the token never goes into Slack"
        ),
    ]
    if rotation.outcome is Outcome.ACTIVE:
        step = int(rotation.stage)
        title, text = _STEPS[rotation.stage](rotation, page)
        blocks.append(kit.section(f"*Step {step} of {len(Stage)} · {title}*\n{text}"))
        blocks.extend(_findings(rotation, page))
        blocks.append(kit.actions(*_buttons(rotation, page)))
        summary = f"Rotating the token of {rotation.webhook_name}: step {step}, {title}"
    else:
        blocks.append(kit.section(_ended(rotation)))
        summary = f"Token rotation of {rotation.webhook_name}: {rotation.outcome.value}"
    if rotation.passed_at is not None and rotation.waiting:
        blocks.extend(_waiting(rotation))
        if rotation.one_pair is not None and rotation.watching(page.now):
            button = kit.button("Run this pair's Test", kit.TEST_RUN, rotation.webhook)
            blocks.append(kit.actions(button))
    return Message(summary, blocks)


def build_rotation_note(by: str, said: str, at: datetime) -> Message:
    """A line of the rotation's thread: who did what, when."""
    text = f"{mrkdwn.user(by)} {mrkdwn.escape(said)} · {mrkdwn.date(at, '{time_secs}')}"
    return Message(f"{said}", [kit.context(text)])


def build_watch_over(rotation: Rotation) -> Message:
    """A day after the fix, the pairs still waiting: releases they block must not stay unseen."""
    left = [waiting for waiting in rotation.waiting if waiting.verified_at is None]
    names = ", ".join(kit.name_of(waiting.pair) for waiting in left[:SHOWN_PAIRS])
    more = f" and {len(left) - SHOWN_PAIRS} more" if len(left) > SHOWN_PAIRS else ""
    text = (
        f":warning: A day after the new token worked, {_still_wait(len(left))} for a "
        f"verification: {names}{more}. Their releases stay blocked until one arrives: "
        f"{_verify_the_rest(rotation)}"
    )
    return Message(f"{_still_wait(len(left))} for a verification", [kit.section(text)])


def _still_wait(count: int) -> str:
    return f"{count} pair still waits" if count == 1 else f"{count} pairs still wait"


def build_unmoved(why: str) -> Message:
    """A press that changed nothing, and why; `why` is pactbot's own mrkdwn (it may mention
    the person who moved the rotation on)."""
    return Message("Nothing changed", [kit.section(f"Nothing changed: {why}.")])


def build_rotation_running(rotation: Rotation) -> Message:
    """A second `rotate` of the same webhook: where the running one is."""
    where = mrkdwn.channel(rotation.channel)
    if rotation.ts:
        where = (
            mrkdwn.link(message_link(rotation.channel, rotation.ts), "its message") + f" in {where}"
        )
    text = (
        f":arrows_counterclockwise: The token of “{mrkdwn.escape(rotation.webhook_name)}” is "
        f"being rotated already, started by {mrkdwn.user(rotation.started_by)} "
        f"{mrkdwn.date(rotation.started_at)}, at step {int(rotation.stage)}: go on in {where}."
    )
    return Message("A rotation of this webhook is under way", [kit.section(text)])


def rotated_lines(rotated: Rotated, webhooks: Iterable[Webhook], now: datetime) -> list[str]:
    """ "Token last rotated <date> by <user>" for each of `webhooks` rotated with pactbot, and
    a practice rotation suggested where the last is older than `practice_every`."""
    lines = []
    for webhook in webhooks:
        last = rotated.last.get(webhook.uuid)
        if last is None or webhook.target is None:
            continue
        line = (
            f":key: {kit.webhook_name(webhook)}: token last rotated "
            f"{mrkdwn.date(last.ended_at, '{date_short_pretty}')} by {mrkdwn.user(last.by)}"
        )
        if last.practice_due(rotated.practice_every, now):
            provider = mrkdwn.escape(webhook.scope.provider or webhook.uuid)
            line += (
                f" · :repeat: over {format_duration(rotated.practice_every)} ago: time for a "
                f"practice rotation (`/pact rotate {provider}`), so the runbook is known when "
                "the token dies"
            )
        lines.append(line)
    return lines


def message_link(channel: str, ts: str) -> str:
    """Slack's link to a message, which opens it in the workspace of whoever follows it."""
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _step_value(rotation: Rotation) -> str:
    return f"{rotation.id}:{int(rotation.stage)}"


def _buttons(rotation: Rotation, page: RotationPage) -> list[Block]:
    value = _step_value(rotation)
    stage = rotation.stage
    buttons: list[Block] = []
    if stage in (Stage.CONFIRM, Stage.RETEST):
        buttons.append(kit.button("Run test", ROTATION_TEST, value, style="primary"))
    if stage is Stage.WATCH and _follows_runs(rotation, page):
        buttons.append(kit.button("Check again", ROTATION_CHECK, value))
    if stage is not Stage.RETEST:
        last = stage is Stage.REVOKE
        done = kit.button("Finish" if last else "Done", ROTATION_DONE, value)
        buttons.append(done if stage is Stage.CONFIRM else {**done, "style": "primary"})
    if stage is not Stage.CONFIRM:
        buttons.append(kit.button("Back", ROTATION_BACK, value))
    buttons.append(kit.button("Cancel", ROTATION_CANCEL, value, style="danger"))
    return buttons


def _findings(rotation: Rotation, page: RotationPage) -> list[Block]:
    """What the last Test and the look at GitHub found, on the steps they matter to."""
    lines = []
    seen = rotation.test
    # Step 1's Test (the diagnosis) shows on steps 1 and 2, step 6's on step 6.
    if seen is not None and _SHOWS_TEST.get(rotation.stage) is seen.on:
        mark = ":white_check_mark:" if seen.passed else ":x:"
        what = "The canary (no CI run), asked" if seen.canary else "Test"
        lines.append(
            f"{mark} {what} by {mrkdwn.user(seen.by)} {mrkdwn.date(seen.at, '{time_secs}')}: "
            f"{mrkdwn.escape(seen.headline)}"
        )
        if rotation.stage is Stage.RETEST and (advice := retest_advice(seen, rotation.target.ci)):
            lines.append(mrkdwn.escape(advice))
        if rotation.stage is Stage.CONFIRM and seen.passed:
            ci = _ci(rotation)
            lines.append(
                f"{ci.name} accepts the {ci.token}: there may be nothing to rotate. Done goes on "
                "anyway (a practice rotation); Cancel stops here."
            )
    run = rotation.run
    if run is not None and rotation.stage is Stage.WATCH:
        outcome = run.conclusion or run.status.replace("_", " ")
        mark = {"success": ":white_check_mark:", None: ":hourglass_flowing_sand:"}.get(
            run.conclusion, ":x:"
        )
        lines.append(
            f"{mark} {mrkdwn.link(run.url, run.title)}: {mrkdwn.escape(outcome)} "
            f"(looked {mrkdwn.date(run.at, '{time_secs}')})"
        )
    return [kit.context(*lines)] if lines else []


def _waiting(rotation: Rotation) -> list[Block]:
    left = sum(1 for waiting in rotation.waiting if waiting.verified_at is None)
    held = len(rotation.waiting)
    pairs = f"{held} pair{'s' if held != 1 else ''}"
    head = (
        f"*Held up by the outage: {pairs}, {left} still waiting*"
        if left
        else f"*Held up by the outage: {pairs}, verified since*"
    )
    lines = [head, *(_waiting_line(w) for w in rotation.waiting[:SHOWN_PAIRS])]
    if len(rotation.waiting) > SHOWN_PAIRS:
        lines.append(f"…and {len(rotation.waiting) - SHOWN_PAIRS} more (`/pact status`)")
    # Whole lines to a section: a date cut in half would show its markup.
    blocks = [kit.section(text) for text in pack_lines(lines)]
    if left and rotation.one_pair is None:
        rest = _verify_the_rest(rotation)
        blocks.append(kit.section(rest[:1].upper() + rest[1:]))
    return blocks


def _waiting_line(waiting: Waiting) -> str:
    name = kit.name_of(waiting.pair)
    if waiting.verified_at is None:
        return f":hourglass_flowing_sand: {name}, waiting since {mrkdwn.date(waiting.since)}"
    mark = ":white_check_mark:" if waiting.success else ":x: verified, failing:"
    return f"{mark} {name}, verified {mrkdwn.date(waiting.verified_at, '{time_secs}')}"


def _verify_the_rest(rotation: Rotation) -> str:
    ci = _ci(rotation)
    runs = mrkdwn.link(ci.runs(rotation.target), ci.runs_name)
    return (
        "the webhook fires for many pairs, so pactbot cannot test each one: re-run the "
        f"provider's main build ({runs}), which verifies every pact it has."
    )


_SHOWS_TEST = {
    Stage.CONFIRM: Stage.CONFIRM,
    Stage.SIGN_IN: Stage.CONFIRM,
    Stage.RETEST: Stage.RETEST,
}


def _ended(rotation: Rotation) -> str:
    by, when = mrkdwn.user(rotation.ended_by or ""), rotation.ended_at
    at = mrkdwn.date(when) if when else ""
    if rotation.outcome is Outcome.CANCELLED:
        return f":no_entry_sign: Cancelled by {by} {at}, at step {int(rotation.stage)}."
    took = format_duration(rotation.duration) if rotation.duration else "no time"
    return f":white_check_mark: Token rotated. Finished by {by} {at}, {took} after it started."


def _token_note(rotation: Rotation) -> str:
    """The new credential's name: dated, so that the old one is easy to tell apart."""
    return f"pactflow-webhook-{rotation.started_at:%Y-%m-%d}"


def _ci(rotation: Rotation) -> Ci:
    ci = ci_of(rotation.target)
    assert ci is not None, "a rotation is of a webhook whose CI pactbot knows"
    return ci


def _runbook(rotation: Rotation) -> Runbook:
    return _ci(rotation).runbook(rotation.target, _token_note(rotation))


def _said(step: Step, account: str = "") -> tuple[str, str]:
    """A step of the CI's runbook in Slack mrkdwn: its link and account filled in."""
    link = mrkdwn.link(step.link[1], step.link[0]) if step.link else ""
    return step.title, fill(step.text, {"{link}": link, "{account}": account})


def _follows_runs(rotation: Rotation, page: RotationPage) -> bool:
    """Whether pactbot finds the run the re-test started: a GitHub dispatch, with
    GITHUB_TOKEN, when the re-test was the webhook's own."""
    return page.github and is_github(rotation.target) and not _by_canary(rotation)


def _confirm(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    return "Confirm the diagnosis", _runbook(rotation).confirm


def _sign_in(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    ci = _ci(rotation)
    if page.machine_user:
        who = f"{ci.account} *{mrkdwn.escape(page.machine_user)}*"
    elif is_github(rotation.target):
        who = "the machine user the webhooks use (name it in the config: `rotation.machine_user`)"
    else:
        who = f"{ci.account} (name them in the config: `rotation.accounts.{ci.key}`)"
    return _said(_runbook(rotation).sign_in, who)


def _generate(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    return _said(_runbook(rotation).generate)


def _copy(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    return "Copy it", f"{_runbook(rotation).copy} {NEVER_IN_SLACK}"


def _paste(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    secrets = f"{page.broker_url.rstrip('/')}/settings/secrets"
    name = mrkdwn.escape(page.secret_name)
    return (
        "Paste it into the PactFlow secret",
        f"Open {mrkdwn.link(secrets, 'the secrets of PactFlow')}, edit *{name}* (the webhook "
        f"references it as `${{user.{name}}}`), paste the token as its value and save.",
    )


def _retest(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    if page.canary:
        return (
            "Test again",
            "Run test asks the webhook's canary: GitHub renders a line of Markdown with the "
            "new token, and no CI run starts. When GitHub accepts it the rotation moves on.",
        )
    ci = _ci(rotation)
    return (
        "Test again",
        f"Run the webhook's Test: when {ci.name} accepts the new {ci.token} the rotation moves on.",
    )


def _by_canary(rotation: Rotation) -> bool:
    return rotation.test is not None and rotation.test.canary


def _watch(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    ci = _ci(rotation)
    runs = mrkdwn.link(ci.runs(rotation.target), ci.runs_name)
    if _by_canary(rotation):
        return (
            "Watch the held-up pairs",
            "The canary re-tested the token, so no CI run started: the provider's verification "
            f"starts with the next publication (or a run in {runs}). pactbot ticks off below "
            "the pairs the outage held up as they are verified. Done when they are.",
        )
    if _follows_runs(rotation, page):
        how = "pactbot looks for the run the Test started; Check again looks once more."
    elif is_github(rotation.target):
        how = "Without GITHUB_TOKEN pactbot cannot look itself: watch it there."
    else:
        how = f"pactbot does not read {ci.name}'s runs: watch it there."
    return (
        "Watch the provider's run",
        f"The Test started the provider's verification in {runs}. {how} Done when it ran.",
    )


def _revoke(rotation: Rotation, page: RotationPage) -> tuple[str, str]:
    return _said(_runbook(rotation).revoke)


_STEPS = {
    Stage.CONFIRM: _confirm,
    Stage.SIGN_IN: _sign_in,
    Stage.GENERATE: _generate,
    Stage.COPY: _copy,
    Stage.PASTE: _paste,
    Stage.RETEST: _retest,
    Stage.WATCH: _watch,
    Stage.REVOKE: _revoke,
}
