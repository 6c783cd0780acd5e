"""The wheel ships the library, its data, the schema and the report templates."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e


def test_wheel_contents(tmp_path: Path) -> None:
    # Build from a copy of the tree: setuptools writes build/ and *.egg-info beside the sources.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "demo", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "node_modules"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(src)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("auditor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every module and data file of the package, and every template, is in the wheel.
    sources = [str(f.relative_to(ROOT)) for f in (ROOT / "auditor").rglob("*") if f.is_file()
               and f.suffix in (".py", ".json", ".js", ".md") and "__pycache__" not in f.parts]
    templates = ["auditor/reports/" + f.name for f in (ROOT / "reports").iterdir() if f.suffix in (".j2", ".css")]
    assert len(sources) > 100 and "auditor/cli/main.py" in sources and "auditor/reports/report.html.j2" in templates
    missing = sorted(set(sources + templates) - names)
    assert not missing, missing
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)
    assert not any("companiesdb" in n.lower() or "company_countries" in n for n in names)
