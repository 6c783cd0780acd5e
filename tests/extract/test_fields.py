"""Tests for auditor.extract: exact field lists for every format the walkers understand."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.work import lines_run

from auditor.extract import (
    _Full,
    _Walker,
    decode_base64_json,
    decode_jwt,
    walk_body,
    walk_cookies,
    walk_exchange,
    walk_headers,
    walk_json,
    walk_path_segments,
    walk_query,
    walk_string,
    walk_websocket,
)
from auditor.models import Exchange, Field, WebSocketMessage


def b64url(obj: object) -> str:
    """Unpadded base64url of compact JSON, as in a JWT."""
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(payload: object, header: object | None = None) -> str:
    return f"{b64url(header or {'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}.c2lnbmF0dXJl"


def body(path: str, value: str, part: str = "request.body") -> Field:
    return Field(part, path, value)


def exchange(**kwargs: object) -> Exchange:
    base: dict[str, object] = {
        "capture": 0,
        "index": 0,
        "id": "ex-1",
        "method": "POST",
        "scheme": "https",
        "host": "api.example.com",
        "port": 443,
        "path": "/",
    }
    base.update(kwargs)
    return Exchange(**base)  # type: ignore[arg-type]


TOKEN = make_jwt({"sub": "user-42", "email": "ana@example.com", "iat": 1700000000})


# --- JSON ---------------------------------------------------------------------------------------


def test_json_chat_request() -> None:
    obj = {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "My name is Ana"},
        ],
        "stream": True,
        "temperature": 0.7,
        "max_tokens": 256,
    }
    assert walk_json(obj) == [
        body("model", "gpt-4o"),
        body("messages[0].role", "system"),
        body("messages[0].content", "Be brief."),
        body("messages[1].role", "user"),
        body("messages[1].content", "My name is Ana"),
        body("stream", "true"),
        body("temperature", "0.7"),
        body("max_tokens", "256"),
    ]


def test_json_key_quoting() -> None:
    obj = {
        "key with space": "a",
        "a-b": "b",
        "_x9": "c",
        "1abc": "d",
        "-lead": "e",
        "": "f",
        "имя": "g",
        'q"uote': "h",
        "a.b": "i",
        "outer": {"in ner": {"deep": "j"}},
    }
    assert walk_json(obj) == [
        body('["key with space"]', "a"),
        body("a-b", "b"),
        body("_x9", "c"),
        body('["1abc"]', "d"),
        body('["-lead"]', "e"),
        body('[""]', "f"),
        body('["имя"]', "g"),
        body('["q\\"uote"]', "h"),
        body('["a.b"]', "i"),
        body('outer["in ner"].deep', "j"),
    ]


def test_json_top_level_array_and_nested_arrays() -> None:
    assert walk_json([{"x": 1}, {"x": 2}, [["deep"]]]) == [
        body("[0].x", "1"),
        body("[1].x", "2"),
        body("[2][0][0]", "deep"),
    ]


def test_json_scalars() -> None:
    obj = {
        "int": 7,
        "neg": -3,
        "zero": 0,
        "big": 12345678901234567890,
        "float": 1.5,
        "tiny": 0.1,
        "huge": 1e100,
        "whole": 2.0,
        "t": True,
        "f": False,
        "null": None,
        "empty": "",
        "empty_obj": {},
        "empty_list": [],
        "list": [None, "", 0, False],
    }
    assert walk_json(obj) == [
        body("int", "7"),
        body("neg", "-3"),
        body("zero", "0"),
        body("big", "12345678901234567890"),
        body("float", "1.5"),
        body("tiny", "0.1"),
        body("huge", "1e+100"),
        body("whole", "2.0"),
        body("t", "true"),
        body("f", "false"),
        body("list[2]", "0"),
        body("list[3]", "false"),
    ]


def test_json_non_finite_floats_as_json_writes_them() -> None:
    assert walk_json(json.loads('{"a": NaN, "b": Infinity, "c": -Infinity}')) == [
        body("a", "NaN"),
        body("b", "Infinity"),
        body("c", "-Infinity"),
    ]


def test_json_prefix_and_part() -> None:
    assert walk_json({"a": {"b": 1}}, "data", "response.body") == [
        Field("response.body", "data.a.b", "1"),
    ]
    assert walk_json(["x"], "items") == [body("items[0]", "x")]
    assert walk_json({"k k": 1}, "p") == [body('p["k k"]', "1")]


def test_json_top_level_scalar() -> None:
    assert walk_json("hello", "p") == [body("p", "hello")]
    assert walk_json(3, "n") == [body("n", "3")]
    assert walk_json(None, "n") == []


def test_json_string_holding_json_is_walked_in_place() -> None:
    obj = {"event_v3": [{"event": "click", "params": '{"prompt_text": "hi", "n": [1, 2]}'}]}
    assert walk_json(obj) == [
        body("event_v3[0].event", "click"),
        body("event_v3[0].params.prompt_text", "hi"),
        body("event_v3[0].params.n[0]", "1"),
        body("event_v3[0].params.n[1]", "2"),
    ]


def test_json_string_holding_json_twice_and_with_spaces() -> None:
    inner = json.dumps({"email": "ana@example.com"})
    obj = {"outer": json.dumps({"inner": inner}), "spaced": '  \n{"k": "v"}', "list": "[\"a\"]"}
    assert walk_json(obj) == [
        body("outer.inner.email", "ana@example.com"),
        body("spaced.k", "v"),
        body("list[0]", "a"),
    ]


def test_json_string_that_only_looks_like_json_is_a_value() -> None:
    obj = {"a": "{not json", "b": "[DONE]", "c": '"quoted"', "d": "{}", "e": "[]"}
    assert walk_json(obj) == [body("a", "{not json"), body("b", "[DONE]"), body("c", '"quoted"')]


def test_json_python_objects() -> None:
    assert walk_json({"t": ("a", 1), 3: "int key"}) == [
        body("t[0]", "a"),
        body("t[1]", "1"),
        body('["3"]', "int key"),
    ]


# --- JWT and base64 expanders -------------------------------------------------------------------


def test_decode_jwt() -> None:
    assert decode_jwt(TOKEN) == {"sub": "user-42", "email": "ana@example.com", "iat": 1700000000}
    assert decode_jwt(make_jwt(["a"])) == ["a"]
    unsigned = f"{b64url({'alg': 'none'})}.{b64url({'sub': 'x'})}."
    assert decode_jwt(unsigned) == {"sub": "x"}


@pytest.mark.parametrize(
    "value",
    [
        "not a token",
        f"{b64url({'typ': 'JWT'})}.{b64url({'sub': 'x'})}.sig",  # header without alg
        f"{b64url({'alg': 'HS256'})}.{b64url({'sub': 'x'})}",  # two segments
        f"{b64url({'alg': 'HS256'})}.{b64url({'sub': 'x'})}.sig.extra",  # four
        f"{b64url({'alg': 'HS256'})}.!!!.sig",  # payload not base64
        f"{b64url({'alg': 'HS256'})}.{b64url('scalar')}.sig",  # payload not an object
        "eyJ.a.b",
    ],
)
def test_decode_jwt_rejects(value: str) -> None:
    assert decode_jwt(value) is None


def test_jwt_in_json_value() -> None:
    nested = make_jwt({"user": {"id": 7, "name": "Ana"}})
    assert walk_json({"token": TOKEN, "n": nested}) == [
        body("token", TOKEN),
        body("token.@jwt.sub", "user-42"),
        body("token.@jwt.email", "ana@example.com"),
        body("token.@jwt.iat", "1700000000"),
        body("n", nested),
        body("n.@jwt.user.id", "7"),
        body("n.@jwt.user.name", "Ana"),
    ]


def test_decode_base64_json() -> None:
    payload = {"user_id": 42, "email": "ana@example.com"}
    raw = json.dumps(payload).encode()
    assert decode_base64_json(base64.b64encode(raw).decode()) == payload
    assert decode_base64_json(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == payload
    assert decode_base64_json(base64.b64encode(b'  \n[1, 2, "x"]').decode()) == [1, 2, "x"]


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(b'{"a":1}').decode(),  # shorter than 16 characters
        base64.b64encode(b"just some plain text here").decode(),
        base64.b64encode(b'"a json string, not an object"').decode(),
        base64.b64encode(b'{"bad utf8": "\xff\xfe"}').decode(),
        base64.b64encode(b'{"truncated": ').decode(),
        "eyJ!!!!not base64 at all",
        "eyJhbGciOiJub25lIn0x",  # length 4n+1: not base64
    ],
)
def test_decode_base64_json_rejects(value: str) -> None:
    assert decode_base64_json(value) is None


def test_base64_json_in_json_value() -> None:
    wrapped = base64.b64encode(json.dumps({"user_id": 42, "tags": ["a"]}).encode()).decode()
    assert walk_json({"data": wrapped}) == [
        body("data", wrapped),
        body("data.@base64.user_id", "42"),
        body("data.@base64.tags[0]", "a"),
    ]


def test_base64_url_safe_unpadded() -> None:
    raw = json.dumps({"q": "ÿÿÿ>>>???", "id": "abc"}).encode()
    wrapped = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert "-" in wrapped or "_" in wrapped
    assert walk_json({"d": wrapped}) == [
        body("d", wrapped),
        body("d.@base64.q", "ÿÿÿ>>>???"),
        body("d.@base64.id", "abc"),
    ]


def test_walk_string() -> None:
    assert walk_string(TOKEN, "t", "request.query") == [
        Field("request.query", "t", TOKEN),
        Field("request.query", "t.@jwt.sub", "user-42"),
        Field("request.query", "t.@jwt.email", "ana@example.com"),
        Field("request.query", "t.@jwt.iat", "1700000000"),
    ]
    assert walk_string('{"a": 1}', "p", "request.body") == [body("p.a", "1")]
    assert walk_string('{"a": 1}', "p", "request.body", inline_json=False) == [
        body("p", '{"a": 1}')
    ]
    assert walk_string("", "p", "request.body") == []


# --- bodies: JSON -------------------------------------------------------------------------------


def test_body_json() -> None:
    data = b'{"messages": [{"role": "user", "content": "hi"}], "user": {"email": "a@b.co"}}'
    assert walk_body(data, "application/json", "request.body") == [
        body("messages[0].role", "user"),
        body("messages[0].content", "hi"),
        body("user.email", "a@b.co"),
    ]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain;charset=UTF-8", "application/octet-stream", "application/vnd.api+json"],
)
def test_body_json_detected_from_content(content_type: str | None) -> None:
    assert walk_body(b' \n[{"a": "b"}]', content_type, "request.body") == [body("[0].a", "b")]


def test_body_json_prefix_and_part() -> None:
    assert walk_body(b'{"a": 1}', "application/json", "response.body", prefix="x") == [
        Field("response.body", "x.a", "1")
    ]


def test_body_json_scalar_with_json_type() -> None:
    assert walk_body(b'"just a string"', "application/json", "response.body") == [
        Field("response.body", "", "just a string")
    ]
    assert walk_body(b"null", "application/json", "response.body") == []


def test_body_json_with_charset_and_bom() -> None:
    data = '\ufeff{"name": "Zoë"}'.encode("utf-8")
    assert walk_body(data, "application/json; charset=utf-8", "request.body") == [
        body("name", "Zoë")
    ]
    latin = '{"name": "Zoë"}'.encode("latin-1")
    assert walk_body(latin, "application/json; charset=ISO-8859-1", "request.body") == [
        body("name", "Zoë")
    ]


def test_body_json_with_invalid_utf8() -> None:
    assert walk_body(b'{"name": "caf\xe9", "ok": "yes"}', "application/json", "request.body") == [
        body("name", "caf\ufffd"),
        body("ok", "yes"),
    ]


def test_body_json_with_unknown_charset_falls_back_to_utf8() -> None:
    assert walk_body(b'{"a": "\xc3\xa9"}', "application/json; charset=nope", "request.body") == [
        body("a", "é")
    ]


def test_body_deeply_nested_json_becomes_text() -> None:
    """Nesting past the parser's reach is kept as one text field, with work that does not grow
    with the depth (counted, not timed)."""
    work = {}
    for depth in (50_000, 100_000):
        data = b"[" * depth + b"]" * depth
        fields: list[Field] = []
        work[depth] = lines_run(lambda data=data, fields=fields: fields.extend(walk_body(data, "application/json", "request.body")))
        assert fields == [body("", data.decode())]
    assert 0 < work[100_000] <= 1.1 * work[50_000] + 50, work


def test_body_deep_json_within_parser_limits_is_cut_at_max_depth() -> None:
    data = ('{"a":' * 500 + '"leaf"' + "}" * 500).encode()
    assert walk_body(data, "application/json", "request.body") == []
    shallow = b'{"x": "top", "a": ' + data + b"}"
    assert walk_body(shallow, "application/json", "request.body") == [body("x", "top")]


def test_json_nested_100000_levels_as_python_object() -> None:
    obj: object = "leaf"
    for _ in range(100_000):
        obj = {"a": obj}
    assert walk_json({"top": "x", "deep": obj}) == [body("top", "x")]
    assert walk_json(obj, max_depth=200_000) == []  # Python's own recursion limit: no raise


# --- bodies: NDJSON and envelopes ---------------------------------------------------------------


def test_body_ndjson() -> None:
    data = b'{"a": 1}\n{"a": 2}\n\n["x"]\nplain line\n'
    assert walk_body(data, "application/x-ndjson", "request.body") == [
        body("[0].a", "1"),
        body("[1].a", "2"),
        body("[3][0]", "x"),
        body("[4]", "plain line"),
    ]


def test_body_sentry_envelope() -> None:
    envelope = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@o1.ingest.sentry.io/1"}\n'
        b'{"type":"event","length":41}\n'
        b'{"user":{"email":"ana@example.com","id":"7"}}\n'
        b'{"type":"attachment","length":13}\n'
        b"hello, world!\n"
    )
    assert walk_body(envelope, "application/x-sentry-envelope", "request.body") == [
        body("[0].event_id", "9ec79c33ec9942ab8353589fcb2e04dc"),
        body("[0].dsn", "https://k@o1.ingest.sentry.io/1"),
        body("[1].type", "event"),
        body("[1].length", "41"),
        body("[2].user.email", "ana@example.com"),
        body("[2].user.id", "7"),
        body("[3].type", "attachment"),
        body("[3].length", "13"),
        body("[4]", "hello, world!"),
    ]


def test_body_envelope_sent_as_text_plain_with_crlf_and_binary_item() -> None:
    envelope = (
        b'{"sent_at":"2024-01-01T00:00:00Z"}\r\n'
        b'{"type":"replay_recording","length":12}\r\n'
        b"\x78\x9c\x00\x01\x02\x03\xff\xfe\x04\x05\x06\x07\r\n"
    )
    assert walk_body(envelope, "text/plain;charset=UTF-8", "request.body") == [
        body("[0].sent_at", "2024-01-01T00:00:00Z"),
        body("[1].type", "replay_recording"),
        body("[1].length", "12"),
        Field("request.body", "[2]", "<12 bytes>", "binary"),
    ]


def test_body_json_with_trailing_garbage_is_text() -> None:
    data = b'{"a": 1} trailing'
    assert walk_body(data, "application/json", "request.body") == [body("", '{"a": 1} trailing')]


# --- bodies: forms ------------------------------------------------------------------------------


def test_body_form() -> None:
    wrapped = base64.b64encode(b'{"user_id": 42}').decode()
    data = (
        "name=Ana+Silva&email=ana%40example.com&tag=a&tag=b&empty=&json=%7B%22k%22%3A%22v%22%7D"
        f"&data={wrapped.replace('=', '%3D')}"
    ).encode()
    assert walk_body(data, "application/x-www-form-urlencoded; charset=UTF-8", "request.body") == [
        body("name", "Ana Silva"),
        body("email", "ana@example.com"),
        body("tag", "a"),
        body("tag", "b"),
        body("json.k", "v"),
        body("data", wrapped),
        body("data.@base64.user_id", "42"),
    ]


def test_body_form_detected_without_content_type() -> None:
    assert walk_body(b"a=1&b=two", None, "request.body") == [body("a", "1"), body("b", "two")]


def test_body_form_type_with_json_content() -> None:
    assert walk_body(b'{"a": "b"}', "application/x-www-form-urlencoded", "request.body") == [
        body("a", "b")
    ]


def test_body_text_plain_is_not_taken_for_a_form() -> None:
    assert walk_body(b"a=1&b=2", "text/plain", "request.body") == [body("", "a=1&b=2")]


# --- bodies: multipart --------------------------------------------------------------------------

MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="model"\r\n'
    b"\r\n"
    b"whisper-1\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="meta"\r\n'
    b"Content-Type: application/json\r\n"
    b"\r\n"
    b'{"user": {"email": "ana@example.com"}}\r\n'
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="file"; filename="voice note.m4a"\r\n'
    b"Content-Type: audio/mp4\r\n"
    b"\r\n"
    b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="blob"\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
    b"\x01\x02\x03\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="empty"; filename=""\r\n'
    b"\r\n"
    b"\r\n"
    b"--XyZ--\r\n"
)

MULTIPART_FIELDS = [
    body("model", "whisper-1"),
    body("meta.user.email", "ana@example.com"),
    Field("request.body", "file", "voice note.m4a", "file", "audio/mp4"),
    Field("request.body", "blob", "", "file", "application/octet-stream"),
    Field("request.body", "empty", "", "file", None),
]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=XyZ",
        'multipart/form-data; boundary="XyZ"',
        "Multipart/Form-Data;boundary=XyZ;charset=utf-8",
    ],
)
def test_body_multipart(content_type: str) -> None:
    assert walk_body(MULTIPART, content_type, "request.body") == MULTIPART_FIELDS


def test_body_multipart_lf_only() -> None:
    data = MULTIPART.replace(b"\r\n", b"\n")
    assert walk_body(data, "multipart/form-data; boundary=XyZ", "request.body") == MULTIPART_FIELDS


def test_body_multipart_boundary_sniffed() -> None:
    assert walk_body(MULTIPART, "multipart/form-data", "request.body") == MULTIPART_FIELDS
    assert walk_body(MULTIPART, None, "request.body") == MULTIPART_FIELDS


def test_body_multipart_quoted_boundary_with_special_characters() -> None:
    data = (
        b"--a'b(c)+_,-./:=?\r\n"
        b"Content-Disposition: form-data; name=\"q\"\r\n\r\n"
        b"hello\r\n"
        b"--a'b(c)+_,-./:=?\r\n"
        b"Content-Disposition: form-data; name=\"doc\"; filename*=UTF-8''%E6%96%87%E4%BB%B6.pdf\r\n"
        b"Content-Type: application/pdf\r\n\r\n"
        b"%PDF-1.4\r\n"
        b"--a'b(c)+_,-./:=?--"
    )
    ctype = "multipart/form-data; boundary=\"a'b(c)+_,-./:=?\""
    assert walk_body(data, ctype, "request.body") == [
        body("q", "hello"),
        Field("request.body", "doc", "文件.pdf", "file", "application/pdf"),
    ]


def test_body_multipart_mixed_without_names() -> None:
    data = (
        b"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b"--b\r\nContent-Type: application/json\r\n\r\n{\"k\": \"v\"}\r\n--b--\r\n"
    )
    assert walk_body(data, "multipart/mixed; boundary=b", "request.body") == [
        body("[0]", "first"),
        body("[1].k", "v"),
    ]


def test_body_multipart_with_wrong_boundary_is_text() -> None:
    assert walk_body(b"no parts here", "multipart/form-data; boundary=zzz", "request.body") == [
        body("", "no parts here")
    ]


# --- bodies: server-sent events -----------------------------------------------------------------


def test_body_sse_openai_style() -> None:
    data = (
        b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'
        b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n'
        b'data: {"choices":[{"delta":{"content":"lo"}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    part = "response.body"
    assert walk_body(data, "text/event-stream; charset=utf-8", part) == [
        Field(part, "sse[0].choices[0].delta.role", "assistant"),
        Field(part, "sse[1].choices[0].delta.content", "Hel"),
        Field(part, "sse[2].choices[0].delta.content", "lo"),
    ]


def test_body_sse_named_events_comments_multiline_and_crlf() -> None:
    data = (
        b": keep-alive\r\n\r\n"
        b"event: message_start\r\n"
        b'data: {"type":"message_start",\r\n'
        b'data: "id":"msg_1"}\r\n\r\n'
        b"event: ping\r\n\r\n"
        b"id: 3\r\n"
        b"data:plain text event\r\n\r\n"
        b"data: last without blank line"
    )
    part = "response.body"
    assert walk_body(data, "text/event-stream", part) == [
        Field(part, "sse[0].type", "message_start"),
        Field(part, "sse[0].id", "msg_1"),
        Field(part, "sse[1]", "plain text event"),
        Field(part, "sse[2]", "last without blank line"),
    ]


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_body_sse_detected_from_content(content_type: str | None) -> None:
    data = b'event: delta\ndata: {"text": "hi"}\n\n'
    assert walk_body(data, content_type, "response.body") == [
        Field("response.body", "sse[0].text", "hi")
    ]


def test_body_sse_with_prefix() -> None:
    assert walk_body(b"data: x\n\n", "text/event-stream", "response.body", prefix="p") == [
        Field("response.body", "p.sse[0]", "x")
    ]


# --- bodies: text and binary --------------------------------------------------------------------


def test_body_plain_text() -> None:
    assert walk_body(b"Hello, my phone is 555-0100\n", "text/plain", "request.body") == [
        body("", "Hello, my phone is 555-0100\n")
    ]


def test_body_html() -> None:
    html = b"<!doctype html><html><body>Hi</body></html>"
    assert walk_body(html, "text/html; charset=utf-8", "response.body") == [
        Field("response.body", "", html.decode())
    ]


def test_body_text_invalid_utf8_is_replaced() -> None:
    assert walk_body(b"hello \xff\xfe world", "text/plain", "request.body") == [
        body("", "hello \ufffd\ufffd world")
    ]


def test_body_text_in_declared_charset() -> None:
    data = "你好，世界".encode("gbk")  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    assert walk_body(data, "text/plain; charset=gbk", "response.body") == [
        Field("response.body", "", "你好，世界")  # noqa: RUF001  (Chinese punctuation / report symbols, on purpose)
    ]


def test_body_text_holding_a_jwt() -> None:
    assert walk_body(TOKEN.encode(), "text/plain", "response.body") == [
        Field("response.body", "", TOKEN),
        Field("response.body", "@jwt.sub", "user-42"),
        Field("response.body", "@jwt.email", "ana@example.com"),
        Field("response.body", "@jwt.iat", "1700000000"),
    ]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "application/octet-stream", "application/x-protobuf", "application/x-custom"],
)
def test_body_binary(content_type: str) -> None:
    assert walk_body(PNG, content_type, "response.body") == [
        Field("response.body", "", f"<{len(PNG)} bytes {content_type}>", "binary", content_type)
    ]


def test_body_binary_without_content_type() -> None:
    assert walk_body(PNG, None, "response.body") == [
        Field("response.body", "", f"<{len(PNG)} bytes>", "binary", None)
    ]


def test_body_declared_image_is_binary_even_if_it_reads_as_text() -> None:
    assert walk_body(b'{"a": 1}', "image/jpeg", "request.body") == [
        Field("request.body", "", "<8 bytes image/jpeg>", "binary", "image/jpeg")
    ]


def test_body_svg_is_text() -> None:
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert walk_body(svg, "image/svg+xml", "response.body") == [
        Field("response.body", "", svg.decode())
    ]


def test_body_protobuf_without_type_is_binary() -> None:
    proto = b"\n\x05hello\x12\x03abc\x18\x96\x01 \x01"
    assert walk_body(proto, None, "request.body") == [
        Field("request.body", "", f"<{len(proto)} bytes>", "binary")
    ]


def test_body_compressed_bytes_labelled_text_are_inflated_and_binary_inside() -> None:
    import gzip

    data = gzip.compress(bytes(range(256)) * 64)
    assert walk_body(data, "text/html", "response.body") == [
        Field("response.body", "@gzip", "<16384 bytes>", "binary", None)
    ]


@pytest.mark.parametrize("data", [b"", b"   \n\t "])
def test_body_empty(data: bytes) -> None:
    assert walk_body(data, "application/json", "request.body") == []


# --- headers, cookies, query, path --------------------------------------------------------------


def test_headers() -> None:
    basic = base64.b64encode("ana:pä:ss".encode()).decode()
    headers = [
        ("Authorization", f"Bearer {TOKEN}"),
        ("User-Agent", "ChatApp/1.2 (iPhone; iOS 17.1)"),
        ("Cookie", "sid=abc; theme=dark"),
        ("X-Empty", ""),
        ("Proxy-Authorization", f"Basic {basic}"),
        ("X-Meta", '{"user": "not walked"}'),
    ]
    assert walk_headers(headers) == [
        Field("request.header", "authorization", f"Bearer {TOKEN}"),
        Field("request.header", "authorization.bearer", TOKEN),
        Field("request.header", "authorization.bearer.@jwt.sub", "user-42"),
        Field("request.header", "authorization.bearer.@jwt.email", "ana@example.com"),
        Field("request.header", "authorization.bearer.@jwt.iat", "1700000000"),
        Field("request.header", "user-agent", "ChatApp/1.2 (iPhone; iOS 17.1)"),
        Field("request.header", "proxy-authorization", f"Basic {basic}"),
        Field("request.header", "proxy-authorization.basic.username", "ana"),
        Field("request.header", "proxy-authorization.basic.password", "pä:ss"),
        Field("request.header", "x-meta", '{"user": "not walked"}'),
    ]


@pytest.mark.parametrize(
    ("value", "extra"),
    [
        ("Token abc123", [("authorization.token", "abc123")]),
        ('Digest username="ana"', [("authorization.digest", 'username="ana"')]),
        ("Basic !!notbase64", [("authorization.basic", "!!notbase64")]),
        ("Bearer", []),
        ("sk-live-1234", []),
    ],
)
def test_authorization_schemes(value: str, extra: list[tuple[str, str]]) -> None:
    expected = [Field("request.header", "authorization", value)]
    expected += [Field("request.header", path, v) for path, v in extra]
    assert walk_headers([("authorization", value)]) == expected


def test_authorization_without_scheme_holding_a_jwt() -> None:
    assert walk_headers([("Authorization", TOKEN)]) == [
        Field("request.header", "authorization", TOKEN),
        Field("request.header", "authorization.@jwt.sub", "user-42"),
        Field("request.header", "authorization.@jwt.email", "ana@example.com"),
        Field("request.header", "authorization.@jwt.iat", "1700000000"),
    ]


def test_header_base64_json() -> None:
    wrapped = base64.b64encode(b'{"device_id": "d-1"}').decode()
    assert walk_headers([("X-Client-Info", wrapped)]) == [
        Field("request.header", "x-client-info", wrapped),
        Field("request.header", "x-client-info.@base64.device_id", "d-1"),
    ]


def test_response_headers_set_cookie() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "session=s3cr3t; Path=/; HttpOnly; Secure"),
        ("set-cookie", '__Host-id="quoted"; Max-Age=10'),
        ("Set-Cookie", "cleared=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        ("Set-Cookie", "garbage-without-equals"),
        ("Set-Cookie", f"jwt={TOKEN}"),
    ]
    part = "response.header"
    assert walk_headers(headers, "response.header") == [
        Field(part, "content-type", "application/json"),
        Field(part, "set-cookie.session", "s3cr3t"),
        Field(part, "set-cookie.__Host-id", "quoted"),
        Field(part, "set-cookie.jwt", TOKEN),
        Field(part, "set-cookie.jwt.@jwt.sub", "user-42"),
        Field(part, "set-cookie.jwt.@jwt.email", "ana@example.com"),
        Field(part, "set-cookie.jwt.@jwt.iat", "1700000000"),
    ]


def test_cookies() -> None:
    wrapped = base64.b64encode(b'{"uid": 99, "plan": "pro"}').decode()
    traits = "%7B%22email%22%3A%22ana%40example.com%22%7D"
    cookies = [("sid", "abc"), ("empty", ""), ("state", wrapped), ("ajs_user_traits", traits)]
    assert walk_cookies(cookies) == [
        Field("request.cookie", "sid", "abc"),
        Field("request.cookie", "state", wrapped),
        Field("request.cookie", "state.@base64.uid", "99"),
        Field("request.cookie", "state.@base64.plan", "pro"),
        Field("request.cookie", "ajs_user_traits.email", "ana@example.com"),
    ]


def test_query() -> None:
    wrapped = base64.urlsafe_b64encode(b'{"ref": "newsletter-2024"}').decode()
    query = f"?q=caf%C3%A9+au+lait&tag=a&tag=b&flag&empty=&ctx={wrapped}&j=%5B1%2C2%5D#frag"
    assert walk_query(query) == [
        Field("request.query", "q", "café au lait"),
        Field("request.query", "tag", "a"),
        Field("request.query", "tag", "b"),
        Field("request.query", "ctx", wrapped),
        Field("request.query", "ctx.@base64.ref", "newsletter-2024"),
        Field("request.query", "j[0]", "1"),
        Field("request.query", "j[1]", "2"),
    ]
    assert walk_query([("a", "1"), ("b", "")]) == [Field("request.query", "a", "1")]


def test_path_segments() -> None:
    assert walk_path_segments("/v1//users/ana%40example.com/chat%20log/?x=1#f") == [
        Field("request.url", "path[0]", "v1"),
        Field("request.url", "path[1]", "users"),
        Field("request.url", "path[2]", "ana@example.com"),
        Field("request.url", "path[3]", "chat log"),
    ]


def test_path_segments_absolute_form_and_jwt() -> None:
    assert walk_path_segments(f"http://proxy.example/verify/{TOKEN}") == [
        Field("request.url", "path[0]", "verify"),
        Field("request.url", "path[1]", TOKEN),
        Field("request.url", "path[1].@jwt.sub", "user-42"),
        Field("request.url", "path[1].@jwt.email", "ana@example.com"),
        Field("request.url", "path[1].@jwt.iat", "1700000000"),
    ]
    assert walk_path_segments("/") == []
    assert walk_path_segments("") == []


# --- WebSocket ----------------------------------------------------------------------------------


def test_websocket() -> None:
    messages = [
        WebSocketMessage(True, b'{"type": "prompt", "text": "hi"}'),
        WebSocketMessage(False, b'{"delta": "Hel"}'),
        WebSocketMessage(False, b"lo"),
        WebSocketMessage(True, b"\x00\x01\x02", is_text=False),
        WebSocketMessage(True, b""),
        WebSocketMessage(True, b"ping \xff"),
    ]
    assert walk_websocket(messages) == [
        Field("websocket.client", "[0].type", "prompt"),
        Field("websocket.client", "[0].text", "hi"),
        Field("websocket.client", "[3]", "<3 bytes>", "binary"),
        Field("websocket.client", "[5]", "ping \ufffd"),
        Field("websocket.server", "[1].delta", "Hel"),
        Field("websocket.server", "[2]", "lo"),
    ]


# --- whole exchanges ----------------------------------------------------------------------------


def test_walk_exchange_order_and_parts() -> None:
    ex = exchange(
        path="/v1/chat/completions?session=s-1&lang=en",
        request_headers=[
            ("Host", "api.example.com"),
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer sk-abc"),
            ("Cookie", "sid=xyz; theme=dark"),
        ],
        request_body=b'{"messages": [{"role": "user", "content": "hello"}]}',
        status=200,
        response_headers=[("Content-Type", "text/event-stream"), ("Set-Cookie", "t=1; Path=/")],
        response_body=b'data: {"choices": [{"delta": {"content": "Hi"}}]}\n\ndata: [DONE]\n\n',
        websocket=[
            WebSocketMessage(False, b'{"hello": "server"}'),
            WebSocketMessage(True, b'{"hello": "client"}'),
        ],
    )
    assert walk_exchange(ex) == [
        Field("request.url", "path[0]", "v1"),
        Field("request.url", "path[1]", "chat"),
        Field("request.url", "path[2]", "completions"),
        Field("request.query", "session", "s-1"),
        Field("request.query", "lang", "en"),
        Field("request.header", "host", "api.example.com"),
        Field("request.header", "content-type", "application/json"),
        Field("request.header", "authorization", "Bearer sk-abc"),
        Field("request.header", "authorization.bearer", "sk-abc"),
        Field("request.cookie", "sid", "xyz"),
        Field("request.cookie", "theme", "dark"),
        Field("request.body", "messages[0].role", "user"),
        Field("request.body", "messages[0].content", "hello"),
        Field("websocket.client", "[1].hello", "client"),
        Field("websocket.server", "[0].hello", "server"),
        Field("response.header", "content-type", "text/event-stream"),
        Field("response.header", "set-cookie.t", "1"),
        Field("response.body", "sse[0].choices[0].delta.content", "Hi"),
    ]


def test_walk_exchange_volcengine_event_log() -> None:
    payload = {"event_v3": [{"event": "send", "params": json.dumps({"prompt_text": "hi"})}]}
    ex = exchange(
        path="/service/2/app_log/",
        request_headers=[("content-type", "application/json; charset=utf-8")],
        request_body=json.dumps(payload).encode(),
    )
    assert walk_exchange(ex) == [
        Field("request.url", "path[0]", "service"),
        Field("request.url", "path[1]", "2"),
        Field("request.url", "path[2]", "app_log"),
        Field("request.header", "content-type", "application/json; charset=utf-8"),
        Field("request.body", "event_v3[0].event", "send"),
        Field("request.body", "event_v3[0].params.prompt_text", "hi"),
    ]


def test_walk_exchange_binary_response() -> None:
    ex = exchange(
        method="GET",
        path="/avatar.png",
        response_headers=[("Content-Type", "image/png")],
        response_body=PNG,
    )
    assert walk_exchange(ex) == [
        Field("request.url", "path[0]", "avatar.png"),
        Field("response.header", "content-type", "image/png"),
        Field("response.body", "", f"<{len(PNG)} bytes image/png>", "binary", "image/png"),
    ]


def test_walk_exchange_odd_target_does_not_raise() -> None:
    ex = exchange(path="//[broken/x?a=[1", request_headers=[("Cookie", "=novalue; x")])
    assert walk_exchange(ex) == [
        Field("request.url", "path[0]", "[broken"),
        Field("request.url", "path[1]", "x"),
        Field("request.query", "a", "[1"),
    ]


# --- bounds -------------------------------------------------------------------------------------


def test_max_fields_per_call() -> None:
    obj = {"items": [str(i) for i in range(100)]}
    assert walk_json(obj, max_fields=3) == [
        body("items[0]", "0"),
        body("items[1]", "1"),
        body("items[2]", "2"),
    ]
    assert walk_json(obj, max_fields=0) == []


def test_max_fields_per_exchange() -> None:
    ex = exchange(
        path="/a/b?x=1",
        request_headers=[("h1", "v1"), ("h2", "v2")],
        request_body=b'{"k": "v"}',
        response_headers=[("h3", "v3")],
    )
    assert walk_exchange(ex, max_fields=4) == [
        Field("request.url", "path[0]", "a"),
        Field("request.url", "path[1]", "b"),
        Field("request.query", "x", "1"),
        Field("request.header", "h1", "v1"),
    ]
    big = exchange(request_body=json.dumps(list(range(50_000))).encode())
    assert len(walk_exchange(big)) == 20_000


def test_max_depth() -> None:
    obj = {"a": {"b": {"c": "deep"}, "x": "mid"}, "d": "top"}
    assert walk_json(obj, max_depth=2) == [body("a.x", "mid"), body("d", "top")]
    assert walk_json(obj, max_depth=1) == [body("d", "top")]
    assert walk_json(obj, max_depth=0) == []
    # JSON inside a string counts as one more level.
    assert walk_json({"s": '{"k": "v"}'}, max_depth=1) == [body("s", '{"k": "v"}')]
    assert walk_json({"s": '{"k": "v"}'}, max_depth=2) == [body("s.k", "v")]


# --- robustness and speed -----------------------------------------------------------------------

CONTENT_TYPES = st.sampled_from(
    [
        None,
        "",
        "application/json",
        "application/x-ndjson",
        "text/plain",
        "text/plain; charset=gbk",
        "text/html; charset=nonexistent",
        "text/event-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "multipart/form-data",
        "multipart/form-data; boundary=\"\"",
        "application/octet-stream",
        "image/png",
        ";;;=",
    ]
)

SEEDS = st.sampled_from(
    [
        b'{"a": ',
        b"[",
        b"]",
        b"}",
        b'"',
        b"\n",
        b"\r\n",
        b"data: ",
        b"event: x\n",
        b"--b\r\n",
        b"--b--",
        b'Content-Disposition: form-data; name="f"; filename*=x\'\'%ff\r\n\r\n',
        b"a=b&",
        b"%7B%22",
        b"eyJhbGciOiJub25lIn0.",
        b"eyJ",
        b"\xff\xfe",
        b"\x00",
        b"\xef\xbb\xbf",
        b'"\\ud800"',
        b"1e999",
        b"9" * 5000,
    ]
)

HOSTILE = st.one_of(
    st.binary(max_size=512),
    st.lists(st.one_of(SEEDS, st.binary(max_size=8)), max_size=24).map(b"".join),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=HOSTILE, content_type=CONTENT_TYPES)
def test_walk_body_never_raises(data: bytes, content_type: str | None) -> None:
    fields = walk_body(data, content_type, "request.body")
    assert all(isinstance(f, Field) and isinstance(f.value, str) for f in fields)
    # The same walk without the public safety net: any exception here is a real bug.
    walker = _Walker(64, 20000, "request.body")
    with contextlib.suppress(_Full):
        walker.body(data, content_type, "")
    assert walker.out == fields


@settings(max_examples=200, deadline=None)
@given(data=HOSTILE, text=st.text(max_size=64), names=st.lists(st.text(max_size=12), max_size=4))
def test_walk_exchange_never_raises(data: bytes, text: str, names: list[str]) -> None:
    headers = [(name or "x", text) for name in names] + [("Content-Type", text), ("Cookie", text)]
    ex = exchange(
        path=text,
        request_headers=headers,
        request_body=data,
        response_headers=[("Set-Cookie", text), ("Authorization", text)],
        response_body=data,
        websocket=[WebSocketMessage(True, data), WebSocketMessage(False, data, is_text=False)],
    )
    fields = walk_exchange(ex)
    assert all(isinstance(f, Field) for f in fields)
    for part, walk in (
        ("request.header", lambda w: w.headers(headers)),
        ("request.cookie", lambda w: w.cookies(ex.cookies)),
        ("request.url", lambda w: w.path_segments(text)),
        ("request.query", lambda w: w.query(text)),
    ):
        walker = _Walker(64, 20000, part)
        walk(walker)  # no safety net: must not raise either


@settings(max_examples=300, deadline=None)
@given(
    obj=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=30,
    )
)
def test_walk_json_never_raises(obj: object) -> None:
    walker = _Walker(64, 20000, "request.body")
    walker.json(obj, "", 0)
    assert walker.out == walk_json(obj)


def test_request_walk_work_grows_with_the_request_not_faster() -> None:
    """A chat request of 4 times as many messages costs at most about 4 times the work (lines of
    auditor's code run, counted, not timed; its speed is measured by benchmarks/bench_report.py)."""

    def request(messages: int) -> Exchange:
        payload = {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                *({"role": "user", "content": f"Question {i}: " + "lorem ipsum " * 20} for i in range(messages)),
            ],
            "metadata": {"user_id": "u_123", "device": {"os": "iOS", "locale": "en-US"}},
            "temperature": 0.7,
            "stream": True,
            "tools": [{"type": "function", "function": {"name": "search", "parameters": {}}}],
        }
        return exchange(
            request_headers=[("Content-Type", "application/json"), ("Authorization", f"Bearer {TOKEN}")],
            request_body=json.dumps(payload).encode(),
        )

    small, large = request(8), request(32)
    assert 2000 < len(small.request_body or b"") < 5000
    assert len(walk_exchange(large)) - len(walk_exchange(small)) == 2 * 24  # role and content per message
    work_small = lines_run(lambda: walk_exchange(small))
    work_large = lines_run(lambda: walk_exchange(large))
    assert work_small > 0
    assert work_large <= 4.4 * work_small, (work_small, work_large)
