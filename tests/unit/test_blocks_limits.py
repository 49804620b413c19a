"""Slack's platform rules on everything pactbot renders: nothing a name says pings anyone, and
every message and view keeps within Block Kit's limits (shared/slack-platform.md, 7 and 8)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta
from functools import cache

import pytest

from bot.blocks import kit, mrkdwn
from bot.blocks.digest import build_digest
from bot.blocks.home import build_home
from bot.blocks.status import build_status
from bot.blocks.webhook import build_choice
from bot.domain.freshness import State
from bot.domain.report import Report
from tests.helpers.reports import (
    DAY,
    HOSTILE,
    ONCALL,
    ONCALL_GROUP,
    Payload,
    dispatch_webhook,
    hostile_report,
    large_report,
    rendered,
    text_objects,
    walk,
)

ESCAPED = "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.example|Approve&gt; *bold*"
# What pactbot writes on purpose: dates, the person who ran a Test, the on-call group, the
# channel an alert is in.
_OWN_MARKUP = re.compile(
    r"<!date\^\d+\^[^|>]*\|[^<>]*>|<#C0DIGEST>"
    + f"|<@{ONCALL}>|<!subteam\\^{ONCALL_GROUP}>"
    # Links pactbot writes itself, to GitHub, Slack and the broker; their labels are escaped.
    + r"|<https://(?:github\.com|slack\.com|broker\.example)/[^|<>\s]*\|[^<>|]*>"
)
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")
_PINGS = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam^", "<https://evil")


@cache
def _hostile() -> dict[str, Payload]:
    return rendered(hostile_report(), said=HOSTILE)


@cache
def _large() -> Report:
    return large_report(pairs=5000)


def _inert(text: str) -> list[str]:
    """What in mrkdwn `text` Slack would still parse, beyond pactbot's own markup."""
    rest = _OWN_MARKUP.sub("", text)
    found = [ping for ping in _PINGS if ping in rest]
    found += [f"stray {char!r}" for char in "<>" if char in rest]
    found += ["a bare &"] if _BARE_AMPERSAND.search(rest) else []
    return found


HOSTILE_NAMES = sorted(rendered(hostile_report(), said=HOSTILE))
# Top-level text that names a webhook or repeats outside text as it came.


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_no_name_in_the_blocks_pings_anyone_or_spoofs_a_link(name: str) -> None:
    payload = _hostile()[name]

    for text in text_objects(payload):
        if text["type"] == "mrkdwn":
            assert _inert(text["text"]) == [], text["text"]
        else:  # plain_text is never parsed; pactbot puts no outside text there anyway
            assert not any(mark in text["text"] for mark in ("<!", "<@"))


@pytest.mark.parametrize(
    "name",
    [name for name in HOSTILE_NAMES if not name.startswith("home")],  # views have no text
)
def test_no_name_in_the_top_level_text_pings_anyone(name: str) -> None:
    assert _inert(_hostile()[name]["text"]) == []


@pytest.mark.parametrize(
    "name",
    [
        "digest 1",
        "digest failure",
        "status",
        "status with a query",
        "status without a match",
        "running",
        "failing test",
        "passing test",
        "choice",
        "recent test",
        "recent test still running",
        "help after a typo",
        "notice",
        "home",
        "home failure",
    ],
)
def test_hostile_names_show_as_typed(name: str) -> None:
    texts = "\n".join(text["text"] for text in text_objects(_hostile()[name]))

    assert ESCAPED in texts


def test_the_status_query_is_echoed_escaped() -> None:
    texts = "\n".join(text["text"] for text in text_objects(_hostile()["status with a query"]))

    assert "matching “Pricing Service &lt;!channel&gt; &amp;" in texts


