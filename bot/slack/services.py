"""What the listeners need, built once by `pactbot serve` (and by tests, around fakes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Config
from bot.github.client import GitHubClient
from bot.service.alerting import Alerter
from bot.service.digest import DigestPoster
from bot.service.health import Health
from bot.service.monitor import Monitor
from bot.service.poster import SlackPoster
from bot.service.rotations import Rotations
from bot.service.runner import WebhookRunner
from bot.slack.access import Authoriser
from bot.slack.answers import StatusAnswers, WebhookOncall


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    monitor: Monitor
    runner: WebhookRunner
    digest: DigestPoster
    alerter: Alerter
    rotations: Rotations
    # With GITHUB_TOKEN: the provider's runs, for rotations and diagnoses.
    github: GitHubClient | None
    poster: SlackPoster
    authoriser: Authoriser
    health: Health
    clock: Callable[[], datetime]
    status_answers: StatusAnswers = field(default_factory=StatusAnswers)
    webhook_oncall: WebhookOncall = field(default_factory=WebhookOncall)
