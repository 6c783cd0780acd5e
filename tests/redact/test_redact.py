from __future__ import annotations

import base64
import gzip
import json
import random
import re
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import phonenumbers
import pytest
from conftest import FIXTURES
from support.redaction import decoded_text, forms, leftovers, originals

from auditor.audit.pipeline import AuditOptions, audit_paths
from auditor.redact import (
    Placeholders,
    RedactError,
    Substituter,
    encoded_forms,
    redact_capture,
    scramble,
    verify_redacted,
)

KEY = b"k" * 32


def signature(doc: dict[str, Any]) -> tuple[dict[str, list[str]], Counter[tuple[str, str, str, str]]]:
    cats = {d["host"]: d["data_categories"] for d in doc["destinations"]}
    places = Counter((f["host"], f["category"], f["location"]["part"], f["location"]["path"]) for f in doc["findings"])
    return cats, places


@pytest.mark.parametrize("name", ["ai-chat-session.flows", "ai-chat-session.har"])
def test_fixture_redaction_leaves_no_original_value(tmp_path: Path, name: str) -> None:
    src = FIXTURES / name
    out = tmp_path / f"redacted-{name}"
    summary = redact_capture(src, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = originals(src)
    assert len(values) >= 8 and "jane.doe@example.org" in values
    # the search itself finds every value in the original
    assert {v for v, _ in leftovers(src, values)} == set(values)
    assert leftovers(out, values) == []
    assert verify_redacted(out, summary.originals) == []
    # the same destinations and categories, at the same places
    before = audit_paths([src], AuditOptions(reveal=True))
    after = audit_paths([out], AuditOptions(reveal=True))
    assert signature(after) == signature(before)
    assert [c["exchanges"] for c in after["captures"]] == [c["exchanges"] for c in before["captures"]]


@pytest.mark.parametrize("name", ["ai-chat-session.flows", "ai-chat-session.har"])
def test_fixture_placeholders_are_consistent_and_keep_their_shape(tmp_path: Path, name: str) -> None:
    src = FIXTURES / name
    out = tmp_path / f"r-{name}"
    redact_capture(src, out, key=KEY)
    key = lambda f: (f["flow"]["index"], f["category"], f["location"]["part"], f["location"]["path"])  # noqa: E731
    before = sorted(audit_paths([src], AuditOptions(reveal=True))["findings"], key=key)
    after = sorted(audit_paths([out], AuditOptions(reveal=True))["findings"], key=key)
    pairs = {(a["value"], b["value"]) for a, b in zip(before, after, strict=True) if len(a["value"]) >= 3}
    mapping = dict(pairs)
    assert len(mapping) == len(pairs) == len(set(mapping.values()))  # one placeholder per value, everywhere
    for old, new in mapping.items():
        assert old != new
    email = mapping["jane.doe@example.org"]
    assert re.fullmatch(r"[a-z]{4}\.[a-z]{3}@[a-z]+\.(invalid|test)", email) and len(email) == len("jane.doe@example.org")
    phone = mapping["+1 202 555 0143"]
    assert re.fullmatch(r"\+1 \d{3} 555 01\d\d", phone)
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
    key_old = next(v for v in mapping if v.startswith("sk-"))
    assert mapping[key_old].startswith("sk-") and len(mapping[key_old]) == len(key_old)
    cookie_old = next(v for v in mapping if re.fullmatch(r"[0-9a-f]{32}", v))
    assert re.fullmatch(r"[0-9a-f]{32}", mapping[cookie_old])
    jwt_old = next(v for v in mapping if v.startswith("eyJhbGci"))
    segs = mapping[jwt_old].split(".")
    assert len(segs) == 3 and segs[0] == jwt_old.split(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(segs[1] + "=="))
    assert claims["email"] == email and set(claims) == set(json.loads(base64.urlsafe_b64decode(jwt_old.split(".")[1] + "==")))
    prompt_old = next(v for v in mapping if v.startswith("My date of birth"))
    prompt_new = mapping[prompt_old]
    assert len(prompt_new) == len(prompt_old) and email in prompt_new
    assert [c.isdigit() for c in prompt_new] == [c.isdigit() for c in prompt_old]
    assert [c.isspace() for c in prompt_new] == [c.isspace() for c in prompt_old]


def make_flows(path: Path, values: dict[str, str]) -> None:
    """A flow file holding ``values`` in many encodings: query, gzip JSON body, base64 blob, WebSocket, response."""
    from mitmproxy import io as mio
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage as MitmWsMessage

    email, token, secret = values["email"], values["token"], values["refresh"]
    f = tflow.tflow(resp=True)
    f.client_conn.peername = (values["ip"], 51234)
    f.request.scheme, f.request.host, f.request.port = "https", "api.example.com", 443
    f.request.path = f"/v1/profile/{quote(email, safe='')}?email={quote_plus(email)}&x=1"
    f.request.headers["authorization"] = f"Bearer {token}"
    f.request.headers["content-type"] = "application/json"
    f.request.headers["content-encoding"] = "gzip"
    blob = base64.b64encode(json.dumps({"pad": "x", "email": email}).encode()).decode()
    f.request.content = json.dumps({"user": {"email": email}, "data": blob, "note": f"write to {email} now"}).encode()
    f.response.headers["content-type"] = "application/json"
    f.response.headers["content-encoding"] = "br"
    f.response.content = json.dumps({"refresh_token": secret, "owner": email}).encode()
    ws = tflow.twebsocketflow()
    ws.request.host = "ws.example.com"
    ws.websocket.messages = [MitmWsMessage(1, True, json.dumps({"email": email}).encode())]
    with open(path, "wb") as fh:
        w = mio.FlowWriter(fh)
        w.add(f)
        w.add(ws)


VALUES = {
    "email": "maria.rossi@example.it",
    "token": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "refresh": "rt-7f9c2b1e5d8a4c6b0e3f9a7d2c5b8e1f",
    "ip": "81.2.69.160",
}


def test_every_encoding_in_a_flow_file(tmp_path: Path) -> None:
    src = tmp_path / "in.flows"
    make_flows(src, VALUES)
    out = tmp_path / "out.flows"
    summary = redact_capture(src, out, key=KEY)
    data = out.read_bytes()
    for v in VALUES.values():
        assert any(f in src.read_bytes() + decoded_text(src) for f in forms(v)), v
        for f in forms(v):
            assert f not in data and f not in decoded_text(out), (v, f)
    assert summary.values["email"] == 1 and summary.values["credential"] >= 2 and summary.values["ip_address"] == 1
    from mitmproxy import io as mio

    with open(out, "rb") as fh:
        flows = list(mio.FlowReader(fh).stream())
    req, resp = flows[0].request, flows[0].response
    assert req.headers["content-encoding"] == "gzip" and resp.headers["content-encoding"] == "br"
    body = json.loads(req.get_text())
    new_email = body["user"]["email"]
    assert new_email.endswith(".invalid") and body["note"] == f"write to {new_email} now"
    assert json.loads(base64.b64decode(body["data"]))["email"] == new_email
    assert req.query["email"] == new_email and req.host == "api.example.com"
    assert json.loads(resp.get_text())["owner"] == new_email
    assert json.loads(flows[1].websocket.messages[0].content)["email"] == new_email
    assert flows[0].client_conn.peername[0] != VALUES["ip"]
    assert int(req.headers.get("content-length", len(req.raw_content))) == len(req.raw_content)


def test_har_with_base64_bodies_and_websocket(tmp_path: Path) -> None:
    email = "li.wei@example.cn"
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "test", "version": "1"},
            "entries": [
                {
                    "startedDateTime": "2026-01-01T00:00:00Z",
                    "request": {
                        "method": "POST",
                        "url": f"https://api.example.com/u?mail={quote(email, safe='')}",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "content-type", "value": "application/json"}],
                        "queryString": [{"name": "mail", "value": email}],
                        "cookies": [],
                        "postData": {"mimeType": "application/json", "text": json.dumps({"email": email, "名前": "李伟"})},
                    },
                    "response": {
                        "status": 200,
                        "headers": [],
                        "content": {"mimeType": "application/json", "encoding": "base64",
                                    "text": base64.b64encode(json.dumps({"email": email}).encode()).decode()},
                    },
                },
                {
                    "startedDateTime": "2026-01-01T00:00:01Z",
                    "request": {"method": "GET", "url": "wss://ws.example.com/s", "headers": []},
                    "response": {"status": 101, "headers": []},
                    "_webSocketMessages": [
                        {"type": "send", "time": 1.0, "opcode": 2, "data": base64.b64encode(b"\x00\x01" + json.dumps({"email": email}).encode()).decode()},
                        {"type": "send", "time": 2.0, "opcode": 1, "data": json.dumps({"email": email})},
                    ],
                },
            ],
        }
    }
    src = tmp_path / "in.har"
    src.write_text(json.dumps(har, ensure_ascii=False))
    out = tmp_path / "out.har"
    redact_capture(src, out, key=KEY)
    data = out.read_bytes()
    assert not any(f in data for f in forms(email))
    new = json.loads(data)
    e0, e1 = new["log"]["entries"]
    placeholder = json.loads(e0["request"]["postData"]["text"])["email"]
    assert placeholder != email and placeholder.endswith(".invalid") and len(placeholder) == len(email)
    assert e0["request"]["queryString"][0]["value"] == placeholder
    assert e0["request"]["url"].startswith("https://api.example.com/u?mail=")
    assert json.loads(base64.b64decode(e0["response"]["content"]["text"]))["email"] == placeholder
    assert base64.b64decode(e1["_webSocketMessages"][0]["data"])[:2] == b"\x00\x01"
    assert json.loads(e1["_webSocketMessages"][1]["data"])["email"] == placeholder
    assert json.loads(e0["request"]["postData"]["text"])["名前"] == "李伟"  # not detected, kept


