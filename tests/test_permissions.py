"""What the live capture leaves on disk and on the network: owner-only captures and reports,
an owner-only CA private key, a proxy on loopback unless asked otherwise (and then a loud
warning)."""

from __future__ import annotations

import inspect
import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.ports import free_port

from auditor.cli import live as cli_live
from auditor.live.proxy import ProxyConfig, running_proxy

PY = sys.executable

# Run inside `auditor run`: the addresses the proxy (named by HTTP_PROXY) listens on.
SHOW_LISTENERS = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_permissions import listening_addresses
port = int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])
print(sorted(listening_addresses(port)))
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp, tcp6)."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            addr, _, hexport = cols[1].partition(":")
            if cols[3] != "0A" or int(hexport, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(addr)
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, raw))
    return found


def test_listening_addresses_reads_proc() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert listening_addresses(s.getsockname()[1]) == {"127.0.0.1"}


@pytest.mark.e2e
def test_capture_and_reports_are_owner_only(tmp_path: Path) -> None:
    """Even where earlier files were world-readable, and under a permissive umask."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("capture.flows", "report.json", "report.html"):
        (out / name).write_text("old")
        (out / name).chmod(0o644)
    fresh = tmp_path / "fresh" / "nested"
    for target in (out, fresh):
        p = subprocess.run(
            [PY, "-m", "auditor", "run", "-o", str(target), "--confdir", str(tmp_path / "conf"), "-f", "html,json,md",
             "--", PY, "-c", "pass"],
            capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0),
        )
        assert p.returncode == 0, p.stderr
        for name in ("capture.flows", "report.json", "report.html", "report.md"):
            assert mode(target / name) == 0o600, f"{target / name} is {oct(mode(target / name))}"
    assert mode(fresh) == 0o700  # a folder made for the capture is owner-only too
    assert json.loads((out / "report.json").read_text())["summary"]["exchanges"] == 0


@pytest.mark.e2e
def test_ca_private_key_is_owner_only(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    with running_proxy(ProxyConfig(confdir=str(conf))):
        pass
    key_files = [conf / "mitmproxy-ca.pem", conf / "mitmproxy-ca.p12"]
    assert [mode(p) for p in key_files] == [0o600, 0o600]
    # A CA made or copied by other means, readable by everyone: tightened at start.
    for p in key_files:
        p.chmod(0o644)
    with running_proxy(ProxyConfig(confdir=str(conf))) as proxy:
        assert [mode(p) for p in key_files] == [0o600, 0o600]
        assert proxy.ca_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE")  # the public part stays usable
        assert b"PRIVATE KEY" not in proxy.ca_file.read_bytes()


@pytest.mark.e2e
def test_run_listens_on_loopback_only(tmp_path: Path) -> None:
    p = subprocess.run(
        [PY, "-m", "auditor", "run", "-o", str(tmp_path / "out"), "--confdir", str(tmp_path / "conf"), "--",
         PY, "-c", SHOW_LISTENERS],
        capture_output=True, text=True, timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "['127.0.0.1']"
    assert "WARNING" not in p.stderr


class Capture:
    """``auditor capture`` in a subprocess: started, read until it listens, stopped with SIGINT."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.out = tmp / "out"
        self.proc = subprocess.Popen(
            [PY, "-m", "auditor", "capture", "-o", str(self.out), "--confdir", str(tmp / "conf"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.stderr = ""
        deadline = time.monotonic() + 60
        while "auditing proxy on" not in self.stderr:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"auditor capture did not start: {self.stderr}")
            assert self.proc.stderr is not None
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                self.stderr += self.proc.stderr.readline()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr += err
        return self.proc.returncode


def test_capture_defaults_to_loopback() -> None:
    assert inspect.signature(cli_live.capture).parameters["listen"].default == "127.0.0.1:8080"


@pytest.mark.e2e
def test_capture_listens_on_loopback_by_default(tmp_path: Path) -> None:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 8080))
    except OSError:
        pytest.skip("port 8080 (the default) is in use on this machine")
    cap = Capture(tmp_path)
    try:
        assert listening_addresses(8080) == {"127.0.0.1"}
    finally:
        status = cap.stop()
    assert status == 0, cap.stderr
    assert "WARNING" not in cap.stderr
    assert (cap.out / "report.json").exists()


@pytest.mark.e2e
def test_capture_on_all_interfaces_warns_loudly_and_still_writes_reports(tmp_path: Path) -> None:
    port = free_port("0.0.0.0")
    cap = Capture(tmp_path, "--listen", f"0.0.0.0:{port}")
    try:
        assert listening_addresses(port) == {"0.0.0.0"}
        warning, _, _rest = cap.stderr.partition("auditing proxy on")
        assert f"WARNING: listening on 0.0.0.0:{port}, not loopback" in warning  # before anything else
        assert "anyone who can reach this machine can use the proxy" in warning
    finally:
        status = cap.stop()
    assert status == 0, cap.stderr
    assert "Traceback" not in cap.stderr
    for name in ("capture.flows", "report.html", "report.json"):
        assert mode(cap.out / name) == 0o600
    assert json.loads((cap.out / "report.json").read_text())["summary"]["exchanges"] == 0
