"""The I/O layer: bounded inputs (stdin, gzip, zip HAR, size limits) and atomic, owner-only outputs."""

from __future__ import annotations

import gzip
import json
import shutil
import stat
import subprocess
import sys
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, need

from auditor.audit.pipeline import audit_paths
from auditor.io import InputError, OutputError, Outputs, read_small, read_text, write_private
from auditor.io.capture import CaptureError, open_capture

HAR = FIXTURES / "ai-chat-session.har"


def auditor(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, input=stdin, timeout=120)


# ---- inputs


def test_read_small_refuses_what_is_too_large_and_says_what_it_expected(tmp_path: Path) -> None:
    big = tmp_path / "policy.yaml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(InputError, match=r"policy.yaml: larger than 1 KiB, too large for a policy file$"):
        read_small(big, "policy file", max_bytes=1024)
    assert read_small(big, "policy file", max_bytes=2048) == b"x" * 2048
    with pytest.raises(InputError, match="is a directory, not a key log"):
        read_small(tmp_path, "key log")
    with pytest.raises(InputError, match="no such file"):
        read_small(tmp_path / "missing", "key log")
    (tmp_path / "latin1").write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 3\)"):
        read_text(tmp_path / "latin1")


@pytest.mark.e2e
def test_stdin_dash_is_a_capture(tmp_path: Path) -> None:
    expected = audit_paths([HAR])
    p = auditor("report", "-", "-o", "-", "--format", "json", "-q", stdin=HAR.read_bytes())
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [d["host"] for d in doc["destinations"]] == [d["host"] for d in expected["destinations"]]
    assert doc["summary"]["findings"] == expected["summary"]["findings"]
    assert doc["captures"][0]["path"] == "standard input"


@pytest.mark.e2e
def test_stdin_is_bounded_like_a_compressed_capture() -> None:
    p = auditor("report", "-", "-o", "-", "--format", "json", stdin=b"")
    assert p.returncode == 2 and p.stderr.decode().strip() == "auditor: error: standard input: empty file, not a capture"


def zip_har(tmp_path: Path, attach: bool) -> Path:
    """A Playwright-style zip HAR: har.har, and (``attach``) the response bodies beside it."""
    doc = json.loads(HAR.read_text())
    z = tmp_path / "session.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as out:
        if attach:
            for i, entry in enumerate(doc["log"]["entries"]):
                content = entry["response"]["content"]
                text = content.pop("text", None)
                if text is None:
                    continue
                raw = text.encode() if content.get("encoding") != "base64" else __import__("base64").b64decode(text)
                content.pop("encoding", None)
                content["_file"] = f"{i:04d}.bin"
                out.writestr(content["_file"], raw)
        out.writestr("har.har", json.dumps(doc))
    return z


@pytest.mark.parametrize("attach", [False, True])
def test_zip_har_reads_like_the_har(tmp_path: Path, attach: bool) -> None:
    z = zip_har(tmp_path, attach)

    def key(doc: dict) -> list:
        return [(f["host"], f["category"], f["location"]["part"], f["value_sha256"]) for f in doc["findings"]]

    a, b = audit_paths([HAR]), audit_paths([z])
    assert key(b) == key(a)
    assert b["captures"][0]["format"] == "har" and not b["captures"][0]["warnings"]


def test_zip_without_a_single_har_is_one_line(tmp_path: Path) -> None:
    z = tmp_path / "x.zip"
    with zipfile.ZipFile(z, "w") as out:
        out.writestr("a.txt", "a")
        out.writestr("b.txt", "b")
    with pytest.raises(CaptureError, match=r"a zip archive must hold one \.har file \(it holds a\.txt, b\.txt\)"):
        open_capture(z)


def test_zip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    from auditor.limits import Limits

    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("har.har", b'{"log": {"entries": []}, "pad": "' + b" " * (3 << 20) + b'"}')
    with pytest.raises(CaptureError, match="inflates beyond 1 MiB"):
        list(open_capture(z, limits=Limits(max_capture_inflated=1 << 20)).exchanges)


