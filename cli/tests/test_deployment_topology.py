"""Every way of deploying the system applies the broker's topology before a service starts."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APPLY = ["yjs", "topology", "apply"]
IMAGE = "yijianshi:dev"


def test_compose_starts_every_service_after_the_topology_job_succeeded():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["topology"]["entrypoint"][:3] == APPLY and services["topology"]["restart"] == "no"
    ours = [name for name, service in services.items() if service.get("image") == IMAGE and name != "topology"]
    assert len(ours) == 8
    for name in ours:
        assert services[name]["depends_on"]["topology"] == {"condition": "service_completed_successfully"}, name


def test_every_service_pod_on_kubernetes_applies_the_topology_first():
    kustomization = yaml.safe_load((ROOT / "infra" / "k8s" / "kustomization.yaml").read_text())
    resources = [r for name in kustomization["resources"]
                 for r in yaml.safe_load_all((ROOT / "infra" / "k8s" / name).read_text()) if r]
    workloads = [r for r in resources if r["kind"] in ("Deployment", "StatefulSet")]
    ours = [w for w in workloads if any(c["image"] == IMAGE for c in w["spec"]["template"]["spec"]["containers"])]
    assert len(ours) == 8
    for workload in ours:
        init = workload["spec"]["template"]["spec"].get("initContainers", [])
        assert [(c["image"], c["command"][:3]) for c in init] == [(IMAGE, APPLY)], workload["metadata"]["name"]
        assert {e["name"] for e in init[0]["env"]} == {"AMQP_URI"}