def test_compressed_har_stays_compressed(tmp_path: Path) -> None:
    src = tmp_path / "s.zhar"
    src.write_bytes(gzip.compress((FIXTURES / "ai-chat-session.har").read_bytes()))
    out = tmp_path / "o.zhar"
    redact_capture(src, out)
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert leftovers(out, ["jane.doe@example.org", "+1 202 555 0143"]) == []
    assert len(audit_paths([out])["destinations"]) == len(audit_paths([src])["destinations"])


def test_placeholder_shapes() -> None:
    ph = Placeholders(KEY)
    for value, cat in [
        ("jane.doe@example.org", "email"),
        ("+86 138 0013 8000", "phone"),
        ("+44 7911 123456", "phone"),
        ("AKIAIOSFODNN7EXAMPLE", "credential"),
        ("ghp_" + "a1B2c3D4e5" * 4, "credential"),
        ("550e8400-e29b-41d4-a716-446655440000", "device_id"),
        ("请帮我写一封给房东的邮件，电话 +86 138 0013 8000", "prompt"),  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
        ("Ünïcödé Çafé", "person_name"),
        ("203.0.113.9", "ip_address"),
        ("id-card-front.png", "user_file"),
    ]:
        ph.add(value, cat)
    m = ph.build()
    assert re.fullmatch(r"[a-z]{4}\.[a-z]{3}@[a-z]{3}\.invalid", m["jane.doe@example.org"])
    cn = m["+86 138 0013 8000"]
    assert cn.startswith("+86 ") and phonenumbers.is_valid_number(phonenumbers.parse(cn))
    gb = m["+44 7911 123456"]
    assert re.fullmatch(r"\+44 7\d{3} \d{6}", gb) and phonenumbers.is_valid_number(phonenumbers.parse(gb))
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", m["AKIAIOSFODNN7EXAMPLE"])
    assert m["ghp_" + "a1B2c3D4e5" * 4].startswith("ghp_")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", m["550e8400-e29b-41d4-a716-446655440000"])
    zh = m["请帮我写一封给房东的邮件，电话 +86 138 0013 8000"]  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    assert zh.endswith(cn) and len(zh.encode()) == len("请帮我写一封给房东的邮件，电话 +86 138 0013 8000".encode())  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    assert all("\u4e00" <= c <= "\u9fff" for c in zh[:12]) and zh[:12] != "请帮我写一封给房东的邮件"
    name = m["Ünïcödé Çafé"]
    assert len(name.encode()) == len("Ünïcödé Çafé".encode()) and name[0].isupper() and name[7] == " "
    assert re.fullmatch(r"(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+", m["203.0.113.9"])
    assert m["id-card-front.png"].endswith(".png") and m["id-card-front.png"] != "id-card-front.png"
    # consistent for one key, different for another
    again = Placeholders(KEY)
    again.add("jane.doe@example.org", "email")
    assert again.build()["jane.doe@example.org"] == m["jane.doe@example.org"]
    other = Placeholders(b"o" * 32)
    other.add("jane.doe@example.org", "email")
    assert other.build()["jane.doe@example.org"] != m["jane.doe@example.org"]


