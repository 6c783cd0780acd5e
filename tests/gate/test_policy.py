from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT
from support.documents import dest, finding
from support.policies import ISSUE_POLICY

from auditor.audit.pipeline import AuditOptions, audit_paths
from auditor.gate import (
    PolicyError,
    evaluate,
    load_policy,
    parse_policy,
    render_markdown,
    render_text,
    run_check,
)


@pytest.fixture
def doc() -> dict[str, Any]:
    """Five destinations covering every selector, each receiving findings."""
    d: dict[str, Any] = {
        "schema_version": "1",
        "generator": {"name": "auditor", "version": "test"},
        "captures": [{"path": "cap.flows", "format": "mitmproxy", "exchanges": 8, "warnings": []}],
        "summary": {"exchanges": 8, "destinations": 5, "findings": 8},
        "destinations": [
            dest("chat.example.cn", "Example AI Co.", "CN", service="ai_provider", party="first", cats=["prompt", "email"]),
            dest("api.vendor.com", "Vendor Inc.", "US", parent="Big Holding Corp", service="analytics", servers=["DE"], cats=["email", "credential"]),
            dest("tracker.unknown.net", None, None, party="unknown", cleartext=True, cats=["device_id"]),
            dest("crash.example.de", "Crash GmbH", "DE", service="crash_reporting", cats=["email"]),
            dest("cdn.example.sg", "Edge Pte", "SG", service="cdn", servers=["CN"], cats=["prompt"]),
        ],
        "findings": [
            finding("chat.example.cn", "prompt", 0),
            finding("chat.example.cn", "email", 1),
            finding("api.vendor.com", "email", 2),
            finding("api.vendor.com", "credential", 3),
            finding("tracker.unknown.net", "device_id", 4, scheme="http"),
            finding("crash.example.de", "email", 5),
            finding("cdn.example.sg", "prompt", 6),
            finding("tracker.unknown.net", "device_id", 7, scheme="https"),
        ],
    }
    d["findings"][7]["value_sha256"] = d["findings"][4]["value_sha256"]  # one value, two requests
    return d


def hits(doc: dict[str, Any], policy_yaml: str) -> list[int]:
    """Flow indices of the findings the policy's single rule denies."""
    (result,) = evaluate(parse_policy(policy_yaml, "p.yaml"), doc)
    return sorted(v.finding["flow"]["index"] for v in result.violations)


def rule(selectors: str, extra: str = "") -> str:
    return f"version: 1\nrules:\n  - id: r\n    deny: {selectors}\n{extra}"


@pytest.mark.parametrize(
    "selectors, expected",
    [
        ("{categories: [email]}", [1, 2, 5]),
        ("{categories: [prompt, device_id]}", [0, 4, 6, 7]),
        ("{categories: email}", [1, 2, 5]),
        # countries: the owner's country or any server's registry country
        ("{countries: [CN]}", [0, 1, 6]),
        ("{countries: [de]}", [2, 3, 5]),
        ("{countries: [EU]}", [2, 3, 5]),
        ("{countries: [EEA]}", [2, 3, 5]),
        # a US recipient is adequate only as a Data Privacy Framework participant (none is listed
        # for this document's owners: see test_us_adequacy_needs_a_listed_dpf_participant)
        ("{countries: [adequacy]}", []),
        ("{countries: [non-adequate]}", [0, 1, 2, 3, 6]),
        ("{countries: [unknown]}", [4, 7]),
        ("{party: third}", [2, 3, 5, 6]),
        ("{party: [first, unknown]}", [0, 1, 4, 7]),
        ("{cleartext: true}", [4]),
        ("{cleartext: false}", [0, 1, 2, 3, 5, 6, 7]),
        ('{hosts: ["*.example.*"]}', [0, 1, 5, 6]),
        ('{hosts: ["API.VENDOR.COM"]}', [2, 3]),
        ('{hosts: ["tracker.*.net", "crash.example.de"]}', [4, 5, 7]),
        ("{owners: [vendor inc.]}", [2, 3]),
        ("{owners: [Big Holding Corp]}", [2, 3]),
        ('{owners: ["*gmbh"]}', [5]),
        ("{services: [analytics, crash_reporting]}", [2, 3, 5]),
        ("{services: [unknown]}", [4, 7]),
        # every given selector must match
        ("{categories: [email], party: third}", [2, 5]),
        ("{categories: [email], countries: [EU], services: [analytics]}", [2]),
        ("{categories: [prompt], party: third, countries: [CN]}", [6]),
        # singular spellings are accepted too
        ("{category: email, service: analytics}", [2]),
        ("{country: DE, host: 'crash.*', owner: crash gmbh}", [5]),
    ],
)
def test_each_selector(doc: dict[str, Any], selectors: str, expected: list[int]) -> None:
    assert hits(doc, rule(selectors)) == expected


