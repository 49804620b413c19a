"""Webhooks: the list, each webhook, and the Test."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

from bot.sample.pages.links import Json, Query, redacted, segment, stamp
from bot.sample.pages.logtext import HIDDEN, LogText
from bot.sample.world import Attempt, Publication, WebhookDefinition


class WebhookPages(LogText):
    def webhook_list(self, query: Query) -> tuple[int, Json]:
        webhooks = [
            {
                "title": _scope_title(webhook),
                "name": webhook.description,
                "href": self._webhook_href(webhook.uuid),
            }
            for webhook in self.world.webhooks.values()
        ]
        return 200, {
            "_links": {
                "self": {"title": "Webhooks", "href": f"{self.base}/webhooks"},
                "pb:create": {"title": "POST to create a webhook", "href": f"{self.base}/webhooks"},
                "pb:webhooks": webhooks,
                "curies": [
                    {"name": "pb", "href": f"{self.base}/doc/webhooks-{{rel}}", "templated": True}
                ],
            }
        }

    def create_webhook(self, query: Query) -> tuple[int, Json]:
        """`POST /webhooks` (`all_webhooks.rb`): the pacticipants it names must exist."""
        try:
            given = json.loads(self.sent or b"null")
        except ValueError:
            return 400, {"error": "The request body could not be parsed as JSON"}
        if not isinstance(given, dict) or "request" not in given:
            return 400, {"errors": {"request": ["is missing"]}}
        errors = {
            role: [f"No pacticipant with name '{side['name']}' found"]
            for role in ("consumer", "provider")
            if isinstance(side := given.get(role), dict)
            and side.get("name")
            and side["name"] not in self.world.known
        }
        if errors:
            return 400, {"errors": errors}
        request, sides = (
            given["request"],
            {role: given.get(role) or {} for role in ("consumer", "provider")},
        )
        made = f"{len(self.world.webhooks)}:{json.dumps(given, sort_keys=True)}"
        uuid = hashlib.sha1(made.encode(), usedforsecurity=False)
        created = self.world.add_webhook(
            base64.urlsafe_b64encode(uuid.digest())[:22].decode(),
            url=str(request.get("url", "")),
            description=str(given.get("description", "")),
            consumer=sides["consumer"].get("name"),
            provider=sides["provider"].get("name"),
            consumer_label=sides["consumer"].get("label"),
            provider_label=sides["provider"].get("label"),
            events=tuple(event["name"] for event in given.get("events", [])),
            enabled=bool(given.get("enabled", True)),
            headers=dict(request.get("headers") or {}),
            created_at=self.world.clock(),
        )
        created.body = request.get("body")
        return 201, self.webhook(created.uuid, query)[1]

    def webhook(self, uuid: str, query: Query) -> tuple[int, Json]:
        webhook = self.world.webhooks.get(uuid)
        if webhook is None:
            return 404, None
        href = self._webhook_href(uuid)
        body: dict[str, Json] = {"uuid": uuid, "description": webhook.description}
        links: dict[str, Json] = {
            "self": {"title": webhook.description, "href": href},
            "pb:execute": {
                "title": "Test the execution of the webhook with the latest matching pact or verification by sending a POST request to this URL",
                "href": f"{href}/execute",
            },
        }
        for role, name, label in (
            ("consumer", webhook.consumer, webhook.consumer_label),
            ("provider", webhook.provider, webhook.provider_label),
        ):
            if name:
                body[role] = {"name": name}
                links[f"pb:{role}"] = {
                    "title": role.title(),
                    "name": name,
                    "href": self._pacticipant(name),
                }
            elif label:
                # webhook_decorator.rb: a label side links to the pacticipants carrying it.
                body[role] = {"label": label}
                links[f"pb:{role}s"] = {
                    "title": f"{role.title()}s by label",
                    "name": label,
                    "href": f"{self.base}/pacticipants/label/{segment(label)}",
                }
        if webhook.consumer and webhook.provider:
            links["pb:pact-webhooks"] = {
                "title": f"All webhooks for consumer {webhook.consumer} and provider {webhook.provider}",
                "href": f"{self.base}/webhooks/provider/{segment(webhook.provider)}/consumer/{segment(webhook.consumer)}",
            }
        links["pb:webhooks"] = {"title": "All webhooks", "href": f"{self.base}/webhooks"}
        body |= {
            "enabled": webhook.enabled,
            "request": {
                "method": "POST",
                "url": webhook.url,
                "headers": redacted(webhook.headers, self.world.shows_secret_references),
                "body": webhook.body,
            },
            "events": [{"name": event} for event in webhook.events],
            "createdAt": stamp(webhook.created_at),
            "_links": links,
        }
        return 200, body

    def execute(self, uuid: str, query: Query) -> tuple[int, Json]:
        """The Test: render with the latest matching pact, record nothing, answer 200."""
        webhook = self.world.webhooks.get(uuid)
        if webhook is None:
            return 404, None
        publication = self._test_publication(webhook)
        now = self.world.clock()
        target = self.world.answer(webhook)
        logs, sent = self._logs(webhook, publication, "test", Attempt(now, target), None)
        shown = self.world.show_responses
        result: dict[str, Json] = {}
        if shown and target.error:
            result["error"] = {"message": target.error}
        result["request"] = {
            "headers": sent["headers"],
            "body": sent["body"],
            "url": urlsplit(webhook.url).path,
        }
        if shown and target.status is not None:
            response: dict[str, Json] = {"status": target.status, "headers": dict(target.headers)}
            if target.body is not None:
                response["body"] = target.body
            result["response"] = response
        if not shown:
            result["message"] = HIDDEN.format(base=self.base)
        result["logs"] = logs + (
            "" if target.success else self._line(now, "INFO", "Webhook execution failed")
        )
        result["success"] = target.success
        href = self._webhook_href(uuid)
        result["_links"] = {
            "webhook": {"href": href},
            "try-again": {"title": "Execute the webhook again", "href": f"{href}/execute"},
        }
        return 200, result

    def _test_publication(self, webhook: WebhookDefinition) -> Publication | None:
        candidates = [
            self.world.latest(*pair)
            for pair in self.world.pairs()
            if self.world.covers(webhook, *pair)
        ]
        return max(candidates, key=lambda pub: pub.created_at, default=None)


def _scope_title(webhook: WebhookDefinition) -> str:
    # domain/webhook.rb, `scope_description`: a label side counts as a side, with no name.
    consumer = webhook.consumer or ("" if webhook.consumer_label else None)
    provider = webhook.provider or ("" if webhook.provider_label else None)
    if consumer is not None and provider is not None:
        return f"A webhook for the pact between {consumer} and {provider}"
    if provider is not None:
        return f"A webhook for all pacts with provider {provider}"
    if consumer is not None:
        return f"A webhook for all pacts with consumer {consumer}"
    return "A webhook for all pacts"
