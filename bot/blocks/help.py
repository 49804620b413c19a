"""`/pact help`, and the answers to commands that cannot run."""

from __future__ import annotations

from bot.blocks import kit, mrkdwn
from bot.blocks.limits import Message
from bot.domain.command import SUBCOMMANDS, Invalid


def build_help(problem: Invalid | None = None) -> Message:
    """The usage of every subcommand, after what was wrong with the last one, if anything."""
    lines = [
        f"`/pact {name} {mrkdwn.escape(usage)}`".replace(" `", "`") + f" · {what}"
        for name, (usage, what, _) in SUBCOMMANDS.items()
    ]
    blocks = []
    if problem is not None:
        said = mrkdwn.escape(problem.problem)
        if problem.suggestion:
            said += f". Did you mean `/pact {problem.suggestion}`?"
        blocks.append(kit.section(f":thinking_face: {said}"))
    blocks.append(
        kit.section(
            "*pactbot* keeps contract verification from stalling silently.\n" + "\n".join(lines)
        )
    )
    restricted = [f"`{name}`" for name, (_, _, only_oncall) in SUBCOMMANDS.items() if only_oncall]
    who = ", ".join(restricted[:-1]) + f" and {restricted[-1]}"
    blocks.append(kit.context(f"{who} are for the on-call groups and admins."))
    return Message("pactbot help: /pact " + " | ".join(SUBCOMMANDS), blocks)


def build_token_refusal() -> Message:
    """Something shaped like a token was typed into Slack: it is exposed now."""
    text = (
        ":no_entry: That looks like a GitHub or Slack token. pactbot never takes tokens in "
        "Slack and has not kept or shown it. *Revoke it now*: it is in this workspace's message "
        "logs. Put new tokens straight into the broker's secret (Settings → Secrets) instead."
    )
    return Message("That looks like a token: revoke it now", [kit.section(text)])


def build_checking(name: str) -> Message:
    """The ack of a command only some may run: who may is checked after it."""
    return Message(f"Checking that you may run /pact {name}…")


def build_refusal(text: str) -> Message:
    """`text` is mrkdwn: it may name user groups and people to mention."""
    return Message("Not allowed", [kit.section(f":lock: {text}")])


def build_notice(text: str) -> Message:
    """Something went wrong; `text` is plain and gets escaped."""
    return Message(text, [kit.section(f":warning: {mrkdwn.escape(text)}")])
