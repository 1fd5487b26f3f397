"""deploy/compose.yaml is a valid Compose file with the cluster the README describes."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.support import ROOT

COMPOSE = ROOT / "deploy" / "compose.yaml"
BINARY = shutil.which("docker-compose")


@pytest.mark.skipif(
    BINARY is None,
    reason="docker-compose is not installed (`make test` installs Debian's docker-compose)",
)
def test_compose_file_is_valid_and_has_the_whole_cluster(tmp_path):
    env = {**os.environ, "SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [BINARY, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    for name in (
        "temporal",
        "temporal-ui",
        "postgresql",
        "redis",
        "elasticsearch",
        "web1",
        "web2",
        "worker1",
        "worker2",
        "prometheus",
    ):
        assert name in services, name
    temporal = services["temporal"]["environment"]
    assert temporal["DB"] == "postgres12" and temporal["ENABLE_ES"] == "true"
    for web in ("web1", "web2"):
        assert services[web]["image"] == "approvals:latest"
        assert "--no-worker" in services[web]["command"]
    for worker in ("worker1", "worker2"):
        assert services[worker]["command"][-1] == "run_worker"
        assert services[worker]["environment"]["WORKER_METRICS_PORT"]
        assert services[worker]["environment"]["DJANGO_MIGRATE"] == "0"
        assert services[worker]["environment"]["OCR_WORKER"] == "0"
    # Receipts are read by their own worker on the OCR queue, from the shared media volume.
    ocr = services["ocr"]
    assert ocr["image"] == "approvals:latest"
    assert ocr["command"][-2:] == ["run_worker", "--ocr-only"]
    assert ocr["environment"]["DJANGO_MIGRATE"] == "0"
    for name in ("web1", "web2", "worker1", "ocr"):
        assert any("/app/var/media" in str(v) for v in services[name]["volumes"]), name
    mounts = " ".join(str(v) for v in services["prometheus"]["volumes"])
    assert "prometheus.yml" in mounts and "alerts.yml" in mounts


def test_compose_refuses_to_run_without_a_secret_key():
    if BINARY is None:
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [BINARY, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_prometheus_scrapes_the_web_with_the_token_and_every_worker():
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    web = jobs["approvals-web"]
    assert web["metrics_path"] == "/metrics"
    assert web["authorization"]["type"] == "Bearer"
    assert web["static_configs"][0]["targets"] == ["web1:8000", "web2:8000"]
    assert jobs["approvals-worker-sdk"]["static_configs"][0]["targets"] == [
        "worker1:9464",
        "worker2:9464",
    ]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
