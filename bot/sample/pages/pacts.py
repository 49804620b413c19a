"""The index, the dashboard and the matrix: pacts and their verifications."""

from __future__ import annotations

from datetime import datetime

from bot.sample.pages.links import Json, Links, Query, segment, stamp
from bot.sample.world import Publication, VerificationRecord

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


class PactPages(Links):
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
                            "href": f"{self._pacticipant(consumer)}/versions/{segment(publication.version)}"
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
                "createdAt": stamp(publication.created_at),
                "_links": {"self": {"href": self._pact_href(publication)}},
            },
            "pactTags": [],
            "latestVerificationResult": {
                "success": verification.success,
                "verifiedAt": stamp(verification.verified_at),
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
        versions = (
            f"{self._pacticipant(name)}/branches/{segment(branch or '')}/versions/{segment(number)}"
        )
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
            "_links": {"self": {"href": f"{self._pacticipant(name)}/versions/{segment(number)}"}},
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
                "verifiedAt": stamp(record.verified_at),
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
                "createdAt": stamp(pub.created_at),
                "_links": {"self": {"href": self._pact_href(pub)}},
            },
            "verificationResult": verification,
        }


def _verification_status(verification: VerificationRecord | None) -> str:
    if verification is None:
        return "never"
    return "success" if verification.success else "failed"
