"""The addon as mitmproxy users load it: ``mitmdump -s addons/privacy_audit.py``, and its hooks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, need
from mitmproxy.test import taddons, tflow
from support.backends import record_backend
from support.ports import free_port

from auditor.live import LiveAuditor, parse_map

ADDON = ROOT / "addons" / "privacy_audit.py"


backend = record_backend()


LOGIN = json.dumps({"email": "jane.doe@example.org", "password": "Synthetic-Passw0rd!"})


@contextmanager
def _addon_in(
    tool: str, tmp_path: Path, backend: object, *extra: str, quiet: bool = True, audit_dir: bool = True,
    output: list[str] | None = None,
) -> Iterator[tuple[int, Path]]:
    """``TOOL -s addons/privacy_audit.py`` on a free loopback port, mapped to the test backend;
    yields (port, CA file); on the way out, Ctrl-C as a terminal sends it (to the whole process
    group), then checks that it ended cleanly. ``output`` receives what it printed."""
    need(shutil.which("curl") is not None, "curl is not installed")
    port = free_port()
    args = [str(Path(sys.executable).with_name(tool)), *(["-q"] if quiet else []), "-s", str(ADDON), "--listen-host", "127.0.0.1",
            "--listen-port", str(port), "--set", f"confdir={tmp_path / 'conf'}",
            *(["--set", f"audit_dir={tmp_path / 'out'}"] if audit_dir else []),
            "--set", "ssl_insecure=true", "--set", "connection_strategy=lazy", "--set", "audit_block_unmapped=true",
            "--set", "audit_formats=html,json,md", *extra]
    for m in backend.maps():
        args += ["--set", f"audit_map={m}"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ca = tmp_path / "conf" / "mitmproxy-ca-cert.pem"
        _wait_listening(port, lambda: ca.exists())
        yield port, ca
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        if output is not None:
            output.append(out + err)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _wait_listening(port: int, ready: Any = lambda: True) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.1)


def _login(port: int, ca: Path) -> None:
    r = subprocess.run(["curl", "-sS", "-f", "-x", f"http://127.0.0.1:{port}", "--cacert", str(ca),
                        "-H", "content-type: application/json", "--data", LOGIN,
                        "https://chat.deepseek.com/api/v0/users/login"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def _check_reports(out: Path) -> None:
    doc = json.loads((out / "report.json").read_text())
    chat = {d["host"]: d for d in doc["destinations"]}["chat.deepseek.com"]
    assert chat["data_categories"] == ["credential", "email"]
    assert (out / "report.html").exists() and (out / "report.md").exists() and (out / "capture.flows").exists()


@pytest.mark.e2e
@pytest.mark.e2e
def test_mitmdump_loads_the_addon_and_writes_reports(tmp_path: Path, backend: object) -> None:
    with _addon_in("mitmdump", tmp_path, backend) as (port, ca):
        _login(port, ca)
    _check_reports(tmp_path / "out")


@pytest.mark.e2e
@pytest.mark.e2e
def test_mitmweb_shows_the_marked_flow(tmp_path: Path, backend: object) -> None:
    """In mitmweb the flow carrying the login is marked and commented, as its web API shows."""
    web = free_port()
    with _addon_in("mitmweb", tmp_path, backend, "--web-host", "127.0.0.1", "--web-port", str(web),
                   "--set", "web_open_browser=false", "--set", "web_password=test-token") as (port, ca):
        _wait_listening(web)
        _login(port, ca)
        deadline = time.monotonic() + 20
        while True:  # the marks come back from the analysis a moment after the answer
            r = subprocess.run(["curl", "-sS", "-f", "-H", "Authorization: Bearer test-token",
                                f"http://127.0.0.1:{web}/flows"], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            flows = json.loads(r.stdout)
            if any(f.get("marked") for f in flows) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        [flow] = [f for f in flows if f["request"]["path"] == "/api/v0/users/login"]
        assert flow["marked"] == "\N{WARNING SIGN}"  # (mitmweb sends ":warning:" as the emoji)
        assert flow["comment"] == "auditor: credential, email -> chat.deepseek.com (CN)"
    _check_reports(tmp_path / "out")


@pytest.mark.e2e
@pytest.mark.e2e
def test_mitmdump_says_what_it_finds_and_writes(tmp_path: Path, backend: object) -> None:
    """Under mitmdump -s: a line per new destination with its data categories, then the paths
    written at shutdown."""
    printed: list[str] = []
    with _addon_in("mitmdump", tmp_path, backend, "--set", "flow_detail=0", quiet=False, output=printed) as (port, ca):
        _login(port, ca)
    out = tmp_path / "out"
    [text] = printed
    assert "auditor: > chat.deepseek.com  Hangzhou DeepSeek Artificial Intelligence Basic Technology Research Co., Ltd. (CN)  credential, email" in text, text
    for name in ("capture.flows", "report.html", "report.json", "report.md"):
        assert f"auditor: wrote {out / name}" in text
    # One login and no prompt: nothing names or shows the app itself, so under the party rules
    # the one destination is not first party.
    assert "auditor: 1 request, 1 destination (1 third-party), 2 findings" in text
    _check_reports(out)


@pytest.mark.e2e
@pytest.mark.e2e
def test_mitmdump_warns_without_audit_dir(tmp_path: Path, backend: object) -> None:
    printed: list[str] = []
    with _addon_in("mitmdump", tmp_path, backend, quiet=False, audit_dir=False, output=printed) as (port, ca):
        _login(port, ca)
    [text] = printed
    assert "audit_dir is not set" in text and "--set audit_dir=DIR" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
@pytest.mark.e2e
def test_mitmweb_audit_report_command_writes_the_reports_now(tmp_path: Path, backend: object) -> None:
    """The audit.report command (here through mitmweb's command API) writes the reports while
    the proxy keeps running."""
    web = free_port()
    out = tmp_path / "out"
    with _addon_in("mitmweb", tmp_path, backend, "--web-host", "127.0.0.1", "--web-port", str(web),
                   "--set", "web_open_browser=false", "--set", "web_password=test-token") as (port, ca):
        _wait_listening(web)
        _login(port, ca)
        assert not (out / "report.json").exists()
        jar = tmp_path / "cookies"
        # mitmweb's XSRF cookie comes with its update channel (/updates); the POST sends it back
        subprocess.run(["curl", "-sS", "-c", str(jar), "-H", "Authorization: Bearer test-token",
                        f"http://127.0.0.1:{web}/updates"], capture_output=True, text=True, timeout=30)
        xsrf = next(line.split("\t")[-1] for line in jar.read_text().splitlines() if "_mitmproxy_xsrf" in line)
        r = subprocess.run(["curl", "-sS", "-f", "-b", str(jar), "-X", "POST", "-H", "Authorization: Bearer test-token",
                            "-H", f"X-XSRFToken: {xsrf}", "-H", "content-type: application/json", "--data", '{"arguments": []}',
                            f"http://127.0.0.1:{web}/commands/audit.report"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        doc = json.loads((out / "report.json").read_text())
        assert doc["summary"]["exchanges"] == 1
        assert (out / "report.html").exists() and (out / "report.md").exists()
    _check_reports(out)


def test_unknown_owner_is_explained_in_the_comment() -> None:
    from mitmproxy.addons.view import View

    addon = LiveAuditor()
    with taddons.context(addon, View()) as tctx:
        tctx.configure(addon)
        f = _flow({"email": "jane.doe@example.org"})
        f.request.host = "unknown-tracker.example"
        f.request.headers["host"] = "unknown-tracker.example"
        addon.response(f)
        addon.drain()
        assert "??" not in f.comment
        assert f.comment == "auditor: email -> unknown-tracker.example (owner unknown: not in auditor's data; run auditor explain on the host)"
        addon.finish()


def _flow(body: dict) -> object:
    f = tflow.tflow(resp=True)
    f.request.host = "mcs.volceapplog.com"
    f.request.headers["host"] = "mcs.volceapplog.com"
    f.request.method = "POST"
    f.request.content = json.dumps(body).encode()
    return f


def test_flows_are_marked_and_commented() -> None:
    from mitmproxy.addons.view import View

    addon = LiveAuditor()
    with taddons.context(addon, View()) as tctx:  # (with a flow list, as in mitmweb)
        tctx.configure(addon)
        f = _flow({"prompt_text": "How do I renew my passport?", "email": "jane.doe@example.org"})
        clean = _flow({"n": 1})
        addon.response(f)
        addon.response(clean)
        addon.drain()
        assert f.marked == ":warning:"
        assert f.comment == "auditor: email, prompt -> mcs.volceapplog.com (CN)"
        assert clean.marked == "" and clean.comment == ""
        doc = addon.finish()
    assert doc["summary"]["exchanges"] == 2


@pytest.mark.e2e
def test_nothing_is_marked_where_no_flows_are_kept() -> None:
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:  # (no flow list, as in mitmdump)
        tctx.configure(addon)
        f = _flow({"prompt_text": "How do I renew my passport?"})
        addon.response(f)
        addon.drain()
        assert f.marked == "" and f.comment == ""
        assert addon.finish()["summary"]["exchanges"] == 1


def test_analysis_errors_leave_the_flow_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, audit_process=False)  # (in a thread, so the classifier can be broken here)

        def boom(*a: object, **k: object) -> None:
            raise RuntimeError("broken classifier")

        monkeypatch.setattr(addon.engine.analysis.auditor, "add_exchange", boom)
        f = _flow({"email": "jane.doe@example.org"})
        before = f.get_state()
        addon.response(f)
        addon.drain()
        assert addon.engine.analysis.errors == 1
        assert f.get_state() == before
        doc = addon.finish()
    assert doc["captures"][0]["warnings"] == ["live: 1 flow(s) could not be analysed (see the log)"]


def test_sse_responses_are_streamed() -> None:
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:
        tctx.configure(addon)
        f = tflow.tflow(resp=True)
        f.response.headers["content-type"] = "text/event-stream; charset=utf-8"
        addon.responseheaders(f)
        assert f.response.stream is True  # (that the body is still recorded is tested live)
        tctx.configure(addon, audit_stream_sse=False)
        g = tflow.tflow(resp=True)
        g.response.headers["content-type"] = "text/event-stream"
        addon.responseheaders(g)
        assert not g.response.stream


def test_map_and_block_unmapped() -> None:
    assert parse_map(["api.openai.com=127.0.0.1:8443", "h=[::1]:9"]) == {
        "api.openai.com": ("127.0.0.1", 8443),
        "h": ("::1", 9),
    }
    for bad in ("nohost", "h=1.2.3.4", "h=1.2.3.4:0", "=1.2.3.4:5", "h=1.2.3.4:x"):
        with pytest.raises(ValueError, match="expected HOST=ADDR:PORT"):
            parse_map([bad])
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, audit_map=["a.example=127.0.0.1:9"], audit_block_unmapped=True)

        class Server:
            def __init__(self, host: str) -> None:
                self.address = (host, 443)
                self.error = None

        class Data:
            def __init__(self, host: str) -> None:
                self.server = Server(host)

        mapped, other = Data("a.example"), Data("b.example")
        addon.server_connect(mapped)
        addon.server_connect(other)
        assert mapped.server.address == ("127.0.0.1", 9) and mapped.server.error is None
        assert other.server.address == ("b.example", 443) and "refused" in other.server.error


def _snapshot_samples() -> list[object]:
    from mitmproxy import certs

    tls = tflow.tflow(resp=True)
    pem = (ROOT / "tests" / "data").glob("*.pem")
    tls.metadata["note"] = {"nested": [1, 2]}
    tls.backup()
    tls.request.content = b"changed after the backup"
    tls.comment = "a comment"
    tls.marked = ":star:"
    for cert in pem:
        with suppress(Exception):
            tls.server_conn.certificate_list = [certs.Cert.from_pem(cert.read_bytes())]
            break
    return [tflow.tflow(), tflow.tflow(resp=True), tflow.tflow(err=True), tflow.twebsocketflow(), tls]


def test_snapshots_are_what_get_state_gives() -> None:
    from auditor.live import Snapshots

    snap = Snapshots()
    for f in _snapshot_samples():
        assert snap(f) == f.get_state()
        assert snap(f) == f.get_state()  # the second time from the cached connection states
    assert snap._fast


def test_snapshots_see_a_connection_change() -> None:
    from auditor.live import Snapshots

    snap = Snapshots()
    f = tflow.tflow(resp=True)
    assert snap(f) == f.get_state()
    f.client_conn.sni = "changed.example"
    f.server_conn.timestamp_end = 1234.5
    f.client_conn.cipher_list = ["TLS_AES_128_GCM_SHA256"]
    state = snap(f)
    assert state == f.get_state()
    assert state["client_conn"]["sni"] == "changed.example" and state["server_conn"]["timestamp_end"] == 1234.5


def test_snapshots_fall_back_to_get_state_if_they_ever_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.live import Snapshots

    snap = Snapshots()
    real = snap._snapshot
    monkeypatch.setattr(snap, "_snapshot", lambda flow: {**real(flow), "version": -1})  # as if mitmproxy changed
    f = tflow.tflow(resp=True)
    assert snap(f) == f.get_state()
    assert not snap._fast
    assert snap(tflow.tflow()) is not None
