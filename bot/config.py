"""The YAML config file: what to watch and how strictly.

Found at `--config PATH`, else `$PACTBOT_CONFIG`, else `./pactbot.yml` when it exists; without
one every pair the broker knows is watched with the defaults. Secrets never go here: they come
from the environment (`bot.settings`). Unknown keys are errors, and every error names the file,
the key path and what is accepted.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)

from bot.domain.freshness import Policy, Rule
from bot.domain.model import PairKey
from bot.duration import ACCEPTED, format_duration, parse_duration
from bot.errors import ConfigError
from bot.targets import REGISTRY
from bot.targets.github import KEY as GITHUB_KEY

DEFAULT_PATH = Path("pactbot.yml")


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"{value!r} is not a duration; use {ACCEPTED}")


Duration = Annotated[
    timedelta,
    PlainValidator(_duration, json_schema_input_type=str),
    PlainSerializer(format_duration, return_type=str),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Section):
    max_age: Duration = timedelta(hours=24)
    policy: Policy = Policy.DEMAND


class WatchedPair(_Section):
    consumer: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    max_age: Duration | None = None

    @property
    def key(self) -> PairKey:
        return PairKey(self.consumer, self.provider)


def _cron(value: object) -> str:
    """A five-field cron expression, as APScheduler reads it."""
    from bot.cron import cron_trigger

    text = str(value).strip()
    try:
        cron_trigger(text, ZoneInfo("UTC"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a five-field cron expression (minute hour day month weekday), "
            'e.g. "0 9 * * 1-5" for 09:00 on weekdays'
        ) from None
    return text


def _time_zone(value: object) -> str:
    try:
        ZoneInfo(str(value))
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(
            f"{value!r} is not a time zone; use an IANA name such as UTC or Europe/Berlin"
        ) from None
    return str(value)


def _slack_id(prefixes: str, what: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = str(value).strip()
        if not re.fullmatch(f"[{prefixes}][A-Z0-9]{{2,}}", text):
            raise ValueError(f"{value!r} is not a {what}")
        return text

    return check


Cron = Annotated[str, PlainValidator(_cron)]
TimeZone = Annotated[str, PlainValidator(_time_zone)]
UserId = Annotated[
    str, PlainValidator(_slack_id("UW", "Slack user ID (U… or W…; a profile's ⋮ → Copy member ID)"))
]
# chat.update takes only channel IDs, never names: the digest is updated in place.
ChannelId = Annotated[
    str,
    PlainValidator(
        _slack_id(
            "CG",
            "Slack channel ID (C… or G…): open the channel's details (click its name) and copy "
            "the ID at the bottom, or use the last part of the channel's “Copy link”",
        )
    ),
]


class Digest(_Section):
    channel: ChannelId
    schedule: Cron = "0 9 * * 1-5"
    timezone: TimeZone = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def digest_day(digest: Digest | None, moment: datetime) -> date:
    """The day `moment` falls on where the digest is read: `digest.timezone`, else UTC."""
    return moment.astimezone(digest.zone if digest else ZoneInfo("UTC")).date()


def lint_day(digest: Digest | None, day: date) -> bool:
    """Whether the digest of `day` shows the webhook lint: the first digest of each ISO week
    (without a digest config, Mondays, the first day the default schedule posts on)."""
    if digest is None:
        return day.isoweekday() == 1
    from bot.cron import first_of_its_week

    return first_of_its_week(digest.schedule, digest.zone, day)


def _handle(value: object) -> str:
    return str(value).strip().removeprefix("@")


class Access(_Section):
    # User group handles (pact-oncall) or IDs (S…): members may run test, digest, rotate, silence.
    oncall_usergroups: tuple[Annotated[str, AfterValidator(_handle)], ...] = ()
    admins: tuple[UserId, ...] = ()
    # Where /pact may be used (channel IDs); empty: anywhere.
    channels: tuple[ChannelId, ...] = ()


class Alerts(_Section):
    check_interval: Duration = timedelta(minutes=5)
    # How long a pair must stay stale before it fires ("for", as Alertmanager calls it).
    sustain: Duration = Field(default=timedelta(minutes=30), alias="for")
    repeat_interval: Duration = timedelta(hours=24)


class RouteConfig(_Section):
    # Globs (orders-*) on the pair's provider and consumer; a missing one matches any.
    provider: str | None = None
    consumer: str | None = None
    channel: ChannelId
    oncall_usergroups: tuple[Annotated[str, AfterValidator(_handle)], ...] = ()


def _known_cis(accounts: dict[str, str]) -> dict[str, str]:
    others = sorted(key for key in REGISTRY if key != GITHUB_KEY)
    for key in accounts:
        if key == GITHUB_KEY:
            raise ValueError("GitHub's machine user is rotation.machine_user")
        if key not in REGISTRY:
            raise ValueError(f"{key!r} is no CI pactbot knows; these are: {', '.join(others)}")
    return accounts


class Rotation(_Section):
    # The GitHub account whose classic token the webhooks use (never a person's own account).
    machine_user: str | None = None
    # The PactFlow secret the webhooks reference as ${user.<secret_name>}, where the broker
    # does not show which one a webhook references.
    secret_name: str = "githubToken"
    # The field guide's advice: rotate once in a while, so the runbook is known before it is needed.
    practice_every: Duration = timedelta(days=365)
    # Who holds the credential of the webhooks of each other CI, by its key: the GitLab project
    # Maintainer who made the trigger token, the Azure DevOps service account...
    accounts: Annotated[dict[str, str], AfterValidator(_known_cis)] = {}

    def account(self, ci: str) -> str | None:
        """Who holds the credential of the webhooks of `ci`, as the config names them."""
        return self.machine_user if ci == GITHUB_KEY else self.accounts.get(ci)


def _every(value: timedelta) -> timedelta:
    if value < timedelta(minutes=1):
        raise ValueError(
            f"{format_duration(value)} is too often: a webhook's Test runs at most once a "
            "minute; use 1m or more (the default is 1h)"
        )
    return value


class Canary(_Section):
    # How often the leader runs each canary's Test (a request to GitHub, no CI run).
    every: Annotated[Duration, AfterValidator(_every)] = timedelta(hours=1)


def _a_day_or_more(value: timedelta) -> timedelta:
    if value < timedelta(days=1):
        raise ValueError(
            f"{format_duration(value)} is too short: a click on yesterday's message needs what it "
            "was about; use 1d or more"
        )
    return value


KeptFor = Annotated[Duration, AfterValidator(_a_day_or_more)]


class Retention(_Section):
    """How long the store keeps what is over; the leader removes it every hour after that."""

    # The rotations' audit log: who did each step, when.
    audit: KeptFor = timedelta(days=365)
    # Resolved alerts: their buttons answer "no longer kept" afterwards.
    alerts: KeptFor = timedelta(days=7)
    # Ended silences.
    silences: KeptFor = timedelta(days=7)
    # Each day's digest record: whether it was posted, and where.
    digests: KeptFor = timedelta(days=30)


class Config(_Section):
    defaults: Defaults = Defaults()
    # Without a list every pair the broker knows is watched.
    pairs: tuple[WatchedPair, ...] | None = None
    digest: Digest | None = None
    access: Access = Access()
    alerts: Alerts = Alerts()
    # The first route that matches a pair says where it alerts; else the digest channel.
    routes: tuple[RouteConfig, ...] = ()
    rotation: Rotation = Rotation()
    canary: Canary = Canary()
    retention: Retention = Retention()

    @model_validator(mode="after")
    def _every_pair_has_a_channel(self) -> Config:
        last = self.routes[-1] if self.routes else None
        if last and not self.digest and (last.provider or last.consumer):
            raise ValueError(
                "routes: pairs that match no route alert in digest.channel, and there is none: "
                "set digest.channel, or end routes with one that has no provider and no consumer"
            )
        return self

    def rules(self) -> Callable[[PairKey], Rule]:
        """The rule for each pair: its own `max_age` if the file gives one, else the defaults."""
        policy = self.defaults.policy
        default = Rule(self.defaults.max_age, policy)
        # Made once, not per pair: asked for every pair at every reading.
        per_pair = {
            pair.key: Rule(pair.max_age, policy) for pair in self.pairs or () if pair.max_age
        }
        if not per_pair:  # the common case: no lookup at all
            return lambda key: default

        def rule_for(key: PairKey) -> Rule:
            return per_pair.get(key, default)

        return rule_for

    def with_rule(self, max_age: timedelta | None, policy: Policy | None) -> Config:
        """This config with `max_age` and `policy` (from flags) over the file's, every pair's."""
        defaults = Defaults(
            max_age=max_age or self.defaults.max_age, policy=policy or self.defaults.policy
        )
        pairs = self.pairs
        if max_age is not None and pairs is not None:
            pairs = tuple(pair.model_copy(update={"max_age": None}) for pair in pairs)
        return self.model_copy(update={"defaults": defaults, "pairs": pairs})


def find_config(flag: Path | None, env: Path | None) -> Path | None:
    """The config file to read: the flag, else the environment, else ./pactbot.yml if present."""
    if flag or env:
        return flag or env
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load_config(path: Path | None) -> Config:
    """Read and validate the config file at `path` (None: the defaults)."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path}: {where}{problem}") from None
    if data is None:
        return Config()
    if not isinstance(data, dict):
        accepted = ", ".join(_keys(Config))
        raise ConfigError(f"{path}: the file must be a mapping with the keys {accepted}")
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError("\n".join(_explain(path, error))) from None


