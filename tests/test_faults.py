"""Fault tolerance of the live capture: the output folder vanishing, the disk filling up, a
client walking away from a stream, the upstream resetting. In each case the proxy keeps
serving, the capture keeps what it had, and the report says what was lost.

Everything runs through ``auditor run`` against the loopback backend of ``tests/loadgen.py``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from mitmproxy.test import taddons, tflow

from auditor import live
from auditor.live import CAPTURE_NAME, CaptureFile, LiveAuditor

sys.path.insert(0, str(ROOT / "tests"))
from loadgen import Backend
from support.backends import load_backend
from support.flows import read_flows

LOADGEN = str(ROOT / "tests" / "loadgen.py")
# the analysis process writes the capture a moment after the answers: wait for a first flow
WRITTEN = 'for i in $(seq 200); do [ -s "$OUT/capture.flows" ] && break; sleep 0.05; done'

PY = sys.executable


def auditor_run(tmp: Path, backend: Backend, shell: str, preexec: Any = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``auditor run -o tmp/out ... -- sh -c SHELL``; ``$LOADGEN`` and ``$OUT`` are set for SHELL."""
    out = tmp / "out"
    maps = [a for m in backend.maps() for a in ("--map", m)]
    env = dict(os.environ, LOADGEN=f"{PY} {LOADGEN}", OUT=str(out))
    p = subprocess.run(
        [PY, "-m", "auditor", "run", "-o", str(out), "--confdir", str(tmp / "conf"), "--upstream-insecure",
         "--block-unmapped", *maps, "--", "sh", "-c", shell],
        capture_output=True, text=True, timeout=180, env=env, preexec_fn=preexec,
    )
    assert "Traceback" not in p.stderr, p.stderr
    return p, out


def statuses(stdout: str) -> list[list[int]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("[")]


backend = load_backend()


@pytest.mark.e2e
def test_output_folder_removed_while_capturing(tmp_path: Path, backend: Backend) -> None:
    p, out = auditor_run(tmp_path, backend,
                         f'$LOADGEN requests --count 5 --prefix before && {WRITTEN}; rm -rf "$OUT" && $LOADGEN requests --count 5 --prefix after')
    assert p.returncode == 0, p.stderr
    assert statuses(p.stdout) == [[200] * 5, [200] * 5]  # the proxy kept serving
    flows = read_flows(out / CAPTURE_NAME)  # the folder is back, with everything in it
    assert [f.request.path for f in flows] == [f"/api/before-{i}" for i in range(5)] + [f"/api/after-{i}" for i in range(5)]
    assert (out / CAPTURE_NAME).stat().st_mode & 0o777 == 0o600
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["exchanges"] == 10
    [warning] = doc["captures"][0]["warnings"]
    # (how many were written before the folder went depends on when the writer got to them)
    assert re.fullmatch(rf"capture.flows: the output folder {re.escape(str(out))} vanished while capturing; "
                        r"re-created it and restored the [1-5] flow\(s\) written before", warning), warning
    assert "warning: capture.flows: the output folder" in p.stderr


@pytest.mark.e2e
def test_output_folder_replaced_by_a_file(tmp_path: Path, backend: Backend) -> None:
    p, out = auditor_run(tmp_path, backend,
                         f'$LOADGEN requests --count 3 --prefix before && {WRITTEN}; rm -rf "$OUT" && echo x > "$OUT" && '
                         '$LOADGEN requests --count 3 --prefix after')
    assert p.returncode == 0, p.stderr
    assert statuses(p.stdout) == [[200] * 3, [200] * 3]
    assert out.is_file() and out.read_text() == "x\n"  # what the user put there is left alone
    [fallback] = list(tmp_path.glob("out.recovered-*"))
    assert fallback.stat().st_mode & 0o777 == 0o700
    flows = read_flows(fallback / CAPTURE_NAME)
    assert len(flows) == 6
    doc = json.loads((fallback / "report.json").read_text())
    assert doc["summary"]["exchanges"] == 6
    assert f"continued in {fallback}" in doc["captures"][0]["warnings"][0]
    assert str(fallback / "report.html") in p.stderr  # says where the files went
    assert (fallback / "report.html").stat().st_mode & 0o777 == 0o600


