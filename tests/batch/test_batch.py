"""auditor batch: a Parquet dataset with the same findings as auditor report, incremental,
crash-safe, on a local process pool or a real Dask cluster on loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="pip install 'auditor[batch]'")
pytest.importorskip("duckdb", reason="pip install 'auditor[batch]'")

import pyarrow.parquet as pq
from conftest import FIXTURES, ROOT, TEXT_HEIGHTS

from auditor.audit.pipeline import audit_paths
from auditor.batch import TABLES
from auditor.batch.tables import SCHEMAS

pytestmark = pytest.mark.e2e  # every test runs auditor batch (worker processes) or its dataset


def write_flows(path: Path, exchanges: Iterable[tuple[str, str, dict[str, Any] | None]]) -> Path:
    """A mitmproxy flow file with one POST (or GET) per (host, path, JSON body)."""
    from mitmproxy import http
    from mitmproxy.io import FlowWriter
    from mitmproxy.test import tflow

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        w = FlowWriter(fh)
        for i, (host, p, body) in enumerate(exchanges):
            f = tflow.tflow(resp=True)
            f.request.host, f.request.port, f.request.scheme, f.request.path = host, 443, "https", p
            f.request.timestamp_start = 1_700_000_000.0 + i
            f.request.headers = http.Headers([(b"host", host.encode()), (b"content-type", b"application/json")])
            f.request.method = "POST" if body is not None else "GET"
            f.request.content = json.dumps(body).encode() if body is not None else b""
            f.response.content = b"{}"
            w.add(f)
    return path


def chat_app(i: int, tracker: bool) -> list[tuple[str, str, dict[str, Any] | None]]:
    out: list[tuple[str, str, dict[str, Any] | None]] = [
        ("api.openai.com", "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": f"How do I renew passport number {i}?"}], "user": f"user-{i}"}),
        ("api.example-app.com", "/login", {"email": f"jane{i}@example.org", "password": "Synthetic-Passw0rd!"}),
    ]
    if tracker:
        out.append(("mcs.volceapplog.com", "/list", {"header": {"device_id": str(7000000000 + i)}, "event_v3": [{"event": "send", "params": json.dumps({"prompt_text": f"How do I renew passport number {i}?"})}]}))
    return out


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three apps: one with the recorded fixture, one with two versions (the second adds a
    tracker), one whose capture is damaged beyond reading."""
    root = tmp_path_factory.mktemp("captures")
    (root / "alpha").mkdir()
    shutil.copy(FIXTURES / "ai-chat-session.flows", root / "alpha" / "session.flows")
    write_flows(root / "beta" / "v1.flows", chat_app(1, tracker=False))
    write_flows(root / "beta" / "v2.flows", chat_app(2, tracker=True))
    (root / "gamma").mkdir()
    (root / "gamma" / "broken.har").write_text('{"log": {"entries": 5}}')
    return root


