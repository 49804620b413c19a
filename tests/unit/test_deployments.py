"""The deployments people copy (deploy/): valid against the real schemas, offline (the Compose
specification, vendored by check-jsonschema; Kubernetes' own OpenAPI schemas, shipped by
kubernetes-validate), and right about pactbot: the probes' paths, the port, the environment the
code reads, every replica on the same persistent Redis."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bot.settings import BrokerSettings, Environment, ServiceSettings, SlackSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = "1.31"  # a version every maintained cluster runs or passed
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
MANIFESTS = {
    path.name: [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
}
RESOURCES = [doc for docs in MANIFESTS.values() for doc in docs]


def env_names() -> set[str]:
    """Every environment variable pactbot's settings read."""
    names = set()
    for model in (BrokerSettings, SlackSettings, ServiceSettings, Environment):
        prefix = model.model_config.get("env_prefix", "")
        names |= {f"{prefix}{name}".upper() for name in model.model_fields}
    return names


def resource(kind: str, name: str) -> dict[str, Any]:
    return next(doc for doc in RESOURCES if doc["kind"] == kind and doc["metadata"]["name"] == name)


def container(kind: str, name: str) -> dict[str, Any]:
    [found] = resource(kind, name)["spec"]["template"]["spec"]["containers"]
    return found


def exposed_port() -> int:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    found = re.search(r"^EXPOSE (\d+)$", dockerfile, re.MULTILINE)
    assert found is not None
    return int(found[1])


# Compose ----------------------------------------------------------------------------------------


def test_compose_is_valid_against_the_compose_specification() -> None:
    schema = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")

    jsonschema.validate(COMPOSE, json.loads(schema.read_text(encoding="utf-8")))


def test_compose_runs_two_replicas_on_one_redis_that_keeps_its_data() -> None:
    pactbot, redis = COMPOSE["services"]["pactbot"], COMPOSE["services"]["redis"]

    assert pactbot["deploy"]["replicas"] == 2
    assert pactbot["environment"]["PACTBOT_STORE_URL"] == "redis://redis:6379/0"
    assert pactbot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_compose_checks_health_on_healthz_at_the_port_and_mounts_the_config() -> None:
    pactbot = COMPOSE["services"]["pactbot"]
    port = exposed_port()

    assert f"http://127.0.0.1:{port}/healthz" in " ".join(pactbot["healthcheck"]["test"])
    assert pactbot["environment"]["PORT"] == str(port)
    assert all(mapping.endswith(f":{port}") for mapping in pactbot["ports"])
    config = pactbot["environment"]["PACTBOT_CONFIG"]
    assert any(volume.split(":")[1] == config for volume in pactbot["volumes"])


def test_the_env_file_lists_only_names_the_code_reads_and_is_never_committed() -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    listed = {
        line.split("=", 1)[0] for line in example.splitlines() if re.match(r"^[A-Z_]+=", line)
    }
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()

    assert listed <= env_names()
    assert {"PACT_BROKER_BASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= listed
    assert COMPOSE["services"]["pactbot"]["env_file"] == ".env"
    assert "deploy/.env" in ignored
    assert set(COMPOSE["services"]["pactbot"]["environment"]) <= env_names()
    for line in example.splitlines():  # names and harmless defaults only
        if re.match(r"^[A-Z_]+=", line):
            assert line.split("=", 1)[1] in ("", "https://your-org.pactflow.io", "text")


# Kubernetes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_each_manifest_is_valid_against_kubernetes_own_schemas(name: str) -> None:
    for doc in MANIFESTS[name]:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_deployment_runs_two_replicas_with_the_probes_on_their_paths_and_port() -> None:
    deployment = resource("Deployment", "pactbot")
    pactbot = container("Deployment", "pactbot")
    [port] = pactbot["ports"]

    assert deployment["spec"]["replicas"] == 2
    assert port["containerPort"] == exposed_port()
    assert pactbot["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert pactbot["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    env = {item["name"]: item for item in pactbot["env"]}
    assert env["PORT"]["value"] == str(port["containerPort"])


def test_the_deployment_runs_unprivileged_on_a_read_only_root_with_resources() -> None:
    pod = resource("Deployment", "pactbot")["spec"]["template"]["spec"]
    pactbot = container("Deployment", "pactbot")

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    assert pactbot["securityContext"]["readOnlyRootFilesystem"] is True
    assert pactbot["securityContext"]["allowPrivilegeEscalation"] is False
    assert pactbot["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"requests", "limits"} <= set(pactbot["resources"])


def test_the_deployment_reads_only_names_the_code_reads_and_its_secrets_by_reference() -> None:
    pactbot = container("Deployment", "pactbot")
    env = {item["name"]: item for item in pactbot["env"]}
    secrets = {"PACT_BROKER_TOKEN", "PACT_BROKER_PASSWORD", "SLACK_BOT_TOKEN",
               "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GITHUB_TOKEN"}  # fmt: skip

    assert set(env) <= env_names()
    for name in secrets:
        assert env[name]["valueFrom"]["secretKeyRef"] == {
            "name": "pactbot",
            "key": name,
            **({"optional": True} if name != "SLACK_BOT_TOKEN" else {}),
        }
        assert "value" not in env[name]


def test_the_config_comes_from_the_configmap_and_is_a_valid_pactbot_yml(tmp_path: Path) -> None:
    from bot.config import load_config

    pactbot = container("Deployment", "pactbot")
    env = {item["name"]: item.get("value") for item in pactbot["env"]}
    [mount] = [
        m for m in pactbot["volumeMounts"] if env["PACTBOT_CONFIG"].startswith(m["mountPath"])
    ]
    volumes = resource("Deployment", "pactbot")["spec"]["template"]["spec"]["volumes"]
    [config] = [v for v in volumes if v["name"] == mount["name"]]
    data = resource("ConfigMap", config["configMap"]["name"])["data"]
    written = tmp_path / "pactbot.yml"
    written.write_text(data[Path(env["PACTBOT_CONFIG"]).name], encoding="utf-8")

    assert load_config(written).digest is not None


def test_every_replica_points_at_the_one_redis_which_keeps_its_data_on_a_volume() -> None:
    env = {item["name"]: item.get("value") for item in container("Deployment", "pactbot")["env"]}
    redis_url = env["PACTBOT_STORE_URL"]
    service = resource("Service", "pactbot-redis")
    statefulset = resource("StatefulSet", "pactbot-redis")
    redis = container("StatefulSet", "pactbot-redis")

    assert (
        redis_url
        == f"redis://{service['metadata']['name']}:{service['spec']['ports'][0]['port']}/0"
    )
    assert service["spec"]["selector"] == statefulset["spec"]["template"]["metadata"]["labels"]
    assert redis["args"][redis["args"].index("--appendonly") + 1] == "yes"
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert {"name": "data", "mountPath": "/data"} in redis["volumeMounts"]


def test_the_service_and_the_disruption_budget_select_the_pods() -> None:
    labels = resource("Deployment", "pactbot")["spec"]["template"]["metadata"]["labels"]
    service = resource("Service", "pactbot")
    budget = resource("PodDisruptionBudget", "pactbot")

    assert service["spec"]["selector"] == labels
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert budget["spec"]["selector"]["matchLabels"] == labels
    assert budget["spec"]["minAvailable"] == 1
