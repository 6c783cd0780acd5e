from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from support.documents import dest, finding, report
from support.junit import check_junit_shape

from auditor.gate import parse_policy, run_check
from auditor.gate.junit import render_junit, xml_text

POLICY = """\
version: 1
rules:
  - id: no-cn
    deny: {countries: [CN]}
  - id: no-cleartext
    deny: {cleartext: true}
  - id: email-note
    severity: warning
    deny: {categories: [email]}
  - id: nothing-to-kp
    deny: {countries: [KP]}
"""

@pytest.fixture
def doc() -> dict[str, Any]:
    d = report(
        dest("chat.example.cn", "Example AI", "CN", party="first", cats=["email", "prompt"]),
        dest("plain.example.com", "Plain", "US", cleartext=True, cats=["device_id"]),
    )
    d["captures"] = [{"path": "session.flows", "format": "mitmproxy", "exchanges": 3, "warnings": []}]
    d["summary"] = {"exchanges": 3, "destinations": 2, "findings": 3}
    d["findings"] = [
        finding("chat.example.cn", "email", 0),
        finding("chat.example.cn", "prompt", 1),
        finding("plain.example.com", "device_id", 2, scheme="http"),
    ]
    return d


def test_one_testcase_per_rule_failures_carry_violations(doc: dict[str, Any]) -> None:
    result = run_check(parse_policy(POLICY, "policy.yaml"), doc)
    xml = render_junit(result, elapsed=1.25, timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')
    root = check_junit_shape(xml)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "auditor policy policy.yaml" and suite.get("timestamp") == "2026-01-02T03:04:05"
    assert suite.get("time") == "1.250" and root.get("failures") == "2" and root.get("tests") == "4"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["no-cn", "no-cleartext", "email-note", "nothing-to-kp"]
    assert all(c.get("classname") == "auditor.policy" for c in cases.values())
    failure = cases["no-cn"].find("failure")
    assert failure is not None and failure.get("type") == "policy.violation"
    assert failure.get("message") == "2 findings denied by rule no-cn (countries: CN)"
    lines = (failure.text or "").splitlines()
    assert lines[0] == "chat.example.cn: email at request.body field = ma*** in session.flows#0 POST https://chat.example.cn/api"
    assert len(lines) == 2
    clear = cases["no-cleartext"].find("failure")
    assert clear is not None and "session.flows#2 POST http://plain.example.com/api" in (clear.text or "")
    # warnings pass, with their findings in system-out
    assert cases["email-note"].find("failure") is None
    out = cases["email-note"].find("system-out")
    assert out is not None and (out.text or "").startswith("warning: 1 finding(s) match this rule")
    assert list(cases["nothing-to-kp"]) == []
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["policy"] == "policy.yaml" and props["captures"] == "session.flows" and props["findings"] == "3"


def test_baseline_testcase(doc: dict[str, Any]) -> None:
    old = copy.deepcopy(doc)
    old["destinations"] = old["destinations"][:1]
    pol = parse_policy("version: 1\nrules: []\n")
    root = check_junit_shape(render_junit(run_check(pol, doc, old, "base.json")))
    (case,) = root.iter("testcase")
    assert case.get("name") == "baseline" and case.get("classname") == "auditor.baseline"
    f = case.find("failure")
    assert f is not None and f.get("message") == "2 changes not in the baseline base.json" and f.get("type") == "baseline.change"
    assert "new destination plain.example.com" in (f.text or "") and "new country US" in (f.text or "")
    passed = check_junit_shape(render_junit(run_check(pol, doc, doc, "base.json")))
    assert passed.get("failures") == "0" and list(next(passed.iter("testcase"))) == []
    lenient = parse_policy("version: 1\nrules: []\nbaseline: {severity: warning}\n")
    warned = check_junit_shape(render_junit(run_check(lenient, doc, old, "base.json")))
    assert warned.get("failures") == "0" and next(warned.iter("system-out")).text


def test_no_rules_is_still_valid(doc: dict[str, Any]) -> None:
    root = check_junit_shape(render_junit(run_check(parse_policy("version: 1\nrules: []\n"), doc)))
    assert root.get("tests") == "0"


def test_hostile_text_stays_well_formed(doc: dict[str, Any]) -> None:
    nasty = "a<b>&c\"d']]>\x00\x08\x1b\ud800\ufffe e\u2028"
    doc["findings"][0]["value"] = nasty
    doc["findings"][0]["location"]["path"] = nasty
    doc["findings"][0]["request"]["url"] = "https://chat.example.cn/?q=" + nasty
    result = run_check(parse_policy("version: 1\nrules:\n  - {id: 'x:y/z.w_1-2', deny: {countries: [CN]}}\n", "p<&>.yaml"), doc)
    root = check_junit_shape(render_junit(result))
    failure = next(root.iter("failure"))
    assert "a<b>&c\"d']]>" in (failure.text or "")
    assert next(root.iter("testsuite")).get("name") == "auditor policy p<&>.yaml"
    assert xml_text("ok\x00\x1f\ud800") == "ok\ufffd\ufffd\ufffd"
