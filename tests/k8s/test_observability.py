"""What Prometheus, Grafana and Flower need from the manifests and from compose, and that the checks notice
when it breaks: scrape annotations, ports and NetworkPolicies, JSON logs, the dashboard ConfigMap, the
opt-in Prometheus Operator objects (k8s/monitoring) and compose's observability and flower profiles."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared.queues import QUEUES
from tests.k8s.api_policies import host_problem, host_problems, trusted_hosts
from tests.k8s.compose_policy import environment
from tests.k8s.manifests import REPO, Obj, find, load_compose, one, pod_spec, render, workloads
from tests.k8s.network_policies import selects
from tests.k8s.observability_policies import dashboard_problems, scrape_network_problems, scrape_problems
from tests.k8s.test_policies import api_container_env, container, set_env, settings_config

MONITORING = REPO / "k8s" / "monitoring"
PROMETHEUS = REPO / "deploy" / "prometheus"
GRAFANA = REPO / "deploy" / "grafana"
PROFILES = {"prometheus": "observability", "grafana": "observability", "flower": "flower"}


def _no_metrics_port(objects: list[Obj]) -> None:
    del container(objects, "Deployment", "llmb-worker-chat")["ports"]


def _annotation_on_other_port(objects: list[Obj]) -> None:
    template = one(objects, "Deployment", "llmb-worker-image")["spec"]["template"]
    template["metadata"]["annotations"]["prometheus.io/port"] = "9200"


def _metrics_port_setting_differs(objects: list[Obj]) -> None:
    set_env(container(objects, "Deployment", "llmb-worker-embed"), "LLMB_METRICS_PORT", "9200")


def _text_logs(objects: list[Obj]) -> None:
    settings_config(objects)["data"]["LLMB_LOG_FORMAT"] = "text"


def _no_metrics_policy(objects: list[Obj]) -> None:
    objects.remove(one(objects, "NetworkPolicy", "llmb-worker-metrics"))


def _metrics_from_api_only(objects: list[Obj]) -> None:
    rule = one(objects, "NetworkPolicy", "llmb-worker-metrics")["spec"]["ingress"][0]
    rule["from"] = [{"podSelector": {"matchLabels": {"app.kubernetes.io/component": "api"}}}]


def _dashboard_unlabelled(objects: list[Obj]) -> None:
    (dashboard,) = [
        c for c in find(objects, "ConfigMap") if c["metadata"]["name"] == "llmb-grafana-dashboard"
    ]
    del dashboard["metadata"]["labels"]["grafana_dashboard"]


def _dashboard_stale(objects: list[Obj]) -> None:
    (dashboard,) = [
        c for c in find(objects, "ConfigMap") if c["metadata"]["name"] == "llmb-grafana-dashboard"
    ]
    dashboard["data"]["llmb.json"] = '{"panels": []}'


def _pod_ip_untrusted(objects: list[Obj]) -> None:
    (var,) = [v for v in api_container_env(objects) if v["name"] == "LLMB_ALLOWED_HOSTS"]
    var["value"] = var["value"].replace(",$(POD_IP)", "")


BREAKAGES = [
    (_no_metrics_port, scrape_problems, "llmb-worker-chat: no container port named metrics"),
    (_annotation_on_other_port, scrape_problems, "annotations do not name /metrics on port metrics"),
    (_metrics_port_setting_differs, scrape_problems, "LLMB_METRICS_PORT is 9200, not 9100"),
    (_text_logs, scrape_problems, "LLMB_LOG_FORMAT is text, not json"),
    (_no_metrics_policy, scrape_network_problems, "no NetworkPolicy admits scrapers on port 9100"),
    (_metrics_from_api_only, scrape_network_problems, "no NetworkPolicy admits scrapers on port 9100"),
    (_dashboard_unlabelled, dashboard_problems, "0 ConfigMaps are labelled grafana_dashboard"),
    (_dashboard_stale, dashboard_problems, "differs from deploy/grafana/llmb.json"),
    (_pod_ip_untrusted, host_problems, "Prometheus scraping Deployment/llmb-api sends Host the pod's IP"),
]


@pytest.mark.parametrize(
    ("breakage", "policy", "expected"), BREAKAGES, ids=[b[0].__name__ for b in BREAKAGES]
)
def test_observability_policy_reports_breakage(
    fresh: Callable[[str], list[Obj]],
    breakage: Callable[[list[Obj]], None],
    policy: Callable[[list[Obj]], list[str]],
    expected: str,
) -> None:
    objects = fresh("minikube")
    assert policy(objects) == []
    breakage(objects)
    problems = policy(objects)
    assert any(expected in p for p in problems), problems


@pytest.fixture(scope="module")
def monitoring() -> list[Obj]:
    return render(MONITORING)


def test_monitoring_holds_only_operator_objects_in_the_namespace(monitoring: list[Obj]) -> None:
    assert sorted(o["kind"] for o in monitoring) == ["PodMonitor", "PrometheusRule", "ServiceMonitor"]
    assert {o["apiVersion"] for o in monitoring} == {"monitoring.coreos.com/v1"}
    assert {o["metadata"]["namespace"] for o in monitoring} == {"llmb"}


def test_base_holds_no_operator_object(rendered: dict[str, list[Obj]]) -> None:
    assert not [
        o for objects in rendered.values() for o in objects if "monitoring.coreos.com" in o["apiVersion"]
    ]


def test_service_monitor_scrapes_the_api_service_port(
    monitoring: list[Obj], rendered: dict[str, list[Obj]]
) -> None:
    (monitor,) = find(monitoring, "ServiceMonitor")
    service = one(rendered["base"], "Service", "llmb-api")
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    port_names = {p["name"] for p in service["spec"]["ports"]}
    assert [(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]] == [("http", "/metrics")]
    assert "http" in port_names


@pytest.mark.parametrize("overlay", ["base", "minikube", "gpu"])
def test_pod_monitor_scrapes_every_worker_and_nothing_else(
    monitoring: list[Obj], rendered: dict[str, list[Obj]], overlay: str
) -> None:
    (monitor,) = find(monitoring, "PodMonitor")
    selected = [
        w
        for w in workloads(rendered[overlay])
        if selects(monitor["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])
    ]
    assert sorted(w["metadata"]["name"] for w in selected) == [f"llmb-worker-{q}" for q in sorted(QUEUES)]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    for workload in selected:
        assert endpoint["port"] in {p.get("name") for p in pod_spec(workload)["containers"][0]["ports"]}


def test_prometheus_rule_is_the_alert_rules_file(monitoring: list[Obj]) -> None:
    (rule,) = find(monitoring, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> Obj:
    return load_compose()


@pytest.mark.parametrize(("service", "profile"), PROFILES.items())
def test_compose_views_are_opt_in_pinned_and_on_loopback(compose: Obj, service: str, profile: str) -> None:
    svc = compose["services"][service]
    assert svc["profiles"] == [profile]
    image = svc["image"]
    assert ":" in image.rsplit("/", 1)[-1], image
    assert not image.endswith((":latest", ":main", ":master")), image
    assert all(str(p).startswith("127.0.0.1:") for p in svc["ports"]), svc["ports"]


def test_compose_services_log_json_and_workers_serve_metrics(compose: Obj) -> None:
    for name in ("api", "worker", "webhooks"):
        assert environment(compose["services"][name])["LLMB_LOG_FORMAT"] == "json", name
    assert environment(compose["services"]["worker"])["LLMB_METRICS_PORT"] == "9100"


def _scrape_jobs() -> dict[str, Obj]:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yaml"]
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_compose_prometheus_scrapes_the_api_with_a_host_it_answers(compose: Obj) -> None:
    api = _scrape_jobs()["llmb-api"]
    trusted = trusted_hosts(environment(compose["services"]["api"]))
    targets = [t for group in api["static_configs"] for t in group["targets"]]
    assert targets == ["api:8000"]
    assert [host_problem("Prometheus", t, trusted) for t in targets] == [None]


def test_compose_prometheus_finds_every_worker_replica_on_its_metrics_port(compose: Obj) -> None:
    (discovery,) = _scrape_jobs()["llmb-worker"]["dns_sd_configs"]
    assert discovery["names"] == ["worker"]
    assert str(discovery["port"]) == environment(compose["services"]["worker"])["LLMB_METRICS_PORT"]


def test_compose_grafana_gets_the_datasource_and_dashboard_it_is_given(compose: Obj) -> None:
    grafana = compose["services"]["grafana"]
    env = environment(grafana)
    mount = next(v for v in grafana["volumes"] if v.startswith("../deploy/grafana:"))
    inside = mount.split(":")[1]
    assert env["GF_PATHS_PROVISIONING"] == f"{inside}/provisioning"
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == f"{inside}/llmb.json"
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "llmb.yaml").read_text(encoding="utf-8")
    )
    assert [p["options"]["path"] for p in provider["providers"]] == [inside]
    sources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text("utf-8")
    )
    (source,) = sources["datasources"]
    url = urlsplit(source["url"])
    assert (source["type"], url.hostname, url.port) == ("prometheus", "prometheus", 9090)
    assert "../deploy/prometheus:/etc/prometheus:ro" in compose["services"]["prometheus"]["volumes"]


def test_flower_knows_the_queues_the_workers_consume() -> None:
    path = REPO / "deploy" / "flower" / "celeryconfig.py"
    spec = importlib.util.spec_from_file_location("flower_celeryconfig", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert [q.name for q in module.task_queues] == [q.value for q in QUEUES]
    assert module.task_default_queue == QUEUES[0].value


def test_flower_reads_the_broker_from_the_workers_redis(compose: Obj) -> None:
    flower = compose["services"]["flower"]
    worker = compose["services"]["worker"]
    assert environment(flower)["CELERY_BROKER_URL"] == environment(worker)["LLMB_REDIS_URL"]
    assert Path(flower["volumes"][0].split(":")[0]).name == "celeryconfig.py"