def test_allow_carves_out_exceptions(doc: dict[str, Any]) -> None:
    extra = "    allow:\n      - hosts: [api.vendor.com]\n      - {services: [crash_reporting], categories: [email]}\n"
    assert hits(doc, rule("{categories: [email, credential]}", extra)) == [1]
    # a single mapping is accepted as a list of one
    assert hits(doc, rule("{categories: [email]}", "    allow: {owners: [crash gmbh]}\n")) == [1, 2]


def test_allow_countries_needs_every_country_listed(doc: dict[str, Any]) -> None:
    # api.vendor.com is owned in the US with a server in Germany: not exempt by EU alone
    assert hits(doc, rule("{categories: [email]}", "    allow: [{countries: [EU]}]\n")) == [1, 2]
    assert hits(doc, rule("{categories: [email]}", "    allow: [{countries: [EU, US]}]\n")) == [1]
    # unknown countries are only exempt when `unknown` is listed
    assert hits(doc, rule("{categories: [device_id]}", "    allow: [{countries: [EU]}]\n")) == [4, 7]
    assert hits(doc, rule("{categories: [device_id]}", "    allow: [{countries: [unknown]}]\n")) == []


def test_severity_decides_the_exit_code(doc: dict[str, Any]) -> None:
    for severity, passed in (("error", False), ("warning", True), ("info", True)):
        pol = parse_policy(rule("{categories: [email]}", f"    severity: {severity}\n"))
        result = run_check(pol, doc)
        assert result.passed is passed and result.exit_code == (0 if passed else 1)
        assert len(result.rules[0].violations) == 3
        assert result.rules[0].status == ("failed" if severity == "error" else severity)
    assert run_check(parse_policy(rule("{countries: [KP]}")), doc).exit_code == 0


def test_issue_example_policy_on_the_fixture() -> None:
    pol = parse_policy(ISSUE_POLICY, "policy.yaml")
    assert [r.id for r in pol.rules] == ["no-personal-data-to-cn", "prompts-first-party-only", "no-cleartext-personal-data"]
    doc = audit_paths([FIXTURES / "ai-chat-session.flows"], AuditOptions())
    cn, prompts, cleartext = run_check(pol, doc).rules
    assert cn.failed and {v.finding["host"] for v in cn.violations} >= {"chat.deepseek.com", "mcs.volceapplog.com"}
    assert all("CN" in v.to_json()["countries"] for v in cn.violations)
    # the session's page is chat.deepseek.com (its Origin and Referer); Copilot's page is another site
    assert {(v.finding["host"], v.finding["category"]) for v in prompts.violations} == {
        ("mcs.volceapplog.com", "prompt"), ("copilot.microsoft.com", "prompt")}
    assert all(v.finding["request"]["url"].startswith("http://") for v in cleartext.violations)


