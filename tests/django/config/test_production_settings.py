"""Settings are production-safe by default: development mode is something a process asks for.

Each test starts a fresh Python process with a clean environment (no DEBUG, no `.env`), as a production
host that only sets what docs/ARCHITECTURE.md §10 lists would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import requests

from tests.support.prod_env import ROOT, clean_environment, production_environment, python
from tests.support.stack import free_port, wait_for

SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER", "ALLOWED_HOSTS")}))
"""


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_clean_environment_is_not_development_mode_and_needs_a_secret_key(tmp_path: Path) -> None:
    result = _run([python(), "-c", SHOW_SETTINGS], clean_environment(tmp_path, ALLOWED_HOSTS="localhost"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_production_settings_are_https_only_without_debug(tmp_path: Path) -> None:
    result = _run([python(), "-c", SHOW_SETTINGS], production_environment(tmp_path))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["DEBUG"] is False
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SESSION_COOKIE_SECURE"] is True and shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_development_mode_is_asked_for_and_speaks_plain_http(tmp_path: Path) -> None:
    result = _run([python(), "-c", SHOW_SETTINGS], clean_environment(tmp_path, DEBUG="true"))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["DEBUG"] is True and shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SESSION_COOKIE_SECURE"] is False and shown["SECURE_HSTS_SECONDS"] == 0


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _run(
        [python(), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_environment(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_a_crafted_body_never_shows_a_debug_page_with_settings(tmp_path: Path) -> None:
    """A body Django refuses (too many form fields) answered with the debug page and every setting, the
    store URLs with their passwords among them, while DEBUG defaulted to true."""
    port = free_port()
    store_url = "redis://:password-in-the-store-url@127.0.0.1:1/0"
    env = production_environment(tmp_path, REDIS_URL=store_url)
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            python(),
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    # What the TLS-terminating proxy adds (production settings redirect plain HTTP to HTTPS), and the
    # Referer a browser sends with a form over HTTPS.
    behind_proxy = {"X-Forwarded-Proto": "https", "Referer": f"https://127.0.0.1:{port}/accounts/login/"}
    try:
        wait_for(lambda: requests.get(f"{base}/health", timeout=2).ok, timeout_s=60, what="gunicorn")
        login_over_http = requests.get(f"{base}/accounts/login/", allow_redirects=False, timeout=10)
        metrics_over_http = requests.get(f"{base}/metrics", allow_redirects=False, timeout=10)
        response = requests.post(
            f"{base}/accounts/login/",
            data="&".join(f"field{number}=x" for number in range(5000)),
            headers={**behind_proxy, "Content-Type": "application/x-www-form-urlencoded"},
            cookies={"csrftoken": "a" * 32},
            timeout=30,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    # Plain HTTP is redirected to HTTPS, except for probes and scrapers talking to the container itself.
    assert login_over_http.status_code == 301
    assert login_over_http.headers["Location"] == f"https://127.0.0.1:{port}/accounts/login/"
    assert metrics_over_http.status_code != 301
    assert response.status_code == 400
    for leaked in ("password-in-the-store-url", "REDIS_URL", "DATABASE_URL", "SECRET_KEY", "Traceback"):
        assert leaked not in response.text, f"{leaked} shown to the client"
