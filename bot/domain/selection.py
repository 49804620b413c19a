"""Which pairs a command looks at: the config's list, narrowed by `--consumer` and `--provider`."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from bot.domain.model import PairKey
from bot.errors import BrokerNotFound


@dataclass(frozen=True, slots=True)
class Selection:
    consumer: str | None = None
    provider: str | None = None
    pairs: frozenset[PairKey] | None = None  # the config file's `pairs`, when it lists any

    def wants(self, key: PairKey) -> bool:
        return (
            (self.pairs is None or key in self.pairs)
            and self.consumer in (None, key.consumer)
            and self.provider in (None, key.provider)
        )

    def check(self, known: Collection[PairKey]) -> None:
        """Raise `BrokerNotFound`, naming the closest names, for anything the broker lacks."""
        consumers = {key.consumer for key in known}
        providers = {key.provider for key in known}
        for role, name, names in (
            ("consumer", self.consumer, consumers),
            ("provider", self.provider, providers),
        ):
            if name is not None and name not in names:
                raise BrokerNotFound(f"pact with the {role} {name!r}", closest(name, names))
        for pair in sorted(self.pairs or ()):
            if pair not in known:
                spelled = {str(key): key for key in known}
                raise BrokerNotFound(
                    f"pact {pair} (listed under pairs in the config file)",
                    closest(str(pair), spelled),
                )
        if self.consumer and self.provider and PairKey(self.consumer, self.provider) not in known:
            raise BrokerNotFound(
                f"pact between {self.consumer!r} and {self.provider!r}", _partners(self, known)
            )


def closest(name: str, candidates: Collection[str], count: int = 3) -> list[str]:
    """The names most like `name`, best first."""
    return difflib.get_close_matches(name, sorted(candidates), n=count, cutoff=0.5)


def _partners(selection: Selection, known: Collection[PairKey]) -> list[str]:
    return sorted(str(key) for key in known if selection.consumer == key.consumer)[:3]
