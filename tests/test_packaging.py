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


@pytest.mark.slow
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
    for needed in (
        "auditor/reports/report.html.j2",
        "auditor/reports/report.css",
        "auditor/reports/report.md.j2",
        "auditor/reports/labels.html.j2",
        "auditor/reports/labels.md.j2",
        "auditor/data/store_labels.json",
        "auditor/labels/judge.py",
        "auditor/schema/audit-v1.schema.json",
        "auditor/data/owners.json",
        "auditor/data/jurisdictions.json",
        "auditor/data/lexicons.json",
        "auditor/data/taxonomy.json",
        "auditor/cli.py",
        "auditor/classifiers/prompt.py",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)
    assert not any("companiesdb" in n.lower() or "company_countries" in n for n in names)
