"""Environments for processes that must see the settings as production does: nothing from the developer's
environment or `.env` leaks in, only what a test names."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def clean_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """Only what a process needs to run Python here, plus `variables`; `.env` is not read (ENV_FILE)."""
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        "ENV_FILE": str(empty_env_file),
        **variables,
    }


def production_environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """What an operator must set in production (docs/ARCHITECTURE.md §10), and nothing else."""
    required = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return clean_environment(tmp_path, **{**required, **variables})


def python() -> str:
    return sys.executable
