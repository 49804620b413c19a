"""Answers that only change with the report: built once per report, then served as they are.

During an incident many people type the same `/pact status`; between two broker reads the
answer cannot change, and Slack wants it within 3 s.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.blocks.limits import Message
from bot.blocks.status import build_status
from bot.domain.report import Report
from bot.domain.rotation import NONE_ROTATED, Rotated

_KEPT = 128


class StatusAnswers:
    def __init__(self) -> None:
        self._report: Report | None = None
        self._rotated = NONE_ROTATED
        self._answers: OrderedDict[str, Message] = OrderedDict()

    def get(self, report: Report, query: str, rotated: Rotated) -> Message:
        """The status message of `report` for `query`."""
        if report is not self._report or rotated != self._rotated:
            self._report, self._rotated = report, rotated
            self._answers.clear()
        key = query.strip().lower()
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = build_status(report, query=query, rotated=rotated)
            while len(self._answers) > _KEPT:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        return answer
