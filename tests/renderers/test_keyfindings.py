"""Key findings and the caps of the HTML and Markdown reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import FIXTURES

from auditor.audit.pipeline import audit_paths
from auditor.renderers import render
from auditor.renderers import view as view_mod
from auditor.renderers.keyfindings import FindingStats, key_findings


@pytest.fixture(scope="module")
def doc() -> dict:
    return audit_paths([FIXTURES / "ai-chat-session.flows"])


def test_key_findings_of_the_demo(doc: dict) -> None:
    keys = key_findings(doc, FindingStats.collect(doc["findings"]), view_mod.label)
    assert [k.kind for k in keys] == ["prompts", "derived", "credentials", "cleartext", "adequacy"]
    by_kind = {k.kind: [i.text for i in k.items] for k in keys}
    # Copilot's chat, opened from its own page, is another company's (third party) in this session.
    assert by_kind["prompts"] == [
        "Prompts went to Volcano Engine (Volcengine) (China) at mcs.volceapplog.com",
        "Prompts went to Microsoft Corporation (United States) at copilot.microsoft.com",
    ]
    # the typed prompt copied into analytics in China is said, third parties first
    assert by_kind["derived"][0].startswith("Volcano Engine (Volcengine) (China), third party at mcs.volceapplog.com: ")
    assert "prompt text" in by_kind["derived"][0] and "copied as is from elsewhere" in by_kind["derived"][0]
    assert sum(int(re.match(r".*: ([0-9,]+) values?", t).group(1)) for t in by_kind["derived"]) == doc["summary"]["derived_findings"]
    assert by_kind["cleartext"] == ["Device id and device info sent unencrypted to Umeng (Youmeng Tongxin) (China) at alog.umeng.com"]
    assert by_kind["adequacy"][0].startswith("China (no EU adequacy decision): ")


def test_html_opens_on_key_findings_linked_to_evidence(doc: dict) -> None:
    html = render(doc, "html")
    ids = re.findall(r'<section id="([a-z-]+)"', html)
    assert ids[:2] == ["key-findings", "answer"]
    key = html[html.index('id="key-findings"') : html.index('id="answer"')]
    targets = re.findall(r'<a href="#([a-z0-9-]+)">', key)
    assert targets and all(f'id="{t}"' in html for t in targets)
    assert 'id="ev-2"' in html and "#ev-2" in key  # mcs.volceapplog.com, the second destination
    assert "volceapplog" not in html[: html.index('id="key-findings"')]
    # detector names and confidence only inside a details element
    for m in re.finditer(r"(?:secret\.|prompt\.format\.|confidence )", html):
        assert html.rfind("<details>", 0, m.start()) > html.rfind("</details>", 0, m.start()), html[m.start() - 80 : m.start() + 40]


def test_a_damaged_capture_warns_at_the_top(doc: dict, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.flows"
    data = (FIXTURES / "ai-chat-session.flows").read_bytes()
    damaged.write_bytes(data[: len(data) * 2 // 3])
    warned = audit_paths([damaged], warn=lambda m: None)
    assert warned["captures"][0]["warnings"]
    html = render(warned, "html")
    ids = re.findall(r'<section id="([a-z-]+)"', html)
    assert ids[:3] == ["key-findings", "warnings", "answer"]
    assert re.search(r'<a href="#warnings">1 warning: part of the capture could not be read', html)
    md = render(warned, "md")
    assert md.index("**Incomplete capture**") < md.index("Warnings:") < md.index("| Owner country")


def test_big_reports_are_capped_with_and_n_more(doc: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view_mod, "DESTINATION_ROWS", 3)
    monkeypatch.setattr(view_mod, "EVIDENCE_HOSTS", 2)
    monkeypatch.setattr(view_mod, "COMPANY_ROWS", 2)
    html = render(doc, "html")
    assert "and 5 more destinations in the JSON report." in html
    assert "Evidence for 6 more hosts is in the JSON report." in html
    assert len(re.findall(r'<tr id="dest-', html)) == 3
    assert len(re.findall(r'class="evidence-host"', html)) == 2
    assert re.search(r"and [0-9]+ more compan(y|ies) in the JSON report", html)
    md = render(doc, "md")
    assert "and 5 more destinations in the JSON report." in md


def test_numbers_and_plurals() -> None:
    assert view_mod.count(1, "request") == "1 request"
    assert view_mod.count(2345, "request") == "2,345 requests"
    assert view_mod.plural(2, "country") == "countries" and view_mod.number(1234567) == "1,234,567"
    assert view_mod.count(3, "more company") == "3 more companies"
    doc = {"summary": {"exchanges": 1}, "captures": [], "destinations": [], "findings": [], "first_party": None,
           "jurisdictions": {}, "generator": {"version": "x"}, "created": "now", "revealed": False}
    html = render(doc, "html")
    assert "1 request from" in html and "1 requests" not in html
