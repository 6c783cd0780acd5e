"""The hostile input corpus: captures written to break a reader, a decoder, a walker or a report.

Small cases are committed under ``tests/hostile/files/`` (``python tests/hostile/corpus.py``
writes them again, byte for byte). Big ones (a decompression bomb, a body of hundreds of MB,
100,000 headers, JSON nested 100,000 levels deep) are generated at test time into a temporary
directory, streamed to disk so the generator itself stays small in memory.

Flow files are written with a streaming tnetstring writer (:func:`write_flows`) from flow states
modelled on mitmproxy's own (:func:`flow_state`), so a body can be a :class:`Filler` of any size.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import struct
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
ROOT = HERE.parent.parent
FIXTURE_FLOWS = ROOT / "fixtures" / "ai-chat-session.flows"
FIXTURE_HAR = ROOT / "fixtures" / "ai-chat-session.har"

# Hosts and paths that try to act on whoever reads the report: terminal escapes, bidirectional
# overrides, NUL, line breaks, markup.
CONTROL_HOST = "evil\x1b\x9b31m\x07.example\u202ecom"
CONTROL_PATH = "/a\x00b/\x1b]0;pwned\x07/\r\nX-Injected: 1/\u2066rtl\u2069/<b>x</b>?q=\x1b[2J&e=leak\x9b@example.org"


# --------------------------------------------------------------------------------------------
# Streaming tnetstring writer


@dataclass(frozen=True)
class Filler:
    """``size`` bytes written in pieces by ``chunks()``; stands for a body too big to hold."""

    size: int
    chunks: Callable[[], Iterator[bytes]]


def repeated(piece: bytes, size: int) -> Filler:
    """``piece`` repeated up to ``size`` bytes, written 1 MiB at a time."""

    def chunks() -> Iterator[bytes]:
        block = piece * max(1, (1 << 20) // len(piece))
        left = size
        while left > 0:
            out = block[:left]
            left -= len(out)
            yield out

    return Filler(size, chunks)


Piece = bytes | Filler


def _pieces(value: Any) -> tuple[list[Piece], int]:
    """The tnetstring encoding of ``value`` as pieces (bytes, and fillers left unexpanded), and
    its length; computed in one pass, so big header lists encode quickly."""
    if isinstance(value, Filler):
        head = b"%d:" % value.size
        return [head, value, b","], len(head) + value.size + 1
    if isinstance(value, bytes):
        data = b"%d:%s," % (len(value), value)
        return [data], len(data)
    if isinstance(value, str):
        raw = value.encode("utf-8", "surrogateescape")
        data = b"%d:%s;" % (len(raw), raw)
        return [data], len(data)
    if value is None:
        return [b"0:~"], 3
    if value is True or value is False:
        data = b"4:true!" if value else b"5:false!"
        return [data], len(data)
    if isinstance(value, int):
        text = str(value).encode()
        data = b"%d:%s#" % (len(text), text)
        return [data], len(data)
    if isinstance(value, float):
        text = repr(value).encode()
        data = b"%d:%s^" % (len(text), text)
        return [data], len(data)
    if isinstance(value, dict):
        children = [x for k, v in value.items() for x in (k, v)]
        tag = b"}"
    elif isinstance(value, (list, tuple)):
        children = list(value)
        tag = b"]"
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")
    parts: list[Piece] = []
    size = 0
    for child in children:
        sub, n = _pieces(child)
        parts.extend(sub)
        size += n
    head = b"%d:" % size
    return [head, *parts, tag], len(head) + size + 1


def _write(value: Any, out: BinaryIO) -> None:
    pieces, _ = _pieces(value)
    pending: list[bytes] = []
    for piece in pieces:
        if isinstance(piece, Filler):
            out.write(b"".join(pending))
            pending = []
            for chunk in piece.chunks():
                out.write(chunk)
        else:
            pending.append(piece)
    out.write(b"".join(pending))


def write_flows(path: Path, states: Iterable[dict[str, Any]]) -> Path:
    """Write flow states as a mitmproxy flow file, streaming any :class:`Filler` body."""
    with open(path, "wb") as fh:
        for state in states:
            _write(state, fh)
    return path


def flow_state(
    index: int = 0,
    *,
    host: str | bytes = "api.example.com",
    path: str | bytes = "/v1/chat",
    method: bytes = b"POST",
    scheme: bytes = b"https",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | Filler = b"",
    response_headers: Iterable[tuple[bytes, bytes]] = ((b"content-type", b"application/json"),),
    response_body: bytes | Filler = b'{"ok": true}',
    websocket: list[tuple[int, bool, bytes, float]] | None = None,
) -> dict[str, Any]:
    """One HTTP flow state in mitmproxy's current format (version 21), with fixed ids and times."""
    host_bytes = host.encode("utf-8", "surrogateescape") if isinstance(host, str) else host
    path_bytes = path.encode("utf-8", "surrogateescape") if isinstance(path, str) else path
    conn: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "peername": ("93.184.216.34", 443),
        "sockname": ("10.0.0.2", 50000),
        "address": (host_bytes.decode("utf-8", "replace"), 443),
        "sni": host_bytes.decode("utf-8", "replace"),
        "alpn": b"http/1.1",
        "alpn_offers": [],
        "certificate_list": [],
        "cipher": "TLS_AES_128_GCM_SHA256",
        "cipher_list": [],
        "error": None,
        "tls": True,
        "tls_version": "TLSv1.3",
        "transport_protocol": "tcp",
        "timestamp_start": 1_700_000_000.0,
        "timestamp_end": 1_700_000_001.0,
        "timestamp_tcp_setup": 1_700_000_000.1,
        "timestamp_tls_setup": 1_700_000_000.2,
        "via": None,
    }
    client = dict(conn, id=f"00000000-0000-4000-9000-{index:012d}", peername=("10.0.0.2", 50000), proxy_mode="regular")
    del client["address"], client["timestamp_tcp_setup"], client["via"]
    client["mitmcert"] = None
    ws = None
    if websocket is not None:
        ws = {"messages": [list(m) for m in websocket], "close_code": None, "close_reason": None,
              "closed_by_client": None, "timestamp_end": None}
    return {
        "version": 21,
        "type": "http",
        "id": f"00000000-0000-4000-a000-{index:012d}",
        "error": None,
        "client_conn": client,
        "server_conn": conn,
        "intercepted": False,
        "is_replay": None,
        "marked": "",
        "metadata": {},
        "comment": "",
        "backup": None,
        "timestamp_created": 1_700_000_000.0,
        "request": {
            "host": host_bytes.decode("utf-8", "surrogateescape"),
            "port": 443,
            "method": method,
            "scheme": scheme,
            "authority": b"",
            "path": path_bytes,
            "http_version": b"HTTP/1.1",
            "headers": [(b"host", host_bytes), *headers],
            "content": body,
            "trailers": None,
            "timestamp_start": 1_700_000_000.0,
            "timestamp_end": 1_700_000_000.5,
        },
        "response": {
            "http_version": b"HTTP/1.1",
            "status_code": 200,
            "reason": b"OK",
            "headers": list(response_headers),
            "content": response_body,
            "trailers": None,
            "timestamp_start": 1_700_000_000.6,
            "timestamp_end": 1_700_000_000.9,
        },
        "websocket": ws,
    }