def _explain(path: Path, error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        location = problem["loc"]
        kind = problem["type"]
        if kind == "extra_forbidden":
            accepted = ", ".join(_keys(_model_at(location[:-1])))
            message = f"unknown key; accepted here: {accepted}"
        elif kind == "missing":
            message = "is required"
        elif kind == "enum":
            message = f"{problem['input']!r} is not accepted; use {problem['ctx']['expected']}"
        elif kind == "value_error":
            message = str(problem["ctx"]["error"])
        elif kind in ("tuple_type", "list_type"):
            message = f"must be a list (got {problem['input']!r})"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            accepted = ", ".join(_keys(_model_at(location)))
            message = f"must be a mapping with the keys {accepted} (got {problem['input']!r})"
        else:
            message = f"{problem['msg']} (got {problem['input']!r})"
        lines.append(
            f"{path}: {_dotted(location)}: {message}" if location else f"{path}: {message}"
        )
    return lines


def _dotted(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a section accepts, as the file spells them (`for`, not `sustain`)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_at(location: tuple[int | str, ...]) -> type[BaseModel]:
    model: type[BaseModel] = Config
    for part in location:
        if isinstance(part, str):
            fields = {field.alias or name: field for name, field in model.model_fields.items()}
            model = _inner_model(fields[part].annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            if argument is not type(None):
                return _inner_model(argument)
    raise TypeError(f"no model inside {annotation!r}")
