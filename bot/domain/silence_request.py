"""`/pact silence <consumer/provider | provider> <duration> [reason]`, read against the pairs the
broker knows: names may hold spaces (`Checkout Web/Pricing Service 2h release freeze`), so the
first word that reads as a duration ends the name."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.command import Invalid
from bot.domain.model import PairKey
from bot.domain.selection import closest
from bot.duration import ACCEPTED, parse_duration

# A silence is for an incident someone is working on, not a way to switch alerts off for good.
LONGEST = timedelta(days=30)
USAGE = "`/pact silence <consumer/provider | provider> <duration> [reason]`"


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    provider: str
    consumer: str | None  # None: every pair of the provider
    span: timedelta
    reason: str


def parse_silence(argument: str, known: Collection[PairKey]) -> SilenceRequest | Invalid:
    """Read the argument of `/pact silence` against the `known` pairs."""
    words = argument.split()
    for index, word in enumerate(words[1:], start=1):
        try:
            span = parse_duration(word)
        except ValueError:
            continue
        if span > LONGEST:
            return Invalid(f"a silence lasts at most 30d (got {word}); silence again when it ends")
        target = _target(" ".join(words[:index]), known)
        if isinstance(target, Invalid):
            return target
        return SilenceRequest(*target, span, " ".join(words[index + 1 :]))
    if not words:
        return Invalid(f"say what to silence and for how long: {USAGE}")
    return Invalid(f"say for how long, as {ACCEPTED}: {USAGE}")


def _target(name: str, known: Collection[PairKey]) -> tuple[str, str | None] | Invalid:
    """The provider and the consumer (None: all of its pairs) that `name` means."""
    providers = {pair.provider.lower(): pair.provider for pair in known}
    if name.lower() in providers:
        return providers[name.lower()], None
    pairs = {f"{pair.consumer}/{pair.provider}".lower(): pair for pair in known}
    if name.lower() in pairs:
        pair = pairs[name.lower()]
        return pair.provider, pair.consumer
    spelled = [*(f"{p.consumer}/{p.provider}" for p in known), *providers.values()]
    near = closest(name, spelled, count=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return Invalid(f"the broker knows no provider or consumer/provider pair “{name}”{hint}")
