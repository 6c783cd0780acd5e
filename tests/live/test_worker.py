"""The live analysis and its process: frames, the child's loop, the proxy's side, deaths."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow
from support.flows import read_flows as _read

from auditor import worker
from auditor.live import CaptureFile, tnetstring_dumps
from auditor.worker import Analysis, ProcessEngine, read_frame, serve, write_frame


def _flow(host: str, body: dict[str, Any], path: str = "/v1/chat/completions") -> http.HTTPFlow:
    f = tflow.tflow(resp=True)
    f.request.host = host
    f.request.headers["host"] = host
    f.request.method = "POST"
    f.request.path = path
    f.request.content = json.dumps(body).encode()
    return f


PROMPT = {"messages": [{"role": "user", "content": "My email is jane.doe@example.org, draft a reply"}]}


def _states(n: int, host: str = "api.openai.com") -> list[dict[str, Any]]:
    return [_flow(host, PROMPT, f"/v1/chat/completions?n={i}").get_state() for i in range(n)]


class Collected:
    def __init__(self) -> None:
        self.marks: list[tuple[int, str, str]] = []
        self.updates: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, marks: list[Any], updates: list[dict[str, Any]]) -> None:
        with self.lock:
            self.marks.extend(tuple(m) for m in marks)
            self.updates.extend(updates)


def test_frames_round_trip_and_stop_at_a_cut() -> None:
    buf = io.BytesIO()
    write_frame(buf, ("flows", [(0, {"a": b"\x00", "b": [1.5, None, True]}, 10)]))
    write_frame(buf, ("sync", 7))
    data = buf.getvalue()
    inp = io.BytesIO(data)
    assert read_frame(inp) == ("flows", [(0, {"a": b"\x00", "b": [1.5, None, True]}, 10)])
    assert read_frame(inp) == ("sync", 7)
    assert read_frame(inp) is None
    assert read_frame(io.BytesIO(data[:-2])) is not None  # the first frame is whole
    cut = io.BytesIO(data[: len(data) - 3])
    read_frame(cut)
    assert read_frame(cut) is None  # a frame cut short is the end, not an error


def test_analysis_marks_and_summarises(tmp_path: Path) -> None:
    a = Analysis(str(tmp_path / "capture.flows"))
    mark, updates = a.add(0, _flow("api.openai.com", PROMPT).get_state())
    assert mark == (0, ":warning:", "auditor: email, prompt -> api.openai.com (US)")
    assert [(u["host"], u["owner"], u["country"], u["categories"]) for u in updates] == [
        ("api.openai.com", "OpenAI OpCo, LLC", "US", ["email", "prompt"])
    ]
    # the same categories again: no new summary
    assert a.add(1, _flow("api.openai.com", PROMPT).get_state())[1] == []
    assert a.add(2, _flow("api.openai.com", {"n": 1}).get_state()) == (None, [])
    a.close()
    assert len(_read(tmp_path / "capture.flows")) == 3
    assert a.document()["summary"]["exchanges"] == 3


def test_analysis_summarises_hosts_traced_back_and_survives_an_unmatched_first_party(tmp_path: Path) -> None:
    a = Analysis(str(tmp_path / "capture.flows"))
    a.configure(False, ["Examplecorp"])
    copy = {"events": [{"eventName": "send", "metadata": {"label": PROMPT["messages"][0]["content"]}}]}
    assert "prompt" not in a.add(0, _flow("events.statsigapi.net", copy).get_state())[1][0]["categories"]
    _, updates = a.add(1, _flow("api.openai.com", PROMPT).get_state())
    # the prompt registered now is found in the earlier analytics event: its summary is sent again
    assert [(u["host"], u["categories"]) for u in updates] == [
        ("api.openai.com", ["email", "prompt"]), ("events.statsigapi.net", ["email", "prompt", "usage_event"])]
    a.close()
    doc = a.document()
    assert doc["first_party"]["method"] == "none"
    assert doc["captures"][0]["warnings"][-1].startswith("--first-party 'Examplecorp' matches no host, domain or owner")


def test_serve_answers_in_order(tmp_path: Path) -> None:
    inp, out = io.BytesIO(), io.BytesIO()
    write_frame(inp, ("start", {"capture": str(tmp_path / "c.flows"), "append": False, "reveal": False, "first_party": []}))
    write_frame(inp, ("flows", [(i, s, 100) for i, s in enumerate(_states(3))]))
    write_frame(inp, ("opaque", ("pinned.example.com", "client refused the certificate")))
    write_frame(inp, ("sync", 1))
    write_frame(inp, ("close", 2))
    inp.seek(0)
    assert serve(inp, out) == 0
    out.seek(0)
    done = read_frame(out)
    assert done[0] == "done"
    n, size, marks, updates = done[1]
    assert (n, size) == (3, 300)
    assert [m[0] for m in marks] == [0, 1, 2]
    assert [u["host"] for u in updates] == ["api.openai.com"]
    assert read_frame(out) == ("done", (0, 0, [], [read_frame_summary("pinned.example.com")]))
    assert read_frame(out) == ("reply", (1, None))
    kind, (token, doc) = read_frame(out)
    assert (kind, token) == ("reply", 2)
    assert doc["summary"]["exchanges"] == 3
    assert {d["host"]: d["opaque"] for d in doc["destinations"]} == {"api.openai.com": False, "pinned.example.com": True}
    assert read_frame(out) is None


def read_frame_summary(host: str) -> dict[str, Any]:
    return {"host": host, "owner": None, "country": None, "categories": [], "exchanges": 0, "opaque": True}


def test_capture_appends_after_the_last_complete_flow(tmp_path: Path) -> None:
    path = tmp_path / "capture.flows"
    first, second = (tnetstring_dumps(s) for s in _states(2))
    path.write_bytes(first + second[:-40])  # a process died in the middle of the second flow
    cap = CaptureFile(path, append=True)
    assert cap.write(second)
    cap.close()
    assert path.read_bytes() == first + second
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.e2e
def test_the_process_engine_records_analyses_and_marks(tmp_path: Path) -> None:
    got = Collected()
    capture = tmp_path / "out" / "capture.flows"
    engine = ProcessEngine(str(capture), got)
    assert engine.pid is not None and engine.pid != os.getpid()
    for i, state in enumerate(_states(20)):
        engine.submit(i, state, 1000)
    engine.drain()
    assert engine.backlog() == (0, 0)
    assert sorted(m[0] for m in got.marks) == list(range(20))
    assert {m[2] for m in got.marks} == {"auditor: email, prompt -> api.openai.com (US)"}
    assert engine.document()["summary"]["exchanges"] == 20
    doc = engine.close()
    assert doc["summary"]["exchanges"] == 20
    assert doc["captures"][0]["warnings"] == []
    assert len(_read(capture)) == 20


def _alive(pid: int) -> bool:
    """Running (an exited process its parent has not reaped yet is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _kill_midway(engine: ProcessEngine, states: list[dict[str, Any]], before: int) -> int:
    """Submit ``before`` flows, kill the analysis process, submit the rest; its pid."""
    for i in range(before):
        engine.submit(i, states[i], 1000)
    engine.drain()
    pid = engine.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    for i in range(before, len(states)):
        engine.submit(i, states[i], 1000)
    engine.drain()
    return pid


@pytest.mark.e2e
def test_a_killed_analysis_process_is_replaced_and_the_report_rebuilt(tmp_path: Path) -> None:
    got = Collected()
    capture = tmp_path / "capture.flows"
    engine = ProcessEngine(str(capture), got)
    first = _kill_midway(engine, _states(30), 10)
    assert engine.pid not in (None, first)
    assert engine.backlog() == (0, 0)
    doc = engine.close()
    assert len(_read(capture)) == 30  # the new process appended to the same capture
    assert doc["summary"]["exchanges"] == 30  # rebuilt from the capture
    assert doc["captures"][0]["warnings"] == [
        (
            "live: the report was rebuilt from the capture after the analysis process stopped "
            "(connections the proxy could not see into are not in the capture)"
        ),
        "live: the analysis process stopped 1 time(s) (signal 9); no flow was lost",
    ]


@pytest.mark.e2e
def test_after_too_many_deaths_the_analysis_continues_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "MAX_RESTARTS", 0)
    got = Collected()
    engine = ProcessEngine(str(tmp_path / "capture.flows"), got)
    _kill_midway(engine, _states(6), 1)
    assert engine.pid is None  # no process any more
    assert sorted(m[0] for m in got.marks) == list(range(6))
    doc = engine.close()
    assert doc["summary"]["exchanges"] == 6
    assert len(_read(tmp_path / "capture.flows")) == 6