@pytest.mark.parametrize(
    ("name", "mention"),
    [
        ("failing test", f"Run by <@{ONCALL}>"),
        ("passing test", f"Run by <@{ONCALL}>"),
        ("recent test", f"(by <@{ONCALL}>)"),
        ("refusal", f"Only <!subteam^{ONCALL_GROUP}> may run"),
    ],
)
def test_the_mentions_pactbot_writes_on_purpose_stay_mentions(name: str, mention: str) -> None:
    texts = "\n".join(text["text"] for text in text_objects(_hostile()[name]))

    assert mention in texts


# Block Kit limits -------------------------------------------------------------------------


def _limit_breaches(payload: Payload, max_blocks: int) -> list[str]:
    """Every Block Kit limit `payload` breaks, as sentences."""
    blocks = payload["blocks"]
    found = [f"{len(blocks)} blocks"] if len(blocks) > max_blocks else []
    for block in blocks:
        kind = block["type"]
        if kind in ("section", "header") and "text" in block:
            limit = 3000 if kind == "section" else 150
            if len(block["text"]["text"]) > limit:
                found.append(f"a {kind} of {len(block['text']['text'])} characters")
        if kind == "context" and len(block["elements"]) > 10:
            found.append("a context of more than 10 elements")
        if kind == "actions" and len(block["elements"]) > 25:
            found.append("an actions block of more than 25 elements")
    for element in walk(blocks):
        if element.get("type") == "button":
            if len(element["text"]["text"]) > 75:
                found.append(f"button text {element['text']['text']!r}")
            if len(element.get("value", "")) > 2000:
                found.append("a button value over 2000 characters")
            if element.get("style") not in (None, "primary", "danger"):
                found.append(f"button style {element['style']!r}")
        for key in ("action_id", "block_id"):
            if len(element.get(key, "")) > 255:
                found.append(f"an {key} over 255 characters")
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    if len(block_ids) != len(set(block_ids)):
        found.append("repeated block_ids")
    if "text" in payload and len(payload["text"]) > 4000:
        found.append(f"top-level text of {len(payload['text'])} characters")
    return found


def _payloads(report: Report) -> list[Payload]:
    return [message.payload() for message in build_digest(report, day=DAY)]


def test_every_digest_message_keeps_within_the_limits() -> None:
    messages = _payloads(_large())

    assert len(messages) > 2
    for payload in messages:
        assert _limit_breaches(payload, max_blocks=50) == []


@pytest.mark.parametrize("name", sorted(rendered(_large())))
def test_every_builder_keeps_within_the_limits_for_5000_pairs(name: str) -> None:
    payload = rendered(_large())[name]
    max_blocks = 100 if payload.get("type") == "home" else 50

    assert _limit_breaches(payload, max_blocks) == []


def test_the_first_digest_message_says_how_many_sections_are_in_the_thread() -> None:
    first, *replies = _payloads(_large())
    in_thread = sum(len(reply["blocks"]) - 1 for reply in replies)  # each opens with "part n"

    assert f"_…and {in_thread} more sections in the thread._" in [
        text["text"] for text in text_objects(first)
    ]
    assert [reply["blocks"][0]["elements"][0]["text"] for reply in replies][:2] == [
        f"Pact freshness · Tue 1 Dec 2026 · part 2 of {len(replies) + 1}",
        f"Pact freshness · Tue 1 Dec 2026 · part 3 of {len(replies) + 1}",
    ]


_PROBLEM_LINE = re.compile(r"^\*(?P<name>.+ → .+?)\* · ")
_COMPACT_LINE = re.compile(r"^• (?P<name>.+ → .+?)(?: \(waiting [^)]+\)| · .*)?$")


def _pairs_shown(payloads: list[Payload]) -> Counter[str]:
    shown: Counter[str] = Counter()
    for payload in payloads:
        for text in text_objects(payload):
            for line in text["text"].splitlines():
                if found := _PROBLEM_LINE.match(line) or _COMPACT_LINE.match(line):
                    shown[found["name"]] += 1
    return shown


def test_every_pair_appears_once_across_the_message_and_its_thread() -> None:
    report = _large()
    names = Counter(
        f"{mrkdwn.escape(row.key.consumer)} → {mrkdwn.escape(row.key.provider)}"
        for row in report.rows
    )

    assert len(names) == 5000
    assert _pairs_shown(_payloads(report)) == names


