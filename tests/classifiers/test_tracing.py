"""Cross-flow tracing: values seen earlier, found again plain, encoded or hashed."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote_plus

import pytest
from support.work import lines_run

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.classifiers.known import KnownValue
from auditor.classifiers.tracing import Tracer
from auditor.models import Exchange, Field, Finding

B = "request.body"
EMAIL = "jane.doe@example.org"
PROMPT = "Please help me write a short, polite email to my landlord about the broken boiler"


def _ex(index: int, host: str) -> Exchange:
    return Exchange(capture=0, index=index, id=str(index), method="POST", scheme="https", host=host, port=443, path="/")


def _trace(tr: Tracer, index: int, host: str, fields: list[Field], found: list[Finding]) -> list[tuple[str, str, str, dict | None]]:
    return [(f.category, f.path, f.detector, f.derived) for f in tr.trace(_ex(index, host), fields, found)]


def _origin(index: int, path: str, category: str) -> dict:
    return {"capture": 0, "index": index, "part": B, "path": path, "category": category}


def test_hashed_and_encoded_email_in_later_exchanges() -> None:
    tr = Tracer()
    login = Finding("email", B, "email", EMAIL, "email.regex", 0.95)
    assert _trace(tr, 0, "app.example.com", [Field(B, "email", EMAIL)], [login]) == [("email", "email", "email.regex", None)]
    sha = hashlib.sha256(EMAIL.encode()).hexdigest()
    md5 = hashlib.md5(EMAIL.upper().lower().encode()).hexdigest().upper()
    b64 = base64.b64encode(EMAIL.encode()).decode()
    fields = [
        Field("request.query", "ud[em]", sha),
        Field("request.query", "h", md5),
        Field(B, "u", b64),
        Field(B, "next", "https://x.example/cb?e=" + quote_plus(EMAIL) + "&x=1"),
        Field(B, "unrelated", hashlib.sha256(b"someone else").hexdigest()),
        Field(B, "inside", "x" + sha),  # not a whole token
    ]
    assert _trace(tr, 1, "www.facebook.com", fields, []) == [
        ("email", "ud[em]", "trace.sha256", {"from": _origin(0, "email", "email"), "encoding": "sha256"}),
        ("email", "h", "trace.md5", {"from": _origin(0, "email", "email"), "encoding": "md5"}),
        ("email", "u", "trace.base64", {"from": _origin(0, "email", "email"), "encoding": "base64"}),
        ("email", "next", "trace.url", {"from": _origin(0, "email", "email"), "encoding": "url"}),
    ]


def test_prompt_copied_whole_or_truncated_into_analytics() -> None:
    tr = Tracer()
    tr.trace(_ex(0, "chat.example.com"), [Field(B, "prompt", PROMPT)], [Finding("prompt", B, "prompt", PROMPT, "prompt.format.deepseek.web", 0.95)])
    fields = [
        Field(B, "breadcrumb", f"composer submit: {PROMPT}"),
        Field(B, "preview", PROMPT[:48] + "…"),
        Field(B, "other", "Please help me write a haiku about autumn leaves"),
    ]
    got = _trace(tr, 1, "analytics.example.net", fields, [])
    assert got == [
        ("prompt", "breadcrumb", "trace.plain", {"from": _origin(0, "prompt", "prompt"), "encoding": "plain"}),
        ("prompt", "preview", "trace.prefix", {"from": _origin(0, "prompt", "prompt"), "encoding": "prefix"}),
    ]


def test_detector_findings_get_derived_only_across_hosts() -> None:
    tr = Tracer()
    did = "b7e3c1a2-5d4f-4e6a-9c8b-1f2e3d4c5b6a"
    first = Finding("device_id", B, "device_id", did, "device_id.key", 0.9)
    tr.trace(_ex(0, "log.example.com"), [Field(B, "device_id", did)], [first])
    same_host = tr.trace(_ex(1, "log.example.com"), [Field(B, "device_id", did)], [first])
    assert same_host == [first]
    other = tr.trace(_ex(2, "chat.example.com"), [Field(B, "did", did)], [Finding("device_id", B, "did", did, "device_id.key", 0.9)])
    assert other[0].derived == {"from": _origin(0, "device_id", "device_id"), "encoding": "plain"}


def test_same_exchange_other_field_and_own_field() -> None:
    tr = Tracer()
    imei = "358240051111110"
    fields = [Field(B, "imei", imei), Field(B, "idmd5", hashlib.md5(imei.encode()).hexdigest())]
    got = _trace(tr, 0, "alog.umeng.com", fields, [Finding("device_id", B, "imei", imei, "device_id.key", 0.95)])
    assert got == [
        ("device_id", "imei", "device_id.key", None),
        ("device_id", "idmd5", "trace.md5", {"from": _origin(0, "imei", "device_id"), "encoding": "md5"}),
    ]


def test_short_values_and_ids_inside_longer_ids_are_not_traced() -> None:
    tr = Tracer()
    tr.trace(_ex(0, "a.example"), [Field(B, "uid", "12345")], [Finding("account_id", B, "uid", "12345", "account_id.key", 0.85)])
    assert _trace(tr, 1, "b.example", [Field(B, "n", "order 12345 shipped"), Field(B, "ts", "1793612345")], []) == []


def test_known_values_seed_the_auditor() -> None:
    phone = "+12025550143"
    auditor = Auditor(AuditOptions(known=(KnownValue("phone", phone, "phone"), KnownValue("person_name", "Jane", "first_name"))))
    ex = _ex(0, "www.facebook.com")
    ex.path = "/tr/?ud[ph]=" + hashlib.sha256(b"12025550143").hexdigest() + "&ud[fn]=" + hashlib.sha256(b"jane").hexdigest()
    found = auditor.add_exchange(ex)
    assert [(f.category, f.path, f.detector, f.derived) for f in found] == [
        ("phone", "ud[ph]", "trace.sha256", {"from": {"known": "phone", "category": "phone"}, "encoding": "sha256"}),
        ("person_name", "ud[fn]", "trace.sha256", {"from": {"known": "first_name", "category": "person_name"}, "encoding": "sha256"}),
    ]
    doc = auditor.document()
    assert doc["summary"]["derived_findings"] == 2 and doc["summary"]["known_values"] == 2


def test_lookup_cost_does_not_grow_with_the_index() -> None:
    """Looking an exchange up does the same work with 1,200 and 3,600 values in the index (both
    past the lookback window's 1,000 exchanges, so that part is the same too): the index is
    probed by the exchange's words, never walked."""

    def indexed(n: int) -> Tracer:
        tr = Tracer(budget=1 << 30)  # (the default budget would drop most of them)
        for i in range(n):
            v = f"device-{i:08d}-abcdef"
            tr.trace(_ex(i, "x.example"), [], [Finding("device_id", B, "d", v, "device_id.key", 0.9)])
        return tr

    fields = [Field(B, f"f{i}", f"value number {i} with some words and tokens") for i in range(50)]
    fields.append(Field(B, "id", "device-00000007-abcdef"))  # one hit, so the hit path runs too
    work = {}
    for n in (1200, 3600):
        tr = indexed(n)
        assert len(tr) == n
        found: list[Finding] = []
        work[n] = lines_run(lambda tr=tr, found=found: found.extend(tr.trace(_ex(99_999, "y.example"), fields, [])))
        assert [(f.category, f.path, f.detector) for f in found] == [("device_id", "id", "trace.plain")]
    assert work[1200] > 0
    assert work[1200] == work[3600], work


def test_index_is_bounded_oldest_values_dropped_known_kept() -> None:
    tr = Tracer(budget=20_000)
    tr.add_known("email", EMAIL, "email")
    prompts = [f"Message number {i} about my rent and my landlord, please answer quickly" for i in range(200)]
    for i, p in enumerate(prompts):
        tr.trace(_ex(i, "chat.example.com"), [], [Finding("prompt", B, "prompt", p, "prompt.format.deepseek.web", 0.95)])
    assert tr._used <= 20_000 and len(tr) < 200
    late = [(f.category, f.detector) for f in tr.trace(_ex(999, "x.example"), [Field(B, "a", prompts[0]), Field(B, "b", prompts[-1]), Field(B, "e", EMAIL)], [])]
    assert late == [("prompt", "trace.plain"), ("email", "trace.plain")]  # the first prompt is gone, the known email stays


def test_lone_surrogates_do_not_break_tracing() -> None:
    tr = Tracer()
    bad = "text with \ud800 a lone surrogate in it"
    found = tr.trace(_ex(0, "a.example"), [Field(B, "prompt", bad)], [Finding("prompt", B, "prompt", bad, "prompt.format.deepseek.web", 0.95)])
    assert len(found) == 1
    assert [f.path for f in tr.trace(_ex(1, "b.example"), [Field(B, "copy", bad)], [])] == ["copy"]


def test_value_seen_later_is_traced_back_into_earlier_exchanges() -> None:
    tr = Tracer()
    copy = Field(B, "event_properties.label", f"composer: {PROMPT}")
    assert tr.trace(_ex(0, "api2.amplitude.com"), [copy, Field(B, "session", "x" * 8)], []) == []
    assert tr.earlier == []
    sha = hashlib.sha256(EMAIL.encode()).hexdigest()
    tr.trace(_ex(1, "ads.example.net"), [Field("request.query", "em", sha)], [])
    prompt = Finding("prompt", B, "messages[0].content", PROMPT, "prompt.format.openai.chat", 0.95)
    email = Finding("email", B, "user", EMAIL, "email.regex", 0.95)
    fields = [Field(B, "messages[0].content", PROMPT), Field(B, "user", EMAIL)]
    assert tr.trace(_ex(2, "api.openai.com"), fields, [prompt, email]) == [prompt, email]
    got = [(e.index, e.host, f.category, f.path, f.detector, f.derived) for e, f in tr.earlier]
    assert got == [
        (0, "api2.amplitude.com", "prompt", "event_properties.label", "trace.plain",
         {"from": {"capture": 0, "index": 2, "part": B, "path": "messages[0].content", "category": "prompt"}, "encoding": "plain"}),
        (1, "ads.example.net", "email", "em", "trace.sha256",
         {"from": {"capture": 0, "index": 2, "part": B, "path": "user", "category": "email"}, "encoding": "sha256"}),
    ]
    tr.earlier.clear()
    # seen again: the earlier exchanges already have their findings, nothing is added twice
    tr.trace(_ex(3, "api.openai.com"), fields, [prompt, email])
    assert tr.earlier == []


def test_lookback_window_is_bounded(monkeypatch) -> None:
    import auditor.classifiers.tracing as tracing

    monkeypatch.setattr(tracing, "RECENT_EXCHANGES", 3)
    tr = Tracer()
    tr.trace(_ex(0, "api2.amplitude.com"), [Field(B, "label", PROMPT)], [])
    for i in range(1, 4):
        tr.trace(_ex(i, "cdn.example.com"), [Field(B, "n", f"filler number {i}")], [])
    tr.trace(_ex(4, "api.openai.com"), [Field(B, "p", PROMPT)], [Finding("prompt", B, "p", PROMPT, "prompt.format.openai.chat", 0.95)])
    assert tr.earlier == []  # exchange 0 has left the window (the last 3 exchanges)
    tr2 = Tracer()
    tr2.trace(_ex(0, "api2.amplitude.com"), [Field(B, "label", PROMPT)], [])
    for i in range(1, 3):
        tr2.trace(_ex(i, "cdn.example.com"), [Field(B, "n", f"filler number {i}")], [])
    tr2.trace(_ex(3, "api.openai.com"), [Field(B, "p", PROMPT)], [Finding("prompt", B, "p", PROMPT, "prompt.format.openai.chat", 0.95)])
    assert [(e.index, f.path) for e, f in tr2.earlier] == [(0, "label")]


def _har_entry(url: str, body: dict) -> dict:
    import json

    return {
        "startedDateTime": "2026-12-01T10:00:00.000Z", "time": 1,
        "request": {"method": "POST", "url": url, "httpVersion": "HTTP/1.1", "headers": [{"name": "content-type", "value": "application/json"}],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1,
                    "postData": {"mimeType": "application/json", "text": json.dumps(body)}},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                     "content": {"size": 2, "mimeType": "application/json", "text": "{}"}, "redirectURL": "", "headersSize": -1, "bodySize": 2},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
    }



@pytest.mark.parametrize("analytics_first", [True, False])
def test_offline_prompt_in_analytics_traced_whichever_completed_first(tmp_path, analytics_first: bool) -> None:
    import json

    from auditor.audit.pipeline import audit_paths

    chat = _har_entry("https://api.openai.com/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": PROMPT}]})
    event = _har_entry("https://api2.amplitude.com/2/httpapi", {"events": [{"event_type": "send", "event_properties": {"label": PROMPT}}]})
    entries = [event, chat] if analytics_first else [chat, event]
    har = tmp_path / "session.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}))
    doc = audit_paths([har])
    chat_index = 1 if analytics_first else 0
    copies = [(f["flow"]["index"], f["location"]["path"], f["detector"], f["derived"]) for f in doc["findings"]
              if f["host"] == "api2.amplitude.com" and f["category"] == "prompt"]
    assert copies == [(1 - chat_index, "events[0].event_properties.label", "trace.plain",
                       {"from": _origin(chat_index, "messages[0].content", "prompt") | {"capture": 0}, "encoding": "plain"})]
    assert doc["summary"]["derived_findings"] == 1
    dests = {d["host"]: d for d in doc["destinations"]}
    assert "prompt" in dests["api2.amplitude.com"]["data_categories"]
