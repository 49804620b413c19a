"""The garbage collector, set for a long-running bot that rereads a large broker.

Each read builds tens of thousands of short-lived objects while the last report (as many again)
stays alive. With CPython's default thresholds (700, 10, 10) the collector then runs so often,
and traverses that live report so many times, that it costs twice the read itself (measured:
`benchmarks/alerts_scale.py`). Fewer young collections, and the objects of start-up frozen out
of every collection, bring a 5,000-pair evaluation under a quarter of a second; memory stays
flat, as every cycle is still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_collector() -> None:
    """Call once, after start-up: what exists now is never garbage."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 20)


def collect_read() -> None:
    """Call after each read of the broker: collect the cycles it left while they are young.

    httpx leaves each response in a reference cycle with its stream, and a dashboard page's
    response holds a megabyte. A read that converts only what changed allocates too little to
    set off a collection for many reads, and their pages piled up (RSS from 110 to 200 MB at
    5,000 pairs, `benchmarks/alerts_scale.py`). The young objects then are the new report and
    that garbage: a few milliseconds at 5,000 pairs.
    """
    gc.collect(1)
