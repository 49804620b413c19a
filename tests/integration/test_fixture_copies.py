"""tests/fixtures/broker-api must stay a faithful copy of the shared fixtures it was taken from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.fixtures import BROKER_FIXTURES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "broker-api" / "fixtures"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ is not next to this checkout")
def test_the_copied_fixtures_equal_the_shared_ones() -> None:
    ours = {
        path.relative_to(BROKER_FIXTURES): path.read_bytes()
        for path in BROKER_FIXTURES.rglob("*")
        if path.is_file()
    }
    theirs = {
        path.relative_to(SHARED): path.read_bytes() for path in SHARED.rglob("*") if path.is_file()
    }

    assert ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