JSON = ((b"content-type", b"application/json"),)


def good_state(index: int) -> dict[str, Any]:
    """An ordinary chat request with an email in it, so a report has something to show."""
    body = json.dumps({"messages": [{"role": "user", "content": "Hello, my email is good@example.org"}]}).encode()
    return flow_state(index, body=body, headers=JSON)


# --------------------------------------------------------------------------------------------
# Big cases, generated at test time


def gzip_bomb_body(inflated: int = 10 * 2**30, member: int = 64 * 2**20) -> Filler:
    """A gzip body of about 10 MB that inflates to ``inflated`` bytes (10 GiB) of zeros.

    Concatenated gzip members (valid gzip, as RFC 1952 allows), each one 64 MiB of zeros, so it
    is built in well under a second; the decoder sees one long stream.
    """
    one = gzip.compress(b"\0" * member, compresslevel=9, mtime=0)
    count = inflated // member

    def chunks() -> Iterator[bytes]:
        for _ in range(count):
            yield one

    return Filler(len(one) * count, chunks)


def bomb_flows(path: Path) -> Path:
    """A flow file whose chat request body is a gzip bomb, then an ordinary flow."""
    bomb = gzip_bomb_body()
    states = [
        flow_state(0, body=bomb, headers=((b"content-type", b"application/json"), (b"content-encoding", b"gzip"))),
        good_state(1),
    ]
    return write_flows(path, states)


