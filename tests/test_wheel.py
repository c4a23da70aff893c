"""pinrec's wheel: every package on disk is in it, the template sources of the top-level templates/ folder install as
`pinrec_templates`, and an installed wheel finds them from any folder. Building runs pip's isolated build (needs PyPI
or a warm pip cache for setuptools)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
CODE_PACKAGES = ("handlers", "transformer", "campaign_tools")
SHIPPED_TEMPLATES = ("offer", "recommended-for-you")
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "pinrec-demo",
    "pinrec-outbox",
    "test-artifacts",
)


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600, cwd=cwd, env=env)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info into the tree it builds, and a stale build/ would
    # put deleted modules back into the wheel.
    source = work / "source"
    shutil.copytree(CHECKOUT, source, ignore=NOT_SOURCES)
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "-w", str(work / "dist")])
    (built,) = (work / "dist").glob("pinrec-*.whl")
    return built


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts]


def test_the_wheel_holds_every_package_and_the_shipped_template_sources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    code = [path.relative_to(CHECKOUT).as_posix() for package in CODE_PACKAGES for path in _files(CHECKOUT / package)]
    assert sorted(set(code) - names) == [], "a package or data folder is missing from pyproject.toml"
    templates = [
        f"pinrec_templates/{path.relative_to(CHECKOUT / 'templates').as_posix()}"
        for path in _files(CHECKOUT / "templates")
    ]
    assert {f"pinrec_templates/{name}/template.toml" for name in SHIPPED_TEMPLATES} <= set(templates)
    assert sorted(set(templates) - names) == []
    assert {"handlers/transformer.py", "handlers/send_batch.py", "campaign_tools/demo_data/catalog.jsonl"} <= names
    assert not [name for name in names if name.startswith(("templates/", "campaign_tools/templates/library/"))]


def test_an_installed_wheel_lists_its_shipped_templates_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, sys\n"
        "from campaign_tools.cli import main\n"
        "from campaign_tools.templates.manifest import builtin_templates_dir\n"
        "code = main(['templates', 'list'])\n"
        "print(json.dumps({'code': code, 'shipped': str(builtin_templates_dir())}))\n"
    )
    # -S: no site hooks, so this venv's editable install (a .pth import hook) stays out; the wheel's copy comes first
    # on the path and this venv's packages supply the dependencies.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])}
    output = _run([sys.executable, "-S", "-c", script], cwd=elsewhere, env=env)

    *table, last = output.strip().splitlines()
    result = json.loads(last)
    assert result == {"code": 0, "shipped": str(target / "pinrec_templates")}
    rows = table[2:]
    assert [row.split()[0] for row in rows] == list(SHIPPED_TEMPLATES)
    assert all(str(target / "pinrec_templates") in row for row in rows)
