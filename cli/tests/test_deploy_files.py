"""The deploy files a cluster, compose and Prometheus accept: rendered and checked by the tools that
will read them (kubectl's kustomize, the Kubernetes schema, docker-compose, promtool, amtool), and
held to what running it for real needs. The tools come with `make install` and
infra/local/ensure-tools.sh (`make test` runs it); a missing one fails here, never skips."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from functools import lru_cache
from http.server import HTTPServer
from importlib import util
from pathlib import Path

import pytest
import yaml
from yjs_kit.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
PROMETHEUS = ROOT / "infra" / "prometheus"
ALERTMANAGER = ROOT / "infra" / "alertmanager"
#: every service, as Kubernetes names it: gateway and case first, then the departments
OURS = [s.replace("_", "-") for s in SERVICES]
DEPARTMENTS = OURS[2:]
# the kube-apiserver releases validated against: the oldest supported by the manifests, the newest
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]


def tool(name: str) -> str:
    """A deploy-check tool from the venv's bin (make install, ensure-tools.sh) or PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is missing: run infra/local/ensure-tools.sh (make test does)")
    return found


def run(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@lru_cache(maxsize=None)
def rendered(directory: str = "infra/k8s") -> tuple[dict, ...]:
    return tuple(r for r in yaml.safe_load_all(run(tool("kubectl"), "kustomize", directory)) if r)


def workloads(resources) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] in ("Deployment", "StatefulSet")}


def pod(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


# --- Kubernetes ------------------------------------------------------------------------------


#: the operators' own kinds: kubernetes-validate has no schema for them (SchemaNotFoundError), so
#: what they must say is checked below, field by field
OPERATOR_KINDS = {("rabbitmq.com/v1beta1", "RabbitmqCluster"), ("rabbitmq.com/v1beta1", "User"),
                  ("rabbitmq.com/v1beta1", "Permission"), ("postgresql.cnpg.io/v1", "Cluster")}
DEV = "infra/k8s-dev"


@pytest.mark.parametrize("directory, version", [("infra/k8s", v) for v in KUBERNETES_VERSIONS]
                         + [(DEV, v) for v in KUBERNETES_VERSIONS])
def test_the_rendered_manifests_pass_the_kubernetes_schema_and_the_operators_kinds_are_the_real_ones(
        directory, version):
    import kubernetes_validate

    resources = rendered(directory)
    kinds = {(r["apiVersion"], r["kind"]) for r in resources}
    # the real deployment has the operators' clusters; a development cluster has no operators
    assert kinds >= OPERATOR_KINDS if directory == "infra/k8s" else not kinds & OPERATOR_KINDS
    for resource in resources:
        if (resource["apiVersion"], resource["kind"]) not in OPERATOR_KINDS:
            kubernetes_validate.validate(resource, version, strict=True)


def test_the_image_name_and_tag_are_kustomize_parameters(tmp_path):
    default = {c["image"] for w in workloads(rendered()).values() if w["metadata"]["name"] in OURS
               for c in pod(w)["containers"] + pod(w).get("initContainers", [])}
    assert default == {"yijianshi:dev"}
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(K8S, overlay)],
        "images": [{"name": "yijianshi", "newName": "registry.example.cn/yjs/yijianshi", "newTag": "1.4.2"}]}))
    images = {w["metadata"]["name"]: {c["image"] for c in pod(w)["containers"] + pod(w).get("initContainers", [])}
              for w in workloads(rendered(str(overlay))).values()}
    for name in OURS:
        assert images[name] == {"registry.example.cn/yjs/yijianshi:1.4.2"}, name


def test_every_third_party_image_is_pinned_to_a_version():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    images = {c["image"] for w in workloads(rendered()).values()
              for c in pod(w)["containers"] + pod(w).get("initContainers", [])}
    images |= {s["image"] for s in compose.values()}
    dockerfile = (ROOT / "infra" / "docker" / "Dockerfile").read_text()
    images |= set(re.findall(r"^FROM (\S+)", dockerfile, re.M))
    third_party = {i for i in images if not i.startswith("yijianshi:")}
    assert {i.split("/")[-1].split(":")[0] for i in third_party} >= {
        "prometheus", "alertmanager", "grafana", "rabbitmq", "postgres", "postgres-exporter", "python"}
    for image in third_party:
        name, _, tag = image.rpartition(":")
        # a release number, major.minor at least: never a floating tag or none
        assert name and re.match(r"v?\d+\.\d+", tag), image