def test_scramble_keeps_character_classes() -> None:
    rng = random.Random(1)
    value = "Ab9-f0_zZ.~ 4"
    out = scramble(value, rng)
    assert len(out) == len(value)
    for a, b in zip(value, out, strict=True):
        if a.isdigit():
            assert b.isdigit() and (b != "0" or a == "0" or value[value.index(a) - 1].isdigit())
        elif a.lower() in "abcdef":
            assert b.lower() in "abcdef" and b.isupper() == a.isupper()
        elif a.isalpha():
            assert b.isalpha() and b.isupper() == a.isupper() and b.lower() not in "abcdef"
        else:
            assert b == a


def test_substituter_forms_and_offsets() -> None:
    sub = Substituter({"jane.doe@example.org": "abcd.efg@hij.invalid", "1234": "5678"})
    assert sub.text("to jane.doe%40example.org!") == "to abcd.efg%40hij.invalid!"
    assert sub.text('"a\\"b": "jane.doe@example.org"') == '"a\\"b": "abcd.efg@hij.invalid"'
    for pad in ("", "x", "xy"):
        blob = base64.b64encode(f'{pad}{{"e":"jane.doe@example.org"}}'.encode()).decode()
        got = base64.b64decode(sub.text(f"data={blob}&"[5:-1]))
        assert got == f'{pad}{{"e":"abcd.efg@hij.invalid"}}'.encode()
    # short values are replaced only as whole tokens
    assert sub.text("pin 1234, id 912345, x1234") == "pin 5678, id 912345, x1234"
    assert sub.data(b"\x00\xffjane.doe@example.org\x00") == b"\x00\xffabcd.efg@hij.invalid\x00"