def test_violation_text_names_everything(doc: dict[str, Any]) -> None:
    result = run_check(parse_policy(rule("{categories: [device_id]}")), doc)
    text = render_text(result)
    assert "FAIL r [error] deny categories: device_id: 2 violations" in text
    line = next(ln for ln in text.splitlines() if "tracker.unknown.net" in ln)
    for part in ("device_id", "request.body field", "= ma***", "cap.flows#4 POST http://tracker.unknown.net/api", "(also #7)"):
        assert part in line, part
    assert text.rstrip().endswith("result: FAILED: 1 rule violated (2 findings)")
    md = render_markdown(result)
    assert md.startswith("## auditor check: ❌ failed") and "| `r` |" in md and "`cap.flows#4 POST http://tracker.unknown.net/api`" in md


def test_markdown_escapes_captured_text(doc: dict[str, Any]) -> None:
    doc["findings"][0]["location"]["path"] = "a|b`c"
    doc["findings"][0]["value"] = "<script>|x"
    md = render_markdown(run_check(parse_policy(rule("{categories: [prompt]}")), doc))
    row = next(ln for ln in md.splitlines() if "chat.example.cn" in ln)
    assert row.count("|") == 6  # no column added by captured text
    assert "`<script>¦x`" in row and "`request.body a¦b'c`" in row  # inline code: shown, never rendered


def test_json_result_shape(doc: dict[str, Any]) -> None:
    out = run_check(parse_policy(rule("{party: unknown}")), doc).to_json()
    assert out["passed"] is False and out["exit_code"] == 1 and out["baseline"] is None
    assert out["summary"] == {"rules": 1, "failed_rules": 1, "violations": 2, "baseline_violations": 0}
    v = out["rules"][0]["violations"][0]
    assert v["request"] == {"capture": "cap.flows", "capture_index": 0, "index": 4, "id": "id4", "method": "POST", "url": "http://tracker.unknown.net/api"}
    assert v["cleartext"] is True and v["countries"] == [] and v["location"] == {"part": "request.body", "path": "field"}


