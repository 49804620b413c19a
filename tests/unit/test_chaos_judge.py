"""The chaos soak's judgement: what Slack said against the oracle, incident by incident. A soak
that reports 0 duplicates, 0 lost and 0 wrong means something only if each is seen when it
happens."""

from __future__ import annotations

from benchmarks.chaos import TICK, Episode, Said, Story, channel, judge

T0 = 1_800_000_000.0
ORDERS = channel("orders")
# One incident of the orders lane: stale from tick 10 to 70, the lane quiet until tick 100.
STORY = Story(200, episodes=[Episode(1, "orders", "stale", 10, 70, until=100)])
ORACLE = [
    Said("o1", ORDERS, "post", T0 + 13 * TICK, "o1:post:13"),
    Said("o1", ORDERS, "resolve", T0 + 70 * TICK, "o1:resolve:70"),
]


def said(alert: str, step: str, tick: float) -> Said:
    return Said(alert, ORDERS, step, T0 + tick * TICK, f"{alert}:{step}:{tick:.0f}", f"{tick}")


def verdict(real: list[Said], shows: str = "Resolved after 57s") -> tuple[int, int, int]:
    tally = judge(STORY, ORACLE, real, lambda _: shows, T0)
    return sum(tally.duplicates.values()), sum(tally.lost.values()), sum(tally.wrong.values())


def test_each_step_the_oracle_said_said_once_is_nothing_twice_lost_or_wrong() -> None:
    assert verdict([said("a", "post", 14), said("a", "resolve", 71)]) == (0, 0, 0)


def test_a_second_alert_for_one_incident_is_a_duplicate() -> None:
    real = [said("a", "post", 14), said("a", "resolve", 71), said("b", "post", 15)]
    assert verdict(real) == (1, 0, 0)


def test_one_step_on_two_messages_is_a_duplicate() -> None:
    real = [said("a", "post", 14), said("a", "resolve", 71), said("a", "resolve", 71)]
    assert verdict(real) == (2, 0, 0)  # its mark twice, and a second resolve


def test_an_incident_slack_never_heard_of_is_lost() -> None:
    assert verdict([]) == (0, 1, 0)


def test_a_resolve_never_said_is_lost() -> None:
    assert verdict([said("a", "post", 14)], shows="Firing") == (0, 2, 0)


def test_a_message_that_shows_firing_after_its_resolve_is_lost() -> None:
    assert verdict([said("a", "post", 14), said("a", "resolve", 71)], shows="Firing") == (0, 1, 0)


def test_an_alert_when_the_story_had_no_incident_is_wrong() -> None:
    real = [said("a", "post", 14), said("a", "resolve", 71), said("c", "post", 5)]
    assert verdict(real) == (0, 0, 1)
