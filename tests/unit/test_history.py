from __future__ import annotations

from datetime import datetime

from bot.broker.convert import latest_per_pair, to_history
from bot.broker.schema import DashboardItem, MatrixRow
from bot.domain.model import PairKey
from tests.helpers.fixtures import captured

PAIR = PairKey("C", "P")


def rows(name: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = captured(name)["matrix"]
    return found


def parsed(raw: list[dict[str, object]]) -> list[MatrixRow]:
    return [MatrixRow.model_validate(row) for row in raw]


def test_a_pair_waits_since_its_first_unverified_publication_not_its_latest() -> None:
    raw = rows("25_matrix_cvpv")
    raw[0]["verificationResult"] = None  # 1.2.0 unverified too: 1.1.0 and 1.2.0 wait
    latest = datetime.fromisoformat("2026-11-28T09:58:48+00:00")

    history = to_history(parsed(raw), PAIR, latest, complete=True)

    assert history.waiting_since == datetime.fromisoformat("2026-11-28T09:58:23+00:00")
    assert history.newest_verification is not None
    assert history.newest_verification.success
    assert history.newest_verification.provider_version == "2.0.0"


def test_the_newest_verification_is_found_whatever_the_row_order() -> None:
    history = to_history(
        parsed(rows("43_after_age_verification1_extra10d_matrix")),
        PAIR,
        datetime.fromisoformat("2026-10-29T09:58:48+00:00"),
        complete=True,
    )

    assert history.newest_verification is not None
    assert history.newest_verification.verified_at == datetime.fromisoformat(
        "2026-10-29T09:58:58+00:00"
    )
    assert not history.newest_verification.success


def test_rows_of_other_pairs_in_a_batched_matrix_are_ignored() -> None:
    history = to_history(
        parsed(rows("25_matrix_cvpv")), PairKey("C", "Q"), datetime(2026, 1, 1).astimezone(), True
    )

    assert history.newest_verification is None


def test_dashboard_rows_collapse_to_each_pairs_newest_pact() -> None:
    item = captured("23_dashboard")["items"][0]
    older = {**item, "pact": {**item["pact"], "createdAt": "2026-11-01T00:00:00+00:00"}}
    items = [DashboardItem.model_validate(row) for row in (older, item, older)]

    latest = latest_per_pair(items)

    assert list(latest) == [PAIR]
    assert latest[PAIR].published_at == datetime.fromisoformat("2026-11-28T09:58:48+00:00")
