from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from mitmproxy.io import FlowReader, FlowWriter
from mitmproxy.test import tflow

from auditor.io.capture import CaptureError, open_capture
from auditor.io.flowfile import iter_flow_states, read_flowfile, state_to_exchange


def _flows(n: int) -> list:
    out = []
    for i in range(n):
        f = tflow.tflow(resp=True)
        f.request.host = f"h{i}.example.com"
        f.request.headers["host"] = f"h{i}.example.com"
        f.request.path = f"/p/{i}?q={i}"
        f.request.content = f'{{"n": {i}}}'.encode()
        out.append(f)
    return out


def _write(flows: list) -> bytes:
    buf = io.BytesIO()
    w = FlowWriter(buf)
    for f in flows:
        w.add(f)
    return buf.getvalue()


def _read(data: bytes) -> tuple[list, list[str]]:
    warnings: list[str] = []
    return list(read_flowfile(data, "t.flows", 0, warnings.append)), warnings


def test_reads_what_mitmproxy_wrote() -> None:
    flows = _flows(3)
    exs, warnings = _read(_write(flows))
    assert warnings == []
    assert [e.index for e in exs] == [0, 1, 2]
    for f, e in zip(flows, exs, strict=False):
        assert e.id == f.id
        assert e.method == f.request.method
        assert e.url == f.request.url
        assert e.request_body == f.request.content
        assert e.status == f.response.status_code
        assert e.response_body == f.response.content
        assert e.request_headers == [(k, v) for k, v in f.request.headers.items(multi=True)]


def test_same_exchanges_as_flowreader(peer: Path) -> None:
    data = (peer / "flows" / "successful_log.mitm").read_bytes()
    ours, warnings = _read(data)
    theirs = list(FlowReader(io.BytesIO(data)).stream())
    assert warnings == []
    assert [(e.method, e.url, e.status) for e in ours] == [
        (f.request.method, f.request.pretty_url, f.response.status_code if f.response else None) for f in theirs
    ]


def test_gzip_body_is_decoded() -> None:
    f = tflow.tflow(resp=True)
    f.request.headers["content-encoding"] = "gzip"
    f.request.raw_content = gzip.compress(b'{"email": "a@b.org"}')
    (ex,), _ = _read(_write([f]))
    assert ex.request_body == b'{"email": "a@b.org"}'
    assert ex.body_errors == []


def test_truncated_file_keeps_the_readable_flows() -> None:
    data = _write(_flows(4))
    cut = data[: len(data) - 40]
    exs, warnings = _read(cut)
    assert [e.host for e in exs] == ["h0.example.com", "h1.example.com", "h2.example.com"]
    assert len(warnings) == 1 and "3 flow(s) read" in warnings[0] and "damaged" in warnings[0]


def test_garbage_in_the_middle_is_skipped() -> None:
    one = _write(_flows(2))
    two = _write(_flows(5)[2:])
    garbage = b"\x00\xffGARBAGE 12:not a flow} 99999:" + bytes(range(256))
    exs, warnings = _read(one + garbage + two)
    assert [e.host for e in exs] == [f"h{i}.example.com" for i in range(5)]
    assert [e.index for e in exs] == [0, 1, 2, 3, 4]
    assert len(warnings) == 1
    assert f"({len(garbage):,} bytes)" in warnings[0] and "5 flow(s) read" in warnings[0]


def test_damaged_start_of_a_flow() -> None:
    data = _write(_flows(3))
    first_len = len(_write(_flows(1)))
    broken = data[:first_len] + b"XX" + data[first_len + 2 :]  # clobber flow 2's length prefix
    exs, warnings = _read(broken)
    assert [e.host for e in exs] == ["h0.example.com", "h2.example.com"]
    assert "2 flow(s) read" in warnings[0]


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "x.flows"
    p.write_bytes(b"123:5:hello," + b"z" * 500)
    cap = open_capture(p)
    with pytest.raises(CaptureError, match="no readable flow"):
        list(cap.exchanges)


def test_websocket_messages_and_direction() -> None:
    f = tflow.twebsocketflow()
    (ex,), _ = _read(_write([f]))
    assert ex.scheme in ("ws", "wss")
    assert [(m.from_client, m.is_text, m.content) for m in ex.websocket] == [
        (True, False, b"hello binary"),
        (True, True, b"hello text"),
        (False, True, b"it's me"),
    ]


def test_non_http_flows_are_counted_not_analysed() -> None:
    data = _write([tflow.ttcpflow(), tflow.tflow(resp=True)])
    exs, warnings = _read(data)
    assert len(exs) == 1
    assert warnings == ["t.flows: non-HTTP flows not analysed (1 tcp)"]


def test_unsupported_old_format_is_one_clear_error(peer: Path) -> None:
    cap = open_capture(peer / "dumpfile-010.mitm")
    with pytest.raises(CaptureError) as e:
        list(cap.exchanges)
    msg = str(e.value)
    assert "\n" not in msg and "unsupported mitmproxy flow format" in msg and "(0, 10)" in msg


@pytest.mark.parametrize(
    "name",
    [
        "dumpfile-011.mitm",
        "dumpfile-018.mitm",
        "dumpfile-019.mitm",
        "dumpfile-10.mitm",
        "dumpfile-19.mitm",
        "dumpfile-7-websocket.mitm",
        "dumpfile-7.mitm",
        "flows/corrupted_gzip_body.mitm",
        "flows/diff_data.mitm",
        "flows/error_log.mitm",
        "flows/event_stream.mitm",
        "flows/incomplete_log.mitm",
        "flows/successful_log.mitm",
        "flows/websocket.mitm",
    ],
)
def test_peer_flow_files_read_like_mitmproxy(peer: Path, name: str) -> None:
    data = (peer / name).read_bytes()
    theirs = [f for f in FlowReader(io.BytesIO(data)).stream() if f.type == "http"]
    warnings: list[str] = []
    ours = list(read_flowfile(data, name, 0, warnings.append))
    assert [(e.method, e.host, e.path) for e in ours] == [
        (f.request.method, f.request.pretty_host.lower(), f.request.path) for f in theirs
    ]
    assert not any("damaged" in w for w in warnings)


def test_state_to_exchange_ignores_other_types() -> None:
    assert state_to_exchange({"type": "dns"}, 0, 0) is None


def test_states_are_migrated() -> None:
    states = list(iter_flow_states(_write(_flows(1)), "t", print))
    assert states[0]["type"] == "http" and isinstance(states[0]["version"], int)
