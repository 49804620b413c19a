"""Golden Block Kit JSON of every message and view pactbot posts, and what each must say.

A golden changes only on purpose: run `PACTBOT_UPDATE_GOLDEN=1 pytest tests/unit/test_blocks.py`,
review the diff of tests/golden/, then run again without the variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.blocks.digest import build_digest, build_digest_failure
from bot.blocks.help import build_help
from bot.blocks.home import build_home
from bot.blocks.status import build_status
from bot.blocks.webhook import build_result
from bot.domain.command import Invalid, parse
from bot.domain.freshness import State
from bot.domain.report import Report
from tests.helpers.reports import (
    DAY,
    NOW,
    ONCALL,
    Payload,
    action_ids,
    dispatch_of,
    failing_test,
    passing_test,
    rendered,
    rotation_messages,
    sample_report,
    text_objects,
    walk,
)

GOLDEN = Path(__file__).parent.parent / "golden"
# Read at import: the autouse fixture of tests/conftest.py clears PACTBOT_* before each test.
UPDATE = os.environ.get("PACTBOT_UPDATE_GOLDEN") == "1"


def _digest() -> list[Payload]:
    return [message.payload() for message in build_digest(sample_report(), day=DAY)]


def _result(test: Callable[..., Any]) -> Payload:
    webhook = dispatch_of(sample_report())
    return build_result(webhook, test(webhook), by=ONCALL, at=NOW).payload()


def _help_after(text: str) -> Payload:
    parsed = parse(text)
    assert isinstance(parsed, Invalid)
    return build_help(parsed).payload()


def _rotation(name: str) -> Payload:
    return rotation_messages(sample_report(), "pactflow-acme")[name].payload()


BUILT: dict[str, Callable[[], Any]] = {
    "digest": _digest,
    "status": lambda: build_status(sample_report()).payload(),
    "home": lambda: build_home(sample_report()),
    "test_result_failing": lambda: _result(failing_test),
    "test_result_passing": lambda: _result(passing_test),
    "help": lambda: build_help().payload(),
    "help_after_a_typo": lambda: _help_after("statsu"),
    "rotation_watching": lambda: _rotation("rotation watching"),
    "rotation_generate": lambda: _rotation("rotation step 3"),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_the_message_looks_like_its_golden(name: str) -> None:
    built = BUILT[name]()
    golden = GOLDEN / f"{name}.json"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(built, indent=2, ensure_ascii=False) + "\n", "utf-8")
        pytest.fail(
            f"rewrote {golden.name}: review the diff, then run without PACTBOT_UPDATE_GOLDEN"
        )

    assert built == json.loads(golden.read_text("utf-8"))


def _texts(payloads: list[Payload] | Payload) -> str:
    found = payloads if isinstance(payloads, list) else [payloads]
    return "\n".join(text["text"] for payload in found for text in text_objects(payload))


def test_the_digest_shows_every_state_and_the_failing_webhook_first() -> None:
    digest = _digest()
    blocks = digest[0]["blocks"]
    texts = _texts(digest)

    assert len(digest) == 1
    assert blocks[0]["type"] == "header"
    assert blocks[2]["text"]["text"].startswith(
        ":rotating_light: *Webhook* “Verify Pricing Service”"
    )
    assert "token dead (401)" in blocks[2]["text"]["text"]
    assert "2 pairs waiting behind it" in blocks[2]["text"]["text"]
    for label in ("stale", "never verified", "failing", "pending", "idle", "fresh"):
        assert label in texts


def test_the_digest_lists_problem_pairs_before_healthy_ones() -> None:
    texts = _texts(_digest())
    order = [
        "Checkout Web → Pricing Service",  # stale the longest
        "Mobile App → Pricing Service",  # stale
        "Admin Portal → Inventory Service",  # never verified
        "Checkout Web → Payments API",  # failing
        "Checkout Web → Inventory Service",  # pending
        "Mobile App → Search API",  # idle
        "Admin Portal → User Service",  # fresh
    ]

    positions = [texts.index(name) for name in order]

    assert positions == sorted(positions)


def test_one_run_webhook_test_button_per_dead_dispatch_not_one_per_pair_behind_it() -> None:
    blocks = _digest()[0]["blocks"]
    with_button = [
        block["text"]["text"].splitlines()[0]
        for block in blocks
        if block.get("accessory", {}).get("action_id") is not None
    ]

    assert len(with_button) == 1
    assert with_button[0].startswith(":rotating_light: *Webhook* “Verify Pricing Service”")
    assert {block["accessory"]["value"] for block in blocks if "accessory" in block} == {
        dispatch_of(sample_report()).uuid
    }


def test_only_a_failing_test_offers_run_again_and_start_rotation() -> None:
    failing = _result(failing_test)
    passing = _result(passing_test)
    labels = [
        found["text"]["text"] for found in walk(failing["blocks"]) if found.get("type") == "button"
    ]

    assert labels == ["Run again", "Start rotation"]
    assert action_ids(passing) == set()
    assert "<@U0ONCALL>" in _texts(passing)
    assert "the token expires on 2026-12-11, in 10d: rotate it before" in _texts(passing)


def test_app_home_offers_refresh_and_nothing_else_but_the_test_buttons() -> None:
    home = build_home(sample_report())
    buttons = [found for found in walk(home["blocks"]) if found.get("type") == "button"]

    assert home["type"] == "home"
    assert buttons[0]["text"]["text"] == "Refresh"
    assert {button["text"]["text"] for button in buttons[1:]} == {"Run webhook test"}


def test_status_and_help_carry_no_buttons() -> None:
    for name in ("status", "status with a query", "help", "help after a typo"):
        assert action_ids(rendered(sample_report())[name]) == set(), name


def test_every_message_has_a_top_level_text_fallback() -> None:
    for name, payload in rendered(sample_report()).items():
        if payload.get("type") != "home":  # views have no fallback; messages must
            assert payload["text"].strip(), name


def test_the_digest_and_status_fallbacks_say_the_counts() -> None:
    digest = _digest()[0]["text"]
    status = build_status(sample_report()).payload()["text"]

    assert digest == (
        "Pact freshness · Tue 1 Dec 2026: 7 pairs: 2 stale · 1 never verified · 1 failing · "
        "1 pending · 1 idle · 1 fresh · 1 webhook failing"
    )
    assert status == "Pact status: 7 pairs, 3 stale or never verified"


def _healthy(report: Report) -> Report:
    rows = tuple(row for row in report.rows if row.state in (State.FRESH, State.IDLE))
    views = tuple(view for view in report.webhooks if not view.health.failing)
    return Report(report.taken_at, rows, views)


def test_a_report_without_problems_says_nothing_waits_too_long() -> None:
    digest = build_digest(_healthy(sample_report()), day=DAY)
    texts = _texts([message.payload() for message in digest])

    assert ":white_check_mark: Nothing waits too long for a verification." in texts
    assert digest[0].text.endswith("2 pairs: 1 idle · 1 fresh")
    assert action_ids(digest[0].payload()) == set()


def test_a_broker_that_lists_no_pairs_is_never_read_as_healthy() -> None:
    empty = Report(NOW, (), ())
    wanted = (
        ":warning: *The Pact Broker lists no pairs*: check PACT_BROKER_BASE_URL, with the path "
        "prefix if the broker sits behind a proxy (https://proxy.example.com/pact)."
    )

    for payload in (
        build_digest(empty, day=DAY)[0].payload(),
        build_status(empty).payload(),
        build_status(empty, query="orders").payload(),
        build_home(empty),
    ):
        texts = _texts([payload])
        assert wanted in texts
        assert "Nothing waits too long" not in texts


def test_a_report_with_problems_never_says_nothing_waits() -> None:
    assert "Nothing waits too long" not in _texts(_digest())


def test_a_broker_that_cannot_be_read_is_said_with_the_time_of_the_next_try() -> None:
    retry = NOW + timedelta(minutes=15)
    failure = build_digest_failure("connection refused", day=DAY, retry_at=retry).payload()
    texts = _texts(failure)

    assert failure["text"] == "Pact freshness · Tue 1 Dec 2026: the Pact Broker could not be read"
    assert "The Pact Broker could not be read for today's digest: connection refused." in texts
    assert (
        f"pactbot tries again <!date^{int(retry.timestamp())}^{{time}}|2026-12-01 09:15 UTC>."
        in texts
    )
    assert "Nothing waits" not in texts
    assert "fine" not in texts.lower()


def test_a_broker_failure_without_a_retry_says_no_time() -> None:
    texts = _texts(build_digest_failure("HTTP 503", day=DAY, retry_at=None).payload())

    assert texts.endswith("could not be read for today's digest: HTTP 503.")
