"""The proxy under load: ``auditor run`` with many concurrent connections of mixed traffic.

A backend (``tests/loadgen.py``, its own process) answers on 127.0.0.1; ``auditor run --map``
sends three invented hostnames there, and the load client runs as the command under audit, so it
goes through the real proxy over real TLS. HTTP/1.1 requests, HTTP/2 requests, server-sent
event streams, WebSocket chats and cleartext HTTP run side by side, each exchange with a unique
id in its path; the 3rd, 23rd, 43rd... request of each HTTP/1.1 connection asks the backend
for an error (503).

Checked: every exchange the clients made is in ``capture.flows`` (same count, same paths, with
its protocol, its streamed events and its WebSocket messages), no client saw an error the
backend did not cause, and (in the long run) the proxy's memory stays flat.

The short run is part of ``make test``; the long one (200 connections, 60 s) is marked ``load``:
``make test-load``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from mitmproxy import http
from support.flows import read_flows

sys.path.insert(0, str(ROOT / "tests"))
from loadgen import KINDS, Backend, plan, summarise

pytestmark = pytest.mark.e2e

LOADGEN = str(ROOT / "tests" / "loadgen.py")
SSE_EVENTS = 5
WS_MESSAGES = 3
WARMUP = 10.0  # seconds of the long run not counted in the memory comparison


@dataclass
class LoadRun:
    """One run: the command's result, what the client saw, and what the capture holds."""

    proc: subprocess.CompletedProcess[str]
    exchanges: list[dict[str, Any]]
    rss: list[tuple[float, float, float]]  # (seconds, proxy process MB, analysis process MB)
    flows: list[http.HTTPFlow]
    report: dict[str, Any]


