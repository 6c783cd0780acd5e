"""The fixture recorder: real clients through a real mitmproxy to a local fake backend.

Everything is checked with mitmproxy's own ``FlowReader``, so the committed fixtures are known
to be readable by the tool that will consume them.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import subprocess
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from mitmproxy import http, io

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "fixtures" / "record.py"

EXPECTED = [
    ("POST", "https", "mcs.volceapplog.com", "/list"),
    ("POST", "https", "chat.deepseek.com", "/api/v0/users/login"),
    ("GET", "https", "chat.deepseek.com", "/api/v0/users/current"),
    ("POST", "https", "events.statsigapi.net", "/v1/rgstr"),
    ("POST", "https", "chat.deepseek.com", "/api/v0/chat_session/create"),
    ("POST", "https", "chat.deepseek.com", "/api/v0/file/upload_file"),
    ("POST", "https", "chat.deepseek.com", "/api/v0/chat/create_pow_challenge"),
    ("POST", "https", "chat.deepseek.com", "/api/v0/chat/completion"),
    ("POST", "https", "mcs.volceapplog.com", "/list"),
    ("POST", "https", "www.google-analytics.com", "/g/collect"),
    ("POST", "https", "api.deepseek.com", "/v1/chat/completions"),
    ("GET", "https", "copilot.microsoft.com", "/c/api/chat"),
    ("POST", "https", "o4504000000000000.ingest.sentry.io", "/api/4504000000000001/envelope/"),
    ("POST", "http", "alog.umeng.com", "/app_logs"),
]


def _load() -> ModuleType:
    name = "fixtures_record_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rec() -> ModuleType:
    return _load()


@pytest.fixture(scope="module")
def recording(rec: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return rec.record_session(tmp_path_factory.mktemp("recording"))


def _read(path: Path) -> list[http.HTTPFlow]:
    with path.open("rb") as fh:
        read = list(io.FlowReader(fh).stream())
    flows = [f for f in read if isinstance(f, http.HTTPFlow)]
    assert len(flows) == len(read)
    return flows


@pytest.fixture(scope="module")
def flows(recording: Any) -> list[http.HTTPFlow]:
    return _read(recording.flows_path)


def _find(flows: list[http.HTTPFlow], host: str, path: str, nth: int = 0) -> http.HTTPFlow:
    matches = [f for f in flows if f.request.host == host and f.request.path.split("?")[0] == path]
    return matches[nth]


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


# -- the recording as a whole ---------------------------------------------------------------


def test_hosts_in_request_order(flows: list[http.HTTPFlow]) -> None:
    seen = [
        (f.request.method, f.request.scheme, f.request.host, f.request.path.split("?")[0])
        for f in flows
    ]
    assert seen == EXPECTED
    assert all(f.response is not None and f.error is None for f in flows)
    assert [f.request.timestamp_start for f in flows] == sorted(
        f.request.timestamp_start for f in flows
    )


def test_every_connection_went_to_the_loopback_backend(
    recording: Any, flows: list[http.HTTPFlow]
) -> None:
    backend = {recording.ports["backend_tls"], recording.ports["backend_plain"]}
    assert recording.upstream_peers
    assert {peer for peer, _ in recording.upstream_peers} == {"127.0.0.1"}
    assert {port for _, port in recording.upstream_peers} <= backend
    for flow in flows:
        assert flow.server_conn.peername is not None
        assert flow.server_conn.peername[0] == "127.0.0.1"
        expected_port = recording.ports[
            "backend_plain" if flow.request.scheme == "http" else "backend_tls"
        ]
        assert flow.server_conn.peername[1] == expected_port
        if flow.request.scheme == "https":
            assert flow.server_conn.sni == flow.request.host  # the real name reached the backend


def test_recording_is_fast(recording: Any) -> None:
    assert recording.seconds < 30


# -- login and session ----------------------------------------------------------------------


def test_login_then_bearer_token_and_session_cookie(
    rec: ModuleType, flows: list[http.HTTPFlow]
) -> None:
    login = _find(flows, "chat.deepseek.com", "/api/v0/users/login")
    sent = json.loads(login.request.content or b"")
    assert sent["email"] == rec.EMAIL and sent["password"] == rec.PASSWORD and sent["device_id"]
    assert login.response is not None
    token = json.loads(login.response.content or b"")["data"]["biz_data"]["user"]["token"]
    assert token.count(".") == 2
    assert rec.SESSION_COOKIE in login.response.cookies

    later = [f for f in flows if f.request.host == "chat.deepseek.com" and f is not login]
    assert len(later) == 5
    for flow in later:
        assert flow.request.headers["Authorization"] == f"Bearer {token}"
        assert flow.request.cookies[rec.SESSION_COOKIE] == rec.SESSION_COOKIE_VALUE


def test_curl_made_a_request(flows: list[http.HTTPFlow]) -> None:
    curl = [f for f in flows if f.request.headers.get("User-Agent", "").startswith("curl/")]
    assert [f.request.path.split("?")[0] for f in curl] == ["/api/v0/users/current"]
    ga = _find(flows, "www.google-analytics.com", "/g/collect")
    assert ga.request.headers["User-Agent"].startswith("Mozilla/")  # curl with a browser UA


# -- streams --------------------------------------------------------------------------------


def test_sse_body_stored_complete(rec: ModuleType, flows: list[http.HTTPFlow]) -> None:
    chat = _find(flows, "chat.deepseek.com", "/api/v0/chat/completion")
    prompt = json.loads(chat.request.content or b"")["prompt"]
    assert rec.PHONE in prompt and rec.EMAIL in prompt
    assert chat.response is not None
    assert chat.response.headers["Content-Type"].startswith("text/event-stream")
    body = (chat.response.content or b"").decode()
    events = [block for block in body.split("\n\n") if block]
    assert len(events) == 11
    assert events[0].startswith("event: ready")
    assert events[-1].startswith("event: close")
    text = "".join(json.loads(block.removeprefix("data: "))["v"] for block in events[2:8])
    assert text.startswith("Dear landlord") and text.endswith("Jane Doe")

    api = _find(flows, "api.deepseek.com", "/v1/chat/completions")
    sent = json.loads(api.request.content or b"")
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert sent["stream"] is True
    assert api.request.headers["Authorization"] == f"Bearer {rec.API_KEY}"
    assert api.response is not None
    assert (api.response.content or b"").rstrip().endswith(b"data: [DONE]")


def test_clients_received_streams_incrementally(rec: ModuleType, recording: Any) -> None:
    # The backend pauses STREAM_DELAY between events. A proxy that buffered the stream would
    # hand everything over at once: first and last chunk would arrive together.
    for name in ("chat.deepseek.com", "api.deepseek.com"):
        timing = recording.streams[name]
        assert timing.chunks >= 5, name
        assert timing.spread >= 3 * rec.STREAM_DELAY, (name, timing)
        assert timing.first_chunk < timing.last_chunk - 3 * rec.STREAM_DELAY, (name, timing)


def test_buffering_proxy_is_detected(rec: ModuleType, tmp_path: Path) -> None:
    """The negative control for the test above: without streaming, the spread collapses."""
    buffered = rec.record_session(tmp_path, stream_sse=False)
    timing = buffered.streams["api.deepseek.com"]
    assert timing.spread < rec.STREAM_DELAY
    assert buffered.streams["chat.deepseek.com"].spread < rec.STREAM_DELAY


# -- WebSocket ------------------------------------------------------------------------------


def test_websocket_messages_both_directions(rec: ModuleType, flows: list[http.HTTPFlow]) -> None:
    ws = _find(flows, "copilot.microsoft.com", "/c/api/chat")
    assert ws.response is not None and ws.response.status_code == 101
    assert ws.websocket is not None
    sent = [json.loads(m.text) for m in ws.websocket.messages if m.from_client]
    received = [json.loads(m.text) for m in ws.websocket.messages if not m.from_client]
    assert [m["event"] for m in sent] == ["setOptions", "send"]
    assert sent[1]["content"] == [{"type": "text", "text": rec.COPILOT_PROMPT}]
    assert len(received) >= 5
    assert received[-1]["event"] == "done"
    assert "accessToken" in parse_qs(urlsplit(ws.request.url).query)


# -- bodies ---------------------------------------------------------------------------------


def test_upload_is_multipart_with_a_file_part(rec: ModuleType, flows: list[http.HTTPFlow]) -> None:
    upload = _find(flows, "chat.deepseek.com", "/api/v0/file/upload_file")
    content_type = upload.request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + (upload.request.content or b"")
    )
    parts = list(message.iter_parts())
    assert len(parts) == 1
    assert parts[0].get_filename() == rec.FILE_NAME
    assert parts[0].get_content_type() == "image/png"
    assert parts[0].get_payload(decode=True) == rec.PNG_BYTES
    # Not ``request.multipart_form``: mitmproxy's decoder splits parts with splitlines() and
    # drops every CR/LF byte of a binary file (the PNG signature itself contains "\r\n").


@pytest.mark.parametrize(
    ("host", "path", "nth", "encoding"),
    [
        ("mcs.volceapplog.com", "/list", 0, "zstd"),
        ("events.statsigapi.net", "/v1/rgstr", 0, "gzip"),
        ("o4504000000000000.ingest.sentry.io", "/api/4504000000000001/envelope/", 0, "br"),
    ],
)
def test_compressed_request_bodies(
    flows: list[http.HTTPFlow], host: str, path: str, nth: int, encoding: str
) -> None:
    flow = _find(flows, host, path, nth)
    assert flow.request.headers["Content-Encoding"] == encoding
    raw, decoded = flow.request.raw_content or b"", flow.request.content or b""
    assert raw and raw != decoded
    assert decoded.lstrip().startswith(b"{")


def test_analytics_payloads(rec: ModuleType, flows: list[http.HTTPFlow]) -> None:
    applog = _find(flows, "mcs.volceapplog.com", "/list", 1)
    batch = json.loads(applog.request.content or b"")
    params = json.loads(batch["event_v3"][0]["params"])  # a JSON string inside JSON
    assert isinstance(batch["event_v3"][0]["params"], str)
    assert params["prompt_text"] == rec.PROMPT
    assert batch["header"]["device_id"] == rec.DEVICE_ID
    assert batch["header"]["device_model"]

    statsig = json.loads(_find(flows, "events.statsigapi.net", "/v1/rgstr").request.content or b"")
    assert statsig["events"][0]["user"]["email"] == rec.EMAIL

    ga = _find(flows, "www.google-analytics.com", "/g/collect")
    query = dict(ga.request.query.items())
    assert query["tid"] == rec.GA_MEASUREMENT_ID and query["cid"] and query["en"] == "page_view"
    assert ga.response is not None and ga.response.status_code == 204

    sentry = _find(flows, "o4504000000000000.ingest.sentry.io", "/api/4504000000000001/envelope/")
    header, item, payload = (sentry.request.content or b"").split(b"\n")[:3]
    assert json.loads(header)["event_id"] == rec.SENTRY_EVENT_ID
    assert json.loads(item)["length"] == len(payload)
    assert json.loads(payload)["user"]["email"] == rec.EMAIL

    umeng = _find(flows, "alog.umeng.com", "/app_logs")
    assert umeng.request.scheme == "http"
    form = umeng.request.urlencoded_form
    assert form["android_id"] == rec.ANDROID_ID
    assert form["device_model"] and form["os_version"]


def test_compressed_responses(flows: list[http.HTTPFlow]) -> None:
    session = _find(flows, "chat.deepseek.com", "/api/v0/chat_session/create")
    profile = _find(flows, "chat.deepseek.com", "/api/v0/users/current")
    for flow, encoding in ((session, "gzip"), (profile, "zstd")):
        assert flow.response is not None
        assert flow.response.headers["Content-Encoding"] == encoding
        assert flow.response.raw_content != flow.response.content
        assert json.loads(flow.response.content or b"")["code"] == 0


# -- HAR ------------------------------------------------------------------------------------


def test_har_has_the_same_entries(recording: Any, flows: list[http.HTTPFlow]) -> None:
    har = json.loads(recording.har_path.read_text(encoding="utf-8"))
    entries = har["log"]["entries"]
    assert len(entries) == len(flows) == recording.har_entries
    assert [e["request"]["url"] for e in entries] == [f.request.pretty_url for f in flows]
    ws = next(e for e in entries if e.get("_resourceType") == "websocket")
    kinds = {m["type"] for m in ws["_webSocketMessages"]}
    assert kinds == {"send", "receive"}
    assert all(m["opcode"] == 1 and isinstance(m["time"], float) for m in ws["_webSocketMessages"])


# -- fail closed, clean shutdown, CLI -------------------------------------------------------


def test_unknown_host_gets_502_from_the_backend(rec: ModuleType, tmp_path: Path) -> None:
    import httpx

    async def run() -> tuple[list[int], list[tuple[str, int]], dict[str, int]]:
        async with rec.ProxyStack(tmp_path / "unknown.flows") as stack:
            statuses = []
            async with httpx.AsyncClient(
                proxy=stack.proxy_url, verify=stack.client_ssl_context(), trust_env=False
            ) as client:
                for url in ("https://unknown.example.net/api", "http://unknown.example.net/api"):
                    response = await stack.one_flow(client.get(url))
                    statuses.append(response.status_code)
            return statuses, list(stack.addon.upstream_peers), stack.ports

    statuses, peers, ports = asyncio.run(run())
    assert statuses == [502, 502]
    assert {peer for peer, _ in peers} == {"127.0.0.1"}
    assert {port for _, port in peers} == {ports["backend_tls"], ports["backend_plain"]}


def test_record_api_and_clean_shutdown(rec: ModuleType, recording: Any, tmp_path: Path) -> None:
    # The module fixture already recorded once in this process: this is the second run.
    threads_before = {t.ident for t in threading.enumerate()}
    flows_path, har_path = rec.record(tmp_path, "again")
    assert (flows_path, har_path) == (tmp_path / "again.flows", tmp_path / "again.har")
    assert flows_path.stat().st_size > 0 and har_path.stat().st_size > 0
    assert not list(tmp_path.glob(".*partial"))
    assert {t.ident for t in threading.enumerate()} == threads_before
    for port in recording.ports.values():
        assert _port_is_closed(port)


def test_cli_failure_is_one_line_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(blocker / "sub")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("record: error:")


def test_committed_fixtures_are_readable() -> None:
    flows_path = ROOT / "fixtures" / "ai-chat-session.flows"
    har_path = ROOT / "fixtures" / "ai-chat-session.har"
    committed = _read(flows_path)
    seen = [
        (f.request.method, f.request.scheme, f.request.host, f.request.path.split("?")[0])
        for f in committed
    ]
    assert seen == EXPECTED
    assert len(json.loads(har_path.read_text(encoding="utf-8"))["log"]["entries"]) == len(committed)