def huge_body_flows(path: Path, size: int = 300 * 2**20) -> Path:
    """A flow file with a ``size``-byte JSON-looking request body, then an ordinary flow."""
    item = b'{"role": "user", "content": "a long upload, words and more words"},'
    body = Filler(size, lambda: _json_array_chunks(item, size))
    return write_flows(path, [flow_state(0, body=body, headers=JSON), good_state(1)])


def huge_body_har(path: Path, size: int = 300 * 2**20) -> Path:
    """A HAR whose first entry's postData text is ``size`` bytes, then an ordinary entry."""
    doc = har_doc([har_entry("https://api.example.com/v1/upload", post="@@BODY@@"),
                   har_entry("https://api.example.com/v1/chat", post=GOOD_POST)])
    head, tail = json.dumps(doc).encode().split(b'"@@BODY@@"')
    with open(path, "wb") as fh:
        fh.write(head + b'"')
        for chunk in repeated(b"words and \\\"more\\\" words, ", size).chunks():
            fh.write(chunk)
        fh.write(b'"' + tail)
    return path


def _json_array_chunks(item: bytes, size: int) -> Iterator[bytes]:
    yield b"["
    filler = repeated(item, size - 1)
    yield from filler.chunks()


def many_headers_flows(path: Path, count: int = 100_000, response_count: int = 2_000) -> Path:
    """A flow whose request carries ``count`` headers (with emails in them), its response
    ``response_count``."""
    headers = [(b"x-h%d" % i, b"value %d for user%d@example.org" % (i, i)) for i in range(count)]
    return write_flows(path, [flow_state(0, headers=headers, response_headers=headers[:response_count]), good_state(1)])


def deep_json(depth: int = 100_000) -> bytes:
    """JSON nested ``depth`` levels: ``[[[...{"email": ...}...]]]``."""
    return b"[" * depth + b'{"email": "deep@example.org"}' + b"]" * depth


def deep_json_flows(path: Path, depth: int = 100_000) -> Path:
    """A flow with a ``depth``-level JSON request body, a WebSocket message and an SSE response."""
    body = deep_json(depth)
    states = [
        flow_state(
            0,
            body=body,
            headers=JSON,
            response_headers=((b"content-type", b"text/event-stream"),),
            response_body=b"data: " + body + b"\n\n",
            websocket=[(1, True, body, 1_700_000_000.5)],
        ),
        good_state(1),
    ]
    return write_flows(path, states)


def deep_json_har(path: Path, depth: int = 100_000) -> Path:
    """A HAR whose postData text is ``depth`` levels deep (the HAR itself stays shallow)."""
    har = har_doc([har_entry("https://api.example.com/v1/chat", post=deep_json(depth).decode())])
    path.write_text(json.dumps(har))
    return path


def deep_har_document(path: Path, depth: int = 100_000) -> Path:
    """A file that starts like a HAR and nests ``depth`` levels deep itself."""
    path.write_bytes(b'{"log": {"entries": ' + b"[" * depth + b"]" * depth + b"}}")
    return path


# --------------------------------------------------------------------------------------------
# HAR


