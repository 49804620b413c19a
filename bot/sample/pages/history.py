"""What webhooks did: a pair's webhook status, a publication's triggers, their logs."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.sample.pages.links import Json, Query, stamp
from bot.sample.pages.logtext import LogText
from bot.sample.world import TriggeredRecord, WebhookDefinition


class HistoryPages(LogText):
    def webhook_status(self, provider: str, consumer: str, query: Query) -> tuple[int, Json]:
        known = self.world.pacticipants()
        for role, name in (("consumer", consumer), ("provider", provider)):
            if name not in known:
                return 404, {"error": f"No {role} with name '{name}' found"}
        newest: dict[tuple[str, str], TriggeredRecord] = {}
        for record in self.world.triggered:
            pub = record.publication
            if (pub.consumer, pub.provider) == (consumer, provider):
                key = (record.webhook.uuid, record.event)
                if key not in newest or record.triggered_at >= newest[key].triggered_at:
                    newest[key] = record
        entries = sorted(newest.values(), key=lambda record: record.triggered_at, reverse=True)
        now = self.world.clock()
        counts = {
            status: sum(1 for record in entries if record.status(now) == status)
            for status in ("success", "failure", "not_run", "retrying")
        }
        summary = {"successful": counts["success"], "failed": counts["failure"]}
        if counts["not_run"]:
            summary["notRun"] = counts["not_run"]
        if counts["retrying"]:
            summary["retrying"] = counts["retrying"]
        pair = self._pair_path(consumer, provider)
        has_pact = (consumer, provider) in self.world.publications
        latest = self.world.latest(consumer, provider) if has_pact else None
        links: dict[str, Json] = {
            "self": {"href": f"{pair}/webhooks/status", "title": "Webhooks status"},
            "pb:error-logs": [
                {
                    "href": self._logs_href(record),
                    "title": "Error logs",
                    "name": _request_name(record.webhook),
                }
                for record in entries
                if record.status(now) in ("failure", "retrying")
            ],
            "pb:pact-webhooks": {
                "title": f"Webhooks for the pact between {consumer} and {provider}",
                "href": f"{pair}/webhooks",
            },
        }
        if latest is not None:
            links["pb:pact-version"] = {
                "href": self._pact_href(latest),
                "title": "Pact",
                "name": f"Pact between {consumer} ({latest.version}) and {provider}",
            }
        links["pb:consumer"] = {
            "href": self._pacticipant(consumer),
            "title": "Consumer",
            "name": consumer,
        }
        links["pb:provider"] = {
            "href": self._pacticipant(provider),
            "title": "Provider",
            "name": provider,
        }
        return 200, {
            "summary": summary,
            "_embedded": {"triggeredWebhooks": [self._triggered(record) for record in entries]},
            "_links": links,
        }

    def triggered_webhooks(
        self, provider: str, consumer: str, version: str, query: Query
    ) -> tuple[int, Json]:
        """The webhooks one publication triggered."""
        publications = self.world.publications.get((consumer, provider), [])
        publication = next((pub for pub in publications if pub.version == version), None)
        if publication is None:
            return 404, None
        records = [record for record in self.world.triggered if record.publication is publication]
        return 200, {
            "_embedded": {"triggeredWebhooks": [self._triggered(record) for record in records]},
            "_links": {
                "self": {
                    "title": f"Webhooks triggered by the publication of the pact between {consumer} ({version}) and {provider}",
                    "href": f"{self._pact_href(publication)}/triggered-webhooks",
                }
            },
        }

    def _logs_href(self, record: TriggeredRecord) -> str:
        return f"{self.base}/triggered-webhooks/{record.uuid}/logs"

    def _triggered(self, record: TriggeredRecord) -> Json:
        name = _request_name(record.webhook)
        now = self.world.clock()
        status = record.status(now)
        made = len(record.made(now))
        return {
            "name": name,
            "status": status,
            "attemptsMade": made,
            "attemptsRemaining": len(record.attempts) - made if status != "success" else 0,
            "triggerType": "resource_creation",
            "eventName": record.event,
            "triggeredAt": stamp(record.triggered_at),
            "_links": {
                "pb:logs": {
                    "href": self._logs_href(record),
                    "title": "Webhook execution logs",
                    "name": name,
                },
                "logs": {
                    "href": self._logs_href(record),
                    "title": "DEPRECATED - Use pb:logs",
                    "name": name,
                },
                "pb:webhook": {
                    "href": self._webhook_href(record.webhook.uuid),
                    "title": "Webhook",
                    "name": name,
                },
            },
        }

    def logs(self, uuid: str, query: Query) -> tuple[int, Json]:
        record = next((found for found in self.world.triggered if found.uuid == uuid), None)
        if record is None:
            return 404, None
        executions = []
        texts = []
        made = record.made(self.world.clock())
        total = len(made)
        for number, attempt in enumerate(made, start=1):
            if attempt.target.success:
                closing = "Successfully executed webhook"
            elif number < len(record.attempts):
                wait = record.attempts[number].at - attempt.at
                closing = f"Retrying webhook in {int(wait.total_seconds())} seconds"
            else:
                closing = f"Webhook execution failed after {total} attempts"
            logs, _ = self._logs(record.webhook, record.publication, record.event, attempt, closing)
            texts.append(logs)
            executions.append(
                {"success": attempt.target.success, "logs": logs, "createdAt": stamp(attempt.at)}
            )
        if "json" not in self.accept:
            # The logs' first and, before broker 2.112.0, only form: the attempts' text.
            return 200, "".join(texts)
        pub = record.publication
        return 200, {
            "eventName": record.event,
            "consumerName": pub.consumer,
            "providerName": pub.provider,
            "executions": executions,
            "_embedded": {"triggeredWebhook": {"uuid": record.uuid}},
            "_links": {
                "self": {"title": "Triggered webhook logs", "href": self._logs_href(record)},
                "pb:webhook": {"href": self._webhook_href(record.webhook.uuid), "title": "Webhook"},
            },
        }


def _request_name(webhook: WebhookDefinition) -> str:
    return f"POST {urlsplit(webhook.url).hostname}"
