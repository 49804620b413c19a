"""Prometheus metrics: the pairs and webhooks of the latest report, and the calls pactbot makes.

Pair and webhook figures are read from the monitor's latest report when Prometheus scrapes, so
a pair that disappears from the broker disappears from the metrics too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from bot.domain.alerts import AlertState
    from bot.domain.report import Report

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Broker paths as few labels: ids and names vary, the kind of resource does not.
_BROKER_ENDPOINTS = [
    (re.compile(r"^/?$"), "index"),
    (re.compile(r"/dashboard$"), "dashboard"),
    (re.compile(r"/matrix$"), "matrix"),
    (re.compile(r"/webhooks$"), "webhooks"),
    (re.compile(r"/webhooks/[^/]+/execute$"), "execute"),
    (re.compile(r"/webhooks/status$"), "webhook_status"),
    (re.compile(r"/webhooks/[^/]+$"), "webhook"),
    (re.compile(r"/triggered-webhooks$"), "triggered_webhooks"),
    (re.compile(r"/logs$"), "logs"),
]


def broker_endpoint(path: str) -> str:
    """A bounded label for a broker path."""
    for pattern, name in _BROKER_ENDPOINTS:
        if pattern.search(path):
            return name
    return "other"


class Metrics:
    """Every figure `GET /metrics` shows, in a registry of pactbot's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._broker_calls = Counter(
            "pactbot_broker_requests",
            "Requests to the Pact Broker, by endpoint and HTTP status",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self._broker_seconds = Histogram(
            "pactbot_broker_request_seconds",
            "Time to the Pact Broker's answer, by endpoint",
            ["endpoint"],
            buckets=_LATENCY,
            registry=self.registry,
        )
        self._slack_calls = Counter(
            "pactbot_slack_requests",
            "Calls of Slack's Web API, by method and outcome (ok or Slack's error)",
            ["method", "outcome"],
            registry=self.registry,
        )
        self._slack_seconds = Histogram(
            "pactbot_slack_request_seconds",
            "Time to Slack's answer, by method",
            ["method"],
            buckets=_LATENCY,
            registry=self.registry,
        )

    def watch(
        self,
        report: Callable[[], Report | None],
        alerts: Callable[[], AlertState | None] = lambda: None,
    ) -> None:
        """Show the pairs and webhooks of the report `report()` returns at each scrape, and
        the webhook incidents of the alerts `alerts()` returns (as this replica last saw them)."""
        self.registry.register(_ReportCollector(report, alerts))

    def broker_call(self, path: str, status: str, seconds: float) -> None:
        endpoint = broker_endpoint(path)
        self._broker_calls.labels(endpoint, status).inc()
        self._broker_seconds.labels(endpoint).observe(seconds)

    def slack_call(self, method: str, outcome: str, seconds: float) -> None:
        self._slack_calls.labels(method, outcome).inc()
        self._slack_seconds.labels(method).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)


class MeteredTransport(httpx.AsyncBaseTransport):
    """An httpx transport that counts and times every request to the broker."""

    def __init__(self, metrics: Metrics, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._metrics = metrics
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self._metrics.broker_call(request.url.path, "error", time.perf_counter() - started)
            raise
        self._metrics.broker_call(
            request.url.path, str(response.status_code), time.perf_counter() - started
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ReportCollector(Collector):
    def __init__(
        self, report: Callable[[], Report | None], alerts: Callable[[], AlertState | None]
    ) -> None:
        self._report = report
        self._alerts = alerts

    def collect(self) -> Iterator[Metric]:
        report = self._report()
        if report is None:
            return
        age = GaugeMetricFamily(
            "pactbot_pair_verification_age_seconds",
            "Time since the pair's newest verification (absent: never verified)",
            labels=["consumer", "provider"],
        )
        waited = GaugeMetricFamily(
            "pactbot_pair_waiting_seconds",
            "How long the pair's latest pact has waited for a verification (0: nothing waits)",
            labels=["consumer", "provider"],
        )
        state = GaugeMetricFamily(
            "pactbot_pair_state",
            "1 for the pair's current state",
            labels=["consumer", "provider", "state"],
        )
        for row in report.rows:
            pair = [row.key.consumer, row.key.provider]
            freshness = row.freshness
            if freshness.verification_age is not None:
                age.add_metric(pair, freshness.verification_age.total_seconds())
            waited.add_metric(pair, freshness.waited.total_seconds() if freshness.waited else 0.0)
            state.add_metric([*pair, row.state.value], 1.0)
        health = GaugeMetricFamily(
            "pactbot_webhook_failing",
            "1 when the webhook's real executions fail since their last success",
            labels=["webhook", "description", "repository", "health"],
        )
        for view in report.webhooks:
            target = view.webhook.target.slug if view.webhook.target else ""
            labels = [view.webhook.uuid, view.webhook.description, target, view.health.kind.value]
            health.add_metric(labels, 1.0 if view.health.failing else 0.0)
        read = GaugeMetricFamily(
            "pactbot_report_timestamp_seconds", "When the broker was last read successfully"
        )
        read.add_metric([], report.taken_at.timestamp())
        unseen = GaugeMetricFamily(
            "pactbot_broker_not_visible",
            "1 for each part of the broker the credentials may not read (403, or 404)",
            labels=["what", "path", "status"],
        )
        for found in report.blind:
            unseen.add_metric([found.what.value, found.path, str(found.status)], 1.0)
        yield from (age, waited, state, health, *self._incidents(report), unseen, read)

    def _incidents(self, report: Report) -> Iterator[Metric]:
        """Per CI trigger: whether its incident fires, and its oldest unanswered
        publication."""
        state = self._alerts()
        firing = {
            cause.webhook
            for alert in (state.alerts if state else ())
            if alert.firing
            for cause in alert.incidents
            if cause.open
        }
        incident = GaugeMetricFamily(
            "pactbot_webhook_incident",
            "1 while the webhook's incident alert fires (as the leader last decided), by health",
            labels=["webhook", "description", "repository", "health"],
        )
        unanswered = GaugeMetricFamily(
            "pactbot_webhook_unanswered_publication_seconds",
            "Age of the oldest publication behind the webhook that no dispatch answered while it "
            "fails or did not fire (0: none)",
            labels=["webhook", "description", "repository"],
        )
        for view in report.webhooks:
            webhook = view.webhook
            if webhook.target is None:
                continue
            labels = [webhook.uuid, webhook.description, webhook.target.slug]
            incident.add_metric(
                [*labels, view.health.kind.value], 1.0 if webhook.uuid in firing else 0.0
            )
            since = report.unanswered_since(view)
            age = (report.taken_at - since).total_seconds() if since else 0.0
            unanswered.add_metric(labels, max(age, 0.0))
        yield from (incident, unanswered)
