"""Content decoded by sniffing: compressed bodies, strings, envelope items and parts, whatever
the headers say, named in the path (``@gzip``, ``@zlib``, ``@deflate``, ``@zstd``,
``@lzstring``), under the inflate limit."""

from __future__ import annotations

import base64
import gzip
import json
import os
import zlib
from urllib.parse import quote

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.classifiers import classify
from auditor.extract import sniff, walk_body, walk_exchange, walk_json, walk_string
from auditor.limits import Limits
from auditor.models import Exchange, Field

EVENT = {"batch": [{"event": "$pageview", "distinct_id": "user-8812", "properties": {"$email": "jane.doe@example.org"}}]}
EVENT_FIELDS = [
    ("batch[0].event", "$pageview"),
    ("batch[0].distinct_id", "user-8812"),
    ('batch[0].properties["$email"]', "jane.doe@example.org"),
]


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _under(prefix: str) -> list[Field]:
    return [Field("request.body", f"{prefix}.{p}", v) for p, v in EVENT_FIELDS]


def _exchange(body: bytes, content_type: str | None, host: str = "us.i.posthog.com", path: str = "/e/") -> Exchange:
    headers = [("content-type", content_type)] if content_type else []
    return Exchange(0, 0, "x", "POST", "https", host, 443, path, request_headers=headers, request_body=body)


def _findings(ex: Exchange) -> list[tuple[str, str, str, str]]:
    return [(f.category, f.path, f.value, f.detector) for f in classify(ex, walk_exchange(ex))]


# --- lz-string compressToBase64, written from the JavaScript original, to make test input ----------

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def lz_compress_to_base64(text: str) -> str:
    out: list[str] = []
    val = pos = 0

    def put(bit: int) -> None:
        nonlocal val, pos
        val = (val << 1) | bit
        if pos == 5:
            out.append(_B64[val])
            val = pos = 0
        else:
            pos += 1

    def put_value(value: int, n: int) -> None:
        for _ in range(n):
            put(value & 1)
            value >>= 1

    dictionary: dict[str, int] = {}
    to_create: set[str] = set()
    w = ""
    enlarge, size, bits = 2, 3, 2

    def emit(w: str) -> None:
        nonlocal enlarge, bits
        if w in to_create:
            code = ord(w[0])
            if code < 256:
                put_value(0, bits)
                put_value(code, 8)
            else:
                put_value(1, bits)
                put_value(code, 16)
            enlarge -= 1
            if enlarge == 0:
                enlarge, bits = 1 << bits, bits + 1
            to_create.discard(w)
        else:
            put_value(dictionary[w], bits)
        enlarge -= 1
        if enlarge == 0:
            enlarge, bits = 1 << bits, bits + 1

    for c in text:
        if c not in dictionary:
            dictionary[c] = size
            size += 1
            to_create.add(c)
        wc = w + c
        if wc in dictionary:
            w = wc
            continue
        emit(w)
        dictionary[wc] = size
        size += 1
        w = c
    if w:
        emit(w)
    put_value(2, bits)
    while True:
        val <<= 1
        if pos == 5:
            out.append(_B64[val])
            break
        pos += 1
    res = "".join(out)
    return res + "=" * (-len(res) % 4 if len(res) % 4 else 0) if len(res) % 4 != 1 else res + "==="


# --- sniffing primitives ---------------------------------------------------------------------------


def test_compression_of_magic_bytes() -> None:
    payload = json.dumps(EVENT).encode()
    assert sniff.compression_of(gzip.compress(payload)) == "gzip"
    assert sniff.compression_of(zlib.compress(payload)) == "zlib"
    assert sniff.compression_of(zlib.compress(payload, 1)) == "zlib"
    assert sniff.compression_of(zstandard.ZstdCompressor().compress(payload)) == "zstd"
    assert sniff.compression_of(_raw_deflate(payload)) is None  # no magic: only tried on binary
    assert sniff.compression_of(payload) is None
    # "x^" is a valid zlib header too: the guess is only kept when the stream inflates
    assert sniff.compression_of(b"x^2 + y^2 = z^2") == "zlib"
    assert sniff.inflate(b"x^2 + y^2 = z^2", "zlib", 1 << 20) is None
    assert walk_body(b"x^2 + y^2 = z^2", "text/plain", "request.body") == [Field("request.body", "", "x^2 + y^2 = z^2")]
    assert sniff.compression_of(b"\x1f\x8b") is None  # too short to be a stream


def test_inflate_gives_the_stream_and_its_length() -> None:
    payload = json.dumps(EVENT).encode()
    packed = zlib.compress(payload)
    assert sniff.inflate(packed + b"\nnext line", "zlib", 1 << 20) == (payload, len(packed))
    assert sniff.inflate(b"x\x9c" + os.urandom(64), "zlib", 1 << 20) is None
    assert sniff.inflate(gzip.compress(payload), "gzip", 10) == (payload[:10], len(gzip.compress(payload)))


