"""Pairs whose latest pact waits for a verification: their history, read from the matrix.

The dashboard shows no verification at all for such a pair, even when older content was
verified; the matrix has every publication and its verifications. Name-only selectors for
several pacticipants return the pacts between any of them, so one request serves up to
`MATRIX_PAIRS` pairs (grouped by provider, so the selectors stay few).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.broker import convert, schema
from bot.broker.client import BrokerClient
from bot.domain.model import History, PairKey

MATRIX_PAIRS = 20
MATRIX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Waiting:
    history: History
    first_pact: str | None  # the link of the first publication that still waits


async def read_waiting(
    client: BrokerClient, published: Mapping[PairKey, datetime]
) -> dict[PairKey, Waiting]:
    """The history of each pair in `published` (pair → its latest publication)."""
    ordered = sorted(published, key=lambda pair: (pair.provider, pair.consumer))
    chunks = [
        ordered[start : start + MATRIX_PAIRS] for start in range(0, len(ordered), MATRIX_PAIRS)
    ]
    found: dict[PairKey, Waiting] = {}
    for batch in await asyncio.gather(*(_batch(client, chunk, published) for chunk in chunks)):
        found.update(batch)
    return found


async def _batch(
    client: BrokerClient, chunk: Sequence[PairKey], published: Mapping[PairKey, datetime]
) -> dict[PairKey, Waiting]:
    rows = (await client.matrix(chunk, MATRIX_LIMIT)).matrix
    # The limit keeps the newest publications: a full answer may have cut a pair's older ones.
    cut = len(rows) >= MATRIX_LIMIT
    # Up to MATRIX_LIMIT rows: each pair's are picked out once, not scanned for per pair.
    own = convert.rows_by_pair(rows)
    found: dict[PairKey, Waiting] = {}
    again = []
    for pair in chunk:
        mine = own.get(pair, [])
        verified = any(row.verification_result for row in mine)
        if cut and not verified and len(chunk) > 1:
            again.append(pair)
        else:
            found[pair] = _waiting(mine, pair, published[pair], complete=verified or not cut)
    for single in await asyncio.gather(*(_batch(client, [pair], published) for pair in again)):
        found.update(single)
    return found


def _waiting(
    own: Sequence[schema.MatrixRow], pair: PairKey, published: datetime, *, complete: bool
) -> Waiting:
    """`own`: the pair's rows of the matrix."""
    run = convert.waiting_run(own, pair)
    first = run[-1].pact.links.get("self") if run else None
    history = convert.to_history(own, pair, published, complete)
    return Waiting(history, first.href if first else None)
