"""Every broad `except` (bare, `Exception`, `BaseException`) says on its own line why it is broad.

ruff's BLE001 (pyproject.toml) refuses a broad except that swallows the error unless it is marked
`# noqa: BLE001 - <reason>`; this test extends the rule to the broad excepts ruff lets through (those that
re-raise or log), and requires the reason after any BLE001 mark.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SKIPPED_DIRS = {".venv", "var", "node_modules", ".git", "migrations"}
BROAD = {"Exception", "BaseException"}
REASONED_NOQA = re.compile(r"#\s*noqa:\s*BLE001\s+-\s+\S")


def _python_files() -> list[Path]:
    return [
        path for path in ROOT.rglob("*.py") if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    ]


def _is_broad(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id in BROAD for name in names)


def test_every_broad_except_states_its_reason() -> None:
    unexplained: list[str] = []
    for path in _python_files():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ExceptHandler) and _is_broad(node):
                line = lines[node.lineno - 1]
                if "#" not in line:
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {line.strip()}")
    assert not unexplained, "broad excepts without a reason on their line:\n" + "\n".join(unexplained)


def test_every_ble001_mark_has_a_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "noqa: BLE001" in line and not REASONED_NOQA.search(line) and path != Path(__file__)
    ]
    assert not bare, f"`# noqa: BLE001` needs ` - <reason>` after it: {bare}"
