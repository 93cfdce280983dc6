"""The import contracts (pyproject.toml, [tool.importlinter]) hold, and they would catch a breach."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ("config", "core", "wallets", "enrichment", "analysis", "similarity", "holders", "jobs", "lab")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), "import-linter is a dev dependency (pyproject.toml)"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
    )


def _tiny_project(tmp_path: Path, modules: dict[str, str]) -> Path:
    """A skeleton with the project's apps and its own import contracts, plus the given modules."""
    tmp_path.mkdir(exist_ok=True)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_packages"] == list(APPS)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for app in APPS:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    # Every module a contract names must exist, and every import it allows must be there to be allowed.
    sources: dict[str, str] = {}
    for contract in config["contracts"]:
        for module in contract.get("source_modules", []):
            sources.setdefault(module, "")
        for allowed in contract.get("ignore_imports", []):
            importer, imported = allowed.split(" -> ")
            sources[importer] = sources.get(importer, "") + f"import {imported}\n"
            sources.setdefault(imported, "")
    for module in {**sources, **modules}:
        path = tmp_path.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sources.get(module, "") + modules.get(module, ""))
    return tmp_path


def test_the_project_keeps_its_import_contracts() -> None:
    outcome = _lint_imports(ROOT)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr


def test_a_circle_inside_an_app_breaks_the_contracts(tmp_path: Path) -> None:
    project = _tiny_project(
        tmp_path,
        {
            "jobs.services": "def submit():\n    from jobs import flows\n",
            "jobs.flows": "from jobs import services\n",
        },
    )
    outcome = _lint_imports(project)
    assert outcome.returncode != 0
    assert "No import circles inside an app BROKEN" in outcome.stdout.replace("\n", " "), outcome.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("wallets.services", "import jobs.services\n", "Apps depend one way"),
        ("similarity.services", "from config import settings\n", "config is the composition root"),
        ("analysis.pnl", "import django.db\n", "Domain maths are pure"),
    ],
)
def test_an_import_against_the_direction_breaks_the_contracts(
    tmp_path: Path, module: str, source: str, contract: str
) -> None:
    breach = {module: source, "jobs.services": "", "config.settings": ""}
    project = _tiny_project(tmp_path / "breached", breach)
    outcome = _lint_imports(project)
    assert outcome.returncode != 0
    assert f"{contract}" in outcome.stdout and "BROKEN" in outcome.stdout, outcome.stdout
    assert _lint_imports(_tiny_project(tmp_path / "clean", {})).returncode == 0
