"""The alerts and silences as the store keeps them: one document each, read and written whole.

One document means one read and one compare-and-set write per evaluation, whatever the number
of pairs; its outbox holds the Slack steps decided but not yet done, so that a replica that
takes over finishes them instead of deciding again.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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


class AlertRecord(_Record):
    watch: tuple[Watched, ...] = ()
    broker_down_since: AwareDatetime | None = None
    broker_error: str | None = None
    alerts: tuple[Alert, ...] = ()
    outbox: tuple[Action, ...] = ()
    # When the outbox was written: Slack's history is searched from here after a takeover.
    outbox_at: AwareDatetime | None = None

    @property
    def state(self) -> AlertState:
        return AlertState(
            watch={watched.pair: watched.since for watched in self.watch},
            broker_down_since=self.broker_down_since,
            broker_error=self.broker_error,
            alerts=self.alerts,
        )

    @classmethod
    def of(
        cls, state: AlertState, outbox: tuple[Action, ...] = (), at: datetime | None = None
    ) -> AlertRecord:
        return cls(
            watch=tuple(
                Watched(pair=pair, since=since) for pair, since in sorted(state.watch.items())
            ),
            broker_down_since=state.broker_down_since,
            broker_error=state.broker_error,
            alerts=state.alerts,
            outbox=outbox,
            outbox_at=at if outbox else None,
        )

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_alerts(found: Document | None) -> AlertRecord:
    return AlertRecord.model_validate(found.value) if found else AlertRecord()


class SilenceRecord(_Record):
    silences: tuple[Silence, ...] = Field(default=())

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_silences(found: Document | None) -> SilenceRecord:
    return SilenceRecord.model_validate(found.value) if found else SilenceRecord()