@pytest.mark.e2e
def test_real_playwright_zip_har(tmp_path: Path) -> None:
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<title>t</title><script>fetch('/api', {method: 'POST', body: JSON.stringify({email: 'jane.doe@example.org'})})"
        ".then(() => document.title = 'done')</script>"
    )

    class Handler(SimpleHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = b'{"ok": true, "phone": "+1 202 555 0143"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    z = tmp_path / "pw.zip"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            ctx = browser.new_context(record_har_path=str(z))
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            page.wait_for_function("document.title === 'done'", timeout=20000)
            ctx.close()
            browser.close()
    finally:
        server.shutdown()
    assert zipfile.is_zipfile(z)
    doc = audit_paths([z])
    cats = {(f["location"]["part"], f["category"]) for f in doc["findings"]}
    assert ("request.body", "email") in cats


# ---- outputs


def test_outputs_commit_together_or_not_at_all(tmp_path: Path) -> None:
    old = tmp_path / "r" / "report.html"
    old.parent.mkdir()
    old.write_text("old")
    with pytest.raises(RuntimeError), Outputs() as out:
        out.write(old, "new html")
        with out.open_text(tmp_path / "r" / "report.json") as fh:
            fh.write("{")
            raise RuntimeError("renderer failed")
    assert old.read_text() == "old"
    assert sorted(p.name for p in old.parent.iterdir()) == ["report.html"]
    with Outputs() as out:
        out.write(old, "new html")
        out.write(tmp_path / "r" / "report.json", "{}")
    assert old.read_text() == "new html"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


@pytest.mark.e2e
def test_report_failing_on_one_format_writes_none(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "audit.html").write_text("old report")
    (out / "audit.json").mkdir()  # the JSON cannot be written there
    p = auditor("report", str(HAR), "-o", str(out / "audit"), "--format", "html,json")
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.count("\n") == 1 and "no report written" in err and "Traceback" not in err
    assert (out / "audit.html").read_text() == "old report"
    assert sorted(x.name for x in out.iterdir()) == ["audit.html", "audit.json"]


@pytest.mark.e2e
def test_created_folders_are_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    write_private(target, "{}")
    for d in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    p = auditor("report", str(HAR), "-o", str(tmp_path / "c" / "d" / "audit"), "--format", "json", "-q")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "c" / "d").stat().st_mode) == 0o700


@pytest.mark.e2e
def test_output_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"file is a file, not a folder"):
        write_private(tmp_path / "file" / "sub" / "report.json", "{}")
    p = auditor("report", str(HAR), "-o", str(tmp_path / "file" / "sub" / "audit"))
    assert p.returncode == 2
    assert p.stderr.decode() == f"auditor: error: cannot write under {tmp_path / 'file'}: it is a file, not a folder (-o {tmp_path / 'file' / 'sub' / 'audit'})\n"
    p = auditor("redact", str(HAR), "-o", str(tmp_path / "file" / "r.har"))
    assert p.returncode == 2 and "is a file, not a folder" in p.stderr.decode() and "File exists" not in p.stderr.decode()


def test_gzip_capture_still_reads(tmp_path: Path) -> None:
    gz = tmp_path / "s.har.gz"
    gz.write_bytes(gzip.compress(HAR.read_bytes()))
    assert audit_paths([gz])["summary"]["findings"] == audit_paths([HAR])["summary"]["findings"]


@pytest.mark.e2e
def test_nothing_is_left_in_temporary_names(tmp_path: Path) -> None:
    shutil.copy(HAR, tmp_path / "s.har")
    p = auditor("report", str(tmp_path / "s.har"), "-o", str(tmp_path / "o" / "r"), "--format", "html,json,md", "-q")
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in (tmp_path / "o").iterdir()) == ["r.html", "r.json", "r.md"]
    assert ROOT.exists()


@pytest.mark.e2e
def test_check_writes_all_its_outputs_or_none(tmp_path: Path) -> None:
    (tmp_path / "j.xml").write_text("old")
    (tmp_path / "s.md").mkdir()  # the Markdown summary cannot be written there
    p = auditor("check", str(FIXTURES / "ai-chat-session.flows"), "--policy", str(ROOT / "examples" / "policy.yaml"),
                "--junit", str(tmp_path / "j.xml"), "--markdown", str(tmp_path / "s.md"), "-q")
    assert p.returncode == 2 and b"no output written" in p.stderr
    assert (tmp_path / "j.xml").read_text() == "old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["j.xml", "s.md"]


@pytest.mark.e2e
def test_masked_report_of_lone_surrogates_is_not_an_internal_error(tmp_path: Path) -> None:
    """(a value with a lone surrogate has no URL-encoded form: masking and redaction skip it)"""
    src = ROOT / "tests" / "hostile" / "files" / "lone-surrogates.flows"
    p = auditor("report", str(src), "-o", "-", "-f", "json", "-q")
    assert p.returncode == 0, p.stderr
    p = auditor("redact", str(src), "-o", str(tmp_path / "r.flows"), "-q")
    assert p.returncode == 0, p.stderr
