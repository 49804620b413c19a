from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, digest_day, find_config, lint_day, load_config
from bot.domain.freshness import Policy, Rule
from bot.domain.model import PairKey
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pactbot.yml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return str(raised.value)


def test_the_example_shape_is_read_with_per_pair_max_age(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "defaults:\n  max_age: 36h\n  policy: age\n"
        "pairs:\n  - consumer: web-app\n    provider: orders-api\n    max_age: 6h\n"
        "  - consumer: mobile\n    provider: orders-api\n",
    )

    rule_for = load_config(path).rules()

    assert rule_for(PairKey("web-app", "orders-api")) == Rule(timedelta(hours=6), Policy.AGE)
    assert rule_for(PairKey("mobile", "orders-api")) == Rule(timedelta(hours=36), Policy.AGE)


def test_without_a_file_the_defaults_are_24h_and_demand() -> None:
    config = load_config(None)

    assert config.pairs is None
    assert config.rules()(PairKey("a", "b")) == Rule(timedelta(hours=24), Policy.DEMAND)


def test_flags_override_the_file_including_per_pair_ages(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs:\n  - {consumer: a, provider: b, max_age: 6h}\n")

    rule_for = load_config(path).with_rule(timedelta(hours=2), Policy.AGE).rules()

    assert rule_for(PairKey("a", "b")) == Rule(timedelta(hours=2), Policy.AGE)


def test_an_unknown_key_names_the_file_the_path_and_the_accepted_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  maxage: 24h\n")

    assert error_of(path) == f"{path}: defaults.maxage: unknown key; accepted here: max_age, policy"


def test_an_unknown_key_inside_a_list_item_gives_its_index(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs:\n  - {consumer: a, provider: b, maxage: 1h}\n")

    assert error_of(path) == (
        f"{path}: pairs[0].maxage: unknown key; accepted here: consumer, provider, max_age"
    )


def test_a_bad_duration_says_what_durations_look_like(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs:\n  - {consumer: a, provider: b, max_age: 6 hours}\n")

    assert error_of(path) == (
        f"{path}: pairs[0].max_age: '6 hours' is not a duration; use a number and a unit "
        "(s, m, h, d or w), e.g. 30s, 90m, 24h, 7d or 1h30m"
    )


def test_a_bad_policy_lists_the_policies(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  policy: strict\n")

    assert (
        error_of(path)
        == f"{path}: defaults.policy: 'strict' is not accepted; use 'age' or 'demand'"
    )


def test_a_missing_key_and_a_wrong_type_are_both_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "pairs:\n  - {provider: b}\n  - 42\n")

    message = error_of(path)

    assert f"{path}: pairs[0].consumer: is required" in message
    assert f"{path}: pairs[1]:" in message


def test_yaml_syntax_errors_give_the_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults:\n  max_age: [24h\n")

    assert error_of(path).startswith(f"{path}: line 3, column 1: ")


def test_a_file_that_is_not_a_mapping_says_which_keys_it_needs(tmp_path: Path) -> None:
    path = write(tmp_path, "- a\n- b\n")

    assert (
        error_of(path)
        == f"{path}: the file must be a mapping with the keys defaults, pairs, digest, access, alerts, routes, rotation, canary, retention"
    )


def test_the_rotation_section_reads_durations_and_names_its_bad_keys(tmp_path: Path) -> None:
    good = write(tmp_path, "rotation:\n  machine_user: pactflow-acme\n  practice_every: 180d\n")
    bad = tmp_path / "bad.yml"
    bad.write_text("rotation:\n  machine_usr: pactflow-acme\n", encoding="utf-8")

    rotation = load_config(good).rotation
    assert (rotation.machine_user, rotation.secret_name) == ("pactflow-acme", "githubToken")
    assert rotation.practice_every == timedelta(days=180)
    assert error_of(bad) == (
        f"{bad}: rotation.machine_usr: unknown key; accepted here: machine_user, secret_name, "
        "practice_every, accounts"
    )


def test_a_missing_file_is_an_error_when_asked_for(tmp_path: Path) -> None:
    message = error_of(tmp_path / "nope.yml")

    assert message.startswith("cannot read the config file ")
    assert "nope.yml" in message


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == Config()


def test_the_flag_wins_then_the_environment_then_the_file_here(tmp_path: Path) -> None:
    flag, env = Path("flag.yml"), Path("env.yml")

    assert find_config(flag, env) == flag
    assert find_config(None, env) == env
    assert find_config(None, None) is None
    write(tmp_path, "")  # the tests run in tmp_path
    assert find_config(None, None) == Path("pactbot.yml")


def test_the_digest_and_access_sections_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "digest:\n  channel: C0123ABCD\n  schedule: '30 8 * * 1-5'\n  timezone: Europe/Berlin\n"
        "access:\n  oncall_usergroups: ['@pact-oncall', S0123ABC]\n  admins: [U0123ABCD]\n"
        "  channels: [C0123ABCD, G0PRIVATE]\n",
    )

    config = load_config(path)

    assert config.digest is not None
    assert (config.digest.channel, config.digest.schedule, config.digest.timezone) == (
        "C0123ABCD",
        "30 8 * * 1-5",
        "Europe/Berlin",
    )
    assert config.access.oncall_usergroups == ("pact-oncall", "S0123ABC")
    assert config.access.admins == ("U0123ABCD",)
    assert config.access.channels == ("C0123ABCD", "G0PRIVATE")


def test_the_digest_defaults_to_weekdays_at_nine_utc(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "digest:\n  channel: C0123\n"))

    assert config.digest is not None
    assert (config.digest.schedule, config.digest.timezone) == ("0 9 * * 1-5", "UTC")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "digest:\n  channel: C0123\n  schedule: '0 25 * *'\n",
            "digest.schedule: '0 25 * *' is not a five-field cron expression",
        ),
        (
            "digest:\n  channel: C0123\n  schedule: '0 25 * * *'\n",
            "digest.schedule: '0 25 * * *' is not a five-field cron expression",
        ),
        (
            "digest:\n  channel: C0123\n  timezone: Mars/Olympus\n",
            "digest.timezone: 'Mars/Olympus' is not a time zone; use an IANA name",
        ),
        ("access:\n  admins: [bob]\n", "access.admins[0]: 'bob' is not a Slack user ID"),
        (
            "digest:\n  channel: '#contract-testing'\n",
            "digest.channel: '#contract-testing' is not a Slack channel ID (C… or G…): open the "
            "channel's details (click its name) and copy the ID at the bottom, or use the last "
            "part of the channel's “Copy link”",
        ),
        (
            "access:\n  channels: [C0123ABCD, general]\n",
            "access.channels[1]: 'general' is not a Slack channel ID (C… or G…)",
        ),
        (
            "digest:\n  channel: c0123abcd\n",
            "digest.channel: 'c0123abcd' is not a Slack channel ID",
        ),
        (
            "digest:\n  channel: D0123ABCD\n",
            "digest.channel: 'D0123ABCD' is not a Slack channel ID",
        ),
        ("digest:\n  schedule: '0 9 * * *'\n", "digest.channel: is required"),
        (
            "digest:\n  channel: C0123\n  shedule: x\n",
            "digest.shedule: unknown key; accepted here: channel, schedule, timezone",
        ),
    ],
)
def test_digest_and_access_errors_name_the_key_and_what_is_accepted(
    tmp_path: Path, text: str, said: str
) -> None:
    path = write(tmp_path, text)

    assert f"{path}: {said}" in error_of(path)