def auditor_run(tmp: Path, backend: Backend, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    maps = [a for m in backend.maps() for a in ("--map", m)]
    return subprocess.run(
        [sys.executable, "-m", "auditor", "run", "-o", str(tmp / "out"), "--confdir", str(tmp / "conf"),
         "--upstream-insecure", "--block-unmapped", *maps, "--", sys.executable, LOADGEN, *command],
        capture_output=True, text=True, timeout=timeout,
    )


def run_load(tmp: Path, seconds: float, connections: int) -> LoadRun:
    result = tmp / "client.json"
    with Backend(tmp / "backend") as backend:
        proc = auditor_run(tmp, backend, "client", "--seconds", str(seconds), "--connections", str(connections),
                           "--out", str(result), "--sse-events", str(SSE_EVENTS), "--ws-messages", str(WS_MESSAGES),
                           timeout=seconds + 300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(result.read_text())
    report = json.loads((tmp / "out" / "report.json").read_text())
    return LoadRun(proc, data["exchanges"], [tuple(x) for x in data["rss"]], read_flows(tmp / "out" / "capture.flows"), report)


def check_every_exchange_recorded(run: LoadRun, connections: int) -> None:
    """The client's exchanges and the capture's flows are the same, one for one."""
    summary = summarise(run.exchanges)
    client_errors = [e for e in run.exchanges if e["outcome"] == "error"]
    assert not client_errors, f"{len(client_errors)} client errors the backend did not cause, e.g. {client_errors[:5]}"
    assert set(plan(connections)) == set(KINDS)
    for kind in KINDS:
        assert summary["by_kind"][kind].get("ok", 0) > 0, f"no {kind} exchange completed: {summary['by_kind']}"
    assert sum(v.get("backend", 0) for v in summary["by_kind"].values()) > 0, "no backend error was asked for"

    made = Counter(e["path"] for e in run.exchanges)
    recorded = Counter(f.request.path.split("?")[0] for f in run.flows)
    assert len(run.flows) == len(run.exchanges)
    missing = made - recorded
    extra = recorded - made
    assert not missing, f"{sum(missing.values())} exchanges missing from the capture, e.g. {list(missing)[:5]}"
    assert not extra, f"{sum(extra.values())} unexpected flows in the capture, e.g. {list(extra)[:5]}"

    by_path = {f.request.path.split("?")[0]: f for f in run.flows}
    for e in run.exchanges:
        f = by_path[e["path"]]
        assert f.error is None, f"{e['path']}: {f.error}"
        assert f.response is not None
        if e["outcome"] == "backend":
            assert f.response.status_code == 503
            continue
        assert f.response.status_code in (101, 200)
        if e["kind"] == "h2":  # HTTP/2 on both sides of the proxy
            assert f.request.http_version == f.response.http_version == "HTTP/2.0", e["path"]
        elif e["kind"] == "plain":
            assert f.request.scheme == "http" and f.request.http_version == "HTTP/1.1"
        elif e["kind"] == "sse":
            # streamed to the client, and the whole stream still recorded
            assert f.response.content is not None and f.response.content.count(b"data: ") == SSE_EVENTS
        elif e["kind"] == "ws":
            assert f.websocket is not None and len(f.websocket.messages) == 2 * WS_MESSAGES
        else:
            assert f.request.http_version == "HTTP/1.1" and f.request.scheme == "https"
    assert run.report["summary"]["exchanges"] == len(run.flows)
    assert run.report["captures"][0]["warnings"] == []


def test_mapped_keep_alive_connections_are_reused(tmp_path: Path) -> None:
    """With --map, requests on one keep-alive client connection share one upstream connection
    (before the fix, each opened a new one and left the old ones open until the client left)."""
    with Backend(tmp_path / "backend") as backend:
        proc = auditor_run(tmp_path, backend, "peers", "--requests", "12", timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ports = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(ports) == 12
    assert len(set(ports)) == 1, f"{len(set(ports))} upstream connections for 12 keep-alive requests"
    flows = read_flows(tmp_path / "out" / "capture.flows")
    assert {f.request.host for f in flows} == {"api.load.test"}  # the real name stays in the capture


def test_short_mixed_load(tmp_path: Path) -> None:
    """About 8 seconds, 50 connections: what every `make test` checks."""
    run = run_load(tmp_path, seconds=8, connections=50)
    check_every_exchange_recorded(run, 50)
    assert len(run.flows) >= 100


@pytest.mark.load
def test_sixty_seconds_two_hundred_connections(tmp_path: Path) -> None:
    """60 seconds, 200 concurrent connections of mixed traffic; memory stays flat."""
    run = run_load(tmp_path, seconds=60, connections=200)
    check_every_exchange_recorded(run, 200)
    # The first WARMUP seconds (connections opening, caches and allocator arenas filling) are
    # left out; of the rest, the last third may not use much more than the first.
    for name, column in (("proxy", 1), ("analysis", 2)):
        rss = [row[column] for row in run.rss if row[column] > 0 and row[0] >= WARMUP]
        assert len(rss) >= 60, f"too few memory samples of the {name} process"
        third = len(rss) // 3
        first, last = statistics.mean(rss[:third]), statistics.mean(rss[-third:])
        sys.stderr.write(f"load: {len(run.flows)} exchanges, {name} process RSS {first:.0f} MB in the first third, {last:.0f} MB in the last\n")
        assert last - first <= max(0.10 * first, 15.0), f"{name} process memory grew from {first:.0f} MB to {last:.0f} MB"


def test_backpressure_bounds_the_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the analysis falls behind, finished flows are held back (the proxy slows down)
    instead of queueing without bound; none is dropped."""
    import asyncio
    import threading

    from mitmproxy.test import taddons, tflow

    from auditor.live import LiveAuditor

    addon = LiveAuditor()
    addon.max_backlog = 4
    release = threading.Event()

    async def main() -> list[bool]:
        held = []
        for _ in range(8):
            waiter = addon.response(tflow.tflow(resp=True))
            held.append(waiter is not None)
            if waiter is not None:
                asyncio.get_running_loop().call_later(0.2, release.set)
                await asyncio.wait_for(waiter, 5)
                assert addon._backlog()[0] <= addon.max_backlog // 2
        return held

    with taddons.context(addon) as tctx:
        tctx.configure(addon, audit_process=False)  # (in a thread, so the analysis can be slowed here)
        real = addon.engine.analysis.auditor.add_exchange

        def slow(ex: Any, via: str = "proxy") -> Any:
            release.wait(10)
            return real(ex, via)

        monkeypatch.setattr(addon.engine.analysis.auditor, "add_exchange", slow)
        held = asyncio.run(main())
        doc = addon.finish()
    assert held[:5] == [False] * 4 + [True]  # the fifth waiting flow is over the bound
    assert doc["summary"]["exchanges"] == 8
    [warning] = doc["captures"][0]["warnings"]  # and the report says so
    assert warning.startswith(f"live: the analysis fell behind the traffic; {sum(held)} flow(s) were held back"), warning
