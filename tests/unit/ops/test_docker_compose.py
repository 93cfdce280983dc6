"""docker/: the image holds everything the settings and the Procfile name, the compose services run the
Procfile's commands, nginx serves one HTTPS origin and logs no tokens.

These machines cannot build images, so the Dockerfile, compose file and nginx config are checked as text
against the settings and the Procfile they must agree with."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import yaml
from django.conf import settings

from core.queues import QUEUES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker" / "compose.yaml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
PROCFILE = ROOT / "Procfile"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
# Procfile process -> compose service
SERVICE_OF_PROCESS = {
    "web": "web",
    "ws": "ws",
    "wallet": "worker-wallet",
    "wallet2": "worker-wallet",
    "analysis": "worker-analysis",
    "similarity": "worker-similarity",
    "enrichment": "worker-enrichment",
    "beat": "beat",
    "flower": "flower",
}
# Options whose value names code (the same in every deployment); others (hosts, ports, paths) may differ.
CODE_OPTIONS = {"-m", "-A", "--app", "--scheduler", "--pool", "--worker-class"}


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
    assert "config.flower" in commands["flower"]
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


def _local_packages() -> set[str]:
    return {path.parent.name for path in ROOT.glob("*/__init__.py")}


def _copied_into_image() -> set[PurePosixPath]:
    """Paths (relative to the build context, the repository) that the Dockerfile's COPY lines bring in."""
    copied: set[PurePosixPath] = set()
    for line in DOCKERFILE.read_text().splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY" or any(word.startswith("--from") for word in words):
            continue
        sources = [word for word in words[1:-1] if not word.startswith("--")]
        copied |= {PurePosixPath(source.rstrip("/")) for source in sources}
    return copied


def _is_copied(path: PurePosixPath, copied: set[PurePosixPath]) -> bool:
    return any(path == source or source in path.parents for source in copied)