@pytest.mark.e2e
def test_metadata_that_is_not_plain_data_is_left_out(tmp_path: Path) -> None:
    got = Collected()
    engine = ProcessEngine(str(tmp_path / "capture.flows"), got)
    states = _states(3)
    states[1]["metadata"] = {"odd": object(), "plain": [1, "x"]}  # (another addon could put it there)
    for i, state in enumerate(states):
        engine.submit(i, state, 10)
    engine.drain()
    assert engine.backlog() == (0, 0) and engine.lost == 0
    doc = engine.close()
    assert doc["summary"]["exchanges"] == 3
    flows = _read(tmp_path / "capture.flows")
    assert [f.metadata for f in flows] == [{}, {"plain": [1, "x"]}, {}]


_DYING_PROXY = """
import json, os, signal, sys
from mitmproxy.test import tflow
from auditor.worker import ProcessEngine
engine = ProcessEngine(sys.argv[1], lambda marks, updates: None)
for i in range(5):
    engine.submit(i, tflow.tflow(resp=True).get_state(), 10)
engine.drain()
print(engine.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no clean-up
"""


@pytest.mark.e2e
def test_the_analysis_process_ends_with_the_proxy_and_keeps_the_capture(tmp_path: Path) -> None:
    import subprocess
    import sys

    capture = tmp_path / "capture.flows"
    p = subprocess.run([sys.executable, "-c", _DYING_PROXY, str(capture)], capture_output=True, text=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    pid = int(p.stdout.strip())
    deadline = time.monotonic() + 10
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the analysis process outlived the proxy")
        time.sleep(0.05)
    assert len(_read(capture)) == 5


def _frame(message: Any) -> bytes:
    buf = io.BytesIO()
    write_frame(buf, message)
    return buf.getvalue()


@pytest.mark.e2e
def test_run_by_hand_with_other_input_it_says_so_in_one_line() -> None:
    import subprocess
    import sys

    # (input that ends before a whole frame is simply the end, as when the proxy dies)
    for junk in (b"\x05\x00\x00\x00\x00\x01\x02\x03\x04", _frame(("flows", [])), _frame(("start", "nothing"))):
        p = subprocess.run([sys.executable, "-m", "auditor.worker"], input=junk, capture_output=True, timeout=60)
        assert p.returncode == 2
        lines = p.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("auditor analysis: error: not a message from the auditor addon"), lines
