"""`SUBMIT_THROTTLE_RATE`: an empty value is the default like every variable's, `off` turns the limit off,
and a malformed rate stops the process at start-up naming the variable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.prod_env import ROOT, clean_environment, python

SHOW_RATE = (
    "import django; from django.conf import settings; django.setup(); "
    "print(repr(settings.SUBMIT_THROTTLE_RATE))"
)


def _settings_process(tmp_path: Path, rate: str) -> subprocess.CompletedProcess[str]:
    env = clean_environment(tmp_path, DEBUG="true", SUBMIT_THROTTLE_RATE=rate)
    return subprocess.run(
        [python(), "-c", SHOW_RATE],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("rate", "seen"), [("", "'120/minute'"), ("off", "''"), ("OFF", "''"), ("5/second", "'5/second'")]
)
def test_the_throttle_rate_as_the_settings_read_it(tmp_path: Path, rate: str, seen: str) -> None:
    process = _settings_process(tmp_path, rate)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == seen


def test_a_malformed_rate_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    process = _settings_process(tmp_path, "lots")
    assert process.returncode != 0
    assert "SUBMIT_THROTTLE_RATE" in process.stderr
