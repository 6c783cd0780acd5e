"""The page events file is written by a hostile page: reading it checks and bounds everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.models import Exchange
from auditor.page.detect import analyze
from auditor.page.events import MAX_TEXT, PageEvents, PageEventsError, parse_event, read_events


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    good = json.dumps({"t": 2.0, "type": "canvas_fingerprint", "source": "page", "script": "https://a.test/x.js", "detail": {"api": "x", "calls": 1}})
    session = json.dumps({"t": 1.0, "type": "session", "source": "driver", "detail": {"url": "https://chat.a.test/", "canary": "abcdefghijkl", "prompts": ["hi there"]}})
    path = _write(tmp_path / "page-events.jsonl", [
        good, session, "not json", "[1, 2]", json.dumps({"t": "soon", "type": "session", "source": "driver"}),
        json.dumps({"t": 3, "type": "run_shell", "source": "page"}), json.dumps({"t": 3, "type": "session", "source": "page"}),
        "{" * 100_000, json.dumps({"t": 4, "type": "cookie_write", "source": "page", "detail": {"name": "x" * 10_000, "nested": {"a": 1}}}),
    ])
    events = read_events(path)
    assert [e.type for e in events.events] == ["session", "canvas_fingerprint", "cookie_write"]  # sorted by time
    assert events.skipped == 6
    assert events.warnings == ["page-events.jsonl: 6 line(s) that are not page events were skipped"]
    assert events.session()["canary"] == "abcdefghijkl" and events.site() == "chat.a.test"
    cookie = events.events[-1]
    assert len(cookie.detail["name"]) == MAX_TEXT and "nested" not in cookie.detail


def test_a_file_with_no_events_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PageEventsError, match="no page events in it"):
        read_events(_write(tmp_path / "x.jsonl", ["hello", "{}"]))
    with pytest.raises(PageEventsError, match="cannot read page events"):
        read_events(tmp_path / "missing.jsonl")


def test_parse_event_rejects_wrong_shapes() -> None:
    assert parse_event({"t": True, "type": "session", "source": "driver"}) is None
    assert parse_event({"t": 1, "type": "submit", "source": "page"}) is None
    assert parse_event({"t": 1, "type": "font_probe"}, "page") is not None


def _ex(index: int, url_path: str, body: bytes = b"", ts: float = 100.0, host: str = "t.trk.test", resp_headers: list[tuple[str, str]] | None = None) -> Exchange:
    return Exchange(capture=0, index=index, id=str(index), method="POST" if body else "GET", scheme="https", host=host, port=443,
                    path=url_path, request_body=body, request_headers=[("content-type", "text/plain")], timestamp=ts,
                    response_headers=resp_headers or [], status=200)


def test_keylogging_needs_the_canary_or_a_prompt_before_its_submit() -> None:
    events = PageEvents()
    session = parse_event({"t": 1000.0, "type": "session", "source": "driver", "detail": {"url": "https://chat.site.test/", "canary": "qwertzuiopas", "prompts": ["tell me about lisbon trams"]}})
    submit = parse_event({"t": 200_000.0, "type": "submit", "source": "driver", "detail": {"prompt": 0}})
    assert session and submit
    events.events = [session, submit]
    exchanges = [
        _ex(0, "/", host="chat.site.test"),
        _ex(1, "/k", b'{"v":"qwertz"}', ts=150.0),  # the first 6 letters of the canary
        _ex(2, "/k", b'{"v":"tell me about l"}', ts=199.0),  # 12 letters of the prompt, 1 s before submit
        _ex(3, "/api/chat", b'{"v":"tell me about lisbon trams"}', ts=201.0, host="chat.site.test"),  # after submit
        _ex(4, "/k", b'{"v":"qwert"}', ts=150.0, host="other.trk.test"),  # 5 letters: not enough
    ]
    page = analyze(events, exchanges, {"destinations": []})
    found = sorted((d["kind"], d["host"], d["flow"]["index"]) for d in page["detections"])
    assert found == [("canary", "t.trk.test", 1), ("prompt_before_submit", "t.trk.test", 2)]
    assert page["site"] == "chat.site.test" and page["summary"]["keylogging"] == 2
    assert all("qwertz" not in json.dumps(d) for d in page["detections"])


def test_first_party_cookies_and_plain_bodies_are_not_detections() -> None:
    events = PageEvents()
    session = parse_event({"t": 0.0, "type": "session", "source": "driver", "detail": {"url": "https://chat.site.test/"}})
    write = parse_event({"t": 1.0, "type": "cookie_write", "source": "page", "script": "https://chat.site.test/app.js", "detail": {"name": "theme"}})
    assert session and write
    events.events = [session, write]
    exchanges = [
        _ex(0, "/", host="chat.site.test", resp_headers=[("Set-Cookie", "sid=1; Secure")]),
        _ex(1, "/log", b'[{"type": 9, "timestamp": 1, "data": {}}]'),  # not an rrweb type
    ]
    page = analyze(events, exchanges, {"destinations": []})
    assert page["detections"] == []


def test_policy_keys_for_page_behaviours() -> None:
    from auditor.gate import PolicyError, parse_policy, run_check

    pol = parse_policy("version: 1\nrules:\n  - id: k\n    deny: {keylogging: true, party: third}\n    allow: {hosts: ['ok.test']}\n")
    (rule,) = pol.rules
    assert rule.deny.behaviours == frozenset({"keylogging"})
    assert rule.deny.describe() == "party: third; keylogging: true"
    with pytest.raises(PolicyError, match=r"deny\.pixels: only 'true' means something here"):
        parse_policy("version: 1\nrules:\n  - id: p\n    deny: {pixels: false}\n")
    doc = {
        "captures": [{"path": "capture.flows"}],
        "destinations": [{"host": "t.test", "party": "third"}, {"host": "ok.test", "party": "third"}],
        "findings": [{"host": "t.test", "category": "email", "location": {"part": "request.body", "path": "e"}, "flow": {"capture": 0, "index": 1}}],
        "page": {"detections": [
            {"behaviour": "keylogging", "kind": "canary", "host": "t.test", "party": "third", "detail": "x", "flow": {"capture": 0, "index": 2}},
            {"behaviour": "keylogging", "kind": "canary", "host": "ok.test", "party": "third", "detail": "x"},
            {"behaviour": "keylogging", "kind": "canary", "host": "chat.test", "party": "first", "detail": "x"},
            {"behaviour": "pixels", "kind": "meta_pixel", "host": "t.test", "party": "third", "detail": "x"},
        ]},
    }
    (result,) = run_check(pol, doc).rules
    # Only the third-party keylogging outside the allowed host; the email finding is not a page behaviour.
    assert [(v.finding["host"], v.finding["category"], v.request_ref) for v in result.violations] == [("t.test", "page:keylogging", "capture.flows#2")]
    findings_rule = parse_policy("version: 1\nrules:\n  - id: f\n    deny: {party: third}\n")
    (result,) = run_check(findings_rule, doc).rules
    assert [v.finding["category"] for v in result.violations] == ["email"]


def test_page_detections_are_key_findings() -> None:
    from auditor.renderers.keyfindings import FindingStats, key_findings
    from auditor.renderers.view import label

    doc = {
        "destinations": [],
        "captures": [],
        "page": {"detections": [
            {"behaviour": "keylogging", "kind": "canary", "host": "t.test", "party": "third", "owner": None, "country": None, "detail": "text typed into the chat box and never submitted was sent"},
            {"behaviour": "pixels", "kind": "meta_pixel", "host": "www.facebook.com", "party": "third", "owner": "Meta Platforms, Inc.", "country": "US", "detail": "Meta Pixel event PageView"},
            {"behaviour": "fingerprinting", "kind": "canvas", "host": "chat.test", "party": "first", "detail": "HTMLCanvasElement.toDataURL"},
        ]},
    }
    (page,) = [k for k in key_findings(doc, FindingStats(), label) if k.kind == "page"]
    assert [(i.text, i.anchor) for i in page.items] == [
        ("Keylogging at t.test (owner unknown): text typed into the chat box and never submitted was sent", "page-keylogging"),
        ("Ad pixel by Meta Platforms, Inc. (United States) at www.facebook.com: Meta Pixel event PageView", "page-pixels"),
    ]  # the site's own fingerprinting is in the page section, not a key finding
