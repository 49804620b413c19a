"""Running the broker's webhook Test from Slack: one per webhook per minute, explained."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.broker.client import BrokerClient
from bot.domain.explain import TestReport
from bot.domain.model import Webhook
from bot.errors import BrokerError, StoreUnavailable
from bot.reader import run_webhook_test
from bot.store import Document, Store

# Every Test dispatches a real CI run.
ONE_TEST_PER = timedelta(minutes=1)
# What a Test said of its token's expiry stands until another Test says otherwise.
EXPIRY_KEPT = timedelta(days=400)
_EXPIRY = "token-expiry"
# When a Test of each webhook last passed: one small document, read with every broker read.
PASSED = "tests-passed"
_TRIES = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecentTest:
    at: datetime
    by: str
    headline: str | None  # None while it runs, or when it could not run
    error: str | None = None  # why it could not run


class WebhookRunner:
    def __init__(
        self,
        client: BrokerClient,
        store: Store,
        clock: Callable[[], datetime],
        github_api_url: str,
    ) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self._github_api_url = github_api_url

    async def claim(self, uuid: str, by: str) -> RecentTest | None:
        """None when `by` may run the Test of `uuid` now, else the Test run within the minute."""
        now = self._clock()
        record = {"at": now.isoformat(), "by": by, "headline": None}
        if await self._store.set_if_absent(f"test-claim:{uuid}", record, ONE_TEST_PER):
            await self._store.set_value(f"test-last:{uuid}", record, ONE_TEST_PER)
            return None
        last = await self._store.get_value(f"test-last:{uuid}") or record
        return RecentTest(
            datetime.fromisoformat(str(last["at"])),
            str(last["by"]),
            last["headline"],
            last.get("error"),
        )

    async def run(self, uuid: str, by: str) -> tuple[Webhook, TestReport]:
        """Run the Test of the claimed webhook `uuid` and remember what it said."""
        try:
            resource = await self._client.webhook_by_id(uuid)
            webhook, report = await run_webhook_test(
                self._client, resource, github_api_url=self._github_api_url, clock=self._clock
            )
        except BrokerError as error:
            # Or the next person within the minute reads "still running" of a Test that failed.
            await self._remember(uuid, {"by": by, "headline": None, "error": str(error)})
            raise
        log.info("webhook Test by %s: %s", by, report.headline, extra={"webhook": uuid})
        await self._remember(uuid, {"by": by, "headline": report.headline})
        if report.passed:
            await self._remember_pass(uuid)
        if report.answer.headers:  # hidden by the broker, it says nothing of the token
            await self.remember_expiry([uuid], report.expires)
        return webhook, report

    async def _remember_pass(self, uuid: str) -> None:
        now = self._clock()
        try:
            for _ in range(_TRIES):
                found = await self._store.get(PASSED)
                kept = {
                    other: at
                    for other, at in (found.value if found else {}).items()
                    if now - datetime.fromisoformat(str(at)) < EXPIRY_KEPT
                }
                value = kept | {uuid: now.isoformat()}
                if await self._store.put(PASSED, value, expected=found.version if found else None):
                    return
        except StoreUnavailable as error:  # the Test ran: its result matters more
            log.warning("the passed Test of %s is not remembered: %s", uuid, error)
            return
        log.warning("the passed Test of %s is not remembered: the store kept changing", uuid)

    async def expiries(self, uuids: Iterable[str]) -> dict[str, datetime]:
        """When GitHub last said each webhook's token expires, for those that expire."""
        found = {}
        for uuid in uuids:
            kept = await self._store.get_value(f"{_EXPIRY}:{uuid}")
            if kept and kept.get("expires"):
                found[uuid] = datetime.fromisoformat(str(kept["expires"]))
        return found

    async def remember_expiry(self, uuids: Iterable[str], expires: datetime | None) -> None:
        """For the weekly lint: only a Test (the webhook's, or its canary's) shows GitHub's
        headers about the token the webhooks `uuids` send."""
        record = {"expires": expires.isoformat() if expires else None}
        for uuid in uuids:
            try:
                await self._store.set_value(f"{_EXPIRY}:{uuid}", record, EXPIRY_KEPT)
            except StoreUnavailable as error:  # the Test ran: its result matters more
                log.warning("the token expiry of %s is not remembered: %s", uuid, error)

    async def _remember(self, uuid: str, outcome: dict[str, str | None]) -> None:
        record: dict[str, str | None] = {"at": self._clock().isoformat(), **outcome}
        await self._store.set_value(f"test-last:{uuid}", record, ONE_TEST_PER)


def passed_tests(found: Document | None) -> dict[str, datetime]:
    """When a Test of each webhook last passed, from the `PASSED` document: the broker records
    no Test, so this is the only place a rotation's passing re-test is seen until the next real
    dispatch."""
    value = found.value if found else {}
    return {uuid: datetime.fromisoformat(str(at)) for uuid, at in value.items()}