def test_metrics_listen_beyond_the_loopback_in_every_container():
    for name, workload in workloads(rendered()).items():
        if name in OURS:
            [container] = pod(workload)["containers"]
            assert env(container)["METRICS_HOST"]["value"] == "0.0.0.0", name
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in OURS:
        assert compose[name]["environment"]["METRICS_HOST"] == "0.0.0.0", name
    assert re.search(r"^ENV METRICS_HOST=0\.0\.0\.0", (ROOT / "infra/docker/Dockerfile").read_text(), re.M)


def test_gateway_and_case_run_twice_the_departments_scale_on_cpu():
    resources = rendered()
    deployments = workloads(resources)
    assert deployments["gateway"]["spec"]["replicas"] == 2
    assert deployments["case"]["spec"]["replicas"] == 2
    hpas = {r["spec"]["scaleTargetRef"]["name"]: r for r in resources if r["kind"] == "HorizontalPodAutoscaler"}
    assert set(hpas) == set(DEPARTMENTS)
    for name, hpa in hpas.items():
        assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        # the autoscaler owns the count: an apply must not reset it
        assert "replicas" not in deployments[name]["spec"], name


def test_every_workload_of_more_than_one_replica_has_a_disruption_budget():
    resources = rendered()
    minimum = {r["spec"]["scaleTargetRef"]["name"]: r["spec"]["minReplicas"]
               for r in resources if r["kind"] == "HorizontalPodAutoscaler"}
    budgets = [r["spec"]["selector"]["matchLabels"] for r in resources if r["kind"] == "PodDisruptionBudget"]
    several = [w for name, w in workloads(resources).items() if minimum.get(name, w["spec"].get("replicas", 1)) > 1]
    assert len(several) == len(OURS)  # every one of ours
    for workload in several:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(all(labels.get(k) == v for k, v in budget.items()) for budget in budgets), workload["metadata"]["name"]


def test_every_pod_runs_confined():
    # the broker's and the database's images write beside themselves at start
    writable_root = {"rabbitmq", "postgres"}
    for name, workload in workloads(rendered()).items():
        spec = pod(workload)
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container.get("securityContext", {})
            assert context.get("allowPrivilegeEscalation") is False, (name, container["name"])
            if name not in writable_root:
                assert context.get("readOnlyRootFilesystem") is True, (name, container["name"])
                assert context["capabilities"]["drop"] == ["ALL"], (name, container["name"])
        if name in OURS:
            mounts = {m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
            assert {"/tmp", "/app/var"} <= mounts, name


def test_probes_wait_longer_than_the_gateways_rpc_timeout():
    resources = rendered()
    [config] = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == "yjs-config"]
    rpc_timeout = float(config["data"]["RPC_TIMEOUT_SECONDS"])
    [gateway] = pod(workloads(resources)["gateway"])["containers"]
    assert env(gateway)["RPC_TIMEOUT_SECONDS"]["valueFrom"]["configMapKeyRef"]["key"] == "RPC_TIMEOUT_SECONDS"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert gateway[probe]["timeoutSeconds"] > rpc_timeout, probe
    for name in OURS:
        [container] = pod(workloads(resources)[name])["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe].get("timeoutSeconds", 1) >= 5, (name, probe)
    check = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gateway"]["healthcheck"]
    assert float(re.search(r"readyz', timeout=(\d+)", check["test"][-1]).group(1)) > rpc_timeout
    assert int(check["timeout"].rstrip("s")) > rpc_timeout


def test_network_policies_deny_by_default_and_open_only_what_the_system_uses():
    policies = {r["metadata"]["name"]: r["spec"] for r in rendered() if r["kind"] == "NetworkPolicy"}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}

    def selected(spec, name):
        if "podSelector" not in spec:
            return False  # a peer of namespaceSelector only: another namespace's pods (an operator)
        selector = spec["podSelector"]
        if "matchLabels" in selector:
            return selector["matchLabels"].get("app.kubernetes.io/name") == name
        return any(name in e["values"] for e in selector.get("matchExpressions", []))

    def allows(direction, name, peer, port):
        for spec in policies.values():
            if direction.capitalize() not in spec.get("policyTypes", []) or not selected(spec, name):
                continue
            for rule in spec.get(direction, []):
                ports = [p["port"] for p in rule.get("ports", [])]
                peers = rule.get("from" if direction == "ingress" else "to")
                if (not ports or port in ports) and (peers is None or any(
                        p.get("podSelector") == {} or selected(p, peer) for p in peers)):
                    return True
        return False

    for name in OURS:
        assert allows("egress", name, "rabbitmq", 5672) and allows("ingress", "rabbitmq", name, 5672), name
        assert allows("ingress", name, "prometheus", "metrics"), name
        assert allows("egress", name, "postgres", 5432) == (name != "gateway"), name
        assert allows("ingress", "postgres", name, 5432) == (name != "gateway"), name
    assert allows("ingress", "gateway", "anyone", "http")
    assert not any(allows("ingress", name, "anyone", "metrics") for name in OURS)
    assert allows("ingress", "rabbitmq", "prometheus", 15692)
    assert allows("ingress", "alertmanager", "prometheus", 9093)