def har_entry(url: Any, *, method: Any = "POST", post: Any = None, headers: Any = None, **extra: Any) -> dict[str, Any]:
    """A HAR 1.2 entry; every argument may be of the wrong type on purpose."""
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/1.1",
        "headers": headers if headers is not None else [{"name": "content-type", "value": "application/json"}],
        "queryString": [],
        "cookies": [],
        "headersSize": -1,
        "bodySize": -1,
    }
    if post is not None:
        request["postData"] = {"mimeType": "application/json", "text": post} if isinstance(post, str) else post
    entry: dict[str, Any] = {
        "startedDateTime": "2024-05-01T10:00:00.000Z",
        "time": 12,
        "request": request,
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "content-type", "value": "application/json"}],
            "cookies": [],
            "content": {"size": 12, "mimeType": "application/json", "text": '{"ok": true}'},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 1, "wait": 10, "receive": 1},
    }
    entry.update(extra)
    return entry


def har_doc(entries: list[Any]) -> dict[str, Any]:
    return {"log": {"version": "1.2", "creator": {"name": "hostile", "version": "1"}, "entries": entries}}


GOOD_POST = json.dumps({"messages": [{"role": "user", "content": "my email is good@example.org"}]})


def har_wrong_types() -> dict[str, Any]:
    """Entries whose fields have the wrong JSON types, around two good entries."""
    e = har_entry
    entries: list[Any] = [
        e("https://api.example.com/v1/chat", post=GOOD_POST),
        "not an entry",
        42,
        None,
        [1, 2, 3],
        e(12345),
        e(["https://a.example.com/"]),
        e({"url": "https://a.example.com/"}),
        e("https://api.example.com/a", method=7, headers="content-type: text/plain", post=GOOD_POST),
        e("https://api.example.com/b", headers=[1, None, ["x"], {"name": 5, "value": {"x": 1}}, {"name": None}], post=[1, 2]),
        e("https://api.example.com/c", post={"text": 5, "params": "a=b"}),
        e("https://api.example.com/d", post={"params": [1, {"name": ["x"], "value": {"v": 1}}, {"name": "f", "fileName": 3}]}),
        e("https://api.example.com/e", post={"text": "bm90IGJhc2U2NA===", "encoding": "base64"}),
        e("https://api.example.com/f", post={"text": "%%%", "encoding": 17}),
        e("https://api.example.com:notaport/g", post=GOOD_POST),
        e("https://[::1/h", post=GOOD_POST),
        e("https://api.example.com/i", post=GOOD_POST, response="not a response"),
        e("https://api.example.com/j", post=GOOD_POST, response={"status": "200", "headers": {}, "content": []}),
        e("https://api.example.com/k", post=GOOD_POST, response={"status": 200, "content": {"text": 7, "encoding": []}}),
        e("https://api.example.com/l", post=GOOD_POST, startedDateTime=1234, serverIPAddress=["1.2.3.4"]),
        e("wss://api.example.com/m", _webSocketMessages={"type": "send"}),
        e(
            "wss://api.example.com/n",
            _webSocketMessages=[None, 1, {"type": 5, "opcode": "2", "data": 9, "time": "t"},
                                {"type": "send", "opcode": 2, "data": "!!not base64!!"},
                                {"type": "send", "opcode": 1, "data": {"x": 1}},
                                {"type": "send", "opcode": 1, "data": "ws email ws@example.org"}],
        ),
        e("https://api.example.com/o", post=GOOD_POST, request="not a request"),
        e("https://api.example.com/p", post=GOOD_POST, cookies="a=b"),
        e("https://api.example.com/q", post=GOOD_POST),
    ]
    entries[-2]["request"]["cookies"] = [1, {"name": 2, "value": None}, {"name": "sid", "value": ["x"]}]
    return har_doc(entries)


def har_missing_keys() -> list[tuple[str, Any]]:
    """HAR-looking documents, each missing something the reader needs: ``(name, document)``."""
    bare = har_entry("https://api.example.com/v1/chat", post=GOOD_POST)
    no_request = dict(bare)
    del no_request["request"]
    no_response = dict(bare)
    del no_response["response"]
    no_url = json.loads(json.dumps(bare))
    del no_url["request"]["url"]
    return [
        ("empty-object", {}),
        ("log-not-object", {"log": []}),
        ("no-entries", {"log": {"version": "1.2"}}),
        ("entries-not-list", {"log": {"entries": {"0": bare}}}),
        ("entries-empty", {"log": {"entries": []}}),
        ("entry-without-request", har_doc([no_request])),
        ("entry-without-url", har_doc([no_url])),
        ("entry-without-response", har_doc([no_response, bare])),
        ("top-level-list", [har_doc([bare])]),
    ]


