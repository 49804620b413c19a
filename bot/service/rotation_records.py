"""The rotations as the store keeps them: one document, read and written whole.

Rotations are few (one per webhook at a time), so one document makes "one active rotation per
webhook" and "a double click moves one step" plain compare-and-set: of two writers, one wins
and the other reads again and finds the rotation moved on.

The document also holds the lines each move still has to say (its audit entry and its line in
the message's thread), written with the move itself: a process that dies between the move and
its line leaves the line for another to say, and its mark lets that one find it in Slack
rather than say it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from bot.domain.rotation import LastRotation, Outcome, Rotation
from bot.store import Document, Json

ROTATIONS = "rotations"
AUDIT = "rotations"


class Line(BaseModel):
    """What a move still has to say: its audit entry, then its line in the thread (none
    while the rotation has no message)."""

    model_config = ConfigDict(frozen=True)

    id: str  # the mark its Slack message carries
    rotation: str
    audit: dict[str, Any]
    by: str
    said: str
    at: AwareDatetime
    channel: str
    thread_ts: str | None = None
    tried: bool = False  # someone began saying it: look in Slack before saying it again
    until: AwareDatetime | None = None  # someone is saying it now, until then


class Unshown(BaseModel):
    """A rotation whose message Slack did not update when it moved, and when."""

    model_config = ConfigDict(frozen=True)

    rotation: str
    at: AwareDatetime


class RotationBook(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Active rotations, and finished ones whose held-up pairs are still watched.
    open: tuple[Rotation, ...] = ()
    last: tuple[LastRotation, ...] = ()
    # The lines the moves have still to say, oldest first.
    lines: tuple[Line, ...] = ()
    # The messages to show again as their rotation stands (the leader's `watch` does).
    unshown: tuple[Unshown, ...] = ()

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

    def swept(self, now: datetime) -> RotationBook:
        """The book without the rotations it no longer keeps (see `Rotation.kept`)."""
        return self.model_copy(update={"open": tuple(r for r in self.open if r.kept(now))})

    def line(self, line_id: str) -> Line | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def with_line(self, line: Line) -> RotationBook:
        """The book with `line` to say, or `line` as it is now if it was there already."""
        if self.line(line.id) is None:
            return self.model_copy(update={"lines": (*self.lines, line)})
        lines = tuple(line if kept.id == line.id else kept for kept in self.lines)
        return self.model_copy(update={"lines": lines})

    def without_line(self, line_id: str) -> RotationBook:
        return self.model_copy(update={"lines": tuple(k for k in self.lines if k.id != line_id)})

    def with_unshown(self, rotation_id: str, at: datetime) -> RotationBook:
        kept = tuple(u for u in self.unshown if u.rotation != rotation_id)
        return self.model_copy(update={"unshown": (*kept, Unshown(rotation=rotation_id, at=at))})

    def shown(self, unshown: Unshown) -> RotationBook:
        """The book without `unshown`, unless a later edit failed since."""
        return self.model_copy(update={"unshown": tuple(u for u in self.unshown if u != unshown)})

    def without(self, rotation_id: str) -> RotationBook:
        return self.model_copy(update={"open": tuple(r for r in self.open if r.id != rotation_id)})

    def dump(self) -> Json:
        return self.model_dump(mode="json")


def load_rotations(found: Document | None) -> RotationBook:
    return RotationBook.model_validate(found.value) if found else RotationBook()
