from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, PEER, need

pytestmark = pytest.mark.e2e

FLOWS = FIXTURES / "ai-chat-session.flows"
SECRET_VALUES = ["jane.doe@example.org", "+1 202 555 0143"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def one_line_error(p: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


def test_report_writes_all_formats_owner_only(tmp_path: Path) -> None:
    p = run("report", str(FLOWS), "-o", str(tmp_path / "out" / "audit"), "--format", "html,json,md")
    assert p.returncode == 0, p.stderr
    for ext in ("html", "json", "md"):
        f = tmp_path / "out" / f"audit.{ext}"
        assert f.stat().st_size > 500
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert p.stderr.strip().endswith(f"-> {tmp_path}/out/audit.html, {tmp_path}/out/audit.json, {tmp_path}/out/audit.md")
    assert p.stdout == ""


def test_default_output_is_report_html_and_json(tmp_path: Path) -> None:
    p = run("report", str(FLOWS), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.html", "report.json"]


def test_output_to_a_directory_and_to_stdout(tmp_path: Path) -> None:
    assert run("report", str(FLOWS), "-o", str(tmp_path), "-f", "md").returncode == 0
    assert (tmp_path / "report.md").exists()
    p = run("report", str(FLOWS), "-o", "-", "-f", "json", "-q")
    assert p.returncode == 0 and p.stdout.startswith("{") and p.stderr == ""


def test_no_personal_value_without_reveal(tmp_path: Path) -> None:
    assert run("report", str(FLOWS), "-o", str(tmp_path / "m"), "-f", "html,json,md").returncode == 0
    assert run("report", str(FLOWS), "-o", str(tmp_path / "r"), "-f", "json", "--reveal").returncode == 0
    for ext in ("html", "json", "md"):
        text = (tmp_path / f"m.{ext}").read_text()
        for v in SECRET_VALUES:
            assert v not in text, (ext, v)
    revealed = (tmp_path / "r.json").read_text()
    assert all(v in revealed for v in SECRET_VALUES)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"", "empty file, not a capture"),
        (b"GET / HTTP/1.1\r\n", "unrecognized format"),
        (b'{"log": [1, 2', "not a valid HAR file"),
        (b"99:5:hello,zzzzzzzz", "no readable flow"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "capture.bin"
    if content is not None:
        path.write_bytes(content)
    line = one_line_error(run("report", str(path), "-o", str(tmp_path / "x")))
    assert line.startswith("auditor: error: ") and message in line
    assert not (tmp_path / "x.html").exists()


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p = tmp_path / "locked.flows"
    p.write_bytes(FLOWS.read_bytes())
    p.chmod(0)
    assert "permission denied" in one_line_error(run("report", str(p)))


@pytest.mark.parametrize("name", ["dumpfile-010.mitm", "corrupted_har/brokenfile.har", "corrupted_har/broken_headers.json", "har_extractor.har"])
def test_broken_peer_captures(name: str, tmp_path: Path) -> None:
    need(PEER.is_dir(), "peer captures missing")
    line = one_line_error(run("report", str(PEER / name), "-o", str(tmp_path / "x")))
    assert line.startswith(f"auditor: error: {PEER / name}: ")


def test_damaged_capture_gives_a_report_and_a_warning(tmp_path: Path) -> None:
    data = FLOWS.read_bytes()
    damaged = tmp_path / "damaged.flows"
    damaged.write_bytes(data[:2000] + b"\x00GARBAGE\xff" * 10 + data[2000:])
    p = run("report", str(damaged), "-o", str(tmp_path / "d"), "-f", "json")
    assert p.returncode == 0, p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("auditor: warning: ")]
    assert len(warnings) == 1 and "damaged" in warnings[0] and "flow(s) read" in warnings[0]
    assert '"warnings": [' in (tmp_path / "d.json").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["-f", "pdf"], "unknown report format 'pdf'"),
        (["-o", "-", "-f", "html,json"], "needs exactly one --format"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    assert message in one_line_error(run("report", str(FLOWS), *args))


def test_help_and_version() -> None:
    p = run("--help")
    assert p.returncode == 0 and "report" in p.stdout
    p = run("report", "--help")
    assert p.returncode == 0 and "--reveal" in p.stdout and "Example:" in p.stdout
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("auditor ")


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_error(run("report", str(FLOWS), "-o", str(blocker / "sub" / "r")))
    assert "cannot write" in line


@pytest.mark.parametrize("command", ["report", "check", "diff", "redact", "explain", "evaluate", "capture", "run"])
def test_help_names_values_not_python_types(command: str) -> None:
    """Help shows PATH, N, TEXT and the argument's name, never typer's <list[str]> or <int range>."""
    out = subprocess.run([sys.executable, "-m", "auditor", command, "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert out.returncode == 0, out.stderr
    assert not re.search(r"<[a-z]", out.stdout), out.stdout
    usage = out.stdout.splitlines()[0]
    assert re.fullmatch(rf"Usage: auditor {command} \[OPTIONS\]( [\[{{][A-Z_]+[\]}}](\.\.\.)?)*", usage), usage


def test_explain_takes_a_url() -> None:
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "auditor", "explain", "https://chat.deepseek.com/api/v0/chat?x=1", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    import json

    info = json.loads(p.stdout)
    assert (info["host"], info["registrable_domain"]) == ("chat.deepseek.com", "deepseek.com")