def test_no_secret_is_committed_every_one_referenced_is_made_by_create_secrets(tmp_path):
    resources = rendered()
    assert not [r for r in resources if r["kind"] == "Secret"]
    assert "guest:guest" not in json.dumps(resources)
    referenced = {(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                  for w in workloads(resources).values()
                  for c in pod(w)["containers"] + pod(w).get("initContainers", [])
                  for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    # create-secrets.sh against a kubectl that records what it is asked to create
    calls = tmp_path / "calls"
    fake = tmp_path / "kubectl"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {calls}\ncase "$*" in *" get "*) exit 1 ;; esac\n')
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(K8S / "create-secrets.sh")], env={**os.environ, "KUBECTL": str(fake)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    made = set()
    for line in calls.read_text().splitlines():
        words = line.split()
        if words[2:5] == ["create", "secret", "generic"]:
            assert words[:2] == ["-n", "yijianshi"]
            made |= {(words[5], w.split("=", 2)[1]) for w in words[6:] if w.startswith("--from-literal=")}
    assert referenced <= made, referenced - made
    # the topology's administrator URIs carry the administrator's password
    values = {w.split("=", 2)[1]: w.split("=", 2)[2] for line in calls.read_text().splitlines()
              for w in line.split() if w.startswith("--from-literal=")}
    password = values["RABBITMQ_DEFAULT_PASS"]
    assert len(password) >= 32 and values["AMQP_URI"] == f"amqp://yjs-admin:{password}@rabbitmq:5672/"
    assert values["RABBITMQ_MANAGEMENT_URL"] == f"http://yjs-admin:{password}@rabbitmq:15672"


def test_prometheus_on_kubernetes_scrapes_each_service_through_its_headless_service():
    resources = rendered()
    headless = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Service"
                and r["spec"].get("clusterIP") == "None"}
    config = yaml.safe_load((PROMETHEUS / "prometheus.k8s.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    for name in OURS:
        [sd] = jobs[name.replace("-", "_")]["dns_sd_configs"]
        [service] = sd["names"]
        assert headless[service]["spec"]["selector"] == {"app.kubernetes.io/name": name}
        [port] = headless[service]["spec"]["ports"]
        assert port["port"] == sd["port"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    [configmap] = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("prometheus-config")]
    assert configmap["data"]["alerts.yml"] == (PROMETHEUS / "alerts.yml").read_text()


# --- the operators' broker cluster and PostgreSQL (infra/k8s), one pod of each (infra/k8s-dev) ---


def test_the_deployment_runs_three_broker_nodes_and_a_primary_with_two_standbys():
    resources = rendered()
    [broker] = [r for r in resources if r["kind"] == "RabbitmqCluster"]
    [database] = [r for r in resources if r["kind"] == "Cluster"]
    assert broker["metadata"]["name"] == "rabbitmq" and broker["spec"]["replicas"] == 3
    assert "rabbitmq_prometheus" in broker["spec"]["rabbitmq"]["additionalPlugins"]
    assert re.match(r"rabbitmq:\d+\.\d+\.\d+", broker["spec"]["image"])
    assert database["spec"]["instances"] == 3 and database["spec"]["minSyncReplicas"] >= 1
    assert re.search(r":\d+\.\d+$", database["spec"]["imageName"])
    assert database["spec"]["inheritedMetadata"]["labels"]["app.kubernetes.io/name"] == "postgres"
    initdb = database["spec"]["bootstrap"]["initdb"]
    made = {initdb["database"]} | {re.match(r"CREATE DATABASE (\w+)$", s).group(1) for s in initdb["postInitSQL"]}
    compose_script = (ROOT / "infra" / "postgres" / "create-databases.sh").read_text()
    assert made == set(re.findall(r"^  (yjs_\w+)$", compose_script, re.M))
    # the same system as on a development cluster, but for its one-pod broker and database: the
    # services reach the operators' Services
    assert {w for w in workloads(resources)} == {w for w in workloads(rendered(DEV))} - {"rabbitmq", "postgres"}
    assert {"rabbitmq", "postgres"} <= set(workloads(rendered(DEV)))
    [config] = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == "yjs-config"]
    assert config["data"]["POSTGRES_HOST"] == "postgres-rw"
    for name in OURS:
        [container] = pod(workloads(resources)[name])["containers"]
        assert re.search(r"@rabbitmq:5672/$", env(container)["AMQP_URI"]["value"]), name
    # the logins the operators read are made by create-secrets.sh, with the services' own
    secrets_script = (K8S / "create-secrets.sh").read_text()
    assert f"create {database['spec']['superuserSecret']['name']} " in secrets_script
    [admin] = [r for r in resources if r["kind"] == "User"]
    [grant] = [r for r in resources if r["kind"] == "Permission"]
    assert f"create {admin['spec']['importCredentialsSecret']['name']} " in secrets_script
    assert admin["spec"]["tags"] == ["administrator"] and grant["spec"]["user"] == admin["metadata"]["name"]
    assert {admin["spec"]["rabbitmqClusterReference"]["name"], grant["spec"]["rabbitmqClusterReference"]["name"]} \
        == {broker["metadata"]["name"]}


@pytest.mark.parametrize("directory", ["infra/k8s", DEV])
def test_the_database_admits_every_pool_at_its_fullest(directory):
    """A service process keeps a connection per worker, 2 more and 4 in a burst (yjs_kit.config,
    yjs_kit.db): every pod at the autoscalers' maximum must fit PostgreSQL's max_connections."""
    resources = rendered(directory)
    [config] = [r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == "yjs-config"]
    per_pod = int(config["data"]["MAX_WORKERS"]) + 2 + 4
    most = {r["spec"]["scaleTargetRef"]["name"]: r["spec"]["maxReplicas"]
            for r in resources if r["kind"] == "HorizontalPodAutoscaler"}
    pods = sum(most.get(name, workloads(resources)[name]["spec"].get("replicas", 1)) for name in OURS if name != "gateway")
    if directory == DEV:
        [server] = pod(workloads(resources)["postgres"])["containers"]
        allowed = int(re.search(r"max_connections=(\d+)", " ".join(server["args"])).group(1))
    else:
        [database] = [r for r in resources if r["kind"] == "Cluster"]
        allowed = int(database["spec"]["postgresql"]["parameters"]["max_connections"])
    assert pods * per_pod + 10 <= allowed  # and a few for an operator and the exporter


def test_the_cluster_nodes_may_reach_each_other():
    policies = [r["spec"] for r in rendered() if r["kind"] == "NetworkPolicy"]

    def open_between(name, port):
        return any(spec["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": name}
                   and any(port in [p["port"] for p in rule.get("ports", [])]
                           and {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}} in rule["from"]
                           for rule in spec.get("ingress", []))
                   for spec in policies)

    assert open_between("rabbitmq", 25672) and open_between("rabbitmq", 4369)
    assert open_between("postgres", 5432)