def test_lzstring_round_trip_and_cheap_rejection() -> None:
    text = json.dumps(EVENT)
    packed = lz_compress_to_base64(text)
    assert sniff.lzstring_json(packed, 1 << 20) == text
    assert sniff.lzstring_json(lz_compress_to_base64("hello world, not json"), 1 << 20) is None
    assert sniff.lzstring_json(base64.b64encode(os.urandom(48)).decode(), 1 << 20) is None
    assert sniff.lzstring_json(packed, 10) is None  # past the limit: nothing


# --- bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packed", "marker"),
    [
        (gzip.compress(json.dumps(EVENT).encode()), "@gzip"),
        (zlib.compress(json.dumps(EVENT).encode()), "@zlib"),
        (zstandard.ZstdCompressor().compress(json.dumps(EVENT).encode()), "@zstd"),
        (_raw_deflate(json.dumps(EVENT).encode()), "@deflate"),
    ],
)
@pytest.mark.parametrize("content_type", ["text/plain", None, "application/octet-stream", "application/json"])
def test_compressed_body_without_content_encoding(packed: bytes, marker: str, content_type: str | None) -> None:
    assert walk_body(packed, content_type, "request.body") == [
        Field("request.body", f"{marker}.{p}", v) for p, v in EVENT_FIELDS
    ]


def test_gzip_json_as_text_plain_finds_the_user() -> None:
    """A widely used browser analytics SDK sends every request like this (compression=gzip-js)."""
    ex = _exchange(gzip.compress(json.dumps(EVENT).encode()), "text/plain", path="/e/?compression=gzip-js")
    assert _findings(ex) == [
        ("usage_event", "@gzip.batch[0].event", "$pageview", "usage_event.key"),
        ("account_id", "@gzip.batch[0].distinct_id", "user-8812", "account_id.key"),
        ("email", '@gzip.batch[0].properties["$email"]', "jane.doe@example.org", "email.regex"),
    ]


def test_random_binary_stays_binary() -> None:
    data = os.urandom(4096)
    assert walk_body(data, "application/octet-stream", "request.body") == [
        Field("request.body", "", "<4096 bytes application/octet-stream>", "binary", "application/octet-stream")
    ]


def test_prompt_formats_apply_inside_a_decompressed_body() -> None:
    chat = {"model": "m", "user": "acct-42", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is my parcel going"}]}
    ex = _exchange(gzip.compress(json.dumps(chat).encode()), "application/octet-stream", host="api.openai.com", path="/v1/chat/completions")
    assert _findings(ex) == [
        ("account_id", "@gzip.user", "acct-42", "account_id.key"),  # a top-level key, as before compression
        ("prompt", "@gzip.messages[1].content", "Where is my parcel going", "prompt.format.openai.chat"),
    ]


# --- strings inside JSON, form fields, envelopes, multipart ------------------------------------------


def test_latin1_gzip_string_beside_the_user() -> None:
    """Session-replay SDKs keep gzip bytes as a latin-1 string next to the user's ids."""
    blob = gzip.compress(json.dumps({"phone": "+1 202 555 0143"}).encode()).decode("latin-1")
    obj = {"user_id": "user-8812", "email": "jane.doe@example.org", "blob": blob}
    assert walk_json(obj) == [
        Field("request.body", "user_id", "user-8812"),
        Field("request.body", "email", "jane.doe@example.org"),
        Field("request.body", "blob.@gzip.phone", "+1 202 555 0143"),
    ]


def test_base64_wrapped_compression() -> None:
    for packed, marker in (
        (gzip.compress(json.dumps(EVENT).encode()), "@gzip"),
        (zlib.compress(json.dumps(EVENT).encode()), "@zlib"),
        (zstandard.ZstdCompressor().compress(json.dumps(EVENT).encode()), "@zstd"),
    ):
        value = base64.b64encode(packed).decode()
        assert walk_string(value, "data", "request.body") == [
            Field("request.body", f"data.@base64.{marker}.{p}", v) for p, v in EVENT_FIELDS
        ]


def test_strings_that_only_look_compressed_stay_values() -> None:
    for value in ("x^2 + y^2 = z^2 holds", "(\xb5/\xfd not zstd at all", "\x1f\x8b broken gzip here", "H4sIAAAAnotbase64!!"):
        assert walk_string(value, "v", "request.body") == [Field("request.body", "v", value)]


def test_lzstring_form_field() -> None:
    body = "data=" + quote(lz_compress_to_base64(json.dumps(EVENT)), safe="") + "&ver=1.2"
    assert walk_body(body.encode(), "application/x-www-form-urlencoded", "request.body") == [
        *(Field("request.body", f"data.@lzstring.{p}", v) for p, v in EVENT_FIELDS),
        Field("request.body", "ver", "1.2"),
    ]


def test_sentry_envelope_with_a_zlib_replay_recording() -> None:
    recording = zlib.compress(json.dumps([{"type": 4, "data": {"href": "https://app.example.com/"}, "timestamp": 1}]).encode())
    payload = b'{"segment_id":0}\n' + recording
    envelope = (
        b'{"event_id":"e1","sent_at":"2026-12-03T08:00:00Z"}\n'
        b'{"type":"replay_event"}\n'
        b'{"user":{"id":"user-8812","email":"jane.doe@example.org"}}\n'
        + b'{"type":"replay_recording","length":%d}\n' % len(payload)
        + payload
        + b'\n{"type":"client_report"}\n{"discarded_events":[]}\n'
    )
    fields = walk_body(envelope, "application/x-sentry-envelope", "request.body")
    assert [(f.path, f.value) for f in fields] == [
        ("[0].event_id", "e1"),
        ("[0].sent_at", "2026-12-03T08:00:00Z"),
        ("[1].type", "replay_event"),
        ("[2].user.id", "user-8812"),
        ("[2].user.email", "jane.doe@example.org"),
        ("[3].type", "replay_recording"),
        ("[3].length", str(len(payload))),
        ("[4].segment_id", "0"),
        ("[5].@zlib[0].data.href", "https://app.example.com/"),
        (f"[{6 + recording.count(b'\n')}].type", "client_report"),
    ]


def test_compressed_multipart_part_is_walked_not_a_user_file() -> None:
    segment = zlib.compress(json.dumps({"records": [], "session": {"id": "s-1"}, "usr": {"email": "jane.doe@example.org"}}).encode())
    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"segment\"; filename=\"s-1\"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" + segment + b"\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\n"
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--XyZ--\r\n"
    )
    assert walk_body(body, "multipart/form-data; boundary=XyZ", "request.body") == [
        Field("request.body", "segment.@zlib.session.id", "s-1"),
        Field("request.body", "segment.@zlib.usr.email", "jane.doe@example.org"),
        Field("request.body", "photo", "me.png", "file", "image/png"),
    ]


