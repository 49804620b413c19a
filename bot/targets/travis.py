"""Travis CI: `POST https://api.travis-ci.com/repo/{owner}%2F{repo}/requests` with
`Travis-API-Version: 3` and `Authorization: token …`. (api.travis-ci.org, the template
library's host, has been shut down since June 2021.) Its answers, from Travis CI's docs and,
where they are silent, its public API source: 202 with the pending request; 403 with
`error_type` `wrong_credentials` (`access denied`) for a token it does not accept, never 401;
403 `login_required` without a token; 403 `insufficient_access` without create_request
access; 404 `not_found`, `repository not found (or insufficient access)`; 406 for an inactive
repository; 429 `request_limit_reached`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote

from bot.domain.model import Advice, DispatchTarget, HealthKind
from bot.targets.base import Ci, Documented, Meaning, Runbook, Step, says

KEY = "travis"
_REQUESTS = re.compile(
    r"^(?P<api>https://api\.travis-ci\.(?P<tld>com|org))/repo/(?P<slug>[^/?#]+)/requests/?"
    r"(?:[?#].*)?$"
)
_RETIRED = Advice(
    "retired_host",
    "it posts to api.travis-ci.org, shut down since June 2021: no build starts",
    "post to https://api.travis-ci.com/repo/<owner>%2F<repo>/requests, with a token of "
    "travis-ci.com",
)
_PREFERENCES = ("your account preferences", "https://app.travis-ci.com/account/preferences")


def recognise(url: str, body: object, headers: Mapping[str, str]) -> DispatchTarget | None:
    found = _REQUESTS.match(url)
    if found is None:
        return None
    owner, _, repo = unquote(found["slug"]).rpartition("/")
    advice = (_RETIRED,) if found["tld"] == "org" else ()
    web = "https://app.travis-ci.com"
    return DispatchTarget(found["api"], owner, repo, None, ci=KEY, web=web, advice=advice)


def _runbook(target: DispatchTarget, note: str) -> Runbook:
    return Runbook(
        confirm=(
            "Run the webhook's Test. Travis CI answering 403 *access denied* confirms that the "
            "API token is dead, and the rotation moves on. (The Test starts a real build.)"
        ),
        sign_in=Step(
            "Sign in to Travis CI as the bot user",
            "{link} as {account}. :warning: Not your own account: a token of yours acts as you "
            "and dies when you leave.",
            ("Sign in to Travis CI", "https://app.travis-ci.com/signin"),
        ),
        generate=Step(
            "Regenerate the API token",
            "Open {link}, *Settings*, *API authentication*: regenerate the token. The old one "
            "stops working at once.",
            _PREFERENCES,
        ),
        copy="Copy the new token.",
        revoke=Step(
            "Nothing left to revoke",
            "Regenerating replaced the old token: it stopped working when the new one was "
            "made ({link}). Finish records the rotation.",
            _PREFERENCES,
        ),
    )


TRAVIS = Ci(
    key=KEY,
    name="Travis CI",
    token="API token",
    account="the bot user",
    recognise=recognise,
    runbook=_runbook,
    runs=lambda target: f"{target.web_url}/github/{target.slug}/requests",
    runs_name="its requests",
    near=lambda url: "api.travis-ci." in url,
    endpoint="https://api.travis-ci.com/repo/<owner>%2F<repo>/requests",
    not_a_trigger="it posts to Travis CI, but not to a repository's requests: no build starts",
    where_it_sits="in the Authorization header (`token …`)",
    documented=(
        Documented(
            403,
            Meaning(
                HealthKind.TOKEN_DEAD,
                "token dead (403)",
                "{where} refused the API token (HTTP 403{said}): it is wrong, regenerated or "
                "expired (Travis CI answers 403, not 401, to a token it does not accept).",
                (
                    "Rotate it: regenerate the token in the account's preferences, paste it "
                    "into the secret the webhook references, then Test again.",
                ),
            ),
            when=says("access denied"),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "no token (403)",
                "{where} refused the request (HTTP 403{said}): it carried no token.",
                ("Send `Authorization: token ${user.<secret>}`.",),
            ),
            when=says("login required"),
        ),
        Documented(
            403,
            Meaning(
                HealthKind.FORBIDDEN,
                "no create_request access (403)",
                "{where} refused the request (HTTP 403{said}): the token's account may see the "
                "repository but not start builds there.",
                ("Use a token of an account with push access to the repository.",),
            ),
            when=says("create_request"),
        ),
        Documented(
            404,
            Meaning(
                HealthKind.NO_ACCESS,
                "not found (404)",
                "{where} answered 404{said}: no such repository, or one the token may not see.",
                ("Check the repository in the URL (`owner%2Frepo`) and the token's account.",),
            ),
        ),
        Documented(
            406,
            Meaning(
                HealthKind.FAILING,
                "repository inactive (406)",
                "{where} answered 406{said}: the repository is not active on Travis CI.",
                ("Activate it on travis-ci.com.",),
            ),
        ),
        Documented(
            429,
            Meaning(
                HealthKind.FAILING,
                "request limit reached (429)",
                "{where} turned the request away (HTTP 429{said}): too many build requests "
                "this hour.",
                ("It passes on its own.",),
            ),
        ),
    ),
)