# --- compose ---------------------------------------------------------------------------------


def test_docker_compose_accepts_the_compose_file():
    run(tool("docker-compose"), "-f", "docker-compose.yml", "config", "-q")


def test_compose_has_a_three_node_broker_profile_and_the_services_reach_every_node():
    run(tool("docker-compose"), "-f", "docker-compose.yml", "--profile", "cluster", "config", "-q")
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    nodes = [name for name, s in services.items() if s.get("image", "").startswith("rabbitmq:")]
    assert nodes == ["rabbitmq", "rabbitmq-2", "rabbitmq-3"]
    assert [services[n].get("profiles") for n in nodes] == [None, ["cluster"], ["cluster"]]
    cookies = {services[n]["environment"]["RABBITMQ_ERLANG_COOKIE"] for n in nodes}
    assert len(cookies) == 1  # one cookie, or the nodes cannot cluster
    for node in nodes:
        assert services[node]["networks"]["default"]["aliases"] == ["broker"], node
    joined = (ROOT / "infra" / "rabbitmq" / "cluster.conf").read_text()
    assert {f"rabbit@{n}" for n in nodes} == set(re.findall(r"classic_config\.nodes\.\d = (\S+)", joined))
    for name in OURS:
        assert "@broker:5672/" in services[name]["environment"]["AMQP_URI"], name