# --- limits: bombs stay bombs ---------------------------------------------------------------------


def test_sniffed_bomb_stops_at_the_inflate_limit() -> None:
    bomb = gzip.compress(b"a" * (8 << 20))
    fields = walk_body(bomb, "text/plain", "request.body", max_inflated=1 << 20)
    assert [(f.path, len(f.value)) for f in fields] == [("@gzip", 1 << 20)]


def test_one_inflate_budget_per_exchange() -> None:
    small = gzip.compress(b"b" * 600_000).decode("latin-1")
    fields = walk_json({"a": small, "b": small, "c": small}, max_depth=64)
    assert [f.path for f in fields] == ["a.@gzip", "b.@gzip", "c.@gzip"]  # default budget: all three
    ex = _exchange(json.dumps({"a": small, "b": small, "c": small}).encode(), "application/json")
    fields = walk_exchange(ex, max_inflated=1_000_000)
    body = [(f.path, len(f.value)) for f in fields if f.part == "request.body"]
    assert body[0] == ("a.@gzip", 600_000)
    assert body[1] == ("b.@gzip", 400_000)  # what was left of the budget
    assert body[2][0] == "c"  # nothing left: the string stays as it was


def test_nested_compression_is_bounded_by_depth() -> None:
    data = json.dumps({"email": "deep@example.org"}).encode()
    for _ in range(200):
        data = gzip.compress(data)
    fields = walk_body(data, None, "request.body")
    assert len(fields) == 1 and fields[0].path.count("@gzip") == 64 and fields[0].kind == "binary"
    shallow = walk_body(data, None, "request.body", max_depth=300)
    assert shallow[-1].value == "deep@example.org"


def test_auditor_uses_the_inflate_limit_option() -> None:
    ex = _exchange(gzip.compress(json.dumps({"note": "x" * 5000, "email": "jane.doe@example.org"}).encode()), "text/plain")
    found = Auditor(AuditOptions(limits=Limits(max_inflated=100))).add_exchange(ex)
    assert [f.category for f in found] == []
    found = Auditor(AuditOptions()).add_exchange(ex)
    assert [(f.category, f.path) for f in found] == [("email", "@gzip.email")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from(["gzip", "zlib", "zstd", "deflate"]))
def test_inflate_never_raises(data: bytes, kind: str) -> None:
    for head in (b"", b"\x1f\x8b\x08", b"x\x9c", b"\x28\xb5\x2f\xfd"):
        got = sniff.inflate(head + data, kind, 4096)
        assert got is None or (len(got[0]) <= 4096 and 0 < got[1] <= len(head + data))
    raw = sniff.inflate_raw(data, 4096)
    assert raw is None or 0 < len(raw) <= 4096


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(_B64), min_size=16, max_size=200))
def test_lzstring_never_raises(value: str) -> None:
    out = sniff.lzstring_json(value, 10_000)
    assert out is None or out[0] in "{["


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.binary(max_size=64), st.just(b"\x1f\x8b\x08\x00"), st.just(b"x\x9c"), st.just(b'{"a":1}\n')), max_size=8))
def test_envelopes_and_bodies_of_fragments_never_raise(chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    walk_body(data, "application/x-sentry-envelope", "request.body")
    walk_body(data, None, "request.body")