def _dotted_names(value: object) -> Iterator[str]:
    """Every string in a setting (however nested) that looks like a dotted Python path."""
    if isinstance(value, str):
        if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)+(:\w+)?", str(value)):
            yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _dotted_names(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _dotted_names(item)


def _files_under_root(value: object) -> Iterator[Path]:
    if isinstance(value, Path | str) and str(value).startswith(str(ROOT) + "/"):
        yield Path(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _files_under_root(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _files_under_root(item)


def test_the_image_holds_every_local_app_module_and_file_the_settings_name() -> None:
    local = _local_packages()
    copied = _copied_into_image()
    named: dict[str, str] = {}
    for app in settings.INSTALLED_APPS:
        if app.split(".")[0] in local:
            named[app.split(".")[0]] = f"INSTALLED_APPS {app}"
    for setting in dir(settings):
        if not setting.isupper():
            continue
        value = getattr(settings, setting)
        for dotted in _dotted_names(value):
            if dotted.split(".")[0] in local:
                named.setdefault(dotted.split(".")[0], f"{setting}: {dotted}")
        for path in _files_under_root(value):
            relative = path.relative_to(ROOT).parts[0]
            # var/ is made at run time (static files are collected into it by the image's build).
            if relative != "var":
                named.setdefault(relative, f"{setting}: {path}")
    assert {"config", "core", "lab", "jobs"} <= set(named), named
    missing = {name: why for name, why in named.items() if not _is_copied(PurePosixPath(name), copied)}
    assert not missing, f"named but not copied into the image by docker/Dockerfile: {missing}"


def test_the_image_holds_every_module_and_file_the_procfile_and_compose_run() -> None:
    copied = _copied_into_image()
    local = _local_packages()
    commands = [line.partition(":")[2] for line in PROCFILE.read_text().splitlines() if ":" in line]
    commands += [" ".join(map(str, s.get("command", []))) for s in _compose()["services"].values()]
    needed: set[str] = {"manage.py", "pyproject.toml"}
    for command in commands:
        for word in shlex.split(command):
            module = word.split("=")[-1].split(":")[0]
            if module.split(".")[0] in local:
                needed.add(module.split(".")[0])
            if (ROOT / word).is_file():
                needed.add(word)
    missing = sorted(name for name in needed if not _is_copied(PurePosixPath(name), copied))
    assert not missing, f"run but not copied into the image by docker/Dockerfile: {missing}"
    for package in re.findall(r'"(\w+)\*"', (ROOT / "pyproject.toml").read_text()):
        assert _is_copied(PurePosixPath(package), copied), f"pyproject.toml installs {package}, not copied"


def _signature(argv: list[str]) -> tuple[str, tuple[str, ...], frozenset[str], dict[str, str]]:
    """(program, positional arguments, option names, values of the options that name code)."""
    program, rest = argv[0], argv[1:]
    positional: list[str] = []
    options: set[str] = set()
    code: dict[str, str] = {}
    index = 0
    while index < len(rest):
        word = rest[index]
        if word.startswith("-"):
            name, has_value, value = word.partition("=")
            if not has_value and index + 1 < len(rest) and not rest[index + 1].startswith("-"):
                index += 1
                value = rest[index]
            options.add(name)
            if name in CODE_OPTIONS:
                code[name] = value
        else:
            positional.append(word)
        index += 1
    return program, tuple(positional), frozenset(options), code


def _procfile() -> dict[str, list[str]]:
    """Each process's command, without the environment assignments that lead it (`WORKER_NAME=wallet2 …`)."""
    commands = {}
    for name, _, command in (line.partition(":") for line in PROCFILE.read_text().splitlines()):
        if command.strip():
            words = shlex.split(command)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)
            commands[name.strip()] = words
    return commands


def test_each_queue_runs_as_many_worker_processes_as_its_policy_says() -> None:
    procfile, services = _procfile(), _compose()["services"]
    for queue, spec in QUEUES.items():
        processes = [name for name, argv in procfile.items() if argv[-2:] == ["config.worker", queue]]
        assert len(processes) == spec.default_processes, (queue, processes)
        [service] = {SERVICE_OF_PROCESS[name] for name in processes}
        assert services[service].get("deploy", {}).get("replicas", 1) == spec.default_processes, queue
        prefix = f"{spec.env_prefix}_CONCURRENCY"
        assert int(services[service]["environment"].get(prefix, spec.default_concurrency)) >= 1


def test_compose_services_run_the_commands_of_the_procfile() -> None:
    procfile = _procfile()
    services = _compose()["services"]
    assert set(procfile) == set(SERVICE_OF_PROCESS), "a Procfile process has no compose service here"
    for process, argv in procfile.items():
        command = services[SERVICE_OF_PROCESS[process]]["command"]
        assert _signature(list(map(str, command))) == _signature(argv), (process, command, argv)


def _nginx() -> str:
    return NGINX_CONF.read_text()


def test_nginx_access_logs_carry_no_query_string() -> None:
    """Clients may pass `?token=` on /ws/: a log format with the request line or the query would keep it."""
    conf = _nginx()
    formats = dict(re.findall(r"log_format\s+(\w+)\s+(.*?);", conf, re.DOTALL))
    assert formats, "no log_format: nginx's default one logs the whole request line"
    for name, layout in formats.items():
        for variable in (
            "$request ",
            '$request"',
            "$request_uri",
            "$args",
            "$query_string",
            "$arg_",
            "$http_referer",
        ):
            assert variable not in layout, f"log_format {name} logs {variable.strip()}"
    access_logs = re.findall(r"access_log\s+([^;]+);", conf)
    servers = conf.count("server {")
    assert len(access_logs) >= servers
    for access_log in access_logs:
        words = access_log.split()
        assert words[0] == "off" or (len(words) > 1 and words[1] in formats), access_log


def test_nginx_serves_one_https_origin_and_redirects_plain_http() -> None:
    conf = _nginx()
    https, plain = _server_blocks(conf, "443 ssl"), _server_blocks(conf, "80;")
    assert len(https) == 1 and len(plain) == 1
    assert re.search(r"return 301 https://\$host:\$\{PUBLIC_HTTPS_PORT\}\$request_uri;", plain[0])
    assert "proxy_pass" not in plain[0]
    hsts = re.search(r'add_header Strict-Transport-Security "max-age=(\d+)[^"]*" always;', https[0])
    assert hsts and int(hsts.group(1)) >= 31_536_000
    assert "ssl_certificate /etc/nginx/certs/tls.crt;" in https[0]


def test_nginx_passes_the_host_with_its_port_and_sets_the_proxy_headers() -> None:
    """`$host` drops the port, so a login from https://localhost:8443 failed Django's CSRF origin check."""
    conf = _nginx()
    locations = re.findall(r"location [^{]+\{(.*?)\n    \}", conf, re.DOTALL)
    proxied = [block for block in locations if "proxy_pass" in block]
    assert len(proxied) == 2
    for block in proxied:
        assert "proxy_set_header Host $http_host;" in block
        assert "proxy_set_header X-Forwarded-Proto https;" in block
        assert "proxy_set_header X-Real-IP $remote_addr;" in block
    assert "$host;" not in conf


def _server_blocks(conf: str, listen: str) -> list[str]:
    blocks = re.split(r"\nserver \{", conf)[1:]
    return [block for block in blocks if f"listen {listen}" in block]


def test_compose_serves_https_with_a_certificate_made_at_start_or_mounted() -> None:
    services = _compose()["services"]
    nginx, certificate = services["nginx"], services["tls-cert"]
    assert any(str(port).endswith(":443") for port in nginx["ports"])
    assert all(str(port).startswith("127.0.0.1:") for s in services.values() for port in s.get("ports", []))
    assert "./nginx.conf:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"]
    assert "${TLS_CERT_DIR:-tls}:/etc/nginx/certs:ro" in nginx["volumes"]
    assert nginx["depends_on"]["tls-cert"]["condition"] == "service_completed_successfully"
    assert certificate["command"][1] == "docker/self_signed_cert.py"
    assert "${TLS_CERT_DIR:-tls}:/certs" in certificate["volumes"]
    app = services["web"]["environment"]
    assert app["CLIENT_IP_HEADER"] == "X-Real-IP" and app["DEBUG"] == "false"
