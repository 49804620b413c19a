"""The sample broker's answers, rendered from a `World` in the real broker's JSON shapes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

from bot.sample.world import (
    Attempt,
    Publication,
    Target,
    TriggeredRecord,
    VerificationRecord,
    WebhookDefinition,
    World,
    render_body,
)

Json = Any
Query = Sequence[tuple[str, str]]

# The index relations of the real broker 2.120.0 (fixture 22_index): name, path, title, templated.
_INDEX = [
    (
        "pb:publish-pact",
        "/pacts/provider/{provider}/consumer/{consumer}/version/{consumerApplicationVersion}",
        "Publish a pact",
        True,
    ),
    ("pb:publish-contracts", "/contracts/publish", "Publish contracts", False),
    ("pb:latest-pact-versions", "/pacts/latest", "Latest pact versions", False),
    (
        "pb:tagged-pact-versions",
        "/pacts/provider/{provider}/consumer/{consumer}/tag/{tag}",
        "All versions of a pact for a given consumer, provider and consumer version tag",
        False,
    ),
    (
        "pb:branch-pact-versions",
        "/pacts/provider/{provider}/consumer/{consumer}/branch/{branch}",
        "All versions of pacts for a provider, for a named consumers branch",
        True,
    ),
    (
        "pb:latest-branch-pact-versions",
        "/pacts/provider/{provider}/consumer/{consumer}/branch/{branch}/latest/versions",
        "Latest version of pact for a provider, for a named consumers branch",
        True,
    ),
    (
        "pb:main-branch-pact-versions",
        "/pacts/provider/{provider}/consumer/{consumer}/branch/versions",
        "All versions of pacts for a provider, for a named consumers main branch",
        True,
    ),
    (
        "pb:latest-main-branch-pact-versions",
        "/pacts/provider/{provider}/consumer/{consumer}/branch/latest/versions",
        "Latest version of pact for a provider, for a named consumers main branch",
        True,
    ),
    (
        "pb:provider-pacts-with-main-branch",
        "/pacts/provider/{provider}/branch",
        "All pacts for a provider, for any consumers main branch",
        True,
    ),
    (
        "pb:provider-pacts-with-branch",
        "/pacts/provider/{provider}/branch/{branch}",
        "All pacts for a provider, for any consumers named branch",
        True,
    ),
    (
        "pb:latest-provider-pacts-with-main-branch",
        "/pacts/provider/{provider}/branch/latest",
        "Latest pact for a provider, for any consumers main branch",
        True,
    ),
    (
        "pb:latest-provider-pacts-with-branch",
        "/pacts/provider/{provider}/branch/{branch}/latest",
        "Latest pacts for a provider, for any consumers named branch",
        True,
    ),
    ("pb:pacticipants", "/pacticipants", "Pacticipants", False),
    ("pb:pacticipant", "/pacticipants/{pacticipant}", "Fetch pacticipant by name", True),
    (
        "pb:latest-provider-pacts",
        "/pacts/provider/{provider}/latest",
        "Latest pacts by provider",
        True,
    ),
    (
        "pb:latest-provider-pacts-with-tag",
        "/pacts/provider/{provider}/latest/{tag}",
        "Latest pacts for provider with the specified tag",
        True,
    ),
    (
        "pb:provider-pacts-with-tag",
        "/pacts/provider/{provider}/tag/{tag}",
        "All pact versions for the provider with the specified consumer version tag",
        True,
    ),
    (
        "pb:provider-pacts",
        "/pacts/provider/{provider}",
        "All pact versions for the specified provider",
        True,
    ),
    (
        "pb:latest-version",
        "/pacticipants/{pacticipant}/latest-version",
        "Latest pacticipant version",
        True,
    ),
    (
        "pb:latest-tagged-version",
        "/pacticipants/{pacticipant}/latest-version/{tag}",
        "Latest pacticipant version with the specified tag",
        True,
    ),
    ("pb:webhooks", "/webhooks", "Webhooks", False),
    ("pb:webhook", "/webhooks/{uuid}", "Webhook", True),
    ("pb:integrations", "/integrations", "Integrations", False),
    (
        "pb:pacticipant-version-tag",
        "/pacticipants/{pacticipant}/versions/{version}/tags/{tag}",
        "Get, create or delete a tag for a pacticipant version",
        True,
    ),
    (
        "pb:pacticipant-branch",
        "/pacticipants/{pacticipant}/branches/{branch}",
        "Get or delete a pacticipant branch",
        True,
    ),
    (
        "pb:pacticipant-branch-version",
        "/pacticipants/{pacticipant}/branches/{branch}/versions/{version}",
        "Get or add/create a pacticipant version for a branch",
        True,
    ),
    (
        "pb:pacticipant-version",
        "/pacticipants/{pacticipant}/versions/{version}",
        "Get, create or delete a pacticipant version",
        True,
    ),
    ("pb:metrics", "/metrics", "Get Pact Broker metrics", None),
    (
        "pb:can-i-deploy-pacticipant-version-to-tag",
        "/can-i-deploy?pacticipant={pacticipant}&version={version}&to={tag}",
        "Determine if an application version can be safely deployed to an environment identified by the given tag",
        True,
    ),
    (
        "pb:can-i-deploy-pacticipant-version-to-environment",
        "/can-i-deploy?pacticipant={pacticipant}&version={version}&environment={environment}",
        "Determine if an application version can be safely deployed to an environment",
        True,
    ),
    (
        "pb:provider-pacts-for-verification",
        "/pacts/provider/{provider}/for-verification",
        "Pact versions to be verified for the specified provider",
        True,
    ),
    ("pb:environments", "/environments", "Environments", False),
    ("pb:environment", "/environments/{uuid}", "Environment", True),
]

_HIDDEN = (
    "For security purposes, the response details are not logged. To enable response logging, "
    "configure the webhook_host_whitelist property. See {base}/doc/webhooks#whitelist for more "
    "information."
)


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _log_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _segment(name: str) -> str:
    return quote(name, safe="")


class View:
    """One request's view of the world; every method returns (status, JSON body)."""

    def __init__(self, world: World, base: str) -> None:
        self.world = world
        self.base = base

    # -- links ---------------------------------------------------------------------------------

    def _pacticipant(self, name: str) -> str:
        return f"{self.base}/pacticipants/{_segment(name)}"

    def _pair_path(self, consumer: str, provider: str) -> str:
        return f"{self.base}/pacts/provider/{_segment(provider)}/consumer/{_segment(consumer)}"

    def _pact_href(self, publication: Publication) -> str:
        pair = self._pair_path(publication.consumer, publication.provider)
        return f"{pair}/version/{_segment(publication.version)}"

    def _webhook_href(self, uuid: str) -> str:
        return f"{self.base}/webhooks/{uuid}"

    # -- GET / ---------------------------------------------------------------------------------

    def index(self, query: Query) -> tuple[int, Json]:
        links: dict[str, Json] = {"self": {"href": self.base, "title": "Index", "templated": False}}
        for name, path, title, templated in _INDEX:
            link: dict[str, Json] = {"href": self.base + path, "title": title}
            if templated is not None:
                link["templated"] = templated
            links[name] = link
        links["beta:provider-pacts-for-verification"] = {
            "name": "beta",
            "href": f"{self.base}/pacts/provider/{{provider}}/for-verification",
            "title": "DEPRECATED - please use pb:provider-pacts-for-verification",
            "templated": True,
        }
        links["curies"] = [
            {"name": prefix, "href": f"{self.base}/doc/{{rel}}?context=index", "templated": True}
            for prefix in ("pb", "beta")
        ]
        return 200, {"_links": links}

    # -- GET /dashboard --------------------------------------------------------------------------

    def dashboard(self, query: Query) -> tuple[int, Json]:
        params = dict(query)
        page = int(params.get("page") or 1)
        size = int(params.get("size") or 30)
        if page < 1 or size < 1:
            return 400, {"errors": {"page": ["must be greater than or equal to 1"]}}
        rows = [self.world.latest(*pair) for pair in self.world.pairs()]
        chosen = rows[(page - 1) * size : page * size]
        # The broker re-sorts each page by latest activity, newest first.
        chosen.sort(key=lambda pub: pub.created_at, reverse=True)
        return 200, {"items": [self._dashboard_item(pub) for pub in chosen]}

    def _dashboard_item(self, publication: Publication) -> Json:
        verification = self.world.latest_verification(publication)
        consumer, provider = publication.consumer, publication.provider
        pair = self._pair_path(consumer, provider)
        return {
            "consumer": {
                "name": consumer,
                "version": {
                    "number": publication.version,
                    "branch": publication.branch,
                    "headBranchNames": [publication.branch] if publication.branch else [],
                    "_links": {
                        "self": {
                            "href": f"{self._pacticipant(consumer)}/versions/{_segment(publication.version)}"
                        }
                    },
                },
                "_links": {"self": {"href": self._pacticipant(consumer)}},
            },
            "provider": {
                "name": provider,
                "version": {
                    "number": verification.provider_version,
                    "branch": verification.provider_branch,
                    "headBranchNames": [verification.provider_branch]
                    if verification.provider_branch
                    else [],
                }
                if verification
                else None,
                "_links": {"self": {"href": self._pacticipant(provider)}},
            },
            "pact": {
                "createdAt": _time(publication.created_at),
                "_links": {"self": {"href": self._pact_href(publication)}},
            },
            "pactTags": [],
            "latestVerificationResult": {
                "success": verification.success,
                "verifiedAt": _time(verification.verified_at),
                "_links": {
                    "self": {"href": f"{self._pact_href(publication)}/verification-results/latest"}
                },
            }
            if verification
            else None,
            "latestVerificationResultTags": [],
            "verificationStatus": _verification_status(verification),
            # The open-source dashboard never loads webhooks (broker-api section 2).
            "webhookStatus": "none",
            "latestWebhookExecution": None,
            "_links": {
                "pb:webhook-status": {
                    "title": f"Status of webhooks for {consumer}/{provider} pact",
                    "href": f"{pair}/webhooks/status",
                }
            },
        }

    # -- GET /matrix -----------------------------------------------------------------------------

    def matrix(self, query: Query) -> tuple[int, Json]:
        names = [value for key, value in query if key in ("q[][pacticipant]", "q[]pacticipant")]
        params = dict(query)
        limit = int(params.get("limit") or 100)
        known = self.world.pacticipants()
        missing = [f"Pacticipant {name} not found" for name in names if name not in known]
        if missing or not names:
            return 400, {"errors": missing or ["Please provide 1 or more version selectors."]}
        selected = set(names)
        publications = sorted(
            (
                pub
                for pair, pubs in self.world.publications.items()
                if set(pair) <= selected
                for pub in pubs
            ),
            key=lambda pub: pub.created_at,
            reverse=True,
        )[:limit]
        rows: list[tuple[datetime, Publication, VerificationRecord | None]] = []
        for pub in publications:
            verifications = self.world.verifications_of(pub.provider, pub.content)
            latest_per_version: dict[str, VerificationRecord] = {}
            for record in verifications:
                known_record = latest_per_version.get(record.provider_version)
                if known_record is None or record.id > known_record.id:
                    latest_per_version[record.provider_version] = record
            if not latest_per_version:
                rows.append((pub.created_at, pub, None))
            for record in latest_per_version.values():
                rows.append((max(pub.created_at, record.verified_at), pub, record))
        rows.sort(key=lambda row: (row[0], row[1].order, row[2].id if row[2] else 0), reverse=True)
        rows = rows[:limit]
        matrix = [self._matrix_row(pub, record) for _, pub, record in rows]
        failed = sum(1 for _, _, record in rows if record and not record.success)
        succeeded = sum(1 for _, _, record in rows if record and record.success)
        unknown = sum(1 for _, _, record in rows if record is None)
        notices = self._matrix_notices(names, failed, unknown)
        summary = {
            "deployable": None if unknown else failed == 0,
            "reason": "\n".join(notice["text"] for notice in notices)
            or "All required verification results are published and successful",
            "success": succeeded,
            "failed": failed,
            "unknown": unknown,
        }
        return 200, {"summary": summary, "notices": notices, "matrix": matrix}

    def _matrix_notices(self, names: list[str], failed: int, unknown: int) -> list[Json]:
        between = " and ".join(f"any version of {name}" for name in names[:2])
        notices = []
        if failed:
            notices.append(
                {"type": "error", "text": f"The verification for the pact between {between} failed"}
            )
        if unknown:
            notices.append(
                {"type": "error", "text": f"There is no verified pact between {between}"}
            )
        return notices

    def _matrix_version(self, name: str, number: str, branch: str | None, latest: bool) -> Json:
        versions = f"{self._pacticipant(name)}/branches/{_segment(branch or '')}/versions/{_segment(number)}"
        branches = (
            [
                {
                    "name": branch,
                    "latest": latest,
                    "_links": {
                        "self": {"title": "Branch version", "name": branch, "href": versions}
                    },
                }
            ]
            if branch
            else []
        )
        return {
            "number": number,
            "branch": branch,
            "branches": branches,
            "branchVersions": branches,
            "environments": [],
            "_links": {"self": {"href": f"{self._pacticipant(name)}/versions/{_segment(number)}"}},
            "tags": [],
        }

    def _matrix_row(self, pub: Publication, record: VerificationRecord | None) -> Json:
        latest = self.world.latest(pub.consumer, pub.provider) is pub
        provider_version = (
            self._matrix_version(
                pub.provider, record.provider_version, record.provider_branch, latest
            )
            if record
            else None
        )
        verification = None
        if record is not None:
            href = f"{self._pair_path(pub.consumer, pub.provider)}/pact-version/{pub.content}/verification-results/{record.id}"
            verification = {
                "success": record.success,
                "verifiedAt": _time(record.verified_at),
                "_links": {"self": {"href": href}},
            }
        return {
            "consumer": {
                "name": pub.consumer,
                "version": self._matrix_version(pub.consumer, pub.version, pub.branch, latest),
                "_links": {"self": {"href": self._pacticipant(pub.consumer)}},
            },
            "provider": {
                "name": pub.provider,
                "version": provider_version,
                "_links": {"self": {"href": self._pacticipant(pub.provider)}},
            },
            "pact": {
                "createdAt": _time(pub.created_at),
                "_links": {"self": {"href": self._pact_href(pub)}},
            },
            "verificationResult": verification,
        }

    # -- webhooks --------------------------------------------------------------------------------

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
        if webhook.consumer:
            body["consumer"] = {"name": webhook.consumer}
            links["pb:consumer"] = {
                "title": "Consumer",
                "name": webhook.consumer,
                "href": self._pacticipant(webhook.consumer),
            }
        if webhook.provider:
            body["provider"] = {"name": webhook.provider}
            links["pb:provider"] = {
                "title": "Provider",
                "name": webhook.provider,
                "href": self._pacticipant(webhook.provider),
            }
        if webhook.consumer and webhook.provider:
            links["pb:pact-webhooks"] = {
                "title": f"All webhooks for consumer {webhook.consumer} and provider {webhook.provider}",
                "href": f"{self.base}/webhooks/provider/{_segment(webhook.provider)}/consumer/{_segment(webhook.consumer)}",
            }
        links["pb:webhooks"] = {"title": "All webhooks", "href": f"{self.base}/webhooks"}
        body |= {
            "enabled": webhook.enabled,
            "request": {
                "method": "POST",
                "url": webhook.url,
                "headers": _redacted(webhook.headers),
                "body": webhook.body,
            },
            "events": [{"name": event} for event in webhook.events],
            "createdAt": _time(webhook.created_at),
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
        logs, sent = self._logs(webhook, publication, "test", Attempt(now, webhook.target), None)
        target = webhook.target
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
            result["message"] = _HIDDEN.format(base=self.base)
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
            self.world.latest(*pair) for pair in self.world.pairs() if webhook.covers(*pair)
        ]
        return max(candidates, key=lambda pub: pub.created_at, default=None)

    # -- webhook history -------------------------------------------------------------------------

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
        counts = {
            status: sum(1 for record in entries if record.status == status)
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
                if record.status in ("failure", "retrying")
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

    def _logs_href(self, record: TriggeredRecord) -> str:
        return f"{self.base}/triggered-webhooks/{record.uuid}/logs"

    def _triggered(self, record: TriggeredRecord) -> Json:
        name = _request_name(record.webhook)
        made = len(record.attempts)
        return {
            "name": name,
            "status": record.status,
            "attemptsMade": made,
            "attemptsRemaining": 0 if record.status in ("success", "failure") else 1,
            "triggerType": "resource_creation",
            "eventName": record.event,
            "triggeredAt": _time(record.triggered_at),
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
        total = len(record.attempts)
        for number, attempt in enumerate(record.attempts, start=1):
            if attempt.target.success:
                closing = "Successfully executed webhook"
            elif number < total:
                closing = f"Retrying webhook in {5 * 2 ** (number - 1)} seconds"
            else:
                closing = f"Webhook execution failed after {total} attempts"
            logs, _ = self._logs(record.webhook, record.publication, record.event, attempt, closing)
            executions.append(
                {"success": attempt.target.success, "logs": logs, "createdAt": _time(attempt.at)}
            )
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

    # -- log text --------------------------------------------------------------------------------

    def _line(self, moment: datetime, level: str, text: str) -> str:
        return f"[{_log_time(moment)}] {level}: {text}\n"

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
        headers = {name.lower(): value for name, value in _redacted(webhook.headers).items()}
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
        hidden = _HIDDEN.format(base=self.base)
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


def _verification_status(verification: VerificationRecord | None) -> str:
    if verification is None:
        return "never"
    return "success" if verification.success else "failed"


def _scope_title(webhook: WebhookDefinition) -> str:
    if webhook.consumer and webhook.provider:
        return f"A webhook for the pact between {webhook.consumer} and {webhook.provider}"
    if webhook.provider:
        return f"A webhook for all pacts with provider {webhook.provider}"
    if webhook.consumer:
        return f"A webhook for all pacts with consumer {webhook.consumer}"
    return "A webhook for all pacts"


def _request_name(webhook: WebhookDefinition) -> str:
    return f"POST {urlsplit(webhook.url).hostname}"


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    """Header values the broker masks: names with `authorization` or `token` (broker-api 5)."""
    masked = ("authorization", "token")
    return {
        name: "**********" if any(word in name.lower() for word in masked) else value
        for name, value in headers.items()
    }