def _limit_file_size(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.e2e
def test_disk_full_keeps_what_it_had_and_says_what_was_lost(tmp_path: Path, backend: Backend) -> None:
    """A file-size limit (as a full disk) stops the capture growing: the proxy keeps serving,
    the capture stays readable, the report counts the flows it lacks."""
    limit = 256 * 1024
    (tmp_path / "conf").mkdir()
    p, out = auditor_run(tmp_path, backend, "$LOADGEN requests --count 30 --prefix big --padding 20000",
                         preexec=_limit_file_size(limit))
    assert p.returncode == 0, p.stderr
    assert statuses(p.stdout) == [[200] * 30]
    flows = read_flows(out / CAPTURE_NAME)  # no torn flow at the end
    kept = len(flows)
    assert 5 < kept < 30
    assert [f.request.path for f in flows] == [f"/api/big-{i}" for i in range(kept)]
    assert (out / CAPTURE_NAME).stat().st_size <= limit
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["exchanges"] == 30  # the analysis saw every flow
    assert doc["captures"][0]["warnings"] == [
        f"capture.flows: {30 - kept} flow(s) could not be written (File too large); the report covers them, the capture does not"
    ]


def test_no_space_left_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails half-way is cut back, counted, and later writes go on."""
    cap = CaptureFile(tmp_path / CAPTURE_NAME)
    assert cap.write(b"1:a,")
    real_write = os.write
    calls = {"n": 0}

    def failing(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:2])  # a short write...
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # ...then the disk is full

    monkeypatch.setattr(live.os, "write", failing)
    assert not cap.write(b"5:bbbbb,")
    assert not cap.write(b"1:c,")
    monkeypatch.setattr(live.os, "write", real_write)
    assert cap.write(b"1:d,")
    cap.close()
    assert (tmp_path / CAPTURE_NAME).read_bytes() == b"1:a,1:d,"
    assert cap.warnings() == [
        "capture.flows: 2 flow(s) could not be written (No space left on device); the report covers them, the capture does not"
    ]


def test_report_falls_back_when_it_cannot_be_written_in_place(tmp_path: Path) -> None:
    out = tmp_path / "out"
    addon = LiveAuditor()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, audit_dir=str(out), audit_formats="json,md")
        addon.response(tflow.tflow(resp=True))
        addon.drain()
        (out / "report.json").mkdir()  # something in the way of report.json only
        doc = addon.finish()
    assert doc["summary"]["exchanges"] == 1
    assert addon.report_errors == []
    js, md = sorted(addon.report_paths, key=lambda p: p.name)
    assert md == out / "report.md"  # written in place
    assert js.parent.name.startswith("out.recovered-") and js.name == "report.json"
    assert json.loads(js.read_text())["summary"]["exchanges"] == 1
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary file left


@pytest.mark.e2e
def test_client_walks_away_and_upstream_resets(tmp_path: Path, backend: Backend) -> None:
    p, out = auditor_run(tmp_path, backend, "$LOADGEN faults")
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    assert seen["walk_away_events"] == 2
    assert seen["reset_status"] == 502  # the proxy answers for the server that reset
    assert seen["sse_reset_status"] == 200 and seen["sse_reset_events"] == 2
    assert seen["after"] == [200] * 5  # and keeps serving
    flows = {f.request.path.split("?")[0]: f for f in read_flows(out / CAPTURE_NAME)}
    assert set(flows) == {"/sse/walk-away", "/reset/reset-1", "/sse-reset/sse-reset-1"} | {f"/api/after-{i}" for i in range(5)}
    for path in ("/sse/walk-away", "/reset/reset-1", "/sse-reset/sse-reset-1"):
        assert flows[path].error is not None, f"{path} recorded without its error"
    walked = flows["/sse/walk-away"].error
    assert walked is not None and "disconnect" in walked.msg.lower()
    assert all(flows[f"/api/after-{i}"].error is None for i in range(5))
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["exchanges"] == 8
    assert doc["captures"][0]["warnings"] == []


def test_capture_encoder_writes_what_mitmproxy_writes() -> None:
    """The faster encoder of capture.flows gives mitmproxy's bytes, so any reader reads it."""
    from mitmproxy.io import tnetstring

    from auditor.live import tnetstring_dumps

    samples: list[Any] = [
        tflow.tflow(resp=True).get_state(),
        tflow.tflow(err=True).get_state(),
        tflow.twebsocketflow().get_state(),
        {"a": [1, -2, 2.5, None, True, False, b"\x00\xff", "é", (3, "x")], "b": {}, "c": []},
        10**30,
        [float("inf"), -0.0, 1e-300, 3.141592653589793, True, 2**63],
        "",
        b"",
    ]
    for value in samples:
        assert tnetstring_dumps(value) == tnetstring.dumps(value)
    with pytest.raises(ValueError):
        tnetstring_dumps({"x": object()})
