"""Pacticipants: the list, one of them, those with a label, and a branch."""

from __future__ import annotations

import json
import re

from bot.sample.pages.links import Json, Links, Query, segment, stamp
from bot.sample.world import Pacticipant


class PacticipantPages(Links):
    def pacticipants(self, query: Query) -> tuple[int, Json]:
        """Every pacticipant, in the deprecated form the broker still serves at this URL."""
        every = sorted(self.world.known.values(), key=_by_name)
        found, page = self._page(every, query)
        body = self._list(found, page, len(every), f"{self.base}/pacticipants")
        links = body["_links"]
        links["pacticipants"] = [
            {
                "href": self._pacticipant(known.name),
                "title": known.name,
                "name": "DEPRECATED - please use pb:pacticipants",
            }
            for known in found
        ]
        deprecated = "DEPRECATED - Please use the embedded pacticipants collection"
        body["pacticipants"] = [self._item(known) | {"title": deprecated} for known in found]
        return 200, body

    def create_pacticipant(self, query: Query) -> tuple[int, Json]:
        """`POST /pacticipants` (`pacticipant_create_schema.rb`: a name is required)."""
        try:
            given = json.loads(self.sent or b"null")
        except ValueError:
            return 400, {"error": "The request body could not be parsed as JSON"}
        name = given.get("name") if isinstance(given, dict) else None
        if not isinstance(name, str) or not name.strip():
            return 400, {"errors": {"name": ["is missing"]}}
        if name in self.world.known:
            return 409, {"errors": {"name": [f"A pacticipant with name '{name}' already exists"]}}
        return 201, self._item(self.world.pacticipant(name))

    def pacticipant(self, name: str, query: Query) -> tuple[int, Json]:
        known = self.world.known.get(name)
        if known is None:
            return 404, {"error": f"No pacticipant with name '{name}' found"}
        return 200, self._item(known)

    def labelled(self, label: str, query: Query) -> tuple[int, Json]:
        """`/pacticipants/label/{label}` (`pacticipants_for_label.rb`)."""
        carrying = sorted(
            (known for known in self.world.known.values() if label in known.labels), key=_by_name
        )
        found, page = self._page(carrying, query)
        url = f"{self.base}/pacticipants/label/{segment(label)}"
        return 200, self._list(found, page, len(carrying), url)

    def branch(self, name: str, branch: str, query: Query) -> tuple[int, Json]:
        """A branch exists once a version is on it (`branch_decorator.rb`)."""
        known = self.world.known.get(name)
        versions = known.branch_versions(branch) if known else []
        if not versions:
            return 404, None
        created = stamp(min(version.created_at for version in versions))
        href = f"{self._pacticipant(name)}/branches/{segment(branch)}"
        return 200, {
            "name": branch,
            "updatedAt": created,
            "createdAt": created,
            "_links": {
                "self": {"title": "Branch", "href": href},
                "pb:latest-version": {
                    "title": "Latest version for branch",
                    "href": f"{href}/latest-version",
                },
            },
        }

    def _page(
        self, found: list[Pacticipant], query: Query
    ) -> tuple[list[Pacticipant], tuple[int, int] | None]:
        """The page asked for (`pagination_methods.rb`): all of them when none is."""
        params = dict(query)
        if "page" not in params and "size" not in params:
            return found, None
        number, size = int(params.get("page") or 1), int(params.get("size") or 100)
        return found[(number - 1) * size : number * size], (number, size)

    def _list(
        self, found: list[Pacticipant], page: tuple[int, int] | None, total: int, url: str
    ) -> Json:
        body: Json = {"_embedded": {"pacticipants": [self._item(known) for known in found]}}
        links: Json = {
            "self": {"href": url},
            "pb:pacticipants-with-label": {
                "title": "Find pacticipants by label",
                "href": f"{self.base}/pacticipants/label/{{label}}",
                "templated": True,
            },
            "pb:pacticipants": [
                {"href": self._pacticipant(known.name), "title": "Pacticipant", "name": known.name}
                for known in found
            ],
        }
        if page is not None:
            number, size = page
            pages = max(1, -(-total // size))
            body["page"] = {
                "number": number,
                "size": size,
                "totalElements": total,
                "totalPages": pages,
            }
            if number < pages:
                links["next"] = {
                    "href": f"{url}?size={size}&page={number + 1}",
                    "title": "Next page",
                }
        body["_links"] = links
        return body

    def _item(self, known: Pacticipant) -> Json:
        """One pacticipant (`pacticipant_decorator.rb`), as the captured list embeds it."""
        href = self._pacticipant(known.name)
        latest = known.latest_version
        embedded: Json = {}
        if latest is not None:
            embedded["latestVersion"] = self._version(known.name, latest.number)
        embedded["labels"] = [
            {
                "name": label,
                "_links": {
                    "self": {
                        "title": "Label",
                        "name": label,
                        "href": f"{href}/labels/{segment(label)}",
                    }
                },
            }
            for label in known.labels
        ]
        if latest is not None:
            deprecated = "DEPRECATED - please use latestVersion"
            embedded["latest-version"] = self._version(known.name, latest.number) | {
                "title": deprecated,
                "name": deprecated,
            }
        created = stamp(known.created_at)
        item: Json = {"name": known.name, "displayName": display_name(known.name)}
        if known.main_branch is not None:  # representable leaves nil properties out
            item["mainBranch"] = known.main_branch
        return item | {
            "updatedAt": created,
            "createdAt": created,
            "_embedded": embedded,
            "_links": _pacticipant_links(href, known.name, self.base),
        }

    def _version(self, name: str, number: str) -> Json:
        href = f"{self._pacticipant(name)}/versions/{segment(number)}"
        return {
            "number": number,
            "_links": {"self": {"title": "Version", "name": number, "href": href}},
        }


def _by_name(known: Pacticipant) -> str:
    return known.name.lower()


def display_name(name: str) -> str:
    """The broker's `GenerateDisplayName`: `orders-api` → `Orders Api`."""
    text = re.sub(r"([A-Z])([A-Z])([a-z])", r"\1 \2\3", name)
    text = re.sub(r"([a-z\d])([A-Z])(\S)", r"\1 \2\3", text)
    text = re.sub(r"(\S)([\-_\s.])(\S)", r"\1 \3", text)
    words = re.sub(r"\s+", " ", text).strip().split(" ")
    return " ".join(word[:1].upper() + word[1:] for word in words)


def _pacticipant_links(href: str, name: str, base: str) -> Json:
    return {
        "self": {"href": href},
        "pb:versions": {"href": f"{href}/versions"},
        "pb:branches": {"href": f"{href}/branches"},
        "pb:version": {
            "title": "Get, create or delete a pacticipant version",
            "href": f"{href}/versions/{{version}}",
            "templated": True,
        },
        "pb:version-tag": {
            "title": f"Get, create or delete a tag for a version of {name}",
            "href": f"{href}/versions/{{version}}/tags/{{tag}}",
            "templated": True,
        },
        "pb:branch-version": {
            "title": f"Get or add/create a version for a branch of {name}",
            "href": f"{href}/branches/{{branch}}/versions/{{version}}",
            "templated": True,
        },
        "pb:label": {
            "title": f"Get, create or delete a label for {name}",
            "href": f"{href}/labels/{{label}}",
            "templated": True,
        },
        "versions": {"title": "Deprecated - use pb:versions", "href": f"{href}/versions"},
        "pb:can-i-deploy-badge": {
            "title": f"Can I Deploy {name} badge",
            "href": f"{href}/latest-version/{{tag}}/can-i-deploy/to/{{environmentTag}}/badge",
            "templated": True,
        },
        "pb:can-i-deploy-branch-to-environment-badge": {
            "title": f"Can I Deploy {name} from branch to environment badge",
            "href": f"{href}/branches/{{branch}}/latest-version/can-i-deploy/to-environment/{{environment}}/badge",
            "templated": True,
        },
        "curies": [
            {"name": "pb", "href": f"{base}/doc/{{rel}}?context=pacticipant", "templated": True}
        ],
    }