# ------------------------------------------------------------------------------------------
# Bad policy files: one line naming the file and the line


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("version: 1\nrules:\n  - id: a\n    deny: {countrys: [CN]}\n", 4, "unknown key 'countrys' (did you mean 'countries'?)"),
        ("version: 1\nrules:\n  - id: a\n    deny: {party: third}\n    alow: []\n", 5, "unknown key 'alow'"),
        ("version: 1\nrule:\n  - id: a\n", 2, "unknown key 'rule' (did you mean 'rules'?)"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      cleartext: yes\n", 5, "deny.cleartext: expected true or false, got the string 'yes'"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      cleartext: 'true'\n", 5, "expected true or false"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      party: third\n      hosts: {a: 1}\n", 6, "deny.hosts: expected a string, got a mapping"),
        ("version: 1\nrules:\n  - id: a\n    deny: [countries]\n", 4, "deny: expected a mapping, got a list"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      categories: [emial]\n", 5, "unknown value 'emial' (did you mean 'email'?)"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      categories: [email, 3]\n", 5, "categories[1]: expected a string, got the number 3"),
        ("version: 1\nrules:\n  - id: a\n    deny: {countries: [XX]}\n", 4, "unknown country 'XX'"),
        ("version: 1\nrules:\n  - id: a\n    deny: {party: [fourth]}\n", 4, "unknown value 'fourth'"),
        ("version: 1\nrules:\n  - id: a\n    deny: {services: [analitics]}\n", 4, "did you mean 'analytics'?"),
        ("version: 1\nrules:\n  - id: a\n    deny: {}\n", 4, "needs at least one selector"),
        ("version: 1\nrules:\n  - id: a\n    deny: {hosts: []}\n", 4, "empty list"),
        ("version: 1\nrules:\n  - id: a\n    severity: fatal\n    deny: {party: third}\n", 4, "unknown severity 'fatal'"),
        ("version: 1\nrules:\n  - id: a\n    severity: [error]\n    deny: {party: third}\n", 4, "severity: expected a string, got a list"),
        ("version: 1\nrules:\n  - id: a\n    deny: {party: third}\n    allow: [cn]\n", 5, "allow[0]: expected a mapping, got the string 'cn'"),
        ("version: 1\nrules:\n  - id: a\n    deny: {party: third}\n  - id: a\n    deny: {party: first}\n", 5, "rule id 'a' already used on line 3"),
        ("version: 1\nrules:\n  - deny: {party: third}\n", 3, "missing 'id'"),
        ("version: 1\nrules:\n  - id: a\n", 3, "missing 'deny'"),
        ("version: 1\nrules:\n  - id: 12\n    deny: {party: third}\n", 3, "id: expected a string, got the number 12"),
        ("version: 1\nrules:\n  - id: a b\n    deny: {party: third}\n", 3, "is not a valid rule id"),
        ("version: 1\nrules:\n  - id: a\n    deny: {party: third}\n    deny: {party: first}\n", 5, "key 'deny' given twice"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      service: cdn\n      services: [cdn]\n", 6, "'services' given twice (as 'service' and 'services')"),
        ("version: 2\nrules: []\n", 1, "version: expected 1, got the number 2"),
        ("version: '1'\nrules: []\n", 1, "version: expected 1, got the string '1'"),
        ("rules: []\n", 1, "missing 'version'"),
        ("version: 1\n", 1, "missing 'rules'"),
        ("version: 1\nrules: {a: 1}\n", 2, "rules: expected a list of rules, got a mapping"),
        ("- a\n- b\n", 1, "policy: expected a mapping, got a list"),
        ("", 1, "empty policy file"),
        ("version: 1\nrules:\n  - id: a\n    deny: {countries: [CN]\n", 5, "invalid YAML"),
        ("version: 1\nrules:\n\t- id: a\n", 3, "invalid YAML"),
        ("version: 1\nrules: []\nbaseline: {severity: error, ignore: []}\n", 3, "unknown key 'ignore'"),
        ("version: 1\nrules: []\nbaseline: {allow: [{hosts: 5: 6}]}\n", 3, "invalid YAML"),
    ],
)
def test_bad_policy_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:{line}: "), msg
    assert message in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"version: 1\nrules: []\n# \xff\xfe\n"), "not UTF-8"),
    ],
)
def test_unreadable_policy(tmp_path: Path, setup: Any, message: str) -> None:
    path = tmp_path / "policy.yaml"
    setup(path)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_valid_policy_forms() -> None:
    pol = parse_policy(
        "\ufeffversion: 1\n"
        "rules:\n"
        "  - id: norway\n"
        "    description: YAML 1.2, so NO is Norway, not false\n"
        "    severity: Warning\n"
        "    deny: {countries: [NO, eu, Non-Adequate, cn, CN], party: THIRD}\n"
        "    allow: {hosts: ['*.Example.com']}\n"
        "baseline:\n"
        "  severity: info\n"
        "  allow: [{services: [cdn]}]\n",
        "p.yaml",
    )
    (r,) = pol.rules
    assert r.deny.countries == ("NO", "EU", "non-adequate", "CN")
    assert r.deny.party == frozenset({"third"}) and r.severity == "warning" and r.allow[0].hosts == ("*.example.com",)
    assert r.deny.describe() == "countries: NO, EU, non-adequate, CN; party: third"
    assert pol.baseline.severity == "info" and pol.baseline.allow[0].services == frozenset({"cdn"})
    assert parse_policy("version: 1\nrules: []\n").rules == ()


def test_example_policy_file_is_valid() -> None:
    pol = load_policy(ROOT / "examples" / "policy.yaml")
    ids = [r.id for r in pol.rules]
    assert ids[:3] == ["no-personal-data-to-cn", "prompts-first-party-only", "no-cleartext-personal-data"]
    result = run_check(pol, {"destinations": [], "findings": []})
    # An audit with nothing in it satisfies every rule of the example, and each rule is evaluated.
    assert [r.rule.id for r in result.rules] == ids
    assert result.passed and result.exit_code == 0


