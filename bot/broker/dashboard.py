"""The dashboard's pairs as pactbot's facts, converted again only where the dashboard changed.

`BrokerClient` keeps each dashboard page's parse while the page's bytes stay the same, so the
rows of a page that did not change are the very same objects at the next read. A `Dashboard`
keeps what the last read made of them: the pairs selected, each one's newest row, and the
record of each verified pair. A pair waiting for a verification is converted at every read:
its history comes from the matrix, read again each time.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from bot.broker import convert, schema
from bot.broker.waiting import Waiting
from bot.domain.model import PairKey, PairRecord
from bot.domain.selection import Selection


@dataclass(frozen=True, slots=True)
class Pairs:
    """What one dashboard read says about the pairs a selection wants."""

    rows: Sequence[schema.DashboardItem]  # as read
    selection: Selection
    items: Mapping[PairKey, schema.DashboardItem]  # each pair's newest row, by the names
    published: Mapping[PairKey, datetime]  # of each pair whose latest pact waits
    # Each pair's record, in the order of `items`; None for a pair that waits, converted at
    # each read (`waits`: where it goes, its key and its row).
    known: tuple[PairRecord | None, ...]
    waits: tuple[tuple[int, PairKey, schema.DashboardItem], ...]

    def same(self, rows: Sequence[schema.DashboardItem], selection: Selection) -> bool:
        """Whether `rows` are the very rows these pairs were made from, for `selection`."""
        return (
            selection == self.selection
            and len(rows) == len(self.rows)
            and all(map(operator.is_, rows, self.rows))
        )

    def records(self, waiting: Mapping[PairKey, Waiting]) -> tuple[PairRecord, ...]:
        """Each pair as a record, with the history `waiting` found for it."""
        records = list(self.known)
        for index, key, item in self.waits:
            found = waiting.get(key)
            records[index] = convert.to_record(key, item, found.history if found else None)
        return tuple(cast(list[PairRecord], records))  # every None is filled in


class Dashboard:
    """The pairs of the last dashboard read, to make the next one's from."""

    def __init__(self) -> None:
        self._last: Pairs | None = None

    def select(self, rows: Sequence[schema.DashboardItem], selection: Selection) -> Pairs:
        """The pairs `selection` wants among the dashboard's `rows`; raise `BrokerNotFound`
        for a name `selection` asks for that the broker lacks."""
        last = self._last
        if last is not None and last.same(rows, selection):
            return last
        items = _selected(rows, selection)
        # The verified pairs' records of the last read, by their row's id: the last read
        # keeps its rows alive, so a row of this read with the same id is the same row.
        before = (
            {id(item): found for item, found in zip(last.items.values(), last.known, strict=True)}
            if last is not None
            else {}
        )
        known = tuple(
            None
            if item.latest_verification_result is None
            else before.get(id(item)) or convert.to_record(key, item)
            for key, item in items.items()
        )
        waits = tuple(
            (index, key, item)
            for index, (key, item) in enumerate(items.items())
            if known[index] is None
        )
        published = {key: item.published_at for _, key, item in waits}
        self._last = Pairs(rows, selection, items, published, known, waits)
        return self._last


def _selected(
    rows: Sequence[schema.DashboardItem], selection: Selection
) -> dict[PairKey, schema.DashboardItem]:
    latest = convert.latest_per_pair(rows)
    selection.check(latest.keys())
    # Sorted on the names themselves: comparing thousands of PairKeys is many times slower.
    ordered = sorted(latest.items(), key=lambda entry: (entry[0].consumer, entry[0].provider))
    return {key: item for key, item in ordered if selection.wants(key)}
