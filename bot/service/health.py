"""What `/readyz` reports: each dependency's last check, and problems a person must fix.

Either makes pactbot unready (503); `/healthz` only says the process is alive, so a container
with a problem is not restarted for it, which would fix nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

# The dependencies `pactbot serve` needs to do its job; each must have answered its last check.
DEPENDENCIES = ("broker", "store", "slack")


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str
    at: datetime


class Health:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.checks: dict[str, Check] = {}
        self.problems: dict[str, str] = {}
        # What the broker's credentials may not read: named, but no reason to be unready
        # (the pairs are judged all the same).
        self.not_visible: list[str] = []

    def record(self, name: str, ok: bool, detail: str = "ok") -> None:
        self.checks[name] = Check(ok, detail, self._clock())

    def problem(self, key: str, text: str) -> None:
        """Note a problem that stops part of the job (the digest cannot post); log it once."""
        if self.problems.get(key) != text:
            log.error("%s", text)
        self.problems[key] = text

    def solved(self, key: str) -> None:
        self.problems.pop(key, None)

    def partial(self, notes: list[str]) -> None:
        """Note what the last broker read could not see; log it when it changes."""
        if notes != self.not_visible:
            for note in notes:
                log.warning("not visible to pactbot: %s", note)
        self.not_visible = notes

    @property
    def ready(self) -> bool:
        """Every dependency answered its last check, and no problem a person must fix stands."""
        answered = all(name in self.checks and self.checks[name].ok for name in DEPENDENCIES)
        return answered and not self.problems

    def report(self) -> dict[str, Any]:
        checks = {
            name: {"ok": check.ok, "detail": check.detail, "at": check.at.isoformat()}
            for name, check in self.checks.items()
        }
        for name in DEPENDENCIES:
            checks.setdefault(name, {"ok": False, "detail": "not checked yet", "at": None})
        return {
            "ready": self.ready,
            "checks": checks,
            "problems": sorted(self.problems.values()),
            "not_visible": self.not_visible,
        }
