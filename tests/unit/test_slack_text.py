"""The digest as plain text, the way `pactbot digest` and the demo print it."""

from __future__ import annotations

import re

from bot.blocks.digest import build_digest
from bot.blocks.webhook import build_result
from bot.domain.report import Report
from bot.render.slack_text import messages_text
from tests.helpers.reports import (
    DAY,
    HOSTILE,
    NOW,
    ONCALL,
    dispatch_of,
    failing_test,
    hostile_report,
    large_report,
    sample_report,
)


def _digest_text(report: Report) -> str:
    return messages_text(build_digest(report, day=DAY))


def test_the_header_opens_the_text_as_a_rule() -> None:
    assert _digest_text(sample_report()).splitlines()[0] == "━━ Pact freshness · Tue 1 Dec 2026 ━━"


def test_state_marks_show_as_emoji_and_no_emoji_code_is_left() -> None:
    text = _digest_text(sample_report())

    for emoji in ("🚨", "🔴", "⚫", "❌", "⏳", "💤", "🟢"):
        assert emoji in text
    assert "Checkout Web → Pricing Service · 🔴 stale" in text
    assert re.findall(r":[a-z_]+:", text) == []


def test_bold_marks_are_dropped() -> None:
    text = _digest_text(sample_report())

    assert "*" not in text
    assert "⏳ pending (1)\n• Checkout Web → Inventory Service (waiting 2h)" in text


def test_slack_dates_show_as_their_fallback() -> None:
    text = _digest_text(sample_report())

    assert "<!date" not in text
    assert "token dead (401) since 2026-11-29 09:00 UTC" in text
    assert text.splitlines()[-1] == "  As of 2026-12-01 09:00 UTC · `/pact status` for every pair"


def test_escaped_names_read_as_they_were_typed() -> None:
    text = _digest_text(hostile_report())

    assert "Checkout Web <!channel> & <@U123> <https://evil.example|Approve> bold → " in text
    assert [entity for entity in ("&lt;", "&gt;", "&amp;") if entity in text] == []
    assert HOSTILE.replace("*", "") in text


def test_buttons_show_as_their_label_in_brackets() -> None:
    lines = _digest_text(sample_report()).splitlines()
    webhook = dispatch_of(sample_report())
    result = messages_text([build_result(webhook, failing_test(webhook), by=ONCALL, at=NOW)])

    assert lines[2].endswith("2 pairs waiting behind it  [Run webhook test]")
    assert sum(line.endswith("  [Run webhook test]") for line in lines) == 1
    assert result.splitlines()[-1] == "[Run again] [Start rotation]"


def test_mentions_pactbot_writes_show_as_at_names() -> None:
    webhook = dispatch_of(sample_report())
    result = messages_text([build_result(webhook, failing_test(webhook), by=ONCALL, at=NOW)])

    assert (
        "  Run by @U0ONCALL 2026-12-01 09:00 UTC · a Test records nothing in the broker" in result
    )


def test_thread_replies_are_indented_under_the_first_message() -> None:
    messages = build_digest(large_report(), day=DAY)
    first, *replies = messages_text(messages).split("\n\n")

    assert len(replies) == len(messages) - 1
    assert "↳" not in first
    assert first.splitlines()[-2].startswith("_…and ")
    assert first.splitlines()[-2].endswith(" more sections in the thread._")
    for number, reply in enumerate(replies, start=2):
        lines = reply.strip("\n").splitlines()
        assert all(line.startswith("    ↳ ") for line in lines)
        assert (
            lines[0]
            == f"    ↳   Pact freshness · Tue 1 Dec 2026 · part {number} of {len(messages)}"
        )


def test_a_digest_without_problems_reads_as_such() -> None:
    report = sample_report()
    healthy = Report(report.taken_at, report.rows[-2:], ())

    assert _digest_text(healthy).splitlines()[1:3] == [
        "  2 pairs: 1 idle · 1 fresh",
        "✅ Nothing waits too long for a verification.",
    ]
