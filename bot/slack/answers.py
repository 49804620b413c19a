"""Answers that only change with the report: built once per report, then served as they are.

During an incident many people type the same `/pact status`; between two broker reads the
answer cannot change, and Slack wants it within 3 s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from bot.blocks.limits import Message
from bot.blocks.status import build_status
from bot.domain.model import PairKey, Webhook
from bot.domain.report import Report
from bot.domain.rotation import NONE_ROTATED, Rotated

_KEPT = 128


class WebhookOncall:
    """Who may rotate each webhook's token: the on-call groups of its pairs' routes, found
    once per report. Working them out walks every pair, and a dead token brings a burst of
    "Start rotation" clicks."""

    def __init__(self) -> None:
        self._report: Report | None = None
        self._groups: dict[str, tuple[str, ...]] = {}

    def get(
        self,
        report: Report,
        webhook: Webhook,
        oncall_of_any: Callable[[Iterable[PairKey]], tuple[str, ...]],
    ) -> tuple[str, ...]:
        if report is not self._report:
            self._report = report
            self._groups.clear()
        groups = self._groups.get(webhook.uuid)
        if groups is None:
            covered = (row.key for row in report.covered(webhook.scope))
            groups = self._groups[webhook.uuid] = oncall_of_any(covered)
        return groups


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
