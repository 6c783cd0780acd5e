"""Key-log decryption on hostile input: garbage, truncation and wrong keys never raise.

Real records come from a TLS 1.3 session between two in-memory ``ssl`` objects (no network),
with its secrets logged through ``SSLContext.keylog_filename``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support.tls_memory import contexts, exchange

from auditor.io.tlsdecrypt.exchanges import ConnInfo, Sink
from auditor.io.tlsdecrypt.http2 import PREFACE, Http2Conn
from auditor.io.tlsdecrypt.http3 import Http3Conn
from auditor.io.tlsdecrypt.keylog import KeyLog, load_keylog
from auditor.io.tlsdecrypt.quic1rtt import QuicSession
from auditor.io.tlsdecrypt.tls import TlsSession
from auditor.models import TlsInfo


def _session(tmp: Path) -> tuple[list[tuple[bool, bytes]], Path]:
    """The records of one in-memory TLS 1.3 exchange (direction, bytes) and its key log."""
    cctx, sctx, keys = contexts(tmp)
    request = b"POST /v1/chat HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 2\r\n\r\n{}"
    wire, _, _ = exchange(cctx, sctx, request, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    return wire, keys


def test_in_memory_tls13_session_decrypts(tmp_path: Path) -> None:
    wire, keys = _session(tmp_path)
    got: list[tuple[bool, bytes]] = []
    s = TlsSession(load_keylog(keys), lambda c, d: got.append((c, d)))
    for from_client, data in wire:
        s.feed(from_client, data)
    assert s.version_name == "TLSv1.3" and s.sni == "api.openai.com" and s.decrypted
    assert b"".join(d for c, d in got if c).startswith(b"POST /v1/chat HTTP/1.1")
    assert b"".join(d for c, d in got if not c).endswith(b"ok")


@pytest.mark.parametrize("seed", range(30))
def test_damaged_tls_streams_never_raise(tmp_path: Path, seed: int) -> None:
    wire, keys = _session(tmp_path)
    rng = random.Random(seed)
    keylog = load_keylog(keys)
    damaged = []
    for from_client, data in wire:
        b = bytearray(data)
        for _ in range(rng.randrange(0, 4)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        if rng.random() < 0.2:
            b = b[: rng.randrange(len(b) + 1)]
        damaged.append((from_client, bytes(b)))
    s = TlsSession(keylog, lambda c, d: None)
    for from_client, data in damaged:
        s.feed(from_client, data)
    s.gap(True)
    assert s.status in ("handshake", "keys", "no-keys", "unsupported", "broken")


@pytest.mark.parametrize("seed", range(30))
def test_garbage_http2_http3_quic_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    sink = Sink()
    info = ConnInfo("127.0.0.1", 443, TlsInfo(sni="x.example"))
    h2 = Http2Conn(sink, info)
    h2.feed(True, PREFACE + blob)
    h2.feed(False, blob[::-1])
    h2.finish()
    h3 = Http3Conn(sink, info)
    for sid in (0, 2, 3, 4, 6):
        h3.data(True, sid, blob[sid:])
        h3.data(False, sid + 1, blob[: -sid or None])
        h3.end(True, sid)
    h3.finish()
    q = QuicSession(KeyLog(), sink, "127.0.0.1", 443)
    q.feed(True, b"\xc0\x00\x00\x00\x01" + blob)
    q.feed(False, blob)
    q.feed(True, b"\x40" + blob)
    q.finish()
    assert not q.decrypted


def test_zero_padding_after_a_server_initial_is_not_a_short_header_packet() -> None:
    """A server's ACK-only Initial, padded with zeros to 1,200 bytes, may arrive between a
    ClientHello's two Initials (Chromium's post-quantum ClientHello spans two). The padding is
    not a 1-RTT packet: taking it for one looked the secrets up before the ClientHello was
    complete, and the whole connection stayed undecrypted."""
    session = QuicSession(KeyLog(), Sink(), "127.0.0.1", 443)
    payload = bytes(range(100))
    initial = (b"\xc0" + (1).to_bytes(4, "big") + b"\x08" + b"c" * 8 + b"\x08" + b"s" * 8 + b"\x00"
               + b"\x40\x64" + payload)
    session.feed(False, initial + b"\x00" * (1200 - len(initial)))
    assert session.server_cid == b"s" * 8
    assert session.reason is None and not session.looked_up
    # A real short-header packet before the ClientHello is noted, but not final.
    session.feed(False, b"\x41" + b"c" * 8 + bytes(40))
    assert session.reason == "the QUIC ClientHello was not captured" and not session.looked_up


def test_tls13_key_log_without_handshake_secrets_reads_the_application_data(tmp_path: Path) -> None:
    """A key log with only the application traffic secrets (as some TLS hooks dump them): the
    encrypted handshake records cannot be read, which is neither damage nor a reason to stop."""
    wire, keys = _session(tmp_path)
    app_only = tmp_path / "app-only.log"
    app_only.write_text("".join(line for line in keys.read_text().splitlines(keepends=True) if "HANDSHAKE" not in line))
    got: list[tuple[bool, bytes]] = []
    s = TlsSession(load_keylog(app_only), lambda c, d: got.append((c, d)))
    for from_client, data in wire:
        s.feed(from_client, data)
    assert s.status == "keys" and s.decrypted and s.failed_records == 0
    assert b"".join(d for c, d in got if c).startswith(b"POST /v1/chat HTTP/1.1")
    assert b"".join(d for c, d in got if not c).endswith(b"ok")
