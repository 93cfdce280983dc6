"""docker/compose.yaml describes the production-like deployment of SPEC §7/issue 9."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from core.queues import QUEUES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker" / "compose.yaml"


def _compose() -> dict:
    loaded: dict = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0


def test_every_process_of_the_stack_is_a_service() -> None:
    services = _compose()["services"]
    commands = {name: " ".join(map(str, service.get("command", []))) for name, service in services.items()}
    for queue in QUEUES:
        assert any(f"config.worker {queue}" in command for command in commands.values()), queue
    assert "gunicorn" in commands["web"] and "daphne" in commands["ws"]
    assert "beat" in commands["beat"] and services["beat"]["deploy"]["replicas"] == 1
    assert "flower" in commands["flower"] and "--basic-auth" in commands["flower"]
    assert "--appendonly yes" in commands["redis"]
    assert {"postgres", "redis", "nginx", "migrate"} <= set(services)
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in services[name], name


def test_app_services_read_the_environment_file() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        if "build" in service:
            assert service["env_file"] == "../.env", name


def test_nginx_puts_rest_and_websockets_behind_one_origin() -> None:
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    assert "location /ws/" in conf and "Upgrade $http_upgrade" in conf and "location / " in conf


@pytest.mark.skipif(not _docker_compose_available(), reason="docker compose is not installed on this machine")
def test_docker_compose_config_validates(tmp_path: Path) -> None:
    env = ROOT / ".env"
    created = not env.exists()
    if created:
        env.write_text("")
    try:
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if created:
            env.unlink()
    assert result.returncode == 0, result.stderr