def test_compose_sends_alerts_to_alertmanager_and_scrapes_postgres():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {"alertmanager", "alert-webhook", "postgres-exporter", "prometheus"} <= set(services)
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    targets = {t for j in config["scrape_configs"] for s in j.get("static_configs", []) for t in s["targets"]}
    assert "postgres-exporter:9187" in targets
    families = {f for j in config["scrape_configs"] for f in j.get("params", {}).get("family", [])}
    assert {"queue_coarse_metrics", "queue_consumer_count"} <= families


# --- Prometheus and Alertmanager -------------------------------------------------------------


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.local.yml", "prometheus.k8s.yml"])
def test_promtool_accepts_the_prometheus_config(config):
    run(tool("promtool"), "check", "config", config, cwd=PROMETHEUS)


def test_promtool_accepts_the_rules_and_their_tests_pass():
    run(tool("promtool"), "check", "rules", "alerts.yml", cwd=PROMETHEUS)
    run(tool("promtool"), "test", "rules", "alerts.test.yml", cwd=PROMETHEUS)


def test_amtool_accepts_the_alertmanager_config():
    run(tool("amtool"), "check-config", "alertmanager.yml", cwd=ALERTMANAGER)


def test_every_alert_has_a_runbook_and_a_unit_test():
    rules = [r for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"]
    tested = {t["alertname"] for test in tests for t in test.get("alert_rule_test", [])
              if any(t.get("exp_alerts") or [])}
    runbooks = ROOT / "docs" / "runbooks"
    for rule in rules:
        name = rule["alert"]
        assert rule["annotations"]["runbook_url"] == f"docs/runbooks/{name}.md", name
        text = (runbooks / f"{name}.md").read_text()
        assert "## What you see" in text and "## What you do" in text, name
        assert name in tested, f"{name} has no promtool test in which it fires"
    assert {p.stem for p in runbooks.glob("Yjs*.md")} == {r["alert"] for r in rules}


def test_the_default_receiver_logs_each_alert_as_a_line(capsys):
    spec = util.spec_from_file_location("webhook_log", ALERTMANAGER / "webhook_log.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = HTTPServer(("127.0.0.1", 0), module.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = {"version": "4", "status": "firing", "alerts": [
            {"status": "firing", "labels": {"alertname": "YjsInboxNoConsumer", "severity": "critical",
                                            "queue": "tax.inbox"},
             "annotations": {"summary": "tax.inbox has no consumer",
                             "runbook_url": "docs/runbooks/YjsInboxNoConsumer.md"},
             "startsAt": "2026-12-02T08:00:00Z"}]}
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request, timeout=10).status == 200
    finally:
        server.shutdown()
        server.server_close()
    [line] = capsys.readouterr().out.splitlines()
    logged = json.loads(line)
    assert logged["alert"] == "YjsInboxNoConsumer" and logged["status"] == "firing"
    assert logged["runbook_url"] == "docs/runbooks/YjsInboxNoConsumer.md" and logged["labels"]["queue"] == "tax.inbox"


# --- Grafana -----------------------------------------------------------------------------------

