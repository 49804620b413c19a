from __future__ import annotations

import pytest

from bot.domain.model import PairKey
from bot.domain.selection import Selection
from bot.errors import BrokerNotFound

KNOWN = {
    PairKey("web-app", "orders-api"),
    PairKey("mobile-app", "orders-api"),
    PairKey("web-app", "Pricing Service"),
}


def test_flags_and_the_config_list_narrow_the_pairs() -> None:
    assert Selection(provider="orders-api").wants(PairKey("web-app", "orders-api"))
    assert not Selection(provider="orders-api").wants(PairKey("web-app", "Pricing Service"))
    listed = Selection(pairs=frozenset({PairKey("web-app", "orders-api")}))
    assert not listed.wants(PairKey("mobile-app", "orders-api"))


def test_an_unknown_provider_names_the_closest_ones() -> None:
    with pytest.raises(BrokerNotFound) as raised:
        Selection(provider="order-api").check(KNOWN)

    assert (
        str(raised.value)
        == "the Pact Broker has no pact with the provider 'order-api'; closest: orders-api"
    )


def test_an_unknown_pair_from_the_config_names_the_closest_pairs() -> None:
    with pytest.raises(BrokerNotFound) as raised:
        Selection(pairs=frozenset({PairKey("webapp", "orders-api")})).check(KNOWN)

    assert str(raised.value).startswith(
        "the Pact Broker has no pact webapp → orders-api (listed under pairs in the config file); "
        "closest: web-app → orders-api"
    )


def test_a_consumer_and_provider_without_a_pact_between_them_is_unknown() -> None:
    with pytest.raises(BrokerNotFound, match="no pact between 'mobile-app' and 'Pricing Service'"):
        Selection(consumer="mobile-app", provider="Pricing Service").check(KNOWN)


def test_known_names_pass() -> None:
    Selection(consumer="web-app", provider="orders-api").check(KNOWN)