@pytest.mark.parametrize("listed", ["Vendor Inc.", "Big Holding Corp"])
def test_us_adequacy_needs_a_listed_dpf_participant(monkeypatch: pytest.MonkeyPatch, listed: str, doc: dict[str, Any]) -> None:
    """The US counts as adequate for a recipient whose owner (or its parent) is in
    auditor/data/dpf.json, and not otherwise."""
    from auditor.destinations import dpf

    assert dpf.needs_participation("US") and not dpf.needs_participation("JP")
    d = doc
    assert hits(d, rule("{countries: [adequacy]}")) == []
    monkeypatch.setattr(dpf, "participants", lambda: {listed.lower(): {"name": listed, "source": "test", "as_of": "2026-12-03"}})
    assert hits(d, rule("{countries: [adequacy]}")) == [2, 3]
    assert hits(d, rule("{countries: [non-adequate]}")) == [0, 1, 6]


@pytest.mark.parametrize("named", ["Vendor Inc.", "big holding corp"])
def test_policy_dpf_participants_make_a_us_owner_adequate(named: str, doc: dict[str, Any]) -> None:
    """``dpf_participants:`` in the policy names owners its author checked on the DPF List: a US
    recipient owned by one (or by one's subsidiary) counts as adequate, for findings, page
    detections and baseline changes alike; another owner does not."""
    from auditor.gate import parse_policy
    from auditor.gate.baseline import baseline_violations

    extra = f"dpf_participants: [{named!r}]\n"
    assert hits(doc, rule("{countries: [adequacy]}", extra)) == [2, 3]
    assert hits(doc, rule("{countries: [non-adequate]}", extra)) == [0, 1, 6]
    assert hits(doc, rule("{countries: [adequacy]}", "dpf_participants: [Someone Else LLC]\n")) == []
    pol = parse_policy(rule("{countries: [CN]}", extra), "p.yaml")
    assert pol.dpf_participants == (named,)
    old = {**doc, "destinations": [d for d in doc["destinations"] if d["host"] != "api.vendor.com"]}
    allow = parse_policy(rule("{countries: [CN]}", "baseline:\n  allow:\n    - countries: [EU, adequacy]\n"), "p.yaml").baseline.allow
    kinds = [v.kind for v in baseline_violations(old, doc, allow)]
    assert "new_destination" in kinds
    assert [v.kind for v in baseline_violations(old, doc, allow, (named,)) if v.host == "api.vendor.com"] == []


def test_policy_dpf_participants_must_be_names() -> None:
    from auditor.gate import PolicyError, parse_policy

    with pytest.raises(PolicyError, match="dpf_participants"):
        parse_policy(rule("{countries: [CN]}", "dpf_participants: {a: 1}\n"), "p.yaml")


def test_services_auth_is_the_old_name_of_identity() -> None:
    from auditor.gate import PolicyError, parse_policy

    (r,) = parse_policy(rule("{services: [auth, cdn]}"), "p.yaml").rules
    assert r.deny.services == frozenset({"identity", "cdn"})
    with pytest.raises(PolicyError) as e:
        parse_policy(rule("{services: [identiy]}"), "p.yaml")
    assert "did you mean 'identity'" in str(e.value) and "auth," not in str(e.value)


def test_dpf_data_file_entries_have_a_source_and_a_date() -> None:
    import json

    from auditor.destinations import dpf

    data = json.loads(dpf.DATA_FILE.read_text())
    assert data["countries"] == ["US"] and data["source"].startswith("https://www.dataprivacyframework.gov/")
    for p in data["participants"]:
        assert p["name"] and p["source"].startswith("https://www.dataprivacyframework.gov/") and p["as_of"]
