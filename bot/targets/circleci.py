"""CircleCI: a pipeline, `POST {api}/api/v2/project/{slug}/pipeline` (or `…/pipeline/run`)
with a personal API token in the `Circle-Token` header, or the template library's API v1.1
build, `POST {api}/api/v1.1/project/{vcs}/{org}/{repo}/build?circle-token=…`; on circleci.com
or a CircleCI server. API v2 takes personal API tokens only, not project tokens; personal
tokens made since 2024 expire within a year. Its answers: 201 with the pipeline; 401 for an
invalid token (`pipeline/run`; CircleCI's support: a personal token that suddenly fails with
401 has most likely expired); 404 `Project not found` for a project the token may not see or a
wrong slug (and, on v1.1, for an invalid token on a private project); 400 `Branch not found`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.domain.model import DispatchTarget, HealthKind
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step, on_host, says

KEY = "circleci"
_V2 = re.compile(
    r"^(?P<root>https?://[^/?#]+)/api/v2/project/(?P<slug>[^?#]+?)/pipeline(?:/run)?/?"
    r"(?:[?#].*)?$"
)
_V1 = re.compile(
    r"^(?P<root>https?://[^/?#]+)/api/v1\.1/project/(?P<slug>[^/?#]+/[^/?#]+/[^/?#]+)"
    r"(?:/tree/[^?#]+)?/build/?(?:[?#].*)?$"
)


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _V2.match(url) or _V1.match(url)
    if found is None:
        return None
    root = found["root"]
    owner, _, repo = found["slug"].rpartition("/")
    web = "https://app.circleci.com" if root == "https://circleci.com" else root
    return DispatchTarget(root, owner, repo, None, ci=KEY, web=web)


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    tokens = ("its personal API tokens", f"{target.web_url}/settings/user/tokens")
    return Runbook(
        confirm=(
            "Run the webhook's Test. CircleCI answering 401 confirms that the API token is "
            "dead, and the rotation moves on. (The Test starts a real pipeline.)"
        ),
        sign_in=Step(
            "Sign in to CircleCI as the machine user",
            "{link} as {account}, an account that follows the project. :warning: Not your own "
            "account: a token of yours acts as you and dies when you leave.",
            ("Sign in to CircleCI", target.web_url),
        ),
        generate=Step(
            "Create a personal API token",
            f"Open {{link}}, *Create New Token*, name `{note}`, the longest expiry offered (a "
            "year at most). :calendar: Set a reminder a week before it. A project token does "
            "not work: API v2 takes personal tokens only.",
            tokens,
        ),
        copy="Copy the token CircleCI shows: it is shown once.",
        revoke=Step(
            "Delete the old API token",
            f"In {{link}}, delete the old token (not `{note}`): a token cannot be changed, only "
            "replaced. Finish records the rotation.",
            tokens,
        ),
    )


CIRCLECI = Ci(
    key=KEY,
    name="CircleCI",
    token="API token",
    account="the machine user",
    recognise=recognise,
    runbook=_runbook,
    runs=lambda target: f"{target.web_url}/pipelines/{target.slug}",
    runs_name="its pipelines",
    near=on_host("circleci.com"),
    endpoint="https://circleci.com/api/v2/project/<vcs>/<org>/<repo>/pipeline",
    not_a_trigger="it posts to CircleCI, but not to a project's pipeline: no pipeline starts",
    where_it_sits="in the Circle-Token header (or the circle-token query parameter)",
    documented=(
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the API token (HTTP 401{said}): it expired (personal tokens "
                "made since 2024 expire within a year), was deleted, or is a project token, "
                "which API v2 does not take.",
                (
                    "Rotate it: a new personal API token of the machine user, pasted into the "
                    "secret the webhook references, then Test again.",
                ),
            ),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "no access or token dead (404)",
                "{where} answered 404{said}: CircleCI's answer to a project the token may not "
                "see, a wrong project slug, and (on API v1.1) an invalid token on a private "
                "project.",
                (
                    "Check the project slug in the URL; if it is right, rotate the token: a "
                    "personal API token of an account that follows the project.",
                ),
            ),
        ),
        Documented(
            400,
            Meaning(
                HealthKind.REJECTED,
                "branch not found (400)",
                "{where} answered 400{said}: the branch the webhook asks for does not exist.",
                ("Send an existing branch: the provider's main branch.",),
            ),
            when=says("Branch not found"),
        ),
    ),
)