def test_encoded_forms_catch_embedded_base64() -> None:
    value = "jane.doe@example.org"
    for pad in range(3):
        blob = base64.b64encode(b"\x07" * pad + value.encode() + b"tail")
        assert any(f in blob for f in encoded_forms(value))


def test_refuses_pcap_and_overwriting_the_source(tmp_path: Path) -> None:
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 40)
    with pytest.raises(RedactError, match="pcap captures cannot be redacted"):
        redact_capture(pcap, tmp_path / "o.pcap")
    copy = tmp_path / "c.flows"
    copy.write_bytes((FIXTURES / "ai-chat-session.flows").read_bytes())
    with pytest.raises(RedactError, match="would overwrite the capture itself"):
        redact_capture(copy, copy)
    with pytest.raises(RedactError, match="no such file"):
        redact_capture(tmp_path / "missing.har", tmp_path / "o.har")
    (tmp_path / "junk").write_bytes(b"hello")
    with pytest.raises(RedactError, match="unrecognized format"):
        redact_capture(tmp_path / "junk", tmp_path / "o")


@pytest.mark.parametrize(
    "value, category, key, shape",
    [
        ("DE89 3704 0044 0532 0130 00", "bank_account", "iban", r"DE\d\d \d{4} \d{4} \d{4} \d{4} \d\d"),
        ("4111 1111 1111 1111", "payment_card", "card_number", r"4\d{3} \d{4} \d{4} \d{4}"),
        ("14 March 1990", "date_of_birth", "birthday", r"\d{1,2} [A-Z][a-z]+ \d{4}"),
        ("1990-03-14", "date_of_birth", "dob", r"\d{4}-\d\d-\d\d"),
        ("11010519491231002X", "government_id", "id_card", r"11\d{15}[\dX]"),
    ],
)
def test_checked_values_stay_valid(value: str, category: str, key: str, shape: str) -> None:
    """Values the classifiers validate (checksums, dates) get placeholders that still validate."""
    from auditor.redact import _detected

    ctx = (category, "request.body", key, "api.example.com")
    if not _detected(value, ctx):
        pytest.skip(f"the classifiers do not detect {category} at {key}")
    ph = Placeholders(KEY)
    ph.add(value, category, *ctx[1:])
    new = ph.build()[value]
    assert new != value and re.fullmatch(shape, new), new
    assert _detected(new, ctx) and ph.undetected == []