# --------------------------------------------------------------------------------------------
# pcap


def _http_frame(seq: int, payload: bytes, sport: int = 40000) -> bytes:
    """One Ethernet/IPv4/TCP frame from 10.0.0.2 to 93.184.216.34:80 carrying ``payload``."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    pkt = (
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="10.0.0.2", dst="93.184.216.34", id=1)
        / TCP(sport=sport, dport=80, seq=seq, ack=1, flags="PA", window=65535)
        / payload
    )
    return bytes(pkt)


def _record(ts: int, data: bytes, incl: int | None = None, orig: int | None = None) -> bytes:
    return struct.pack("<IIII", ts, 0, len(data) if incl is None else incl, len(data) if orig is None else orig) + data


PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def pcap_bad_lengths() -> bytes:
    """A classic pcap with lying record lengths around two good HTTP requests, cut at the end."""
    req1 = b"POST /v1/chat HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    body = GOOD_POST.encode()
    good1 = _http_frame(1000, req1 % len(body) + body)
    good2 = _http_frame(5000, b"GET /a?email=pcap@example.org HTTP/1.1\r\nHost: api.example.com\r\n\r\n", sport=40001)
    out = bytearray(PCAP_HEADER)
    out += _record(1_700_000_000, good1)
    out += _record(1_700_000_001, good1[:40], incl=0xFFFFFFF0)  # length far past the file
    out += b"\xde\xad\xbe\xef" * 7  # garbage between records
    out += _record(1_700_000_002, good2, orig=10)  # captured longer than the original
    out += _record(1_700_000_003, b"", incl=0)  # empty record
    out += _record(1_700_000_004, good2)
    out += _record(1_700_000_005, good1, incl=70000)  # over the snapshot length
    out += _record(1_700_000_006, good1)[:30]  # cut mid-record
    return bytes(out)


def good_pcap() -> bytes:
    """A small valid pcap: a cleartext HTTP request and its response, then a second request."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    body = GOOD_POST.encode()
    req = b"POST /v1/chat HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    resp_body = b'{"ok": true}'
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(resp_body) + resp_body
    back = bytes(
        Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
        / IP(src="93.184.216.34", dst="10.0.0.2", id=2)
        / TCP(sport=80, dport=40000, seq=1, ack=1000 + len(req), flags="PA", window=65535)
        / resp
    )
    frames = [_http_frame(1000, req), back, _http_frame(1000 + len(req), b"GET /a?email=pcap@example.org HTTP/1.1\r\nHost: api.example.com\r\n\r\n")]
    return PCAP_HEADER + b"".join(_record(1_700_000_000 + i, f) for i, f in enumerate(frames))


def pcap_control_chars() -> bytes:
    """A cleartext HTTP request whose Host header and path hold terminal escapes."""
    request = (
        b"GET /x\x1b[2J/\x07?email=pcapctl@example.org HTTP/1.1\r\n"
        b"Host: evil\x1b[31m.example\xe2\x80\xaecom\r\nUser-Agent: \x1b]0;pwned\x07\r\n\r\n"
    )
    return bytes(PCAP_HEADER + _record(1_700_000_000, _http_frame(1000, request)))


