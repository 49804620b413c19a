"""The alerts and silences as the store keeps them: one document each, read and written whole.

One document means one read and one compare-and-set write per evaluation, whatever the number
of pairs. Its outbox holds the Slack steps decided but not yet done, in order; its claim says
which replica is doing them, and until when, so that no other does them too while it lives,
and one that finds the claim run out finishes them instead of deciding again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from bot.domain.alerts import Action, Alert, AlertState, Silence
from bot.domain.model import PairKey
from bot.store import Document, Json

ALERTS = "alerts"
SILENCES = "silences"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Watched(_Record):
    pair: PairKey
    since: AwareDatetime


class WatchedHook(_Record):
    webhook: str
    since: AwareDatetime


class Pending(_Record):
    action: Action
    # Tried before, and Slack may have taken it: look for its message before doing it again.
    tried: bool = False
    # When its last try failed: a call whose answer never came may still reach Slack.
    failed_at: AwareDatetime | None = None


class Claim(_Record):
    holder: str
    until: AwareDatetime


class AlertRecord(_Record):
    watch: tuple[Watched, ...] = ()
    hooks: tuple[WatchedHook, ...] = ()
    broker_down_since: AwareDatetime | None = None
    alerts: tuple[Alert, ...] = ()
    outbox: tuple[Pending, ...] = ()
    claim: Claim | None = None

    @property
    def state(self) -> AlertState:
        return AlertState(
            watch={watched.pair: watched.since for watched in self.watch},
            hooks={watched.webhook: watched.since for watched in self.hooks},
            broker_down_since=self.broker_down_since,
            alerts=self.alerts,
        )

    def claimed_by_other(self, holder: str, now: datetime) -> bool:
        return self.claim is not None and self.claim.holder != holder and now < self.claim.until

    def with_state(self, state: AlertState) -> AlertRecord:
        watch = tuple(
            Watched(pair=pair, since=since) for pair, since in sorted(state.watch.items())
        )
        hooks = tuple(
            WatchedHook(webhook=uuid, since=since) for uuid, since in sorted(state.hooks.items())
        )
        return self.model_copy(
            update={
                "watch": watch,
                "hooks": hooks,
                "broker_down_since": state.broker_down_since,
                "alerts": state.alerts,
            }
        )

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_alerts(found: Document | None) -> AlertRecord:
    return AlertRecord.model_validate(found.value) if found else AlertRecord()


class SilenceRecord(_Record):
    silences: tuple[Silence, ...] = ()

    def kept(self, now: datetime, keep: timedelta) -> list[Silence]:
        """The silences in force or ended less than `keep` ago (`retention.silences`)."""
        return [silence for silence in self.silences if now - silence.ends_at < keep]

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_silences(found: Document | None) -> SilenceRecord:
    return SilenceRecord.model_validate(found.value) if found else SilenceRecord()
