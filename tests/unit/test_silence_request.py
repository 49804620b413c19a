"""`/pact silence …` read against the pairs the broker knows: names with spaces, a duration,
an optional reason; and what is wrong when it cannot be read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.command import Invalid
from bot.domain.model import PairKey
from bot.domain.silence_request import SilenceRequest, parse_silence

KNOWN = [
    PairKey("Checkout Web", "Pricing Service"),
    PairKey("web-app", "Pricing Service"),
    PairKey("web-app", "orders-api"),
]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("orders-api 2h", SilenceRequest("orders-api", None, timedelta(hours=2), "")),
        (
            "web-app/orders-api 90m deploy freeze until Monday",
            SilenceRequest(
                "orders-api", "web-app", timedelta(minutes=90), "deploy freeze until Monday"
            ),
        ),
        (
            "Checkout Web/Pricing Service 1d provider rewrite",
            SilenceRequest(
                "Pricing Service", "Checkout Web", timedelta(days=1), "provider rewrite"
            ),
        ),
        (
            "pricing service 1h30m",
            SilenceRequest("Pricing Service", None, timedelta(minutes=90), ""),
        ),
    ],
)
def test_a_provider_or_a_pair_is_read_with_its_duration_and_reason(
    typed: str, expected: SilenceRequest
) -> None:
    assert parse_silence(typed, KNOWN) == expected


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "say what to silence and for how long"),
        ("orders-api", "say for how long, as a number and a unit"),
        ("orders-api soon", "say for how long"),
        ("orders-api 31d", "a silence lasts at most 30d (got 31d)"),
        (
            "orders-apy 2h",
            "no provider or consumer/provider pair “orders-apy”; did you mean orders-api",
        ),
        (
            "mobile-app/orders-api 2h",
            "no provider or consumer/provider pair “mobile-app/orders-api”",
        ),
    ],
)
def test_what_cannot_be_read_says_why_and_what_is_close(typed: str, said: str) -> None:
    answer = parse_silence(typed, KNOWN)

    assert isinstance(answer, Invalid)
    assert said in answer.problem
