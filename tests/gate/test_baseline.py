from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from support.documents import dest, report

from auditor.gate import parse_policy, run_check
from auditor.gate.baseline import (
    ReportError,
    baseline_violations,
    diff_reports,
    load_report,
    render_diff_markdown,
    render_diff_text,
)


@pytest.fixture
def old() -> dict[str, Any]:
    return report(
        dest("chat.example.com", "Example AI", "US", party="first", service="ai_provider", cats=["email", "prompt"]),
        dest("events.analytics.io", "Analytics Ltd", "GB", service="analytics", cats=["device_id"]),
        dest("gone.example.net", "Gone Inc.", "US", cats=[]),
    )


@pytest.fixture
def new(old: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(old)
    doc["destinations"] = [d for d in doc["destinations"] if d["host"] != "gone.example.net"]
    chat = doc["destinations"][0]
    chat["data_categories"] = ["email", "phone", "prompt"]  # new category
    analytics = doc["destinations"][1]
    analytics["server_countries"] = ["IE"]  # new country for an existing destination
    analytics["party"] = "unknown"
    doc["destinations"] += [
        dest("sdk.tracker.cn", "Tracker Co.", "CN", service="advertising", cats=["device_id", "email"]),  # new SDK
        dest("o123.ingest.sentry.io", "Sentry", "US", service="crash_reporting", cats=["email"]),
    ]
    return doc


def test_diff_lists_added_removed_changed(old: dict[str, Any], new: dict[str, Any]) -> None:
    d = diff_reports(old, new)
    assert [x["host"] for x in d.added] == ["o123.ingest.sentry.io", "sdk.tracker.cn"]
    assert [x["host"] for x in d.removed] == ["gone.example.net"]
    chat, analytics = d.changed
    assert chat.host == "chat.example.com" and chat.categories_added == ["phone"] and not chat.categories_removed
    assert analytics.countries_added == ["IE"] and analytics.changes == [("party", "third", "unknown")]
    assert d.countries_added == {"CN": ["sdk.tracker.cn"], "IE": ["events.analytics.io"]}
    assert d.countries_removed == {}
    assert d.categories_added == ["phone"] and d.categories_removed == []
    assert not d.empty and diff_reports(new, new).empty


def test_diff_renderings(old: dict[str, Any], new: dict[str, Any]) -> None:
    d = diff_reports(old, new)
    text = render_diff_text(d, "old.json", "new.json")
    assert text.splitlines()[0] == "auditor diff old.json -> new.json"
    assert "  + sdk.tracker.cn (Tracker Co.; CN; advertising; third party): device_id, email" in text
    assert "  - gone.example.net (Gone Inc.; US; third party): no personal data found" in text
    assert "  ~ chat.example.com: data +phone" in text
    assert "  ~ events.analytics.io: countries +IE; party third -> unknown" in text
    assert "countries added: CN (sdk.tracker.cn), IE (events.analytics.io)" in text
    md = render_diff_markdown(d, "old.json", "new.json")
    assert md.startswith("## auditor diff: `old.json` → `new.json`")
    assert "| ➕ added | `sdk.tracker.cn` | Tracker Co. | CN | third | device\\_id, email |" in md  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    assert "| ➖ removed | `gone.example.net` |" in md and "| ✏️ changed | `chat.example.com` |" in md  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    assert "**Countries added:** CN" in md
    assert "no differences" in render_diff_text(diff_reports(old, old))
    assert json.loads(json.dumps(d.to_json()))["destinations_added"] == ["o123.ingest.sentry.io", "sdk.tracker.cn"]


def test_baseline_violations_are_what_is_new(old: dict[str, Any], new: dict[str, Any]) -> None:
    got = {(v.kind, v.host, v.category, v.country) for v in baseline_violations(old, new)}
    assert got == {
        ("new_destination", "o123.ingest.sentry.io", None, None),
        ("new_destination", "sdk.tracker.cn", None, None),
        ("new_category", "chat.example.com", "phone", None),
        ("new_country", "events.analytics.io", None, "IE"),
        ("new_country", None, None, "CN"),
    }
    assert baseline_violations(new, new) == []
    # removals are not violations
    fewer = copy.deepcopy(new)
    fewer["destinations"] = fewer["destinations"][:1]
    fewer["destinations"][0]["data_categories"] = ["email"]
    assert baseline_violations(new, fewer) == []


def test_baseline_allow(old: dict[str, Any], new: dict[str, Any]) -> None:
    pol = parse_policy(
        "version: 1\nrules: []\nbaseline:\n  allow:\n"
        "    - {hosts: ['*.ingest.sentry.io'], categories: [email]}\n"
        "    - {hosts: [chat.example.com], categories: [phone]}\n"
        "    - {countries: [EU]}\n"
    )
    got = {(v.kind, v.host, v.country) for v in baseline_violations(old, new, pol.baseline.allow)}
    assert got == {("new_destination", "sdk.tracker.cn", None), ("new_country", None, "CN")}
    # a new destination is only exempt when it receives nothing but the allowed categories
    pol2 = parse_policy("version: 1\nrules: []\nbaseline:\n  allow: [{hosts: ['*'], categories: [device_id]}]\n")
    hosts = {v.host for v in baseline_violations(old, new, pol2.baseline.allow) if v.kind == "new_destination"}
    assert hosts == {"o123.ingest.sentry.io", "sdk.tracker.cn"}


def test_check_with_baseline(old: dict[str, Any], new: dict[str, Any]) -> None:
    pol = parse_policy("version: 1\nrules:\n  - {id: r, deny: {countries: [KP]}}\n")
    result = run_check(pol, new, old, "old.json")
    assert not result.passed and result.exit_code == 1 and result.baseline_failed
    assert result.to_json()["baseline"]["violations"][0]["kind"] == "new_destination"
    assert run_check(pol, new, new, "new.json").passed
    lenient = parse_policy("version: 1\nrules: []\nbaseline: {severity: warning}\n")
    assert run_check(lenient, new, old, "old.json").passed


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"{not json", "invalid JSON at line 1 column 2"),
        (b"[1, 2]", "not an auditor JSON report"),
        (b'{"schema_version": "2", "destinations": []}', "unsupported report schema version '2'"),
        (b'{"schema_version": "1", "destinations": [{"no": "host"}]}', "destinations must be a list of objects with a host"),
        (b'{"schema_version": "1", "destinations": [{"host": "a", "data_categories": 5}]}', "destination 'a' is malformed"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_load_report_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ReportError) as exc:
        load_report(path)
    assert str(exc.value).startswith(f"{path}: ") and message in str(exc.value)


def test_load_report_accepts_check_output(tmp_path: Path, new: dict[str, Any]) -> None:
    path = tmp_path / "check.json"
    path.write_text(json.dumps({**new, "check": {"passed": True}}))
    assert load_report(path)["destinations"] == new["destinations"]
