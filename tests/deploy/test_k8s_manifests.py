"""deploy/k8s agrees with the Kubernetes API, with KEDA, with docker-compose and with the code.

Offline and without a cluster: the kustomizations are rendered by
:mod:`tests.deploy.kustomize_render`, built-in objects are validated against
the API schemas kubernetes-validate ships, KEDA's objects are checked for the
fields KEDA requires, and every product service of docker-compose.yml must
have a workload with the same arguments and environment variable names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from orionctl.stack import kafka_access
from sinks.dq.configuration import DqSinkConfig
from sinks.s3.configuration import DEFAULT_GROUP as S3_GROUP
from sinks.silver.configuration import DEFAULT_GROUP as SILVER_GROUP
from sinks.warehouse.configuration import WarehouseSinkConfig
from stream_processors.configuration import ProcessorConfig
from tests.deploy.kustomize_render import listed_files, load_documents, render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())
BUILDS = [BASE, *OVERLAYS]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
#: Kubernetes version the schemas are checked against.
K8S_VERSION = "1.31.0"
METRICS_PORT = 9400
WORKLOADS = {"Deployment", "StatefulSet"}
#: What a pod sets beyond compose's variables: the SASL login compose leaves out
#: (it runs plaintext), and the pod's name for --instance-id.
K8S_ONLY_ENV = {
    "ORION_KAFKA_SASL_USERNAME",
    "ORION_KAFKA_SASL_PASSWORD",
    "ORION_KAFKA_CA_FILE",
    "POD_NAME",
}
#: Each consumer's group as the code names it (no topic prefix in these manifests).
GROUPS = {
    "processor": ("kafka", ProcessorConfig.model_fields["app_id"].default),
    "sink-s3": ("kafka", S3_GROUP),
    "sink-silver": ("kafka", SILVER_GROUP),
    "sink-warehouse": ("prometheus", "table:" + WarehouseSinkConfig.model_fields["sink"].default),
    "sink-dq": ("prometheus", "table:" + DqSinkConfig.model_fields["sink"].default),
}

Obj = dict[str, Any]


def _ids(path: Path) -> str:
    return str(path.relative_to(K8S))


@pytest.fixture(scope="module", params=BUILDS, ids=_ids)
def rendered(request: pytest.FixtureRequest) -> list[Obj]:
    return render(request.param)


def _of(objects: list[Obj], *kinds: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] in kinds}


def _container(obj: Obj) -> Obj:
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, obj["metadata"]["name"]
    container: Obj = containers[0]
    return container


def _settings(objects: list[Obj]) -> dict[str, str]:
    data: dict[str, str] = _of(objects, "ConfigMap")["orion-settings"]["data"]
    return data


def _product_services() -> dict[str, Obj]:
    return {
        name: svc
        for name, svc in COMPOSE["services"].items()
        if svc.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
    }


def _normal_args(args: list[str]) -> list[str]:
    """Arguments less ``--instance-id``: compose names one (or none), a pod uses its own name."""
    out = list(args)
    if "--instance-id" in out:
        i = out.index("--instance-id")
        del out[i : i + 2]
    return out


def _env_names(objects: list[Obj], container: Obj) -> set[str]:
    names = {e["name"].removesuffix("_FILE") for e in container.get("env", [])}
    maps = _of(objects, "ConfigMap")
    for source in container.get("envFrom", []):
        names |= set(maps[source["configMapRef"]["name"]]["data"])
    return names


def test_every_file_is_listed() -> None:
    for build in BUILDS:
        on_disk = {p.resolve() for p in build.glob("*.yaml")}
        on_disk -= {(build / n).resolve() for n in ("kustomization.yaml", "secret.example.yaml")}
        assert on_disk == listed_files(build), build


def test_built_in_objects_match_the_api_schemas(rendered: list[Obj]) -> None:
    built_in = [o for o in rendered if not o["apiVersion"].startswith("keda.sh/")]
    assert len(built_in) > 20
    for obj in built_in:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_secret_example_matches_the_api_schema_and_holds_placeholders() -> None:
    for obj in load_documents(BASE / "secret.example.yaml"):
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        for key, value in obj["stringData"].items():
            assert "CHANGE-ME" in value or key == "username", (obj["metadata"]["name"], key)


def test_no_secret_is_rendered(rendered: list[Obj]) -> None:
    assert not _of(rendered, "Secret")


def test_every_compose_service_has_a_workload_and_back(rendered: list[Obj]) -> None:
    services = _product_services()
    long_running = {n for n, s in services.items() if s.get("restart") != "no"}
    assert set(_of(rendered, *WORKLOADS)) == long_running
    assert set(_of(rendered, "Job")) == set(services) - long_running


def test_workloads_run_what_compose_runs_with_its_variables(rendered: list[Obj]) -> None:
    for name, svc in _product_services().items():
        obj = {**_of(rendered, *WORKLOADS), **_of(rendered, "Job")}[name]
        container = _container(obj)
        assert "command" not in container, name  # the image's entrypoint, as compose
        assert _normal_args(container["args"]) == _normal_args(svc["command"]), name
        compose_env = set(svc["environment"])
        assert _env_names(rendered, container) - K8S_ONLY_ENV == compose_env, name


def test_consumers_are_static_members_named_by_their_pods(rendered: list[Obj]) -> None:
    for name, obj in _of(rendered, *WORKLOADS).items():
        args = _container(obj)["args"]
        assert ("--instance-id" in args) == (name in GROUPS), name
        if name in GROUPS:
            assert obj["kind"] == "StatefulSet", f"{name}: stable --instance-id, stable names"
            assert args[args.index("--instance-id") + 1] == "$(POD_NAME)"


def test_probes_resources_and_security(rendered: list[Obj]) -> None:
    for name, obj in _of(rendered, *WORKLOADS).items():
        pod = obj["spec"]["template"]
        container = _container(obj)
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["ORION_METRICS_PORT"] == str(METRICS_PORT), name
        assert env["ORION_METRICS_HOST"] == "0.0.0.0", name  # noqa: S104 (the kubelet probes it)
        assert container["ports"] == [
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}
        ]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        annotations = pod["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == str(METRICS_PORT), name
    for name, obj in {**_of(rendered, *WORKLOADS), **_of(rendered, "Job")}.items():
        container = _container(obj)
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"] == {"drop": ["ALL"]}, name
        assert obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/var/lib/orion"} <= mounts, name  # writable, the root fs is not


def _secret_refs(obj: Obj) -> set[tuple[str, str]]:
    """(Secret, key) of every secretKeyRef, secret volume item and KEDA secretTargetRef."""
    refs: set[tuple[str, str]] = set()
    if obj["kind"] == "TriggerAuthentication":
        refs |= {(r["name"], r["key"]) for r in obj["spec"]["secretTargetRef"]}
    if obj["kind"] in WORKLOADS | {"Job"}:
        pod = obj["spec"]["template"]["spec"]
        for env in _container(obj).get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
        for volume in pod["volumes"]:
            secret = volume.get("secret")
            if secret:
                keys = [i["key"] for i in secret.get("items", [])] or ["*"]
                refs |= {(secret["secretName"], k) for k in keys}
    return refs


def _documented_secrets() -> dict[str, set[str]]:
    example = {
        o["metadata"]["name"]: set(o["stringData"])
        for o in load_documents(BASE / "secret.example.yaml")
    }
    login = example.pop("orion-kafka-processor")
    for principal in kafka_access.PRINCIPALS:
        if principal != kafka_access.ADMIN:
            example[f"orion-kafka-{principal}"] = login
    return example


def test_secrets_referenced_are_the_documented_ones(rendered: list[Obj]) -> None:
    documented = _documented_secrets()
    for obj in rendered:
        for name, key in _secret_refs(obj):
            assert name in documented, (obj["metadata"]["name"], name)
            assert key == "*" or key in documented[name], (obj["metadata"]["name"], name, key)


def test_each_service_logs_in_as_its_own_principal(rendered: list[Obj]) -> None:
    for name, obj in {**_of(rendered, *WORKLOADS), **_of(rendered, "Job")}.items():
        login = next(e for e in _container(obj)["env"] if e["name"] == "ORION_KAFKA_SASL_USERNAME")
        secret = login["valueFrom"]["secretKeyRef"]["name"]
        own = name if name in kafka_access.SERVICES else kafka_access.OPERATOR
        assert secret == f"orion-kafka-{own}", name


def test_kafka_is_sasl_ssl(rendered: list[Obj]) -> None:
    settings = _settings(rendered)
    assert settings["ORION_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert "ORION_TOPIC_PREFIX" not in settings  # GROUPS below are unprefixed


def test_every_consumer_scales_on_its_own_lag(rendered: list[Obj]) -> None:
    scalers = _of(rendered, "ScaledObject")
    auths = _of(rendered, "TriggerAuthentication")
    workloads = _of(rendered, *WORKLOADS)
    settings = _settings(rendered)
    assert set(scalers) == set(GROUPS)
    for name, scaler in scalers.items():
        assert scaler["apiVersion"] == "keda.sh/v1alpha1"
        spec = scaler["spec"]
        target = spec["scaleTargetRef"]
        assert workloads[target["name"]]["kind"] == target["kind"], name
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= 6, name  # 6 partitions
        (trigger,) = spec["triggers"]
        how, group = GROUPS[name]
        assert trigger["type"] == how, name
        meta = trigger["metadata"]
        if how == "kafka":
            assert meta["bootstrapServers"] == settings["ORION_KAFKA_BOOTSTRAP"], name
            assert meta["consumerGroup"] == group, name
            assert int(meta["lagThreshold"]) > 0, name
            assert (meta["sasl"], meta["tls"]) == ("scram_sha512", "enable"), name
            auth = auths[trigger["authenticationRef"]["name"]]
            params = {r["parameter"] for r in auth["spec"]["secretTargetRef"]}
            assert params == {"username", "password", "ca"}, name
            assert all(r["name"] and r["key"] for r in auth["spec"]["secretTargetRef"]), name
        else:
            assert meta["serverAddress"] == settings["ORION_PROMETHEUS_URL"], name
            assert re.fullmatch(
                rf'sum\(orion_consumer_group_lag\{{group="{re.escape(group)}"\}}\)', meta["query"]
            ), name
            assert float(meta["threshold"]) > 0, name
