"""Property-based fuzzing of the readers, the body decoder, the walkers and the findings spool.

The readers get arbitrary bytes and byte-wise mutations of real captures (the recorded fixture
flows and HAR, a small pcap): they yield exchanges or raise their one documented error type
(``FlowFileError``, ``HarError``, ``ValueError`` for pcap, ``CaptureError`` for
``open_capture``), nothing else. The decoder and the walkers never raise and stay within their
limits.

The default run is short and repeatable (a fixed number of examples, derandomized) so
``make test`` stays fast. A longer, random run::

    AUDITOR_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:randomly
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import re
import tempfile
import zlib
from pathlib import Path
from typing import Any

import brotli
import zstandard
from conftest import FIXTURES
from hostile import corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.audit.spool import RecordSpool
from auditor.extract import walk_body, walk_exchange, walk_json
from auditor.io.capture import CaptureError, open_capture
from auditor.io.decoding import decode_body
from auditor.io.flowfile import FlowFileError, read_flowfile
from auditor.io.har import HarError, read_har
from auditor.io.pcap import read_pcap
from auditor.limits import Limits
from auditor.models import Exchange, WebSocketMessage
from auditor.renderers.json_report import render_json

BUDGET = os.environ.get("AUDITOR_FUZZ_EXAMPLES")
EXAMPLES = int(BUDGET) if BUDGET else 40
_REPEATABLE: dict[str, Any] = {"derandomize": True, "database": None} if BUDGET is None else {}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    **_REPEATABLE,
)

FLOWS = (FIXTURES / "ai-chat-session.flows").read_bytes()
HAR = (FIXTURES / "ai-chat-session.har").read_bytes()
PCAP = corpus.good_pcap()
PCAPNG = corpus.pcapng_bad_lengths()


def _ignore(msg: str) -> None:
    pass


# --------------------------------------------------------------------------------------------
# Byte-wise mutation of real files


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few byte flips, insertions, deletions, duplications or a truncation."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate", "digit"]))
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0, 0xFF, 0x7F, ord(":"), ord(","), ord("}"), ord("]"), ord('"'), ord("\\")]))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 64))]
        elif op == "duplicate":
            n = draw(st.integers(1, 256))
            data[i:i] = data[i : i + n]
        elif op == "truncate":
            del data[i:]
        else:  # a length prefix or number changed to another number
            data[i : i + 1] = str(draw(st.integers(0, 10**9))).encode()
    return bytes(data)


def _tmp(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


def _drain_capture(data: bytes, suffix: str) -> None:
    """Open ``data`` as a capture file and read every exchange; only CaptureError may escape."""
    path = _tmp(data, suffix)
    try:
        cap = open_capture(path, limits=Limits(max_capture_inflated=8 << 20))
        for ex in cap.exchanges:
            assert isinstance(ex, Exchange)
            assert isinstance(ex.host, str) and isinstance(ex.path, str)
    except CaptureError as e:
        assert "\n" not in str(e)
    finally:
        path.unlink()


# --------------------------------------------------------------------------------------------
# Readers


@FUZZ
@given(data=mutated(FLOWS))
def test_flowfile_reader_on_mutated_flows(data: bytes) -> None:
    try:
        exchanges = list(read_flowfile(data, "x.flows", 0, _ignore))
    except FlowFileError:
        return
    assert all(isinstance(ex, Exchange) for ex in exchanges)


@FUZZ
@given(data=st.binary(max_size=512) | st.builds(lambda a, b: a + b, st.sampled_from([b"12:", b"4:", b"0:", b"99:"]), st.binary(max_size=256)))
def test_flowfile_reader_on_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(FlowFileError):
        list(read_flowfile(data, "x.flows", 0, _ignore))


@FUZZ
@given(data=mutated(HAR))
def test_har_reader_on_mutated_har(data: bytes) -> None:
    try:
        exchanges = list(read_har(data, "x.har", 0, _ignore))
    except HarError:
        return
    assert all(isinstance(ex, Exchange) for ex in exchanges)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["log", "entries", "request", "response", "url", "method", "headers", "name", "value", "postData", "text",
         "encoding", "content", "status", "cookies", "_webSocketMessages", "opcode", "data", "type", "params",
         "fileName", "mimeType", "serverIPAddress", "startedDateTime", "time", "x"]), inner, max_size=6),
    max_leaves=40,
)


@FUZZ
@given(entries=st.lists(JSONISH, max_size=6), url=st.sampled_from(["https://a.example.com/x?e=a@b.example", "wss://w.example/", "ftp://x", "", "http://[::1]:99/"]))
def test_har_reader_on_wrongly_typed_entries(entries: list[Any], url: str) -> None:
    doc = {"log": {"entries": [*entries, {"request": {"url": url, "headers": entries, "postData": {"text": json.dumps(entries)}}}]}}
    with contextlib.suppress(HarError):
        list(read_har(json.dumps(doc).encode(), "x.har", 0, _ignore))


@FUZZ
@given(
    entries=st.lists(JSONISH | st.builds(lambda e, u: {**e, "request": {**e, "url": u}}, st.dictionaries(
        st.sampled_from(["method", "headers", "postData", "httpVersion", "x"]), JSONISH, max_size=4),
        st.sampled_from(["https://a.example.com/x?e=a@b.example", "wss://w.example/", "http://h.example:8080/p"])),
        max_size=5),
    extra=st.dictionaries(st.sampled_from(["version", "creator", "pages", "comment"]), JSONISH, max_size=3),
    indent=st.sampled_from([None, 0, 1, 2, "\t"]),
    bom=st.booleans(),
    ascii_only=st.booleans(),
)
def test_streamed_har_reads_like_the_whole_file(
    entries: list[Any], extra: dict[str, Any], indent: int | str | None, bom: bool, ascii_only: bool
) -> None:
    """Entry by entry, the HAR reader gives exactly what parsing the whole file gives."""
    from auditor.io.har import _read_whole

    doc = {"log": {**extra, "entries": entries}}
    data = (b"\xef\xbb\xbf" if bom else b"") + json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()
    got: list[str] = []
    want: list[str] = []
    assert list(read_har(data, "x.har", 0, got.append)) == list(_read_whole(data, "x.har", 0, want.append, Limits()))
    assert got == want


@FUZZ
@given(data=mutated(PCAP) | mutated(PCAPNG))
def test_pcap_reader_on_mutated_pcaps(data: bytes) -> None:
    path = _tmp(data, ".pcap")
    try:
        result = read_pcap(path, warn=_ignore)
        assert all(isinstance(ex, Exchange) for ex in result.exchanges)
    except ValueError:
        pass
    finally:
        path.unlink()


@FUZZ
@given(
    data=mutated(FLOWS) | mutated(HAR) | mutated(PCAP) | mutated(gzip.compress(HAR, mtime=0)) | mutated(zlib.compress(FLOWS))
    | st.binary(max_size=256)
)
def test_open_capture_only_raises_capture_error(data: bytes) -> None:
    _drain_capture(data, ".bin")


# --------------------------------------------------------------------------------------------
# Decoder


def _encode(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "br":
        return brotli.compress(data)
    return zstandard.ZstdCompressor().compress(data)


CODINGS = st.sampled_from(["gzip", "deflate", "br", "zstd"])


@FUZZ
@given(payload=st.binary(max_size=3000), coding=CODINGS, limit=st.integers(0, 4000), data=st.data())
def test_decoder_round_trips_and_stays_within_its_limit(payload: bytes, coding: str, limit: int, data: st.DataObject) -> None:
    encoded = _encode(coding, payload)
    out, err = decode_body(encoded, coding, limit)
    if len(payload) <= limit:
        assert (out, err) == (payload, None)
    elif limit == 0:  # nothing decoded: the body is given back as it came, with the error
        assert out == encoded and err is not None and "limit" in err
    else:
        assert out == payload[:limit] and err is not None and "limit" in err
    broken = data.draw(mutated(encoded))
    out, err = decode_body(broken, data.draw(st.sampled_from([coding, f"{coding}, gzip", "identity", "x-nope", ""])), limit)
    assert isinstance(out, bytes) and (err is None or isinstance(err, str))
    assert len(out) <= max(limit, len(broken))


@FUZZ
@given(data=st.binary(max_size=2000), coding=st.text(max_size=30), limit=st.integers(-5, 5000))
def test_decoder_never_raises(data: bytes, coding: str, limit: int) -> None:
    out, _err = decode_body(data, coding, limit)
    assert len(out) <= max(limit, len(data), 0)


# --------------------------------------------------------------------------------------------
# Walkers

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
LEAVES = st.none() | st.booleans() | st.integers() | st.text(alphabet="abc xyz@.-0123456789", max_size=20)
NESTED = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=60)
COMPONENT = re.compile(r"\[\d+\]|[a-z][a-z0-9_]*")


@FUZZ
@given(obj=NESTED, depth=st.integers(0, 6), max_fields=st.integers(0, 50))
def test_json_walker_respects_depth_and_field_limits(obj: Any, depth: int, max_fields: int) -> None:
    fields = walk_json(obj, max_depth=depth, max_fields=max_fields)
    assert len(fields) <= max_fields
    for f in fields:
        assert len(COMPONENT.findall(f.path)) <= max(depth, 1)


BODY_TYPES = st.sampled_from(
    [None, "application/json", "application/x-ndjson", "text/event-stream", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=XyZ", "text/plain; charset=utf-16", "application/x-protobuf", "application/grpc",
     "application/octet-stream", "image/png", "application/x-sentry-envelope", "text/html; charset=nope"]
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["binary", "json", "deep", "multipart", "b64"]))
    if kind == "binary":
        return draw(st.binary(max_size=600))
    if kind == "json":
        return json.dumps(draw(NESTED)).encode()
    if kind == "deep":
        n = draw(st.integers(50, 5000))
        return b'{"a":' * n + b'"x@y.example"' + b"}" * draw(st.integers(0, n))
    if kind == "multipart":
        parts = draw(st.lists(st.binary(max_size=40), max_size=4))
        return b"".join(b'--XyZ\r\nContent-Disposition: form-data; name="p"\r\n\r\n' + p + b"\r\n" for p in parts) + b"--XyZ--"
    return base64.b64encode(json.dumps(draw(NESTED)).encode())


@FUZZ
@given(body=bodies(), content_type=BODY_TYPES, max_fields=st.integers(0, 30), depth=st.integers(0, 10))
def test_body_walker_never_raises_and_is_bounded(body: bytes, content_type: str | None, max_fields: int, depth: int) -> None:
    fields = walk_body(body, content_type, "request.body", max_depth=depth, max_fields=max_fields)
    assert len(fields) <= max_fields
    assert all(isinstance(f.value, str) and isinstance(f.path, str) for f in fields)


@FUZZ
@given(
    host=st.text(max_size=30),
    path=st.text(max_size=60),
    headers=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=40)), max_size=8),
    body=bodies(),
    ws=st.lists(st.tuples(st.booleans(), st.binary(max_size=60), st.booleans()), max_size=3),
    max_fields=st.integers(0, 40),
)
def test_exchange_walker_never_raises_and_is_bounded(
    host: str, path: str, headers: list[tuple[str, str]], body: bytes, ws: list[tuple[bool, bytes, bool]], max_fields: int
) -> None:
    ex = Exchange(capture=0, index=0, id="f", method="POST", scheme="https", host=host, port=443, path=path,
                  request_headers=headers, request_body=body, response_headers=headers, response_body=body,
                  websocket=[WebSocketMessage(c, m, t) for c, m, t in ws])
    fields = walk_exchange(ex, max_fields=max_fields)
    assert len(fields) <= max_fields


# --------------------------------------------------------------------------------------------
# Findings spool and the streamed JSON report

RECORDS = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=15,
    ),
    max_size=5,
)


@FUZZ
@given(records=st.lists(RECORDS, max_size=12), limit=st.integers(0, 5))
def test_spool_gives_back_what_it_was_given(records: list[dict[str, Any]], limit: int) -> None:
    spool = RecordSpool(records, memory_limit=limit)
    try:
        assert list(spool) == records and len(spool) == len(records)
        assert [spool[i] for i in range(len(records))] == records
        doc = {"schema_version": "1", "findings": spool.value(), "destinations": []}
        assert json.loads(render_json(doc)) == {**doc, "findings": records}
    finally:
        spool.close()
