"""docs/ARCHITECTURE.md §9 lists the same Redis keys as core/redis.py, the one place that names them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _keys(table_text: str) -> list[str]:
    return [row.split("|")[1].strip() for row in table_text.splitlines() if re.match(r"\| `", row)]


def test_the_architecture_lists_every_key_core_redis_names() -> None:
    module_doc = (ROOT / "core" / "redis.py").read_text().split('"""')[1]
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = architecture.split("## 9. Redis keys")[1].split("\n## ")[0]
    assert _keys(section) == _keys(module_doc)
    assert len(_keys(module_doc)) >= 20
