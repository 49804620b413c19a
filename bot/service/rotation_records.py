"""The rotations as the store keeps them: one document, read and written whole.

Rotations are few (one per webhook at a time), so one document makes "one active rotation per
webhook" and "a double click moves one step" plain compare-and-set: of two writers, one wins
and the other reads again and finds the rotation moved on.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.rotation import LastRotation, Outcome, Rotation
from bot.store import Document, Json

ROTATIONS = "rotations"
AUDIT = "rotations"


class RotationBook(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Active rotations, and finished ones whose held-up pairs are still watched.
    open: tuple[Rotation, ...] = ()
    last: tuple[LastRotation, ...] = ()

    def find(self, rotation_id: str) -> Rotation | None:
        return next((r for r in self.open if r.id == rotation_id), None)

    def active_for(self, webhook: str) -> Rotation | None:
        return next((r for r in self.open if r.webhook == webhook and r.active), None)

    def with_rotation(self, rotation: Rotation, now: datetime) -> RotationBook:
        """The book with `rotation` as it is now; a finished one becomes its webhook's last."""
        # Rotations over for a while go, whichever one is written: the document stays small.
        others = tuple(r for r in self.open if r.id != rotation.id and r.kept(now))
        last = self.last
        if rotation.outcome is Outcome.FINISHED and rotation.ended_by and rotation.ended_at:
            done = LastRotation(
                webhook=rotation.webhook,
                id=rotation.id,
                by=rotation.ended_by,
                started_at=rotation.started_at,
                ended_at=rotation.ended_at,
            )
            last = (*(kept for kept in last if kept.webhook != rotation.webhook), done)
        kept = rotation.kept(now)
        return self.model_copy(
            update={"open": (*others, rotation) if kept else others, "last": last}
        )

    def without(self, rotation_id: str) -> RotationBook:
        return self.model_copy(update={"open": tuple(r for r in self.open if r.id != rotation_id)})

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_rotations(found: Document | None) -> RotationBook:
    return RotationBook.model_validate(found.value) if found else RotationBook()
