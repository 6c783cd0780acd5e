from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from auditor.io.capture import CaptureError, open_capture
from auditor.io.har import entry_to_exchange, load_har, read_har


def _entry(**request: object) -> dict:
    req = {"method": "POST", "url": "https://api.example.com/v1/x?a=1", "httpVersion": "HTTP/1.1", "headers": []}
    req.update(request)
    return {
        "startedDateTime": "2026-01-02T03:04:05.000Z",
        "time": 12,
        "request": req,
        "response": {"status": 200, "httpVersion": "HTTP/1.1", "headers": [], "content": {"size": 0, "text": ""}},
    }


def test_post_data_text_and_pseudo_headers_dropped() -> None:
    e = _entry(
        headers=[{"name": ":authority", "value": "api.example.com"}, {"name": "content-type", "value": "application/json"}],
        postData={"mimeType": "application/json", "text": '{"prompt": "hi"}'},
    )
    ex = entry_to_exchange(e, 0, 7)
    assert (ex.index, ex.method, ex.host, ex.port, ex.path) == (7, "POST", "api.example.com", 443, "/v1/x?a=1")
    assert ex.request_headers == [("content-type", "application/json")]
    assert ex.request_body == b'{"prompt": "hi"}'
    assert ex.timestamp == 1767323045.0


def test_post_data_params_become_a_form_body() -> None:
    e = _entry(postData={"mimeType": "application/x-www-form-urlencoded", "params": [
        {"name": "email", "value": "jane@example.org"}, {"name": "file", "fileName": "cv.pdf"}]})
    assert entry_to_exchange(e, 0, 0).request_body == b"email=jane%40example.org&file=cv.pdf"


def test_base64_response_content() -> None:
    e = _entry()
    e["response"]["content"] = {"text": base64.b64encode(b"\x89PNG\x00\x01").decode(), "encoding": "base64"}
    assert entry_to_exchange(e, 0, 0).response_body == b"\x89PNG\x00\x01"


def test_har_bodies_are_taken_as_decoded_despite_content_encoding() -> None:
    e = _entry()
    e["response"]["headers"] = [{"name": "Content-Encoding", "value": "gzip"}]
    e["response"]["content"] = {"text": '{"ok": true}'}
    ex = entry_to_exchange(e, 0, 0)
    assert ex.response_body == b'{"ok": true}' and ex.body_errors == []


def test_cookies_array_without_cookie_header() -> None:
    e = _entry(cookies=[{"name": "sid", "value": "abc123456"}])
    assert entry_to_exchange(e, 0, 0).cookies == [("sid", "abc123456")]


def test_chrome_websocket_messages() -> None:
    e = _entry(url="https://chat.example.com/ws")
    e["_webSocketMessages"] = [
        {"type": "send", "time": 1.5, "opcode": 1, "data": '{"event":"send"}'},
        {"type": "receive", "time": 2.5, "opcode": 2, "data": base64.b64encode(b"\x00\x01").decode()},
    ]
    ex = entry_to_exchange(e, 0, 0)
    assert ex.scheme == "wss"
    assert [(m.from_client, m.is_text, m.content) for m in ex.websocket] == [
        (True, True, b'{"event":"send"}'),
        (False, False, b"\x00\x01"),
    ]


def test_malformed_entries_are_skipped_with_one_warning() -> None:
    doc = {"log": {"entries": [_entry(), {"request": {"url": "not a url"}}, 5, _entry()]}}
    warnings: list[str] = []
    exs = list(read_har(json.dumps(doc).encode(), "x.har", 0, warnings.append))
    assert [e.index for e in exs] == [0, 1]
    assert warnings == ["x.har: 2 malformed HAR entries skipped (entry has no absolute URL: 'not a url')"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b'{"log": ', "not a valid HAR file: invalid JSON at line 1 column 9"),
        (b'{"nolog": 1}', 'not a valid HAR file: no "log" object'),
        (b'{"log": {"entries": 3}}', 'not a valid HAR file: "log.entries" is not a list'),
        (b'{"log": "\xff\xfe"}', "not a valid HAR file: not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "not a valid HAR file"),
    ],
)
def test_broken_har_gives_one_clear_message(data: bytes, message: str) -> None:
    from auditor.io.har import HarError

    with pytest.raises(HarError) as e:
        load_har(data)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "name, count, ws",
    [
        ("har_files/charles.har", 1, 0),
        ("har_files/chrome.har", 3, 0),
        ("har_files/firefox.har", 14, 0),
        ("har_files/head-content-length.har", 1, 0),
        ("har_files/insomnia.har", 1, 0),
        ("har_files/postdata.har", 1, 0),
        ("har_files/safari.har", 19, 0),
        ("har_files/with-bom.har", 1, 0),
        ("flows/websocket.har", 3, 5),
        ("flows/compressed.zhar", 2, 0),
        ("flows/event_stream.har", 2, 0),
        ("flows/corrupted_gzip_body.har", 1, 0),
    ],
)
def test_peer_har_files(peer: Path, name: str, count: int, ws: int) -> None:
    warnings: list[str] = []
    cap = open_capture(peer / name, warn=warnings.append)
    exs = list(cap.exchanges)
    assert cap.info.format == "har"
    assert len(exs) == count and sum(len(e.websocket) for e in exs) == ws
    assert warnings == []


@pytest.mark.parametrize("name", ["corrupted_har/brokenfile.har", "corrupted_har/broken_headers.json", "har_extractor.har"])
def test_peer_broken_har_files(peer: Path, name: str) -> None:
    cap = open_capture(peer / name)
    with pytest.raises(CaptureError) as e:
        list(cap.exchanges)
    assert "not a valid HAR file" in str(e.value) and "\n" not in str(e.value)
