"""What a person typed after `/pact`: a subcommand and its argument, or why it cannot be run."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.selection import closest
from bot.domain.tokens import looks_like_token

# name → (argument, what it does, whether only on-call and admins may run it)
SUBCOMMANDS: dict[str, tuple[str, str, bool]] = {
    "status": ("[name]", "pairs, most urgent first (name: part of a consumer or provider)", False),
    "test": ("[provider | webhook id]", "run the broker's webhook Test and explain it", True),
    "rotate": (
        "[provider | webhook id]",
        "walk through rotating the GitHub token of a webhook, step by step",
        True,
    ),
    "diagnose": (
        "[provider | webhook id]",
        "why verifications stall: the Test, real executions, lint, a verdict and the next step",
        True,
    ),
    "silence": (
        "<consumer/provider | provider> <duration> [reason]",
        "hold its alerts and reminders for a while, saying why",
        True,
    ),
    "unsilence": ("<id>", "end a silence now", True),
    "silences": ("", "the silences in force: what, who, why, until when", False),
    "digest": ("", "post the freshness digest here, now", True),
    "help": ("", "this help", False),
}


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str = ""

    @property
    def restricted(self) -> bool:
        return SUBCOMMANDS[self.name][2]


@dataclass(frozen=True, slots=True)
class Invalid:
    """A command that cannot run: what was wrong, and the closest subcommand if any."""

    problem: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class TokenTyped:
    """The text holds something shaped like a token: refuse it, never echo or log it."""


def parse(text: str) -> Command | Invalid | TokenTyped:
    """Read the text after `/pact`."""
    if looks_like_token(text):
        return TokenTyped()
    words = text.split(maxsplit=1)
    if not words:
        return Command("help")
    name, argument = words[0].lower(), words[1].strip() if len(words) > 1 else ""
    if name not in SUBCOMMANDS:
        near = closest(name, SUBCOMMANDS, count=1)
        return Invalid(f"there is no `/pact {name}`", near[0] if near else None)
    takes, _, _ = SUBCOMMANDS[name]
    if argument and not takes:
        return Invalid(f"`/pact {name}` takes no argument (got “{argument}”)")
    return Command(name, argument)
