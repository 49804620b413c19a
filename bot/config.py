"""The YAML config file: what to watch and how strictly.

Found at `--config PATH`, else `$PACTBOT_CONFIG`, else `./pactbot.yml` when it exists; without
one every pair the broker knows is watched with the defaults. Secrets never go here: they come
from the environment (`bot.settings`). Unknown keys are errors, and every error names the file,
the key path and what is accepted.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, ValidationError

from bot.domain.freshness import Policy, Rule
from bot.domain.model import PairKey
from bot.duration import ACCEPTED, format_duration, parse_duration
from bot.errors import ConfigError

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


class Config(_Section):
    defaults: Defaults = Defaults()
    # Without a list every pair the broker knows is watched.
    pairs: tuple[WatchedPair, ...] | None = None

    def rules(
        self, max_age: timedelta | None = None, policy: Policy | None = None
    ) -> Callable[[PairKey], Rule]:
        """The rule for each pair; `max_age` and `policy` (from flags) override the file."""
        per_pair = {pair.key: pair.max_age for pair in self.pairs or () if pair.max_age}
        chosen_policy = policy or self.defaults.policy

        def rule_for(key: PairKey) -> Rule:
            age = max_age or per_pair.get(key) or self.defaults.max_age
            return Rule(age, chosen_policy)

        return rule_for


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
        accepted = ", ".join(Config.model_fields)
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
            accepted = ", ".join(_model_at(location[:-1]).model_fields)
            message = f"unknown key; accepted here: {accepted}"
        elif kind == "missing":
            message = "is required"
        elif kind == "enum":
            message = f"{problem['input']!r} is not accepted; use {problem['ctx']['expected']}"
        elif kind == "value_error":
            message = str(problem["ctx"]["error"])
        else:
            message = f"{problem['msg']} (got {problem['input']!r})"
        lines.append(f"{path}: {_dotted(location)}: {message}")
    return lines


def _dotted(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def _model_at(location: tuple[int | str, ...]) -> type[BaseModel]:
    model: type[BaseModel] = Config
    for part in location:
        if isinstance(part, str):
            model = _inner_model(model.model_fields[part].annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            if argument is not type(None):
                return _inner_model(argument)
    raise TypeError(f"no model inside {annotation!r}")