def test_the_failing_webhook_and_the_stale_pairs_open_the_digest() -> None:
    first = _payloads(_large())[0]["blocks"]

    assert first[2]["text"]["text"].startswith(
        ":rotating_light: *Webhook* “Verify the first provider”"
    )
    assert "51 pairs waiting behind it" in first[2]["text"]["text"]  # 50 stale, 1 never verified
    # Thirty problem pairs in full, then one line each.
    assert all(":red_circle: stale" in block["text"]["text"] for block in first[3:33])
    assert first[33]["text"]["text"].startswith("*…and ")


def _healthy(report: Report) -> Report:
    rows = tuple(row for row in report.rows if row.state in (State.FRESH, State.IDLE))
    return Report(report.taken_at, rows, ())


def test_a_large_digest_without_problems_keeps_its_first_message_within_50_blocks() -> None:
    first = _payloads(_healthy(_large()))[0]

    assert len(first["blocks"]) <= 50


def test_app_home_keeps_within_100_blocks_and_says_how_many_more() -> None:
    home = build_home(_large())
    first, *replies = _payloads(_large())
    sections = len(first["blocks"]) - 4 + sum(len(reply["blocks"]) - 1 for reply in replies)
    texts = [text["text"] for text in text_objects(home)]
    more = [text for text in texts if text.startswith("…and ")]

    assert len(home["blocks"]) == 100
    assert more == [
        f"…and {sections - 95} more sections: `/pact status &lt;name&gt;` finds any pair"
    ]


def test_app_home_stays_under_slacks_250_kb_view_size() -> None:
    home = build_home(_healthy(_large()))

    assert len(json.dumps(home, ensure_ascii=False).encode()) <= 250_000


def test_status_keeps_within_50_blocks_and_says_to_narrow_it_down() -> None:
    status = build_status(_large()).payload()
    texts = [text["text"] for text in text_objects(status)]

    assert len(status["blocks"]) == 50
    assert "…and 4953 more: narrow it down with `/pact status &lt;name&gt;`" in texts
    assert status["text"] == "Pact status: 5000 pairs, 101 stale or never verified"


def test_a_long_choice_of_webhooks_keeps_within_50_blocks() -> None:
    webhooks = [
        dispatch_webhook(f"uuid-{n:03d}", f"Verify provider {n}", f"provider-{n}", f"repo-{n}")
        for n in range(60)
    ]
    choice = build_choice(webhooks, kit.test_button, "test").payload()

    assert len(choice["blocks"]) == 50
    assert _limit_breaches(choice, max_blocks=50) == []
    assert choice["blocks"][0]["text"]["text"] == "60 webhooks dispatch to GitHub. Which one?"


def test_pactbots_own_hints_escape_their_angle_brackets() -> None:
    webhooks = [dispatch_webhook(f"uuid-{n:03d}", "", None, f"repo-{n}") for n in range(60)]
    payloads = [build_status(_large()).payload(), build_home(_large())]
    payloads.append(build_choice(webhooks, kit.test_button, "test").payload())

    for payload in payloads:
        for text in text_objects(payload):
            assert _inert(text["text"]) == [], text["text"]


def test_a_name_longer_than_a_section_is_clipped_not_refused() -> None:
    report = hostile_report()
    giant = rendered(report, said="x" * 10_000)

    for name in ("digest failure", "status without a match", "notice", "home failure"):
        payload = giant[name]
        assert _limit_breaches(payload, 100 if payload.get("type") == "home" else 50) == []


def test_the_digest_failure_retry_time_is_a_slack_date() -> None:
    text = text_objects(_hostile()["digest failure"])[1]["text"]
    retry = int((hostile_report().taken_at + timedelta(minutes=15)).timestamp())

    assert f"<!date^{retry}^{{time}}|2026-12-01 09:15 UTC>" in text
