"""The compose stack's nginx, run for real: docker/nginx.conf and docker/self_signed_cert.py in front of a
gunicorn and a daphne with production settings (DEBUG unset, HTTPS only).

nginx comes from Debian (`./scripts/test` installs it). Only what compose fills in differs: upstream
addresses, ports, and where the certificate and the logs live.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.integration.conftest import _database_url
from tests.support.prod_env import ROOT, production_environment
from tests.support.stack import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NGINX_CONF = ROOT / "docker" / "nginx.conf"


def _nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if found is None:
        pytest.fail("nginx is not installed: run ./scripts/test (it installs Debian's nginx)")
    return found


@dataclass
class Proxy:
    http_port: int
    https_port: int
    certificate: Path
    access_log: Path
    error_log: Path

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"


def _render(work: Path, web_port: int, ws_port: int, proxy: Proxy) -> Path:
    """docker/nginx.conf with what compose and the nginx image fill in, inside a minimal main config."""
    conf = NGINX_CONF.read_text()
    replacements = {
        "server web:8000;": f"server 127.0.0.1:{web_port};",
        "server ws:8001;": f"server 127.0.0.1:{ws_port};",
        "listen 80;": f"listen 127.0.0.1:{proxy.http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{proxy.https_port} ssl;",
        "${PUBLIC_HTTPS_PORT}": str(proxy.https_port),
        "/etc/nginx/certs/": f"{proxy.certificate.parent}/",
        "/var/log/nginx/access.log": str(proxy.access_log),
    }
    for compose_value, local_value in replacements.items():
        assert compose_value in conf, compose_value
        conf = conf.replace(compose_value, local_value)
    (work / "site.conf").write_text(conf)
    main = work / "nginx.conf"
    main.write_text(
        f"""daemon off;
master_process off;
pid {work}/nginx.pid;
error_log {proxy.error_log} info;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/site.conf;
}}
"""
    )
    return main


@contextlib.contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    nginx = _nginx_binary()
    subprocess.run(
        [sys.executable, str(ROOT / "docker" / "self_signed_cert.py"), str(tmp_path / "certs")], check=True
    )
    proxy = Proxy(
        http_port=free_port(),
        https_port=free_port(),
        certificate=tmp_path / "certs" / "tls.crt",
        access_log=tmp_path / "access.log",
        error_log=tmp_path / "error.log",
    )
    web_port, ws_port = free_port(), free_port()
    main = _render(tmp_path, web_port, ws_port, proxy)
    tested = subprocess.run([nginx, "-t", "-c", str(main)], capture_output=True, text=True, check=False)
    assert tested.returncode == 0, tested.stderr
    env = production_environment(
        tmp_path,
        ALLOWED_HOSTS="localhost",
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CLIENT_IP_HEADER="X-Real-IP",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{web_port}"]
    daphne = [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(ws_port),
        "config.asgi:application",
    ]
    with (
        _process(gunicorn, env, tmp_path / "gunicorn.log"),
        _process(daphne, env, tmp_path / "daphne.log"),
        _process([nginx, "-c", str(main)], env, tmp_path / "nginx.log"),
    ):
        wait_for(
            lambda: requests.get(f"{proxy.origin}/health", verify=str(proxy.certificate), timeout=2).ok,
            timeout_s=60,
            what="nginx in front of gunicorn",
        )
        yield proxy


def test_plain_http_is_redirected_to_the_https_origin_with_its_port(proxy: Proxy) -> None:
    response = requests.get(
        f"http://localhost:{proxy.http_port}/accounts/login/?next=/", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{proxy.origin}/accounts/login/?next=/"


def test_a_browser_signs_in_over_https_and_passes_the_csrf_origin_check(proxy: Proxy) -> None:
    """nginx passed `Host $host`, which drops the port: Django then saw the form's Origin
    https://localhost:PORT as another site and refused the login (CSRF)."""
    get_user_model().objects.create_user(username="analyst", password="right-password")
    browser = requests.Session()
    # Per request: requests lets REQUESTS_CA_BUNDLE override a session's own `verify`.
    trust = str(proxy.certificate)
    page = browser.get(f"{proxy.origin}/accounts/login/", verify=trust, timeout=10)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.raw.headers.getlist("Strict-Transport-Security") == [
        page.headers["Strict-Transport-Security"]
    ], "one HSTS header"
    cookie = next(cookie for cookie in browser.cookies if cookie.name == "csrftoken")
    assert cookie.secure
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token
    response = browser.post(
        f"{proxy.origin}/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": "analyst", "password": "right-password"},
        headers={"Origin": proxy.origin, "Referer": f"{proxy.origin}/accounts/login/"},
        allow_redirects=False,
        verify=trust,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == "/"
    session = next(cookie for cookie in browser.cookies if cookie.name == "sessionid")
    assert session.secure
    assert browser.get(f"{proxy.origin}/", verify=trust, timeout=10).status_code == 200


def test_tokens_in_query_strings_stay_out_of_the_access_log(proxy: Proxy) -> None:
    secret = "tok-3f9a1c-never-logged"
    requests.get(
        f"http://localhost:{proxy.http_port}/ws/job-progress/?token={secret}",
        allow_redirects=False,
        timeout=10,
    )
    requests.get(
        f"{proxy.origin}/ws/job-progress/?token={secret}",
        headers={"Referer": f"{proxy.origin}/?token={secret}"},
        verify=str(proxy.certificate),
        timeout=10,
    )
    requests.get(f"{proxy.origin}/jobs?access_token={secret}", verify=str(proxy.certificate), timeout=10)

    # Wait for these three requests' own lines: the log also holds the fixture's readiness probes, so a count
    # of lines alone could be reached before the proxy has written them.
    def ours() -> list[str]:
        return [
            line
            for line in proxy.access_log.read_text().splitlines()
            if "/ws/job-progress/" in line or "/jobs" in line
        ]

    wait_for(lambda: len(ours()) >= 3, timeout_s=10, what="the access log lines of the three requests")
    assert secret not in proxy.access_log.read_text()