def batch(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", "batch", *args], capture_output=True, text=True, timeout=timeout)


def rows(dataset: Path, table: str) -> list[dict[str, Any]]:
    out = []
    for f in sorted(dataset.glob(f"{table}/app=*/*.parquet")):
        out.extend(pq.read_table(f).to_pylist())
    return out


def finding_key(r: dict[str, Any]) -> tuple[Any, ...]:
    return (r["index"], r["host"], r["category"], r["part"], r["path"], r["value"], r["value_sha256"], r["detector"])


@pytest.fixture(scope="module")
def local_dataset(captures: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "dataset"
    proc = batch(str(captures), "-o", str(out), "-j", "2")
    assert proc.returncode == 1, proc.stderr  # gamma's capture failed, and is recorded
    assert "4 captures of 3 apps: 3 audited, 0 already in the dataset, 1 failed" in proc.stderr
    return out


def test_findings_row_for_row_as_auditor_report(local_dataset: Path, captures: Path) -> None:
    findings = rows(local_dataset, "findings")
    dests = rows(local_dataset, "destinations")
    for app, name in (("alpha", "session.flows"), ("beta", "v1.flows"), ("beta", "v2.flows")):
        path = captures / app / name
        doc = audit_paths([path])
        sha = next(c["sha256"] for c in rows(local_dataset, "captures") if c["source"] == str(path))
        mine = sorted(finding_key(r) for r in findings if r["capture_sha256"] == sha and r["app"] == app)
        report = sorted((f["flow"]["index"], f["host"], f["category"], f["location"]["part"], f["location"]["path"], f["value"], f["value_sha256"], f["detector"]) for f in doc["findings"])
        assert mine == report, name
        assert sorted((d["host"], d["party"], d["owner"]) for d in dests if d["capture_sha256"] == sha) == sorted(
            (d["host"], d["party"], (d["owner"] or {}).get("name")) for d in doc["destinations"])


def test_every_table_has_its_documented_schema(local_dataset: Path) -> None:
    doc = (ROOT / "docs" / "batch.md").read_text()
    for table in TABLES:
        files = sorted(local_dataset.glob(f"{table}/app=*/*.parquet"))
        assert files, table
        for f in files:
            assert pq.read_schema(f).remove_metadata() == SCHEMAS[table], f
            assert f.stat().st_mode & 0o777 == 0o600
        for field in SCHEMAS[table]:
            assert f"| `{field.name}` |" in doc, f"{table}.{field.name} is not documented in docs/batch.md"
    caps = rows(local_dataset, "captures")
    assert all(c["batch_schema"] == 1 for c in caps)
    # Findings are masked, with the hash of the raw value.
    assert all("jane1@example.org" not in (r["value"] or "") for r in rows(local_dataset, "findings"))
    assert all(len(r["value_sha256"]) == 64 for r in rows(local_dataset, "findings"))


def test_bad_input_is_recorded_and_the_rest_is_done(local_dataset: Path) -> None:
    caps = {c["source"].rsplit("/", 1)[-1]: c for c in rows(local_dataset, "captures")}
    assert caps["broken.har"]["error"] and "broken.har" in caps["broken.har"]["error"]
    assert {k for k, c in caps.items() if c["error"] is None} == {"session.flows", "v1.flows", "v2.flows"}
    apps = {a["app"]: a for a in rows(local_dataset, "apps")}
    assert apps["gamma"]["failed_captures"] == 1 and apps["gamma"]["captures"] == 0
    assert apps["beta"]["captures"] == 2 and "Volcano Engine (Volcengine)" in apps["beta"]["third_party_companies"]


def test_rerun_adds_nothing(local_dataset: Path, captures: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in local_dataset.rglob("*.parquet") if "apps" not in p.parts}
    proc = batch(str(captures), "-o", str(local_dataset))
    assert "3 already in the dataset, 1 failed" in proc.stderr  # the failed one is tried again
    after = {p: p.stat().st_mtime_ns for p in local_dataset.rglob("*.parquet") if "apps" not in p.parts}
    assert {p for p in after if not p.name.endswith(".error.parquet")} == {p for p in before if not p.name.endswith(".error.parquet")}
    assert all(after[p] == before[p] for p in before if not p.name.endswith(".error.parquet"))
    assert len(rows(local_dataset, "captures")) == 4


def test_dask_local_cluster_gives_identical_rows(local_dataset: Path, captures: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="pip install 'auditor[dask]'")
    out = tmp_path / "dask"
    proc = batch(str(captures), "-o", str(out), "--dask", "local:2")
    assert proc.returncode == 1, proc.stderr
    for table in ("findings", "destinations", "exchanges"):
        strip = lambda r: tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in r.items()))  # noqa: E731
        assert sorted(map(strip, rows(out, table))) == sorted(map(strip, rows(local_dataset, table))), table
    ignore = {"audited_at"}
    caps = lambda d: sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k not in ignore)) for r in rows(d, "captures"))  # noqa: E731
    assert caps(out) == caps(local_dataset)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(c) for c in text)
    return out


