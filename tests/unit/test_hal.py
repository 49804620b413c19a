from __future__ import annotations

import pytest

from bot.broker.hal import expand, last_segment, reroot

BASE = "https://broker.example.com/pact"


@pytest.mark.parametrize(
    ("href", "root", "expected"),
    [
        ("http://pact-broker:9292/webhooks/abc", "http://pact-broker:9292", f"{BASE}/webhooks/abc"),
        ("http://pact-broker:9292", "http://pact-broker:9292", BASE),
        ("/matrix/provider/P/consumer/C", None, f"{BASE}/matrix/provider/P/consumer/C"),
        (
            "https://broker.example.com/pact/webhooks",
            None,
            "https://broker.example.com/pact/webhooks",
        ),
        ("http://10.0.0.7:9292/dashboard?page=2", None, f"{BASE}/dashboard?page=2"),
        ("http://10.0.0.7/pact/webhooks/x", None, f"{BASE}/webhooks/x"),
        ("http://pact-broker:92921/x", "http://pact-broker:9292", f"{BASE}/x"),
    ],
)
def test_links_are_re_rooted_on_the_configured_base_url(
    href: str, root: str | None, expected: str
) -> None:
    assert reroot(href, BASE, root) == expected


def test_templated_links_are_filled_with_url_encoded_names() -> None:
    href = "https://b/pacts/provider/{provider}/consumer/{consumer}/latest"

    assert expand(href, provider="Pricing Service", consumer="a/b") == (
        "https://b/pacts/provider/Pricing%20Service/consumer/a%2Fb/latest"
    )


def test_the_id_at_the_end_of_a_link_is_read() -> None:
    assert last_segment("http://b/webhooks/kJE42wcSbKwfb0QJ3V9sBg") == "kJE42wcSbKwfb0QJ3V9sBg"
    assert last_segment("http://b/webhooks/kJE42wcSbKwfb0QJ3V9sBg/") == "kJE42wcSbKwfb0QJ3V9sBg"
