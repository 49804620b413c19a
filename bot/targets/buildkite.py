"""Buildkite: `POST https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/
builds` with an API access token (scope `write_builds`) as `Authorization: Bearer`, and a
`commit` and a `branch` in the body. Its answers: 201 with the build; 422 `Validation Failed`;
401 `Authentication required…` for a token it does not accept; 403 for a token without the
scope or the organisation's access; 404 `No pipeline found` for a wrong slug or a pipeline the
token may not see; 429 past 200 requests a minute per organisation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.domain.model import DispatchTarget, HealthKind
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step, on_host

KEY = "buildkite"
_BUILDS = re.compile(
    r"^(?P<api>https://api\.buildkite\.com/v2)/organizations/(?P<org>[^/?#]+)/pipelines/"
    r"(?P<pipeline>[^/?#]+)/builds/?(?:[?#].*)?$"
)
_TOKENS = ("your API access tokens", "https://buildkite.com/user/api-access-tokens")


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _BUILDS.match(url)
    if found is None:
        return None
    return DispatchTarget(
        found["api"], found["org"], found["pipeline"], None, ci=KEY, web="https://buildkite.com"
    )


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    return Runbook(
        confirm=(
            "Run the webhook's Test. Buildkite answering 401 confirms that the API access token "
            "is dead, and the rotation moves on. (The Test starts a real build.)"
        ),
        sign_in=Step(
            "Sign in to Buildkite as the bot user",
            "{link} as {account}. :warning: Not your own account: a token of yours acts as you "
            "and dies when you leave.",
            ("Sign in to Buildkite", "https://buildkite.com/login"),
        ),
        generate=Step(
            "Duplicate the API access token",
            f"Open {{link}}, choose the old token and *Duplicate* it (the same scope, "
            f"`write_builds`, and organisation *{target.owner}*), description `{note}`.",
            _TOKENS,
        ),
        copy="Copy the token Buildkite shows: it is shown once.",
        revoke=Step(
            "Revoke the old token",
            f"In {{link}}, revoke the old token (not `{note}`). Finish records the rotation.",
            _TOKENS,
        ),
    )


BUILDKITE = Ci(
    key=KEY,
    name="Buildkite",
    token="API access token",
    account="the bot user",
    recognise=recognise,
    runbook=_runbook,
    runs=lambda target: f"{target.web_url}/{target.slug}/builds",
    runs_name="its builds",
    near=on_host("api.buildkite.com"),
    endpoint="https://api.buildkite.com/v2/organizations/<org>/pipelines/<pipeline>/builds",
    not_a_trigger="it posts to Buildkite, but not to a pipeline's builds: no build starts",
    where_it_sits="in the Authorization header (Bearer)",
    documented=(
        Documented(
            401,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (401)",
                "{where} rejected the API access token (HTTP 401{said}): it was revoked, it "
                "expired, or the organisation removed its access.",
                (
                    "Rotate it: duplicate the token (scope `write_builds`), paste the new one "
                    "into the secret the webhook references, then Test again.",
                ),
            ),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "forbidden (403)",
                "{where} refused the request (HTTP 403{said}): the token lacks the "
                "`write_builds` scope, or access to the organisation.",
                ("Give the token `write_builds` and the organisation.",),
            ),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "no pipeline found (404)",
                "{where} answered 404{said}: no such pipeline, or one the token may not see "
                "(Buildkite says 404 to both).",
                ("Check the organisation and pipeline slugs in the URL, then the token's access.",),
            ),
        ),
        Documented(
            422,
            Meaning(
                HealthKind.REJECTED,
                "build rejected (422)",
                "{where} rejected the build (HTTP 422{said}).",
                ("Buildkite needs a `commit` (e.g. `HEAD`) and a `branch` in the body.",),
            ),
        ),
        Documented(
            429,
            Meaning(
                HealthKind.FAILING,
                "rate limited (429)",
                "{where} turned the request away (HTTP 429): 200 requests a minute per "
                "organisation; RateLimit-Reset says when it lifts.",
                ("It passes on its own.",),
            ),
        ),
    ),
)
