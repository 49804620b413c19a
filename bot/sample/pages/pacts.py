"""The index, the dashboard and the matrix: pacts and their verifications."""

from __future__ import annotations

from datetime import datetime

from bot.sample.pages.index_links import INDEX_LINKS
from bot.sample.pages.links import Json, Links, Query, segment, stamp
from bot.sample.world import Publication, VerificationRecord


class PactPages(Links):
    def index(self, query: Query) -> tuple[int, Json]:
        links: dict[str, Json] = {"self": {"href": self.base, "title": "Index", "templated": False}}
        for name, path, title, templated in INDEX_LINKS:
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
        # Only this page's pairs: a large world has thousands, and a client reads every page.
        pairs = list(self.world.pairs())[(page - 1) * size : page * size]
        chosen = [self.world.latest(*pair) for pair in pairs]
        # The broker re-sorts each page by latest activity, newest first.
        chosen.sort(key=lambda pub: pub.created_at, reverse=True)
        return 200, {"items": [self._dashboard_item(pub) for pub in chosen]}

    def _dashboard_item(self, publication: Publication) -> Json:
        verification = self.world.latest_verification(publication)
        consumer, provider = publication.consumer, publication.provider
        pair = self._pair_path(consumer, provider)
        # Each link made once: a page is a thousand rows, and a large world has many pages.
        consumer_href, pact_href = self._pacticipant(consumer), self._pact_href(publication)
        return {
            "consumer": {
                "name": consumer,
                "version": {
                    "number": publication.version,
                    "branch": publication.branch,
                    "headBranchNames": [publication.branch] if publication.branch else [],
                    "_links": {
                        "self": {"href": f"{consumer_href}/versions/{segment(publication.version)}"}
                    },
                },
                "_links": {"self": {"href": consumer_href}},
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
                "_links": {"self": {"href": pact_href}},
            },
            "pactTags": [],
            "latestVerificationResult": {
                "success": verification.success,
                "verifiedAt": stamp(verification.verified_at),
                "_links": {"self": {"href": f"{pact_href}/verification-results/latest"}},
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
