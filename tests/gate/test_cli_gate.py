"""The CI gate commands through the real command line: ``python -m auditor check|diff|redact``."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES
from support.junit import check_junit_shape
from support.policies import ISSUE_POLICY
from support.redaction import leftovers, originals

pytestmark = pytest.mark.e2e

FLOWS = FIXTURES / "ai-chat-session.flows"
HAR = FIXTURES / "ai-chat-session.har"
RAW_VALUES = ["jane.doe@example.org", "+1 202 555 0143", "Synthetic-Passw0rd!", "sk-5f1e0c9a3b7d4e2f8a6c1b0d9e7f3a2c"]
PASSING = "version: 1\nrules:\n  - id: nothing-to-north-korea\n    deny: {countries: [KP]}\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd, timeout=180)


def one_line_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert lines[0].startswith("auditor: error: ")
    return lines[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_fails_on_violations_and_names_them(tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.yaml", ISSUE_POLICY)
    p = run("check", str(FLOWS), "--policy", str(policy))
    assert p.returncode == 1, p.stderr
    out = p.stdout
    assert out.startswith(f"auditor check: policy {policy}: 14 requests")
    assert re.search(r"^FAIL no-personal-data-to-cn \[error\] deny countries: CN: \d+ violations$", out, re.M)
    assert re.search(r"^FAIL prompts-first-party-only \[error\] deny categories: prompt; party: third: 2 violations$", out, re.M)
    # the Copilot page is another top-level site than the session's (chat.deepseek.com): a third party
    line = next(ln for ln in out.splitlines() if "prompt at request.body event_v3[0].params.prompt_text" in ln)
    assert line.startswith("  - mcs.volceapplog.com: prompt at request.body event_v3[0].params.prompt_text = Ple*** (213 chars) in ")
    assert re.search(r"in ai-chat-session\.flows#8 POST https://mcs\.volceapplog\.com/list\?aid=\*\*\*", line)
    assert out.rstrip().splitlines()[-1].startswith("result: FAILED: ")
    for raw in RAW_VALUES:
        assert raw not in out and raw not in p.stderr


def test_check_passes_and_writes_ci_outputs(tmp_path: Path) -> None:
    policy = write(tmp_path, "ok.yaml", PASSING)
    out = tmp_path / "out"
    p = run(
        "check", str(FLOWS), str(HAR), "--policy", str(policy),
        "--junit", str(out / "junit.xml"), "--markdown", str(out / "summary.md"), "--json", str(out / "audit.json"),
    )
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.splitlines()[-1] == "result: passed" and "PASS nothing-to-north-korea" in p.stdout
    for name in ("junit.xml", "summary.md", "audit.json"):
        f = out / name
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, name
        text = f.read_text()
        assert not any(raw in text for raw in RAW_VALUES), name
    root = check_junit_shape((out / "junit.xml").read_text())
    assert root.get("failures") == "0" and [c.get("name") for c in root.iter("testcase")] == ["nothing-to-north-korea"]
    assert (out / "summary.md").read_text().startswith("## auditor check: ✅ passed")
    doc = json.loads((out / "audit.json").read_text())
    schema = json.loads(resources.files("auditor").joinpath("schema/audit-v1.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["check"]["passed"] is True and doc["check"]["exit_code"] == 0
    assert [c["path"] for c in doc["captures"]] == [str(FLOWS), str(HAR)]


def test_check_outputs_on_failure(tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.yaml", ISSUE_POLICY)
    p = run("check", str(FLOWS), "--policy", str(policy), "--junit", str(tmp_path / "j.xml"), "--json", str(tmp_path / "c.json"), "-q")
    assert p.returncode == 1 and p.stdout.startswith("result: FAILED") and len(p.stdout.splitlines()) == 1
    root = check_junit_shape((tmp_path / "j.xml").read_text())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"no-personal-data-to-cn", "prompts-first-party-only", "no-cleartext-personal-data"}
    assert cases["no-personal-data-to-cn"].find("failure") is not None
    check = json.loads((tmp_path / "c.json").read_text())["check"]
    assert check["passed"] is False and check["summary"]["failed_rules"] >= 2
    v = next(r for r in check["rules"] if r["id"] == "prompts-first-party-only")["violations"][0]
    assert v["request"]["capture"] == str(FLOWS) and v["request"]["index"] == 8 and v["host"] == "mcs.volceapplog.com"


def test_baseline_additions(tmp_path: Path) -> None:
    policy = write(tmp_path, "ok.yaml", PASSING)
    base = tmp_path / "base.json"
    assert run("check", str(FLOWS), "--policy", str(policy), "--json", str(base)).returncode == 0
    same = run("check", str(FLOWS), "--policy", str(policy), "--baseline", str(base))
    assert same.returncode == 0, same.stdout
    assert f"PASS baseline {base}: nothing new" in same.stdout
    # an older baseline: before the Sentry SDK was added and before the prompt carried a phone number
    doc = json.loads(base.read_text())
    doc["destinations"] = [d for d in doc["destinations"] if "sentry" not in d["host"]]
    chat = next(d for d in doc["destinations"] if d["host"] == "chat.deepseek.com")
    chat["data_categories"].remove("phone")
    old = write(tmp_path, "old.json", json.dumps(doc))
    p = run("check", str(FLOWS), "--policy", str(policy), "--baseline", str(old), "--junit", str(tmp_path / "j.xml"))
    assert p.returncode == 1, p.stdout
    assert f"FAIL baseline {old}: 2 changes not in the baseline" in p.stdout
    assert "  - new destination o4504000000000000.ingest.sentry.io (Functional Software, Inc. (Sentry); US; crash_reporting; third party): " in p.stdout
    assert "  - new data category for chat.deepseek.com: phone" in p.stdout
    assert p.stdout.splitlines()[-1] == "result: FAILED: 2 new since the baseline"
    case = next(c for c in ET.parse(tmp_path / "j.xml").iter("testcase") if c.get("name") == "baseline")
    assert case.find("failure") is not None
    # a policy may let the baseline warn instead of fail
    lenient = write(tmp_path, "lenient.yaml", PASSING + "baseline: {severity: warning}\n")
    assert run("check", str(FLOWS), "--policy", str(lenient), "--baseline", str(old)).returncode == 0


@pytest.mark.parametrize(
    "policy, message",
    [
        ("version: 1\nrules:\n  - id: a\n    deny: {countrys: [CN]}\n", ":4: rule 'a': deny: unknown key 'countrys' (did you mean 'countries'?)"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      cleartext: maybe\n", ":5: rule 'a': deny.cleartext: expected true or false, got the string 'maybe'"),
        ("version: 1\nrules:\n  - id: a\n    deny:\n      party: third\n      hosts: 12\n", ":6: rule 'a': deny.hosts: expected a string, got the number 12"),
        ("version: 1\nrules: [\n", ":3: invalid YAML"),
    ],
)
def test_bad_policy_exit_2(tmp_path: Path, policy: str, message: str) -> None:
    path = write(tmp_path, "bad.yaml", policy)
    line = one_line_error(run("check", str(FLOWS), "--policy", str(path), "--junit", str(tmp_path / "j.xml")))
    assert line == f"auditor: error: {path}{message}" or line.startswith(f"auditor: error: {path}{message}")
    assert not (tmp_path / "j.xml").exists()


def test_bad_input_exit_2(tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.yaml", PASSING)
    assert "no such file" in one_line_error(run("check", str(tmp_path / "missing.flows"), "--policy", str(ok)))
    assert "no such file" in one_line_error(run("check", str(FLOWS), "--policy", str(tmp_path / "nope.yaml")))
    bad = write(tmp_path, "bad.json", '{"hello": 1}')
    assert "not an auditor JSON report" in one_line_error(run("check", str(FLOWS), "--policy", str(ok), "--baseline", str(bad)))
    junk = write(tmp_path, "junk.bin", "GET / HTTP/1.1\r\n")
    assert "unrecognized format" in one_line_error(run("check", str(junk), "--policy", str(ok)))
    blocker = write(tmp_path, "file", "x")
    assert "cannot write" in one_line_error(run("check", str(FLOWS), "--policy", str(ok), "--junit", str(blocker / "j.xml")))


def test_diff_command(tmp_path: Path) -> None:
    new = tmp_path / "new.json"
    assert run("report", str(FLOWS), "-o", str(new), "-f", "json", "-q").returncode == 0
    doc = json.loads(new.read_text())
    doc["destinations"] = [d for d in doc["destinations"] if d["host"] != "alog.umeng.com"]
    old = write(tmp_path, "old.json", json.dumps(doc))
    p = run("diff", str(old), str(new))
    assert p.returncode == 0 and p.stdout.splitlines()[0] == f"auditor diff {old} -> {new}"
    assert "destinations added (1):\n  + alog.umeng.com (Umeng (Youmeng Tongxin); CN; analytics; third party; cleartext): " in p.stdout
    md = run("diff", str(old), str(new), "--markdown")
    assert md.returncode == 0 and "| ➕ added | `alog.umeng.com` |" in md.stdout  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    js = json.loads(run("diff", str(old), str(new), "--json").stdout)
    assert js["destinations_added"] == ["alog.umeng.com"]
    assert run("diff", str(old), str(new), "--exit-code").returncode == 1
    same = run("diff", str(new), str(new), "--exit-code")
    assert same.returncode == 0 and "no differences" in same.stdout
    assert "no such file" in one_line_error(run("diff", str(old), str(tmp_path / "x.json")))
    assert "cannot be used together" in one_line_error(run("diff", str(old), str(new), "--json", "--markdown"))


@pytest.mark.parametrize("capture", [FLOWS, HAR])
def test_redact_command(tmp_path: Path, capture: Path) -> None:
    out = tmp_path / ("redacted" + capture.suffix)
    p = run("redact", str(capture), "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert re.fullmatch(rf"auditor: 14 requests, \d+ values replaced \(.+\), \d+ occurrences -> {re.escape(str(out))}\n", p.stderr), p.stderr
    assert leftovers(out, originals(capture)) == []
    # the redacted copy gives the same verdict, rule by rule
    policy = write(tmp_path, "policy.yaml", ISSUE_POLICY)
    verdicts = []
    for cap in (capture, out):
        r = run("check", str(cap), "--policy", str(policy), "--json", str(tmp_path / "c.json"))
        check = json.loads((tmp_path / "c.json").read_text())["check"]
        verdicts.append((r.returncode, [(x["id"], x["status"], len(x["violations"])) for x in check["rules"]]))
    assert verdicts[0] == verdicts[1]


def test_redact_bad_input(tmp_path: Path) -> None:
    pcap = tmp_path / "c.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 40)
    assert "pcap captures cannot be redacted" in one_line_error(run("redact", str(pcap), "-o", str(tmp_path / "o")))
    assert "no such file" in one_line_error(run("redact", str(tmp_path / "none.har"), "-o", str(tmp_path / "o")))
    assert "Missing option" in run("redact", str(FLOWS)).stderr


def test_help_lists_the_gate_commands() -> None:
    p = run("--help")
    assert p.returncode == 0 and all(c in p.stdout for c in ("check", "diff", "redact"))
    h = run("check", "--help")
    assert h.returncode == 0 and all(o in h.stdout for o in ("--policy", "--baseline", "--junit", "--markdown", "--json"))