def _descendants(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = _children(p)
        except OSError:
            continue
        seen.extend(kids)
        todo.extend(kids)
    return seen


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_killed_worker_is_retried_without_duplicates(executor: str, tmp_path: Path) -> None:
    if executor == "dask":
        pytest.importorskip("distributed", reason="pip install 'auditor[dask]'")
    many = tmp_path / "many"
    for i in range(24):
        write_flows(many / f"app{i:02d}" / "session.flows", chat_app(i, tracker=True) * 40)
    out = tmp_path / "dataset"
    args = ["--dask", "local:2"] if executor == "dask" else ["-j", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "auditor", "batch", str(many), "-o", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 240
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        if len(list(out.glob("captures/app=*/*.parquet"))) >= 3:
            # Worker processes: the pool's forked children, or Dask's spawned workers; never the
            # multiprocessing helpers (resource tracker, fork server).
            workers = [p for p in _descendants(proc.pid)
                       if not any(h in _cmdline(p) for h in ("resource_tracker", "forkserver", "semaphore_tracker"))]
            workers = [p for p in workers if not _descendants(p)]
            if workers:
                killed = workers[-1]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    _stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, "no worker was running to kill"
    assert proc.returncode == 0, stderr
    caps = rows(out, "captures")
    assert len(caps) == 24 and len({c["app"] for c in caps}) == 24 and all(c["error"] is None for c in caps)
    findings = rows(out, "findings")
    per_app = {}
    for r in findings:
        per_app.setdefault(r["app"], []).append(finding_key(r))
    for app, keys in per_app.items():
        assert len(keys) == len(set(keys)), f"duplicate finding rows for {app}"
    assert sorted(per_app) == sorted(c["app"] for c in caps)
    assert not list(out.rglob("*.tmp-*"))


def test_fsspec_inputs(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from auditor.batch.inputs import Task, plan_inputs
    from auditor.batch.task import audit_task

    local = write_flows(tmp_path / "src" / "delta" / "s.flows", chat_app(5, tracker=True))
    # file:// goes through fsspec's local filesystem, in worker processes too.
    proc = batch(f"file://{tmp_path / 'src'}", "-o", str(tmp_path / "ds1"))
    assert proc.returncode == 0, proc.stderr
    assert [c["app"] for c in rows(tmp_path / "ds1", "captures")] == ["delta"]
    # memory:// lives in this process only: the task runs here.
    mem = fsspec.filesystem("memory")
    mem.pipe("/apps/epsilon/s.flows", local.read_bytes())
    plan = plan_inputs(["memory://apps"])
    assert plan.tasks == [Task("epsilon", "memory://apps/epsilon/s.flows")]
    result = audit_task(plan.tasks[0], str(tmp_path / "ds2"))
    assert result["status"] == "audited"
    a = sorted(finding_key(r) for r in rows(tmp_path / "ds1", "findings"))
    b = sorted(finding_key(r) for r in rows(tmp_path / "ds2", "findings"))
    assert a == b and a


def test_manifest_versions_order_and_changes(tmp_path: Path) -> None:
    v9 = write_flows(tmp_path / "c" / "a.flows", chat_app(1, tracker=False))
    v10 = write_flows(tmp_path / "c" / "b.flows", chat_app(2, tracker=True))
    manifest = tmp_path / "apps.csv"
    manifest.write_text(f"app,version,platform,captures\nzeta,1.10.0,android,{v10}\nzeta,1.9.0,android,{v9}\n")
    out = tmp_path / "ds"
    proc = batch(str(manifest), "-o", str(out), "--report", str(tmp_path / "report.html"))
    assert proc.returncode == 0, proc.stderr
    (app,) = rows(out, "apps")
    assert app["versions"] == ["1.9.0", "1.10.0"] and app["platforms"] == ["android"]
    html = (tmp_path / "report.html").read_text()
    assert "Since 1.9.0" in html and "mcs.volceapplog.com" in html.split("Since 1.9.0", 1)[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/dir"], "auditor: error: /nonexistent/dir: no such file, directory or glob match\n"),
        (["--dask", "local:0", "FIX"], "auditor: error: --dask local:0: expected local:N with N >= 1 worker processes\n"),
        (["--dask", "http://x", "FIX"], "auditor: error: --dask http://x: expected tcp://HOST:PORT (a scheduler) or local:N\n"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    args = [str(FIXTURES / "ai-chat-session.flows") if a == "FIX" else a for a in args]
    proc = batch(*args, "-o", str(tmp_path / "ds"))
    assert proc.returncode == 2 and proc.stderr == message


def test_bad_manifest_and_output_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "apps.csv"
    bad.write_text("name,file\nx,y\n")
    proc = batch(str(bad), "-o", str(tmp_path / "ds"))
    assert proc.returncode == 2
    assert proc.stderr == f"auditor: error: {bad}: a manifest CSV needs the columns app and captures (and optionally version, platform, declarations)\n"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    proc = batch(str(FIXTURES / "ai-chat-session.flows"), "-o", str(busy))
    assert proc.returncode == 2 and "not empty and not an auditor batch dataset" in proc.stderr


def test_query(local_dataset: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "auditor", "query", str(local_dataset),
                           "SELECT app, owner FROM destinations WHERE party = 'third' AND list_contains(data_categories, 'prompt') ORDER BY app, owner",
                           "-f", "csv"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "app,owner" and "beta,Volcano Engine (Volcengine)" in lines
    proc = subprocess.run([sys.executable, "-m", "auditor", "query", str(local_dataset), "SELEC nonsense"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("auditor: error: SQL: ") and proc.stderr.count("\n") == 1



def test_cross_app_report_is_screenshot_tested(local_dataset: Path, tmp_path: Path) -> None:
    from conftest import need

    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    report = tmp_path / "batch.html"
    proc = subprocess.run([sys.executable, "-m", "auditor", "batch-report", str(local_dataset), "-o", str(report)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            for width in (390, 1280):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(report.as_uri())
                ids = page.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
                assert ids == ["ranking", "prevalence", "shared", "apps", "failed"]
                ranked = page.eval_on_selector_all("#ranking tbody tr td:first-child", "els => els.map(e => e.textContent)")
                # Both apps whose prompts reached analytics rank before the one with nothing audited.
                assert set(ranked[:2]) == {"alpha", "beta"} and ranked[2] == "gamma"
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"horizontal scroll at {width} px"
                small = [(t, h) for t, h in page.evaluate(TEXT_HEIGHTS, "body") if h < 11]
                assert not small, f"text under 11 px at {width} px: {small[:5]}"
                if width == 1280:
                    page.screenshot(path=str(ROOT / "docs" / "batch-report.png"), full_page=True)
                page.close()
        finally:
            browser.close()
