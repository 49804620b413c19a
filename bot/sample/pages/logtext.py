"""Webhook execution logs as the broker writes them, for real executions and for Tests."""

from __future__ import annotations

import json
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from bot.sample.pages.links import Json, Links, log_stamp, redacted
from bot.sample.world import Attempt, Publication, Target, WebhookDefinition, render_body

HIDDEN = (
    "For security purposes, the response details are not logged. To enable response logging, "
    "configure the webhook_host_whitelist property. See {base}/doc/webhooks#whitelist for more "
    "information."
)


class LogText(Links):
    def _line(self, moment: datetime, level: str, text: str) -> str:
        return f"[{log_stamp(moment)}] {level}: {text}\n"

    def _logs(
        self,
        webhook: WebhookDefinition,
        publication: Publication | None,
        event: str,
        attempt: Attempt,
        closing: str | None,
    ) -> tuple[str, Json]:
        """The execution's log text, and the request as the result's `request` shows it."""
        at, target = attempt.at, attempt.target
        body = render_body(webhook.body, self._variables(publication, event))
        headers = {name.lower(): value for name, value in redacted(webhook.headers).items()}
        headers |= {"user-agent": "Pact Broker v2.120.0", "host": urlsplit(webhook.url).netloc}
        headers["content-length"] = str(len(body.encode()))
        context = json.dumps({"base_url": self.base, "event_name": event}, separators=(",", ":"))
        text = self._line(at, "DEBUG", f"Webhook context {context}")
        text += self._line(at, "INFO", f"HTTP/1.1 POST {webhook.url}")
        text += "".join(
            self._line(at, "INFO", f"{name}: {value}") for name, value in headers.items()
        )
        text += self._line(at, "INFO", body)
        text += self._answer_lines(at, webhook.uuid, target)
        if closing:
            text += self._line(at, "INFO", closing)
        return text, {"headers": headers, "body": json.loads(body)}

    def _answer_lines(self, at: datetime, uuid: str, target: Target) -> str:
        hidden = HIDDEN.format(base=self.base)
        if target.error:
            if not self.world.show_responses:
                return self._line(at, "ERROR", f"Error executing webhook {uuid}. {hidden}")
            return self._line(
                at, "ERROR", f"Error executing webhook {uuid} {target.error_class} - {target.error}"
            )
        if not self.world.show_responses:
            return self._line(at, "INFO", hidden)
        status = target.status or 0
        text = self._line(at, "INFO", f"HTTP/1.1 {status} {HTTPStatus(status).phrase}")
        text += "".join(
            self._line(at, "INFO", f"{name}: {value}") for name, value in target.headers.items()
        )
        if target.body is not None:
            shown = target.body if isinstance(target.body, str) else json.dumps(target.body)
            text += self._line(at, "INFO", shown)
        return text

    def _variables(self, publication: Publication | None, event: str) -> dict[str, str]:
        if publication is None:
            return {"eventName": event}
        verification = self.world.latest_verification(publication)
        pact_url = f"{self._pair_path(publication.consumer, publication.provider)}/pact-version/{publication.content}"
        return {
            "pactUrl": pact_url,
            "consumerName": publication.consumer,
            "providerName": publication.provider,
            "consumerVersionNumber": publication.version,
            "consumerVersionBranch": publication.branch or "",
            "providerVersionNumber": verification.provider_version if verification else "",
            "providerVersionBranch": verification.provider_branch or "" if verification else "",
            "eventName": event,
        }
