"""`python -m config.flower` starts Flower behind basic auth, or refuses to start at all.

Flower started with an empty FLOWER_BASIC_AUTH (the `.env.example` value the compose file passed on) let
anyone in. These tests run the real launcher and the real Flower it starts.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support.prod_env import ROOT, python
from tests.support.stack import free_port, wait_for


def _launch(tmp_path: Path, credentials: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FLOWER_BASIC_AUTH": credentials, "ENV_FILE": str(tmp_path / "none.env")}
    return subprocess.Popen(
        [python(), "-m", "config.flower", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.parametrize("credentials", ["", "admin", "admin:", ":password"])
def test_flower_refuses_to_start_without_credentials(tmp_path: Path, credentials: str) -> None:
    launcher = _launch(tmp_path, credentials, f"--port={free_port()}", "--address=127.0.0.1")
    try:
        _, stderr = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode != 0
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, stderr.decode()
    assert lines[0].startswith("error: FLOWER_BASIC_AUTH")


def test_flower_answers_401_to_wrong_credentials_and_200_to_right_ones(tmp_path: Path) -> None:
    port = free_port()
    flower = _launch(
        tmp_path,
        "admin:right-password,ops:other-password",
        "--address=127.0.0.1",
        f"--port={port}",
        f"--db={tmp_path / 'flower.db'}",
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(
            lambda: requests.get(url, timeout=2).status_code == 401, timeout_s=90, what="Flower to answer"
        )
        assert requests.get(url, auth=("admin", "wrong-password"), timeout=10).status_code == 401
        assert requests.get(url, auth=("nobody", "right-password"), timeout=10).status_code == 401
        assert requests.get(url, headers={"Authorization": "Basic Og=="}, timeout=10).status_code == 401
        assert requests.get(url, auth=("admin", "right-password"), timeout=10).status_code == 200
        assert requests.get(url, auth=("ops", "other-password"), timeout=10).status_code == 200
        # The launcher became Flower (same process), and the passwords are not on its command line.
        command_line = Path(f"/proc/{flower.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert "flower" in command_line and "password" not in command_line
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        try:
            flower.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(flower.pid, signal.SIGKILL)
            flower.wait(timeout=10)
