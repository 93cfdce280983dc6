"""`.env.example` lists every variable the settings read, so an operator finds each one in one place."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    read: set[str] = set()
    for module in ("config/settings.py", "config/worker.py"):
        read |= set(re.findall(r'get_\w+\(\s*"([A-Z][A-Z0-9_]+)"', (ROOT / module).read_text()))
    assert {"DEBUG", "HTTPS_ONLY", "LOGIN_FAILURE_LIMIT", "BEAT_LOCK_TTL_S"} <= read
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert sorted(read - listed) == []
