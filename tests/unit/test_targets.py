"""The CI targets: each recognised from the webhook's URL (hosted and self-hosted forms), each
documented answer read as `tests/fixtures/targets/` says, each rotation with its CI's own
steps and links, and what the lint says of a request that cannot work."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_config
from bot.domain.lint import Lint, lint
from bot.domain.model import Execution, HealthKind, Scope, TargetAnswer, Webhook
from bot.domain.webhook_logs import target_message
from bot.domain.webhooks import dispatch_target, health
from bot.sample.world import AZURE_RUN_QUEUED, GITLAB_PIPELINE_CREATED, GITLAB_TOKEN_UNKNOWN, Target
from bot.targets import REGISTRY, ci_of, label, read, recognise

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "targets"
README = Path(__file__).resolve().parents[2] / "README.md"

# One trigger URL of each CI, as the template library (or the CI's docs) writes it.
TRIGGERS = {
    "github": "https://api.github.com/repos/acme/orders-api/dispatches",
    "gitlab": "https://gitlab.com/api/v4/projects/acme%2Fshipping/trigger/pipeline",
    "azure_devops": "https://dev.azure.com/acme/Orders/_apis/pipelines/12/runs?api-version=7.1",
    "bitbucket": "https://api.bitbucket.org/2.0/repositories/acme/shipping/pipelines/",
    "circleci": "https://circleci.com/api/v2/project/gh/acme/payments/pipeline",
    "buildkite": "https://api.buildkite.com/v2/organizations/acme/pipelines/payments/builds",
    "jenkins": "https://jenkins.acme.io/job/contracts/job/payments/buildWithParameters?x=1",
    "travis": "https://api.travis-ci.com/repo/acme%2Fpayments/requests",
}


def answers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found += [(data["ci"], answer) for answer in data["answers"]]
    return found


def answer_of(fixture: dict[str, Any]) -> TargetAnswer:
    """The answer as the broker's Test shows it: its status, headers and the CI's message."""
    return TargetAnswer(
        success=fixture["success"],
        status=fixture["status"],
        headers=fixture["headers"],
        message=target_message(fixture.get("body")),
    )


def target(ci: str, url: str | None = None, **request: Any) -> Any:
    found = recognise(url or TRIGGERS[ci], request.get("body", {}), request.get("headers", {}))
    assert found is not None
    assert found.ci == ci
    return found


def webhook_to(url: str, **request: Any) -> Webhook:
    return Webhook(
        uuid="hookAbCdEfGhIjKlMnOpQr",
        description="Verify payments",
        scope=Scope(provider="payments"),
        enabled=True,
        events=("contract_requiring_verification_published",),
        method="POST",
        url=url,
        target=recognise(url, request.get("body", {}), request.get("headers", {})),
    )


@pytest.mark.parametrize(("ci", "fixture"), answers(), ids=lambda v: getattr(v, "get", str)("name"))
def test_every_documented_answer_is_read_as_its_fixture_says(
    ci: str, fixture: dict[str, Any]
) -> None:
    reading = read(answer_of(fixture), target(ci))

    assert (reading.kind.value, reading.short) == (fixture["kind"], fixture["short"])
    assert REGISTRY[ci].name in reading.headline or reading.kind is HealthKind.UNREACHABLE


def test_every_answer_a_target_documents_has_a_fixture() -> None:
    shown = {(ci, fixture["short"]) for ci, fixture in answers()}

    for ci in REGISTRY.values():
        for documented in ci.documented:
            short = documented.meaning.short.replace("{status}", str(documented.status))
            assert (ci.key, short) in shown, f"{ci.key}: no fixture for {short!r}"


@pytest.mark.parametrize(
    ("url", "ci", "slug", "web"),
    [
        (TRIGGERS["github"], "github", "acme/orders-api", "https://github.com"),
        (
            "https://git.acme.io/api/v3/repos/platform/orders/dispatches",
            "github",
            "platform/orders",
            "https://git.acme.io",
        ),
        (TRIGGERS["gitlab"], "gitlab", "acme/shipping", "https://gitlab.com"),
        (
            "https://gitlab.com/api/v4/projects/21/ref/main/trigger/pipeline?token=x",
            "gitlab",
            "21",
            "https://gitlab.com",
        ),
        (
            "https://git.acme.io/gitlab/api/v4/projects/platform%2Fsub%2Fshipping/trigger/pipeline",
            "gitlab",
            "platform/sub/shipping",
            "https://git.acme.io/gitlab",
        ),
        (TRIGGERS["azure_devops"], "azure_devops", "acme/Orders", "https://dev.azure.com/acme"),
        (
            "https://acme.visualstudio.com/Orders/_apis/build/builds?api-version=6.0",
            "azure_devops",
            "acme/Orders",
            "https://acme.visualstudio.com",
        ),
        (
            "https://tfs.acme.io/tfs/DefaultCollection/Orders/_apis/build/builds?api-version=6.0",
            "azure_devops",
            "DefaultCollection/Orders",
            "https://tfs.acme.io/tfs/DefaultCollection",
        ),
        (TRIGGERS["bitbucket"], "bitbucket", "acme/shipping", "https://bitbucket.org"),
        (TRIGGERS["circleci"], "circleci", "gh/acme/payments", "https://app.circleci.com"),
        (
            "https://circleci.com/api/v1.1/project/github/acme/payments/build?circle-token=x",
            "circleci",
            "github/acme/payments",
            "https://app.circleci.com",
        ),
        (
            "https://circleci.acme.io/api/v2/project/circleci/a1b2/c3d4/pipeline/run",
            "circleci",
            "circleci/a1b2/c3d4",
            "https://circleci.acme.io",
        ),
        (TRIGGERS["buildkite"], "buildkite", "acme/payments", "https://buildkite.com"),
        (TRIGGERS["jenkins"], "jenkins", "contracts/payments", "https://jenkins.acme.io"),
        (
            "https://ci.acme.io/jenkins/job/payments/build?token=x",
            "jenkins",
            "payments",
            "https://ci.acme.io/jenkins",
        ),
        (TRIGGERS["travis"], "travis", "acme/payments", "https://app.travis-ci.com"),
    ],
)
def test_a_target_is_recognised_from_its_url_hosted_or_self_hosted(
    url: str, ci: str, slug: str, web: str
) -> None:
    found = recognise(url, {}, {})

    assert found is not None
    assert (found.ci, found.slug, found.web_url) == (ci, slug, web)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://teamcity.acme.io/app/rest/buildQueue",
        "https://drone.acme.io/api/repos/acme/payments/builds?branch=main",
        "https://gitlab.com/api/v4/projects/21/issues",
        "https://api.bitbucket.org/2.0/repositories/acme/shipping/pullrequests",
    ],
)
def test_anything_else_is_no_target(url: str) -> None:
    assert recognise(url, {}, {}) is None


def test_the_azure_devops_pipeline_comes_from_the_path_or_the_body() -> None:
    queued = "https://dev.azure.com/acme/Orders/_apis/build/builds?api-version=6.0"

    assert target("azure_devops").pipeline == "12"
    assert target("azure_devops", queued, body={"definition": {"id": 7}}).pipeline == "7"
    runs = REGISTRY["azure_devops"].runs(target("azure_devops"))
    assert runs == "https://dev.azure.com/acme/Orders/_build?definitionId=12"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://gitlab.com/api/v4/projects/21/issues",
            "it posts to GitLab, but not to a pipeline trigger: no pipeline starts",
        ),
        (
            "https://api.bitbucket.org/2.0/repositories/acme/shipping/pullrequests",
            "it posts to Bitbucket, but not to a repository's pipelines: no pipeline starts",
        ),
        (
            "https://api.github.com/repos/acme/orders-api/issues",
            "it posts to GitHub, but not to a repository's /dispatches: no workflow starts",
        ),
    ],
)
def test_the_lint_names_a_ci_api_that_triggers_nothing(url: str, problem: str) -> None:
    [finding] = lint(webhook_to(url))

    assert (finding.kind, finding.problem) == (Lint.NOT_A_DISPATCH, problem)
    assert finding.fix.startswith("use https://")


def test_the_lint_says_travis_ci_org_is_shut_down() -> None:
    retired = "https://api.travis-ci.org/repo/acme%2Fpayments/requests"

    [finding] = lint(webhook_to(retired))

    assert finding.kind is Lint.RETIRED_HOST
    assert "api.travis-ci.com" in finding.fix


def test_the_lint_says_azure_devops_would_hide_a_dead_pat_behind_a_203() -> None:
    bare = webhook_to(TRIGGERS["azure_devops"])
    suppressed = webhook_to(TRIGGERS["azure_devops"], headers={"X-TFS-FedAuthRedirect": "Suppress"})

    assert [finding.kind for finding in lint(bare)] == [Lint.SIGN_IN_PAGE]
    assert lint(suppressed) == []


def test_an_inline_trigger_token_in_the_url_is_linted_by_place_never_by_value() -> None:
    from bot.domain.lint import inline_credentials

    url = "https://gitlab.com/api/v4/projects/21/trigger/pipeline?token=4f0c2e1d9b8a&ref=main"

    assert inline_credentials(url, {}, None) == ("URL",)
    assert inline_credentials(url.replace("4f0c2e1d9b8a", "${user.gitlabToken}"), {}, None) == ()


def test_a_203_the_broker_counts_as_a_success_is_a_dead_pat() -> None:
    hook = webhook_to(TRIGGERS["azure_devops"])
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    signed_out = TargetAnswer(success=True, status=203, headers={"content-type": "text/html"})
    ran = TargetAnswer(success=True, status=200, headers={"content-type": "application/json"})

    found = health(hook, [Execution(at, ran), Execution(at + timedelta(hours=1), signed_out)])

    assert found.kind is HealthKind.TOKEN_DEAD
    assert found.since == at + timedelta(hours=1)
    assert found.last_success == at
    assert found.describe() == "token dead (203, sign-in page)"


@pytest.mark.parametrize("ci", sorted(REGISTRY))
def test_each_rotation_has_its_cis_own_steps_and_links(ci: str) -> None:
    book = REGISTRY[ci].runbook(target(ci), "pactflow-webhook-2026-12-06")

    assert book.sign_in.link is not None
    assert book.generate.link is not None
    assert book.sign_in.link[1].startswith("https://")
    assert "pactflow-webhook-2026-12-06" in book.generate.text or ci == "travis"
    assert "{link}" in book.generate.text
    assert "{link}" in book.revoke.text
    assert "{account}" in book.sign_in.text
    assert book.copy.startswith("Copy")
    assert REGISTRY[ci].name in book.confirm


@pytest.mark.parametrize(
    ("ci", "page"),
    [
        ("github", "https://github.com/settings/tokens"),
        ("gitlab", "https://gitlab.com/acme/shipping/-/settings/ci_cd#js-pipeline-triggers"),
        ("azure_devops", "https://dev.azure.com/acme/_usersSettings/tokens"),
        ("bitbucket", "https://id.atlassian.com/manage-profile/security/api-tokens"),
        ("circleci", "https://app.circleci.com/settings/user/tokens"),
        ("buildkite", "https://buildkite.com/user/api-access-tokens"),
        ("jenkins", "https://jenkins.acme.io/me/configure"),
        ("travis", "https://app.travis-ci.com/account/preferences"),
    ],
)
def test_the_old_credential_is_revoked_on_the_cis_own_page(ci: str, page: str) -> None:
    revoke = REGISTRY[ci].runbook(target(ci), "pactflow-webhook-2026-12-06").revoke

    assert revoke.link is not None
    assert revoke.link[1] == page


def test_a_webhook_shows_what_it_triggers_with_its_ci_unless_github() -> None:
    assert label(target("github")) == "acme/orders-api"
    assert label(target("gitlab")) == "GitLab acme/shipping"
    assert ci_of(dispatch_target(TRIGGERS["travis"], {})) is REGISTRY["travis"]


def test_the_config_names_who_holds_each_cis_credential(tmp_path: Path) -> None:
    path = tmp_path / "pactbot.yml"
    path.write_text(
        "rotation:\n  machine_user: pactflow-acme\n  accounts:\n    gitlab: pact-maintainer\n",
        encoding="utf-8",
    )
    rotation = load_config(path).rotation

    assert (rotation.account("github"), rotation.account("gitlab")) == (
        "pactflow-acme",
        "pact-maintainer",
    )
    assert rotation.account("azure_devops") is None
    path.write_text("rotation:\n  accounts:\n    gitlb: someone\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert "rotation.accounts" in str(raised.value)
    assert "'gitlb' is no CI pactbot knows; these are: azure_devops, bitbucket" in str(raised.value)


def test_the_readme_lists_every_target_and_the_generic_ones() -> None:
    table = README.read_text(encoding="utf-8").split("## Supported CI targets", 1)[1]

    for ci in REGISTRY.values():
        assert f"| {ci.name} |" in table
    for generic in ("TeamCity", "Bamboo", "Drone"):
        assert f"| {generic} |" in table


@pytest.mark.parametrize(
    ("answer", "ci", "name"),
    [
        (GITLAB_TOKEN_UNKNOWN, "gitlab", "trigger-token-unknown"),
        (GITLAB_PIPELINE_CREATED, "gitlab", "pipeline-created"),
        (AZURE_RUN_QUEUED, "azure_devops", "run-created"),
    ],
)
def test_the_sample_broker_answers_for_other_cis_as_the_fixtures_say(
    answer: Target, ci: str, name: str
) -> None:
    [fixture] = [found for key, found in answers() if key == ci and found["name"] == name]

    assert (answer.status, answer.body, answer.success) == (
        fixture["status"],
        fixture["body"],
        fixture["success"],
    )
