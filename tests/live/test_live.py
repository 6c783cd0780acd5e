"""Live capture with real clients, through the real proxy, over real TLS, all on loopback.

The fake backend (fixtures/record.py) answers for the real hostnames; ``auditor run --map``
sends each hostname's connections to it while the capture keeps the real names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, need
from support.backends import record_backend

from auditor.audit.pipeline import audit_paths

pytestmark = pytest.mark.e2e

CLIENTS = str(ROOT / "tests" / "live_clients.py")


backend = record_backend()


@pytest.fixture(scope="module")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mitmproxy-conf")


def run(tmp: Path, confdir: Path, backend: object | None, *cmd: str, extra: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess[str], dict]:
    maps = [a for m in (backend.maps() if backend else []) for a in ("--map", m)]
    p = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-o", str(tmp), "--confdir", str(confdir), "--upstream-insecure", "--block-unmapped", *maps, *extra, "--", *cmd],
        capture_output=True, text=True, timeout=120,
    )
    doc = json.loads((tmp / "report.json").read_text()) if (tmp / "report.json").exists() else {}
    return p, doc


def dests(doc: dict) -> dict[str, dict]:
    return {d["host"]: d for d in doc["destinations"]}


def same_as_offline(doc: dict, capture: Path) -> None:
    """The live findings and destinations equal those of auditing the saved capture afterwards,
    opaque ones (TLS refused by the client) included: the capture keeps them."""
    offline = audit_paths([capture])

    def key(d: dict) -> list:
        return [(f["flow"]["index"], f["host"], f["category"], f["location"], f["value_sha256"]) for f in d["findings"]]

    assert key(doc) == key(offline)

    def dest(d: dict) -> list:
        return [(x["host"], x["data_categories"], x["opaque"], x["tls_failures"], x["exchanges"]) for x in d["destinations"]]

    assert dest(doc) == dest(offline)


def test_curl_login_through_auditor_run(tmp_path: Path, confdir: Path, backend: object) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    body = json.dumps({"email": "jane.doe@example.org", "password": "Synthetic-Passw0rd!", "device_id": "x"})
    p, doc = run(tmp_path, confdir, backend, "curl", "-sS", "-f", "-H", "content-type: application/json",
                 "--data", body, "https://chat.deepseek.com/api/v0/users/login")
    assert p.returncode == 0, p.stderr
    assert '"token"' in p.stdout or "token" in p.stdout
    chat = dests(doc)["chat.deepseek.com"]
    assert chat["data_categories"] == ["credential", "email"]
    assert chat["server_ips"] == ["127.0.0.1"] and chat["owner"]["country"] == "CN"
    assert (tmp_path / "capture.flows").stat().st_mode & 0o777 == 0o600
    same_as_offline(doc, tmp_path / "capture.flows")


def test_openai_sdk_streams_through_the_proxy(tmp_path: Path, confdir: Path, backend: object) -> None:
    p, doc = run(tmp_path, confdir, backend, sys.executable, CLIENTS, "openai")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["chunks"] >= 4 and out["text"]
    assert out["spread"] > 0.25, "the SSE answer was buffered by the proxy instead of streamed"
    api = dests(doc)["api.deepseek.com"]
    assert {"prompt", "email", "credential"} <= set(api["data_categories"])
    prompts = [f for f in doc["findings"] if f["category"] == "prompt"]
    assert [f["location"]["path"] for f in prompts] == ["messages[1].content"]
    # the streamed body was still recorded
    offline = audit_paths([tmp_path / "capture.flows"])
    assert offline["summary"]["exchanges"] == 1
    same_as_offline(doc, tmp_path / "capture.flows")


def test_websocket_chat_message_by_message(tmp_path: Path, confdir: Path, backend: object) -> None:
    p, doc = run(tmp_path, confdir, backend, sys.executable, CLIENTS, "websocket")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1])["received"] >= 2
    prompts = [(f["host"], f["location"]["part"], f["location"]["path"]) for f in doc["findings"] if f["category"] == "prompt"]
    assert prompts == [("copilot.microsoft.com", "websocket.client", "[1].content[0].text")]
    same_as_offline(doc, tmp_path / "capture.flows")


def test_chromium_web_app_and_its_tracker(tmp_path: Path, confdir: Path, backend: object) -> None:
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed (apt-get install chromium)")
    p, doc = run(tmp_path, confdir, backend, sys.executable, CLIENTS, "chromium")
    assert p.returncode == 0, p.stderr
    d = dests(doc)
    assert "prompt" in d["chat.deepseek.com"]["data_categories"]
    assert d["chat.deepseek.com"]["party"] == "first"
    tracker = d["mcs.volceapplog.com"]
    assert "prompt" in tracker["data_categories"] and tracker["party"] == "third"
    paths = [f["location"]["path"] for f in doc["findings"] if f["host"] == "mcs.volceapplog.com" and f["category"] == "prompt"]
    assert paths == ["event_v3[0].params.prompt_text"]
    same_as_offline(doc, tmp_path / "capture.flows")


@pytest.mark.parametrize("order", ["analytics-first", "chat-first"])
def test_prompt_copied_into_analytics_is_traced_whichever_came_first(tmp_path: Path, confdir: Path, backend: object, order: str) -> None:
    p, doc = run(tmp_path, confdir, backend, sys.executable, CLIENTS, "copied-prompt", order)
    assert p.returncode == 0, p.stderr
    hosts = [f["host"] for f in doc["findings"] if f["category"] == "prompt"]
    chat_index = 1 if order == "analytics-first" else 0
    copies = [(f["flow"]["index"], f["location"]["path"], f["detector"], f["derived"]) for f in doc["findings"]
              if f["host"] == "events.statsigapi.net" and f["category"] == "prompt"]
    assert copies == [(1 - chat_index, "events[0].metadata.label", "trace.plain", {
        "from": {"capture": 0, "index": chat_index, "part": "request.body", "path": "messages[0].content", "category": "prompt"},
        "encoding": "plain"})]
    assert sorted(hosts) == ["api.deepseek.com", "events.statsigapi.net"]
    assert "prompt" in dests(doc)["events.statsigapi.net"]["data_categories"]
    same_as_offline(doc, tmp_path / "capture.flows")


def test_exit_status_is_the_commands(tmp_path: Path, confdir: Path) -> None:
    p, doc = run(tmp_path, confdir, None, "sh", "-c", "exit 3")
    assert p.returncode == 3
    assert doc["summary"]["exchanges"] == 0


def test_unknown_command_is_one_line(tmp_path: Path, confdir: Path) -> None:
    p, _ = run(tmp_path, confdir, None, "no-such-command-xyz")
    assert p.returncode == 2 and p.stderr.strip() == "auditor: error: command not found: no-such-command-xyz"


def test_replay_answers_without_a_backend(tmp_path: Path, confdir: Path, backend: object) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    first = tmp_path / "first"
    body = json.dumps({"email": "jane.doe@example.org", "password": "Synthetic-Passw0rd!"})
    cmd = ("curl", "-sS", "-f", "-H", "content-type: application/json", "--data", body, "https://chat.deepseek.com/api/v0/users/login")
    p1, _ = run(first, confdir, backend, *cmd)
    assert p1.returncode == 0, p1.stderr
    second = tmp_path / "second"
    p2, doc = run(second, confdir, None, *cmd, extra=("--replay", str(first / "capture.flows")))
    assert p2.returncode == 0, p2.stderr
    assert p2.stdout == p1.stdout  # answered from the saved capture
    assert dests(doc)["chat.deepseek.com"]["data_categories"] == ["credential", "email"]


def test_pinned_client_is_an_opaque_destination(tmp_path: Path, confdir: Path, backend: object) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    # A client that trusts only its own CA (as a pinning app does) refuses the proxy's certificate.
    p, doc = run(tmp_path, confdir, backend, "curl", "-sS", "--cacert", str(ROOT / "tests" / "data" / "other-ca.pem"),
                 "https://events.statsigapi.net/v1/rgstr")
    assert p.returncode != 0
    statsig = dests(doc)["events.statsigapi.net"]
    assert statsig["opaque"] is True and statsig["exchanges"] == 0
    assert "certificate" in statsig["opaque_reason"] or "trust" in statsig["opaque_reason"]
    # the capture keeps the connection: the offline audit gives the same destinations, and
    # mitmproxy's own reader still reads the file
    same_as_offline(doc, tmp_path / "capture.flows")
    offline = dests(audit_paths([tmp_path / "capture.flows"]))["events.statsigapi.net"]
    assert offline["opaque_reason"] == statsig["opaque_reason"]
    from mitmproxy.io import FlowReader

    with open(tmp_path / "capture.flows", "rb") as fh:
        flows = list(FlowReader(fh).stream())
    assert [(f.type, f.client_conn.sni, f.error is not None) for f in flows] == [("tcp", "events.statsigapi.net", True)]


def test_python_default_trust_client_matches_offline(tmp_path: Path, confdir: Path, backend: object) -> None:
    """A Python client with the system's default trust store (not the proxy's CA), next to one
    that trusts the proxy: the live report and the saved capture agree on every destination."""
    script = (
        "import ssl, urllib.request, urllib.error, os\n"
        "ctx = ssl.create_default_context(cafile='/etc/ssl/certs/ca-certificates.crt' if os.path.exists('/etc/ssl/certs/ca-certificates.crt') else None)\n"
        "try:\n"
        "    urllib.request.urlopen(urllib.request.Request('https://ab.chatgpt.com/v1/initialize', data=b'{}'), context=ctx, timeout=10)\n"
        "except Exception as e:\n"
        "    print('refused:', type(e).__name__)\n"
        "ok = ssl.create_default_context(cafile=os.environ['SSL_CERT_FILE'])\n"
        "try:\n"
        "    urllib.request.urlopen(urllib.request.Request('https://chat.deepseek.com/api/v0/users/login', data=b'{\"email\": \"jane.doe@example.org\"}', headers={'content-type': 'application/json'}), context=ok, timeout=10).read()\n"
        "except urllib.error.HTTPError as e:\n"
        "    print('answered', e.code)\n"
    )
    p, doc = run(tmp_path, confdir, backend, sys.executable, "-c", script)
    assert p.returncode == 0, p.stderr
    assert "refused:" in p.stdout
    assert dests(doc)["ab.chatgpt.com"]["opaque"] is True
    assert dests(doc)["chat.deepseek.com"]["opaque"] is False
    same_as_offline(doc, tmp_path / "capture.flows")


def test_live_demo_finds_what_the_bundled_capture_holds(tmp_path: Path) -> None:
    """make demo: the scripted session through auditor run gives the same destinations and
    data categories as auditing the committed recording of the same session."""
    p = subprocess.run([sys.executable, str(ROOT / "fixtures" / "demo.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    live = json.loads((tmp_path / "report.json").read_text())
    bundled = audit_paths([ROOT / "fixtures" / "ai-chat-session.flows"])

    def view(d: dict) -> list:
        return sorted((x["host"], x["party"], tuple(x["data_categories"])) for x in d["destinations"])

    assert view(live) == view(bundled)
    assert live["summary"]["exchanges"] == bundled["summary"]["exchanges"]
    assert (tmp_path / "report.md").exists() and (tmp_path / "report.html").exists()


def test_policy_verdict_when_the_command_passed(tmp_path: Path, confdir: Path, backend: object) -> None:
    need(shutil.which("curl") is not None, "curl is not installed")
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - id: no-personal-data-to-cn\n    deny: {countries: [CN]}\n")
    body = json.dumps({"email": "jane.doe@example.org", "password": "Synthetic-Passw0rd!"})
    cmd = ("curl", "-sS", "-f", "-H", "content-type: application/json", "--data", body, "https://chat.deepseek.com/api/v0/users/login")
    p, _ = run(tmp_path / "a", confdir, backend, *cmd, extra=("--policy", str(policy)))
    assert p.returncode == 1, p.stderr
    assert "no-personal-data-to-cn" in p.stderr and "chat.deepseek.com" in p.stderr
    allowed = tmp_path / "allow.yaml"
    allowed.write_text("version: 1\nrules:\n  - id: no-personal-data-to-ru\n    deny: {countries: [RU]}\n")
    p, _ = run(tmp_path / "b", confdir, backend, *cmd, extra=("--policy", str(allowed)))
    assert p.returncode == 0, p.stderr
    failing = run(tmp_path / "c", confdir, backend, "sh", "-c", "exit 4", extra=("--policy", str(policy)))[0]
    assert failing.returncode == 4  # the command's own failure comes first
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: x\n    deny: {countrys: [CN]}\n")
    p, _ = run(tmp_path / "d", confdir, backend, *cmd, extra=("--policy", str(bad)))
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "bad.yaml:4" in p.stderr


def test_upstream_tls_failure_hints_and_the_command_line_stays_private(tmp_path: Path, confdir: Path, backend: object) -> None:
    """Without --upstream-insecure the test backend's self-signed certificate is refused: auditor
    says how to accept it. The command's arguments (here an email) are not echoed."""
    need(shutil.which("curl") is not None, "curl is not installed")
    maps = [a for m in backend.maps() for a in ("--map", m)]
    p = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-o", str(tmp_path), "--confdir", str(confdir), "--block-unmapped", *maps,
         "--", "curl", "-sS", "--data", "email=jane.doe@example.org", "https://chat.deepseek.com/api/v0/users/login"],
        capture_output=True, text=True, timeout=120,
    )
    assert "--upstream-insecure" in p.stderr and "chat.deepseek.com" in p.stderr
    assert "auditor: running curl (4 argument(s)) through http://127.0.0.1:" in p.stderr
    assert "jane.doe@example.org" not in p.stderr.replace("curl:", "")


def test_output_under_a_file_is_one_clear_line(tmp_path: Path, confdir: Path) -> None:
    (tmp_path / "f").write_text("x")
    p = subprocess.run([sys.executable, "-m", "auditor", "run", "-o", str(tmp_path / "f" / "out"), "--confdir", str(confdir),
                        "--", "true"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr == f"auditor: error: cannot write under {tmp_path / 'f'}: it is a file, not a folder (-o {tmp_path / 'f' / 'out'})\n"