def pcapng_bad_lengths() -> bytes:
    """A pcapng whose blocks lie about their lengths, with one good HTTP packet."""

    def block(btype: int, body: bytes, length: int | None = None, trailer: int | None = None) -> bytes:
        pad = body + b"\0" * (-len(body) % 4)
        n = 12 + len(pad)
        return struct.pack("<II", btype, n if length is None else length) + pad + struct.pack("<I", n if trailer is None else trailer)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(0x00000001, struct.pack("<HHI", 1, 0, 65535))
    frame = _http_frame(1000, b"GET /b?email=ng@example.org HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
    epb = block(0x00000006, struct.pack("<IIIII", 0, 0, 0, len(frame), len(frame)) + frame)
    return b"".join(
        [
            shb,
            idb,
            epb,
            block(0x00000006, b"\x01" * 20, length=13),  # not a multiple of 4
            block(0x00000006, b"\x02" * 20, length=0x7FFFFFF0),  # beyond the file
            block(0x00000006, struct.pack("<IIIII", 5, 0, 0, 9999, 9999) + b"x" * 8),  # packet longer than block
            block(0x00000006, b"\x03" * 20, trailer=99),  # trailer disagrees
            epb,
            epb[:17],  # cut
        ]
    )


# --------------------------------------------------------------------------------------------
# Small corpus files


def fixture_damage() -> dict[str, bytes]:
    """The recorded fixture captures, damaged: truncated, garbage inside, bits flipped, lying
    lengths. Derived from the fixtures at test time, so not committed."""
    data = FIXTURE_FLOWS.read_bytes()
    har = FIXTURE_HAR.read_bytes()
    rnd = random.Random(8)
    out: dict[str, bytes] = {}
    for share in (1, 10, 50, 90, 99):
        out[f"truncated-{share}pct.flows"] = data[: len(data) * share // 100]
    middle = len(data) // 2
    out["garbage-middle.flows"] = data[:middle] + bytes(rnd.randrange(256) for _ in range(3000)) + data[middle:]
    out["zeros-middle.flows"] = data[:middle] + b"\0" * 5000 + data[middle:]
    for seed in (1, 2, 3):
        flipped = bytearray(data)
        r = random.Random(seed)
        for _ in range(10 * seed):
            i = r.randrange(len(flipped))
            flipped[i] ^= 1 << r.randrange(8)
        out[f"bit-flips-{seed}.flows"] = bytes(flipped)
    colon = data.index(b":")
    out["lying-length.flows"] = b"9" * colon + data[colon:]
    out["shifted-lengths.flows"] = data.replace(b"7:headers;", b"8:headers;")
    out["truncated.har"] = har[: len(har) // 2]
    out["bom-and-garbage.har"] = b"\xef\xbb\xbf" + har[:100] + b"\x00\xff" + har[100:]
    out["truncated.zhar"] = gzip.compress(har, mtime=0)[:2000]
    return out


def _damaged_flows() -> dict[str, bytes]:
    return {
        "truncated-header.flows": b"4587:4:t",
        "only-garbage-digits.flows": b"12:" + b"7:" * 2000,
    }


def _odd_flows() -> dict[str, bytes]:
    from io import BytesIO

    def flows(states: list[dict[str, Any]]) -> bytes:
        buf = BytesIO()
        for s in states:
            _write(s, buf)
        return buf.getvalue()

    rnd = random.Random(9)
    binary = bytes(rnd.randrange(256) for _ in range(4000))
    protobuf = bytes.fromhex("0a1c") + b"proto@example.org in a string" + bytes.fromhex("10 96 01 1a 03 08 96 01 22 05 68 65 6c 6c 6f")
    grpc = b"\x00" + struct.pack(">I", len(protobuf)) + protobuf
    bad_utf8 = b'{"email": "bad\xff\xfeutf8@example.org", "text": "\xc3\x28 \xa0\xa1 \xed\xa0\x80 \xf0\x28\x8c\x28"}'
    return {
        "binary-bodies.flows": flows(
            [
                flow_state(0, body=protobuf, headers=((b"content-type", b"application/x-protobuf"),)),
                flow_state(1, body=grpc, headers=((b"content-type", b"application/grpc"),)),
                flow_state(2, body=binary, headers=((b"content-type", b"application/json"),)),
                flow_state(3, body=binary),
                flow_state(4, body=b"\x89PNG\r\n\x1a\n" + binary, headers=((b"content-type", b"image/png"),)),
                flow_state(5, body=b"\x82\xa5email\xb1mp@example.org\xa1n\x01", headers=((b"content-type", b"application/msgpack"),)),
                flow_state(6, body=binary, headers=((b"content-type", b"text/plain"), (b"content-encoding", b"br"))),
                flow_state(7, body=binary, headers=((b"content-encoding", b"gzip, zstd, deflate, x-unknown"),)),
                flow_state(8, websocket=[(2, True, binary, 1.0), (1, True, binary, 2.0), (1, False, b"\xff" * 30, 3.0)]),
                good_state(9),
            ]
        ),
        "invalid-utf8.flows": flows(
            [
                flow_state(
                    0,
                    path=b"/v1/\xff\xfe/chat?email=u8\xc0@example.org",
                    method=b"PO\xffST",
                    headers=((b"content-type", b"application/json; charset=utf-8"), (b"x-\xff\xfe", b"\xc3\x28@example.org"),
                             (b"cookie", b"sid=\xff\xff; email=c%40example.org")),
                    body=bad_utf8,
                    websocket=[(1, True, bad_utf8, 1.0)],
                ),
                flow_state(1, body=bad_utf8, headers=((b"content-type", b"text/plain; charset=x-no-such-charset"),)),
                flow_state(2, body=bad_utf8, headers=((b"content-type", b"application/x-www-form-urlencoded; charset=utf-16"),)),
                flow_state(3, host=b"api.ex\xffample.com", body=bad_utf8),  # not UTF-8 where mitmproxy writes text
                good_state(4),
            ]
        ),
        "lone-surrogates.flows": flows(
            [
                flow_state(
                    0,
                    body=b'{"messages": [{"role": "user", "content": "tell me \\ud800 about \\udfff\\ud83d, then \\ud83d\\ude00"}],'
                    b' "email": "lone\\udc80x@example.org", "password": "pw\\ud800-long-secret-value"}',
                    headers=JSON,
                ),
                good_state(1),
            ]
        ),
        "control-chars.flows": flows(
            [
                flow_state(
                    0,
                    host=CONTROL_HOST.lower(),
                    path=CONTROL_PATH,
                    headers=((b"content-type", b"application/json"), (b"x-\x1b[1mname", b"ctl\x1b[0m@example.org\x00")),
                    body=json.dumps({"email": "ctl\u202e@example.org", "prompt": "hi\x1b[2J\x07 there, how are you?"}).encode(),
                ),
                good_state(1),
            ]
        ),
    }


def small_corpus() -> dict[str, bytes]:
    """Every committed corpus file, by name."""
    out: dict[str, bytes] = {}
    out.update(_damaged_flows())
    out.update(_odd_flows())
    out["wrong-types.har"] = json.dumps(har_wrong_types(), indent=1).encode()
    for name, doc in har_missing_keys():
        out[f"missing-{name}.har"] = json.dumps(doc).encode()
    out["control-chars.har"] = json.dumps(
        har_doc(
            [
                har_entry("https://" + CONTROL_HOST.replace("\x07", "") + CONTROL_PATH.replace("\r\n", ""), post=GOOD_POST,
                          headers=[{"name": "x-\x1b[1m", "value": "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"}]),
                har_entry("https://api.example.com/\u202egnp.exe", post=GOOD_POST),
            ]
        )
    ).encode()
    out["control-chars.pcap"] = pcap_control_chars()
    out["not-utf8.har"] = b'{"log": {"entries": [], "x": "\xff\xfe"}}'
    out["bad-lengths.pcap"] = pcap_bad_lengths()
    out["bad-lengths.pcapng"] = pcapng_bad_lengths()
    out["truncated-header.pcap"] = PCAP_HEADER[:13]
    out["zlib-not-a-capture.zhar"] = zlib.compress(b"hello, not a capture" * 50)
    out["gzip-pcap-damaged.pcap.gz"] = gzip.compress(pcap_bad_lengths(), mtime=0)[:-20]
    out["b64-in-har.har"] = json.dumps(
        har_doc([har_entry("https://api.example.com/v1/upload", post={"mimeType": "application/octet-stream",
                                                                       "text": base64.b64encode(b"\x00\xff" * 100).decode(),
                                                                       "encoding": "base64"})])
    ).encode()
    return out


def write_small_corpus(directory: Path = FILES) -> list[Path]:
    """Write the committed corpus files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in sorted(small_corpus().items()):
        path = directory / name
        path.write_bytes(data)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_small_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else FILES):
        print(f"{p.stat().st_size:>8}  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
