from __future__ import annotations

import os
from pathlib import Path

import pytest

ARTIFACTS_DIR = Path(
    os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[1] / "var" / "test-artifacts")
)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR
