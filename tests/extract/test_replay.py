"""Session replay: page text and typed input recovered from rrweb event streams, as rrweb,
PostHog and Sentry ship them; a prompt typed into a chat box is a ``prompt.replay`` finding."""

from __future__ import annotations

import gzip
import json
import zlib

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.classifiers import classify
from auditor.extract import replay, walk_exchange, walk_json
from auditor.models import Exchange

PROMPT = "How do I renew my passport before the trip to Lisbon"


def _snapshot() -> dict:
    def el(node_id: int, tag: str, attrs: dict, children: list) -> dict:
        return {"type": 2, "id": node_id, "tagName": tag, "attributes": attrs, "childNodes": children}

    def text(node_id: int, value: str) -> dict:
        return {"type": 3, "id": node_id, "textContent": value}

    body = el(3, "body", {}, [
        el(4, "h1", {}, [text(5, "Welcome back, jane.doe@example.org")]),
        el(6, "textarea", {"placeholder": "Message the assistant", "id": "prompt-textarea"}, []),
        el(7, "input", {"type": "tel", "name": "phone"}, []),
        el(8, "input", {"type": "password", "name": "pw"}, []),
        el(9, "script", {}, [text(10, "var support = 'help@example.com'")]),
        el(11, "div", {"contenteditable": "true", "class": "ProseMirror"}, [el(12, "p", {}, [])]),
        el(13, "input", {"type": "text", "name": "first_name"}, []),
        el(14, "span", {}, [text(15, "**** ****")]),
    ])
    return {"node": {"type": 0, "id": 1, "childNodes": [el(2, "html", {}, [body])]}, "initialOffset": {"top": 0, "left": 0}}


def _input(node_id: int, value: str, ts: int) -> dict:
    return {"type": 3, "data": {"source": 5, "id": node_id, "text": value, "isChecked": False}, "timestamp": ts}


def _events() -> list[dict]:
    events = [
        {"type": 4, "data": {"href": "https://chat.example.com/", "width": 1280, "height": 720}, "timestamp": 1},
        {"type": 2, "data": _snapshot(), "timestamp": 2},
    ]
    events += [_input(6, PROMPT[:k], 10 + k) for k in range(1, len(PROMPT) + 1)]  # keystroke by keystroke
    events.append(_input(7, "+1 202 555 0143", 200))
    events.append(_input(8, "********", 201))  # masked password
    events.append(_input(13, "Jane", 202))
    events.append({"type": 3, "data": {"source": 1, "positions": [{"x": 4111111111111111, "y": 2, "id": 6, "timeOffset": 0}]}, "timestamp": 203})
    events.append({"type": 3, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": [
        {"parentId": 12, "nextId": None, "node": {"type": 3, "id": 30, "textContent": "Summarize my blood test results"}},
        {"parentId": 3, "nextId": None, "node": {"type": 2, "id": 20, "tagName": "div", "attributes": {"class": "bubble"},
                                                 "childNodes": [{"type": 3, "id": 21, "textContent": PROMPT}]}},
    ]}, "timestamp": 300})
    events.append({"type": 5, "data": {"tag": "breadcrumb", "payload": {"category": "ui.click", "user": {"id": "user-8812"}}}, "timestamp": 301})
    return events


EXPECTED = [
    ("account_id", ".data.payload.user.id", "user-8812", "account_id.key"),
    ("prompt", "[{p}].data.text", PROMPT, "prompt.replay"),
    ("phone", "[{ph}].data.text", "+1 202 555 0143", "phone.replay"),
    ("person_name", "[{n}].data.text", "Jane", "person_name.replay"),
    ("prompt", "[{m}].data.adds[0].node.textContent", "Summarize my blood test results", "prompt.replay"),
    ("email", "[1].data.node.childNodes[0].childNodes[0].childNodes[0].childNodes[0].textContent", "jane.doe@example.org", "email.regex"),
]


def _expected(prefix: str, data_marker: str = "") -> list[tuple[str, str, str, str]]:
    events = _events()
    n = len(PROMPT)
    idx = {"p": 1 + n, "ph": 2 + n, "n": 4 + n, "m": 6 + n}
    out = []
    for cat, path, value, det in EXPECTED:
        if path.startswith(".data.payload"):
            path = f"[{len(events) - 1}]" + path
        path = path.format(**idx)
        if path.startswith("[1].data.") and data_marker:
            path = path.replace("[1].data.", f"[1].data.{data_marker}.")
        if ".adds[" in path and data_marker:
            path = path.replace(".adds[", f".adds.{data_marker}[")
        out.append((cat, prefix + path, value, det))
    return out


def _run(body: bytes, content_type: str, host: str = "replay.example.net", path: str = "/") -> list[tuple[str, str, str, str]]:
    ex = Exchange(0, 0, "x", "POST", "https", host, 443, path, request_headers=[("content-type", content_type)], request_body=body)
    return [(f.category, f.path, f.value, f.detector) for f in classify(ex, walk_exchange(ex))]


def _sorted(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    return sorted(rows, key=lambda r: (r[1], r[0]))


def test_rrweb_event_stream() -> None:
    found = _run(json.dumps(_events()).encode(), "application/json")
    assert _sorted(found) == _sorted(_expected(""))


def test_one_field_per_input_not_per_keystroke() -> None:
    fields = walk_json(_events())
    typed = [f for f in fields if f.content_type and f.content_type.startswith(replay.INPUT_TYPE)]
    assert [f.value for f in typed] == [PROMPT, "+1 202 555 0143", "Jane", "Summarize my blood test results"]
    element = replay.element_of(typed[0].content_type)
    assert element == replay.Element("textarea", "", {"placeholder": "Message the assistant", "id": "prompt-textarea"})
    assert replay.element_of(typed[3].content_type).tag == "contenteditable"
    values = [f.value for f in fields]
    assert "********" not in values and "**** ****" not in values  # masked text is nothing
    assert not any("help@example.com" in v for v in values)  # script text is not page text
    assert "4111111111111111" not in values  # mouse moves are skipped


def test_posthog_compressed_snapshot_events() -> None:
    def gz(obj: object) -> str:
        return gzip.compress(json.dumps(obj).encode()).decode("latin-1")

    packed = []
    for e in _events():
        if e["type"] == 2:
            e = {**e, "cv": "2024-10", "data": gz(e["data"])}
        elif e["type"] == 3 and e["data"]["source"] == 0:
            d = e["data"]
            e = {**e, "cv": "2024-10", "data": {**d, **{k: gz(d[k]) for k in ("adds", "texts", "attributes", "removes")}}}
        packed.append(e)
    batch = [{"event": "$snapshot", "properties": {"$snapshot_data": packed, "$session_id": "s-1", "distinct_id": "user-8812"}}]
    found = _run(gzip.compress(json.dumps(batch).encode()), "text/plain", host="us.i.posthog.com", path="/s/?compression=gzip-js")
    prefix = '@gzip[0].properties["$snapshot_data"]'
    assert _sorted(found) == _sorted([
        ("usage_event", "@gzip[0].event", "$snapshot", "usage_event.key"),
        ("account_id", "@gzip[0].properties.distinct_id", "user-8812", "account_id.key"),
        *_expected(prefix, "@gzip"),
    ])


def test_sentry_replay_recording_envelope() -> None:
    payload = b'{"segment_id":0}\n' + zlib.compress(json.dumps(_events()).encode())
    envelope = (
        b'{"event_id":"e1"}\n{"type":"replay_event"}\n{"replay_id":"e1","user":{"email":"jane.doe@example.org"}}\n'
        + b'{"type":"replay_recording","length":%d}\n' % len(payload) + payload
    )
    found = _run(envelope, "application/x-sentry-envelope", host="o1.ingest.sentry.io", path="/api/1/envelope/")
    assert _sorted(found) == _sorted([("email", "[2].user.email", "jane.doe@example.org", "email.regex"), *_expected("[5].@zlib")])


def test_a_replayed_prompt_is_traced_into_the_page_text() -> None:
    ex = Exchange(0, 0, "x", "POST", "https", "replay.example.net", 443, "/", request_headers=[("content-type", "application/json")],
                  request_body=json.dumps(_events()).encode())
    found = Auditor(AuditOptions()).add_exchange(ex)
    bubble = [f for f in found if f.path.endswith("adds[1].node.childNodes[0].textContent")]
    assert [(f.category, f.value, (f.derived or {}).get("from", {}).get("path")) for f in bubble] == [
        ("prompt", PROMPT, f"[{1 + len(PROMPT)}].data.text")
    ]


def test_masked_and_unknown_streams() -> None:
    masked = [_input(6, "*** ****** **", 1), _input(7, "•••••", 2)]
    assert _run(json.dumps(masked).encode(), "application/json") == []
    # not an event stream: walked as JSON as before
    assert [f.path for f in walk_json([{"type": 9, "data": "x", "timestamp": 1}])] == ["[0].type", "[0].data", "[0].timestamp"]
    # a short value typed into an unknown input is not a prompt; three words or more are
    assert _run(json.dumps([_input(40, "hello", 1)]).encode(), "application/json") == []
    assert _run(json.dumps([_input(40, "what is my balance", 1)]).encode(), "application/json") == [
        ("prompt", "[0].data.text", "what is my balance", "prompt.replay")
    ]


def test_deep_snapshot_is_bounded() -> None:
    node: dict = {"type": 3, "id": 100000, "textContent": "deep@example.org"}
    for i in range(5000):
        node = {"type": 2, "id": i + 2, "tagName": "div", "attributes": {}, "childNodes": [node]}
    events = [{"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [node]}}, "timestamp": 1}]
    assert walk_json(events) == []  # deeper than max_depth levels: not followed, no recursion error


def test_sign_in_form_and_page_text_sent_twice() -> None:
    form = {"type": 2, "id": 3, "tagName": "form", "attributes": {"id": "signin"}, "childNodes": [
        {"type": 2, "id": 4, "tagName": "input", "attributes": {"id": "email", "type": "email", "autocomplete": "email"}, "childNodes": []},
        {"type": 2, "id": 5, "tagName": "input", "attributes": {"id": "name", "type": "text", "autocomplete": "name"}, "childNodes": []},
    ]}
    log = {"type": 2, "id": 6, "tagName": "div", "attributes": {"id": "log"}, "childNodes": []}
    snapshot = {"node": {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "body", "attributes": {}, "childNodes": [form, log]}]}}
    email = "rosa.keller@example.org"
    events = [{"type": 2, "data": snapshot, "timestamp": 1}]
    events += [_input(4, email[:k], 10 + k) for k in range(1, len(email) + 1)]  # "rosa.keller@example.o" is never a finding
    events += [_input(5, "Rosa Keller"[:k], 100 + k) for k in range(1, 12)]
    added = {"type": 3, "data": {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": [
        {"parentId": 6, "nextId": None, "node": {"type": 2, "id": 7, "tagName": "p", "attributes": {}, "childNodes": []}},
        {"parentId": 7, "nextId": None, "node": {"type": 3, "id": 8, "textContent": "signed in: Rosa Keller"}},
    ]}, "timestamp": 200}
    events.append(added)
    events.append({"type": 3, "data": {"source": 0, "texts": [{"id": 8, "value": "signed in: Rosa Keller"}], "attributes": [], "removes": [], "adds": []}, "timestamp": 201})
    found = _run(json.dumps(events).encode(), "application/json")
    n = len(email)
    assert [(c, p, v, d) for c, p, v, d in found if c != "person_name" or d != "trace.plain"] == [
        ("email", f"[{n}].data.text", email, "email.regex"),
        ("person_name", f"[{n + 11}].data.text", "Rosa Keller", "person_name.replay"),
    ]
    fields = [(f.path, f.value) for f in walk_json(events) if f.content_type == replay.TEXT_TYPE]
    assert fields == [
        (f"[{n + 12}].data.adds[1].node.textContent", "signed in: Rosa Keller"),
        (f"[{n + 13}].data.texts[0].value", "signed in: Rosa Keller"),
    ]


def test_events_kept_as_strings_json_or_packed() -> None:
    """Amplitude's session replay sends each event as JSON text; @rrweb/packer packs each into
    a latin-1 zlib string."""
    events = [_input(6, PROMPT[:k], k) for k in range(1, len(PROMPT) + 1)]
    as_text = {"version": 1, "events": [json.dumps(e) for e in events]}
    assert _run(json.dumps(as_text).encode(), "application/json") == [
        ("prompt", f"events[{len(PROMPT) - 1}].data.text", PROMPT, "prompt.replay")
    ]
    packed = [zlib.compress(json.dumps({**e, "v": "v1"}).encode()).decode("latin-1") for e in events]
    assert _run(json.dumps({"events": packed}).encode(), "application/json") == [
        ("prompt", f"events[{len(PROMPT) - 1}].@zlib.data.text", PROMPT, "prompt.replay")
    ]
    # strings that are not events are walked as before
    assert [f.path for f in walk_json({"l": ['{"a": 1, "timestamp": 2, "padding": 1}', "xyzxyzxyzxyzxyzxyzxyzxyz"]})] == [
        "l[0].a", "l[0].timestamp", "l[0].padding", "l[1]"
    ]


def test_elements_are_remembered_between_batches_of_a_host() -> None:
    """rrweb and the vendors send the full snapshot in one request and the keystrokes later."""
    first = [{"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 5, "tagName": "input", "attributes": {"id": "name", "autocomplete": "name", "style": "x" * 500}, "childNodes": []}]}}, "timestamp": 1}]
    second = [_input(5, "Rosa Keller", 2)]
    auditor = Auditor(AuditOptions())

    def send(events: list, host: str = "chat.example.org") -> list[tuple[str, str]]:
        ex = Exchange(0, 0, "x", "POST", "https", host, 443, "/api/replay", request_headers=[("content-type", "application/json")],
                      request_body=json.dumps({"events": events}).encode())
        return [(f.category, f.detector) for f in auditor.add_exchange(ex)]

    assert send(second) == []  # nothing known of node 5 yet: two words are not a prompt
    assert send(first) == []
    assert send(second) == [("person_name", "person_name.replay")]
    assert ("person_name", "person_name.replay") not in send(second, host="other.example.org")  # another host's page
    assert auditor.replays.page("chat.example.org").attrs[5] == {"id": "name", "autocomplete": "name"}  # style not kept
    new_page = [{"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}, "timestamp": 3}, *second]
    assert ("person_name", "person_name.replay") not in send(new_page)  # a new page: node 5 is unknown again


def test_memory_is_bounded() -> None:
    memory = replay.Memory(max_pages=2)
    a, _b, _c = memory.page("a"), memory.page("b"), memory.page("c")
    assert memory.page("a") is not a  # the least recently used host was forgotten