def test_the_digest_day_is_the_day_where_the_digest_is_read(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "digest:\n  channel: C0123\n  timezone: Pacific/Auckland\n")
    )
    late = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 09:00 on 2 December in Auckland

    assert digest_day(config.digest, late) == date(2026, 12, 2)
    assert digest_day(None, late) == date(2026, 12, 1)


def test_the_lint_shows_on_the_first_digest_of_each_iso_week(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'digest:\n  channel: C0123\n  schedule: "0 9 * * 3-5"\n'))
    wednesday, thursday, monday = date(2026, 12, 2), date(2026, 12, 3), date(2026, 11, 30)

    assert lint_day(config.digest, wednesday)
    assert not lint_day(config.digest, thursday)
    assert lint_day(None, monday)
    assert not lint_day(None, wednesday)


def test_the_alerts_and_routes_sections_are_read_as_the_example_spells_them(
    tmp_path: Path,
) -> None:
    text = (
        "digest:\n  channel: C0DIGEST\n"
        "alerts:\n  check_interval: 1m\n  for: 1h\n  repeat_interval: 12h\n"
        "routes:\n"
        "  - provider: 'orders-*'\n    channel: C0ORDERS\n    oncall_usergroups: ['@orders-oncall']\n"
        "  - consumer: mobile-app\n    channel: C0MOBILE\n"
    )
    config = load_config(write(tmp_path, text))

    assert config.alerts.check_interval == timedelta(minutes=1)
    assert config.alerts.sustain == timedelta(hours=1)
    assert config.alerts.repeat_interval == timedelta(hours=12)
    first, second = config.routes
    assert (first.provider, first.consumer, first.channel) == ("orders-*", None, "C0ORDERS")
    assert first.oncall_usergroups == ("orders-oncall",)
    assert (second.provider, second.consumer, second.oncall_usergroups) == (None, "mobile-app", ())


def test_without_a_file_alerts_wait_30m_check_every_5m_and_remind_daily() -> None:
    alerts = Config().alerts

    assert (alerts.check_interval, alerts.sustain, alerts.repeat_interval) == (
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=24),
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("alerts:\n  for: soon\n", "alerts.for: 'soon' is not a duration"),
        (
            "alerts:\n  sustain: 30m\n",
            "alerts.sustain: unknown key; accepted here: check_interval, for, repeat_interval",
        ),
        (
            "digest:\n  channel: C0DIGEST\nroutes:\n  - provider: x\n    channel: '#team'\n",
            "routes[0].channel: '#team' is not a Slack channel ID",
        ),
        (
            "digest:\n  channel: C0DIGEST\nroutes:\n  - provider: x\n",
            "routes[0].channel: is required",
        ),
        (
            "routes:\n  - provider: 'orders-*'\n    channel: C0ORDERS\n",
            "routes: pairs that match no route alert in digest.channel, and there is none",
        ),
    ],
)
def test_alerts_and_routes_errors_name_the_key_and_what_is_accepted(
    tmp_path: Path, text: str, said: str
) -> None:
    path = write(tmp_path, text)

    assert f"{path}: {said}" in error_of(path)


def test_routes_may_stand_without_a_digest_when_the_last_catches_every_pair(
    tmp_path: Path,
) -> None:
    text = "routes:\n  - provider: 'orders-*'\n    channel: C0ORDERS\n  - channel: C0REST\n"

    assert len(load_config(write(tmp_path, text)).routes) == 2
