"""The known-values file (``--known``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from auditor.classifiers.known import KnownError, KnownValue, load_known, parse_known


def test_keys_are_categories_plurals_or_aliases(tmp_path: Path) -> None:
    p = tmp_path / "k.yaml"
    p.write_text("email: jane.doe@example.org\nphones: ['+1 202 555 0143']\nname: Jane Doe\ndevice_id: [abc123456, 42424242]\ncanaries:\n  - purple elephant 7421\n", encoding="utf-8")
    assert load_known(p) == [
        KnownValue("email", "jane.doe@example.org", "email"),
        KnownValue("phone", "+1 202 555 0143", "phones"),
        KnownValue("person_name", "Jane Doe", "name"),
        KnownValue("device_id", "abc123456", "device_id"),
        KnownValue("device_id", "42424242", "device_id"),
        KnownValue("prompt", "purple elephant 7421", "canaries"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("favourite_colour: blue\n", "unknown key 'favourite_colour'"),
        ("- just\n- a list\n", "expected a mapping"),
        ("email: [a: b]\n", "values must be strings or numbers"),
        ("email: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_files_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "k.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(KnownError, match=message):
        load_known(p)


def test_missing_file() -> None:
    with pytest.raises(KnownError, match="no such file"):
        load_known("/nonexistent/known.yaml")


def test_empty_document() -> None:
    assert parse_known(None) == []


@pytest.mark.e2e
def test_report_with_known_values(tmp_path: Path) -> None:
    known = tmp_path / "known.yaml"
    known.write_text("email: jane.doe@example.org\nprompt: Summarise my week\n", encoding="utf-8")
    out = tmp_path / "r"
    p = subprocess.run(
        [sys.executable, "-m", "auditor", "report", str(FIXTURES / "ai-chat-session.flows"), "-o", str(out), "--format", "json", "--known", str(known)],
        capture_output=True, text=True,
    )
    assert p.returncode == 0, p.stderr
    import json

    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["summary"]["known_values"] == 2
    derived = [f for f in doc["findings"] if f["derived"] and f["derived"]["from"].get("known")]
    assert {f["category"] for f in derived} >= {"email", "prompt"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("colour: blue\n", encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(FIXTURES / "ai-chat-session.flows"), "-o", str(out), "--known", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "unknown key 'colour'" in p.stderr