def test_gzip_body_without_content_encoding_is_redacted_inside(tmp_path: Path) -> None:
    """SDKs compress bodies without a Content-Encoding; what auditor finds inside is replaced
    inside, and the copy stays compressed."""
    from mitmproxy import http
    from mitmproxy import io as mio
    from mitmproxy.test import tflow

    email = "rosa.keller@example.org"
    src = tmp_path / "in.flows"
    with open(src, "wb") as fh:
        f = tflow.tflow(resp=True)
        f.request.host, f.request.path, f.request.method = "us.i.posthog.com", "/batch/?compression=gzip-js", "POST"
        f.request.headers = http.Headers([(b"host", b"us.i.posthog.com"), (b"content-type", b"text/plain")])
        f.request.raw_content = gzip.compress(json.dumps({"batch": [{"properties": {"$email": email}}]}).encode())
        mio.FlowWriter(fh).add(f)
    out = tmp_path / "out.flows"
    redact_capture(src, out, key=KEY)
    with open(out, "rb") as fh:
        (flow,) = list(mio.FlowReader(fh).stream())
    body = json.loads(gzip.decompress(flow.request.raw_content))
    assert body["batch"][0]["properties"]["$email"].endswith(".invalid")
    assert verify_redacted(out, [email]) == []
    assert verify_redacted(src, [email]) == [email]  # the check looks inside such bodies too


def test_compressed_body_without_content_encoding_is_inflated_within_the_limit(tmp_path: Path) -> None:
    """Such a body is inflated to at most ``--max-inflated-mb`` (a bomb stops there): the copy keeps
    its first part, redacted and compressed again, and says so, as for a Content-Encoding body."""
    from mitmproxy import http
    from mitmproxy import io as mio
    from mitmproxy.test import tflow

    from auditor.limits import Limits

    email = "rosa.keller@example.org"
    text = json.dumps({"batch": [{"properties": {"$email": email}}], "pad": "x" * 300_000, "again": email}).encode()
    src = tmp_path / "in.flows"
    with open(src, "wb") as fh:
        f = tflow.tflow(resp=True)
        f.request.host, f.request.path, f.request.method = "us.i.posthog.com", "/batch/?compression=gzip-js", "POST"
        f.request.headers = http.Headers([(b"host", b"us.i.posthog.com"), (b"content-type", b"text/plain")])
        f.request.raw_content = gzip.compress(text)
        mio.FlowWriter(fh).add(f)
    out = tmp_path / "out.flows"
    summary = redact_capture(src, out, key=KEY, limits=Limits(max_inflated=100_000))
    with open(out, "rb") as fh:
        (flow,) = list(mio.FlowReader(fh).stream())
    inner = gzip.decompress(flow.request.raw_content)
    assert len(inner) == 100_000 and inner.startswith(b'{"batch": [{"properties": {"$email": "')
    assert email.encode() not in inner and inner[38 : 38 + len(email)].endswith(b".invalid")
    assert any("1 body(ies) could not be fully decoded" in w for w in summary.warnings), summary.warnings
    assert summary.leftovers == 0