DASHBOARDS = ROOT / "infra" / "grafana" / "dashboards"
#: metrics the dashboard may read that other programs export, not ours: Prometheus, RabbitMQ's
#: prometheus plugin (rabbitmq_*), postgres-exporter (pg_*)
EXTERNAL_METRICS = {
    "up",  # Prometheus itself, per target
    "rabbitmq_detailed_queue_messages",  # RabbitMQ's prometheus plugin, /metrics/detailed (rabbitmq-queues job)
    "rabbitmq_detailed_queue_consumers",
    "pg_up",  # postgres-exporter
    "pg_stat_activity_count",
    "pg_settings_max_connections",
}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
                "and", "or", "unless", "inf", "nan"}
REGISTERED = re.compile(r"(?:Counter|Gauge|Histogram|Summary|GaugeMetricFamily|CounterMetricFamily)\(\s*\"([a-z_:]+)\"")
HISTOGRAM = re.compile(r"Histogram\(\s*\"([a-z_:]+)\"")


def dashboard_expressions() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every query of every dashboard."""
    return [(panel["title"], target["expr"]) for path in sorted(DASHBOARDS.glob("*.json"))
            for panel in json.loads(path.read_text())["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are neither functions nor
    keywords, outside strings, label matchers, grouping clauses and ranges."""
    bare = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    return {name for name in re.findall(r"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", bare)
            if name.lower() not in PROMQL_WORDS}


def registered_metrics() -> set[str]:
    """What the services' code registers with prometheus_client, as Prometheus exposes it."""
    names = set()
    for path in (ROOT / "services").glob("*/yjs_*/**/*.py"):
        text = path.read_text()
        names |= set(REGISTERED.findall(text))
        names |= {f"{h}{suffix}" for h in HISTOGRAM.findall(text) for suffix in ("_bucket", "_count", "_sum")}
    return names


def test_metric_names_are_read_from_promql():
    assert metric_names('histogram_quantile(0.9, sum by (le, matter) (rate(a_bucket{x="y(z)"}[$__rate_interval])))'
                        ) == {"a_bucket"}
    assert metric_names("max(b) / on (instance) group_left c > 0.8 and d offset 5m") == {"b", "c", "d"}


def test_every_metric_the_dashboard_reads_is_registered_or_external():
    registered = registered_metrics()
    assert {"yjs_outbox_backlog", "yjs_case_duration_seconds_bucket", "yjs_commitment_checks_overdue"} <= registered
    expressions = dashboard_expressions()
    read = {name for _, expr in expressions for name in metric_names(expr)}
    unknown = read - registered - EXTERNAL_METRICS
    assert unknown == set(), f"the dashboard reads metrics nothing exports: {sorted(unknown)}"
    # each figure this dashboard exists for has its panel
    for wanted in ("yjs_reviews_waiting", "yjs_review_decisions_total", "yjs_ratings_total", "yjs_follow_ups_open",
                   "yjs_follow_ups_escalated_open", "yjs_handler_retries_total", "yjs_dead_letters_waiting",
                   "yjs_outbox_backlog", "yjs_outbox_oldest_unsent_seconds", "rabbitmq_detailed_queue_messages",
                   "rabbitmq_detailed_queue_consumers", "yjs_commitment_checks_overdue",
                   "yjs_matter_within_promised_limit_ratio", "yjs_matter_working_hours"):
        assert wanted in read, wanted
    assert any('department="social_insurance"' in expr for _, expr in expressions)


def test_promtool_accepts_every_dashboard_expression(tmp_path):
    """Each query as a recording rule, Grafana's interval variables given a value, for promtool's parser."""
    rules = [{"record": f"dashboard:query_{n}",
              "expr": expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")}
             for n, (_, expr) in enumerate(dashboard_expressions())]
    (tmp_path / "dashboard.rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run(tool("promtool"), "check", "rules", "dashboard.rules.yml", cwd=tmp_path)


def test_dashboard_panels_have_unique_ids_and_do_not_overlap():
    for path in sorted(DASHBOARDS.glob("*.json")):
        panels = json.loads(path.read_text())["panels"]
        assert len({p["id"] for p in panels}) == len(panels), path.name
        taken = set()
        for panel in panels:
            g = panel["gridPos"]
            cells = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
            assert not cells & taken, f"{path.name}: {panel['title']} overlaps another panel"
            taken |= cells
