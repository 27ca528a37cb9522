"""Every way of deploying the system applies the broker's topology before a service starts."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APPLY = ["yjs", "topology", "apply"]


def test_compose_starts_every_service_after_the_topology_job_succeeded():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["topology"]["entrypoint"][:3] == APPLY and services["topology"]["restart"] == "no"
    ours = [name for name, service in services.items() if service.get("image") == "yijianshi:dev" and name != "topology"]
    assert len(ours) == 8
    for name in ours:
        assert services[name]["depends_on"]["topology"] == {"condition": "service_completed_successfully"}, name


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
def test_every_service_pod_on_kubernetes_applies_the_topology_first():
    built = subprocess.run(["kubectl", "kustomize", str(ROOT / "infra" / "k8s")], capture_output=True, text=True,
                           check=True).stdout
    resources = [r for r in yaml.safe_load_all(built) if r]
    workloads = [r for r in resources if r["kind"] in ("Deployment", "StatefulSet")]
    ours = [w for w in workloads if any(c["image"] == "yijianshi:dev" for c in w["spec"]["template"]["spec"]["containers"])]
    assert len(ours) == 8
    for workload in ours:
        init = workload["spec"]["template"]["spec"].get("initContainers", [])
        assert [c["command"][:3] for c in init] == [APPLY], workload["metadata"]["name"]
    others = [w for w in workloads if w not in ours]
    assert others and all("initContainers" not in w["spec"]["template"]["spec"] for w in others)
    validate = pytest.importorskip("kubernetes_validate")
    for resource in resources:
        validate.validate(resource, validate.latest_version(), strict=True)