def planted() -> dict[str, str]:
    """The personal values fixtures/record.py plants in the session (names, addresses, emails,
    ids, secrets), taken from the recorder itself, not from what auditor detects. App-level
    identifiers (the GA measurement id, the Umeng app key, the applog app id, the Sentry DSN)
    name the app, not its user, and are kept."""
    import sys

    sys.path.insert(0, str(FIXTURES.parent))
    from fixtures import record as rec

    values = {
        "email": rec.EMAIL,
        "email local part": rec.EMAIL.split("@")[0],
        "phone": rec.PHONE,
        "password": rec.PASSWORD,
        "user id": rec.USER_ID,
        "device id": rec.DEVICE_ID,
        "android id": rec.ANDROID_ID,
        "session cookie": rec.SESSION_COOKIE_VALUE,
        "chat session id": rec.CHAT_SESSION_ID,
        "file id": rec.FILE_ID,
        "file name": rec.FILE_NAME,
        "api key": rec.API_KEY,
        "statsig stable id": rec.STATSIG_STABLE_ID,
        "ga client id": rec.GA_CLIENT_ID,
        "copilot conversation id": rec.COPILOT_CONVERSATION_ID,
        "copilot token": rec.COPILOT_ACCESS_TOKEN,
        "jwt": rec.JWT,
        "sentry event id": rec.SENTRY_EVENT_ID,
        "device name": "janes-laptop",
        "date of birth": "14 March 1990",
    }
    # the name and the address, from the prompt the recorder types
    assert "Jane Doe" in rec.PROMPT and "Flat 3, 10 Example Road, London" in rec.PROMPT
    values |= {"name": "Jane Doe", "first name": "Jane", "address": "Flat 3, 10 Example Road", "street": "Example Road"}
    source = (FIXTURES / "ai-chat-session.har").read_bytes() + decoded_text(FIXTURES / "ai-chat-session.har")
    assert [label for label, v in values.items() if not any(f in source for f in forms(v))] == []  # the search finds them
    return values


@pytest.mark.parametrize("name", ["ai-chat-session.flows", "ai-chat-session.har"])
def test_no_planted_value_survives_in_any_byte(tmp_path: Path, name: str) -> None:
    """Requests, responses (the AI's answer echoes the name and the address), free text, every
    encoding: none of the recorder's planted values is left in the file or its decoded bodies."""
    out = tmp_path / f"r-{name}"
    summary = redact_capture(FIXTURES / name, out)
    assert summary.leftovers == 0 and out.exists()
    data, decoded = out.read_bytes(), decoded_text(out)
    left = {label: v for label, v in planted().items() if any(f in data or f in decoded for f in forms(v))}
    assert left == {}
    # the short ones, as whole words in any case
    for v in ("Jane", "Doe"):
        assert not re.search(rb"(?<![A-Za-z])" + v.encode() + rb"(?![A-Za-z])", data + decoded, re.I), v


@pytest.mark.e2e
def test_known_values_are_replaced_everywhere_and_checked(tmp_path: Path) -> None:
    """A value given with --known is replaced in free text too; a value the copy still holds
    makes the command exit 1 and write nothing."""
    known = tmp_path / "known.yaml"
    known.write_text("person_name: [Landlord]\n")
    out = tmp_path / "o.har"
    p = subprocess.run([sys.executable, "-m", "auditor", "redact", str(FIXTURES / "ai-chat-session.har"), "-o", str(out),
                        "--known", str(known), "-q"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert b"landlord" not in out.read_bytes().lower() and b"landlord" not in decoded_text(out).lower()


def test_a_value_left_in_the_copy_exits_1_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.redact import rewriting as redact_mod

    # a substituter that forgets one value: the check on the copy's bytes must catch it
    real = redact_mod.Substituter

    def forgetful(mapping: dict[str, str]) -> Any:
        return real({k: v for k, v in mapping.items() if "5f1e0c9a3b7d" not in k})  # the API key, in every form

    monkeypatch.setattr(redact_mod, "Substituter", forgetful)
    out = tmp_path / "o.flows"
    out.write_bytes(b"older copy")
    summary = redact_capture(FIXTURES / "ai-chat-session.flows", out)
    assert summary.leftovers >= 1
    assert out.read_bytes() == b"older copy"
    assert [p.name for p in tmp_path.iterdir()] == ["o.flows"]
