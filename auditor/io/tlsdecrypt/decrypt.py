"""One pass over a capture that decrypts its TLS and QUIC connections with a key log.

Every TCP connection that starts with a TLS ClientHello is reassembled per direction
(:class:`auditor.io.pcap.tcpreassembly.TcpStream`) and handed to a :class:`~.tls.TlsSession`; its
plaintext goes to an HTTP/1.1 or HTTP/2 parser (chosen from the first bytes the client sends).
Every UDP conversation that starts with a QUIC Initial goes to a
:class:`~.quic1rtt.QuicSession`, whose stream data goes to HTTP/3. The result holds the
exchanges and the coverage: which encrypted connections were decrypted, and why not the others.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from auditor.io.pcap import HttpConnection, doh
from auditor.io.pcap.tcpreassembly import MASK, TcpStream
from auditor.io.tlsdecrypt.exchanges import ConnInfo, Sink
from auditor.io.tlsdecrypt.http2 import PREFACE, Http2Conn
from auditor.io.tlsdecrypt.keylog import KeyLog
from auditor.io.tlsdecrypt.packets import TLS_KEY_LOG, packets
from auditor.io.tlsdecrypt.quic1rtt import QuicSession
from auditor.io.tlsdecrypt.tls import TlsSession
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange, TlsInfo

__all__ = ["DecryptResult", "decrypt_capture"]

MAX_LISTED = 200  # connections listed by name in the coverage as not decrypted


RawMessage = bytes  # (the class below has a field named ``bytes``)


@dataclass
class DecryptResult:
    exchanges: list[Exchange] = field(default_factory=list)
    connections: int = 0  # TLS and QUIC connections seen
    decrypted: int = 0
    bytes: int = 0  # their payload bytes, both directions
    decrypted_bytes: int = 0
    not_decrypted: list[dict[str, Any]] = field(default_factory=list)
    embedded_secrets: int = 0  # client randoms read from Decryption Secrets Blocks
    failed_records: int = 0  # damaged TLS records: tag, MAC or padding wrong after earlier records verified
    dns_messages: list[RawMessage] = field(default_factory=list)  # DNS over HTTPS inside the decrypted traffic

    def coverage(self) -> dict[str, Any]:
        """The JSON form of the coverage, for the report (added in auditor 0.2.0)."""
        return {
            "connections": self.connections,
            "decrypted_connections": self.decrypted,
            "connection_share": round(self.decrypted / self.connections, 4) if self.connections else None,
            "bytes": self.bytes,
            "decrypted_bytes": self.decrypted_bytes,
            "byte_share": round(self.decrypted_bytes / self.bytes, 4) if self.bytes else None,
            "not_decrypted": self.not_decrypted,
            "not_decrypted_listed": len(self.not_decrypted),
            "failed_records": self.failed_records,
        }


def _ntop(ip: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(ip) == 4 else socket.AF_INET6, ip)


class _Https1(HttpConnection):
    """HTTP/1.x read from inside TLS: the cleartext parser, its exchanges marked https."""

    __slots__ = ()

    def request_head(self, p: Any, raw: bytes) -> None:
        super().request_head(p, raw)
        ex = p.exchange
        if ex is not None:
            ex.scheme = "https"
            # Built on a ConnInfo (see _Decryptor._plain), which duck-types the pcap flow.
            ex.tls = cast(ConnInfo, self.flow).tls


class _Conn:
    """One TCP connection (TLS) or UDP conversation (QUIC)."""

    __slots__ = (
        "app",
        "bytes",
        "client",
        "cport",
        "dead",
        "first_ts",
        "info",
        "proto",
        "server",
        "session",
        "sport",
        "streams",
    )

    def __init__(self, proto: int, client: bytes, server: bytes, cport: int, sport: int, ts: float) -> None:
        self.proto = proto
        self.client = client
        self.server = server
        self.cport = cport
        self.sport = sport
        self.bytes = 0
        self.session: TlsSession | QuicSession | None = None
        self.streams: list[TcpStream] = []
        self.app: Any = None  # the HTTP parser once the protocol is known
        self.info: ConnInfo | None = None
        self.dead = False
        self.first_ts = ts


class _Decryptor:
    def __init__(self, keylog: KeyLog, sink: Sink, warn: Callable[[str], None]) -> None:
        self.keylog = keylog
        self.sink = sink
        self.warn = warn
        self.tcp: dict[tuple[bytes, int, bytes, int], tuple[_Conn, bool]] = {}
        self.udp: dict[tuple[bytes, int, bytes, int], tuple[_Conn, bool]] = {}
        self.done: list[_Conn] = []

    # -- TCP ---------------------------------------------------------------------------------

    def tcp_packet(
        self,
        ts: float,
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        seq: int,
        flags: int,
        payload: bytes,
        wire_len: int,
    ) -> None:
        key = (src, sport, dst, dport)
        entry = self.tcp.get(key)
        if entry is None:
            if flags & 0x12 == 0x02 or (wire_len and payload[:1] == b"\x16" and payload[5:6] == b"\x01"):
                conn = _Conn(6, src, dst, sport, dport, ts)  # a SYN or a ClientHello: src is the client
            elif flags & 0x12 == 0x12:
                conn = _Conn(6, dst, src, dport, sport, ts)
            else:
                return  # joined mid-stream with no handshake: cannot be decrypted
            self._new_tcp(conn)
            entry = self.tcp[key]
        elif flags & 0x02 and not flags & 0x10 and entry[0].bytes:
            self._close(entry[0])  # a new connection on the same ports
            self.tcp_packet(ts, src, dst, sport, dport, seq, flags, payload, wire_len)
            return
        conn, from_client = entry
        conn.bytes += wire_len
        if conn.dead:
            if flags & 0x05:
                self._close(conn)
            return
        stream = conn.streams[0 if from_client else 1]
        if flags & 0x02:
            stream.syn(seq)
            seq = (seq + 1) & MASK
        if wire_len:
            self.sink.ts = ts
            stream.segment(seq, payload, wire_len)
        if flags & 0x01:
            stream.fin((seq + wire_len) & MASK)
        if flags & 0x04 or all(s.ended for s in conn.streams):
            self._close(conn)

    def _new_tcp(self, conn: _Conn) -> None:
        self.tcp[(conn.client, conn.cport, conn.server, conn.sport)] = (conn, True)
        self.tcp[(conn.server, conn.sport, conn.client, conn.cport)] = (conn, False)
        conn.streams = [
            TcpStream(on_data=lambda d: self._tcp_data(conn, True, d), on_gap=lambda n: self._tcp_gap(conn, True)),
            TcpStream(on_data=lambda d: self._tcp_data(conn, False, d), on_gap=lambda n: self._tcp_gap(conn, False)),
        ]

    def _tcp_data(self, conn: _Conn, from_client: bool, data: bytes) -> None:
        session = conn.session
        if session is None:
            if from_client and data[:1] == b"\x16" and data[5:6] == b"\x01":
                session = conn.session = TlsSession(self.keylog, lambda c, d: self._plain(conn, c, d))
            else:
                conn.dead = True  # not TLS
                conn.streams = [TcpStream(lambda d: None), TcpStream(lambda d: None)]
                return
        session.feed(from_client, data)

    def _tcp_gap(self, conn: _Conn, from_client: bool) -> None:
        if isinstance(conn.session, TlsSession):  # a TCP connection's session, when it has one
            conn.session.gap(from_client)

    def _plain(self, conn: _Conn, from_client: bool, data: bytes) -> None:
        app = conn.app
        if app is None:
            session = conn.session
            assert isinstance(session, TlsSession)
            tls = TlsInfo(
                sni=session.sni,
                version=session.version_name,
                cipher=session.suite.name if session.suite else None,
                alpn=session.alpn,
            )
            conn.info = ConnInfo(_ntop(conn.server), conn.sport, tls)
            if (from_client and data.startswith(PREFACE[: min(len(data), len(PREFACE))])) or session.alpn == "h2":
                app = conn.app = Http2Conn(self.sink, conn.info)
            else:
                app = conn.app = _Https1(self.sink, conn.info)  # type: ignore[arg-type]
        app.feed(from_client, data)

    # -- UDP ---------------------------------------------------------------------------------

    def udp_packet(
        self, ts: float, src: bytes, dst: bytes, sport: int, dport: int, payload: bytes, wire_len: int
    ) -> None:
        key = (src, sport, dst, dport)
        entry = self.udp.get(key)
        if entry is None:
            if len(payload) < 1200 or payload[0] & 0xC0 != 0xC0:
                return  # not a client's first Initial (padded to 1200 bytes)
            conn = _Conn(17, src, dst, sport, dport, ts)
            conn.session = QuicSession(self.keylog, self.sink, _ntop(dst), dport)
            self.udp[key] = (conn, True)
            self.udp[(dst, dport, src, sport)] = (conn, False)
            entry = (conn, True)
        conn, from_client = entry
        conn.bytes += wire_len
        self.sink.ts = ts
        conn.session.feed(from_client, payload)  # type: ignore[union-attr]

    # -- results -----------------------------------------------------------------------------

    def _close(self, conn: _Conn) -> None:
        for key in (
            (conn.client, conn.cport, conn.server, conn.sport),
            (conn.server, conn.sport, conn.client, conn.cport),
        ):
            table = self.tcp if conn.proto == 6 else self.udp
            if table.get(key, (None,))[0] is conn:
                del table[key]
        for s in conn.streams:
            s.finish()
        if conn.app is not None:
            conn.app.finish()
        if isinstance(conn.session, QuicSession):
            conn.session.finish()
        if conn.session is not None:
            self.done.append(conn)

    def finish(self, result: DecryptResult) -> None:
        for table in (self.tcp, self.udp):
            for conn, fwd in list(table.values()):
                if fwd:
                    self._close(conn)
        for conn in sorted(self.done, key=lambda c: c.first_ts):
            s = conn.session
            assert s is not None
            if conn.proto == 17 and not s.is_quic:  # type: ignore[union-attr]
                continue
            result.connections += 1
            result.bytes += conn.bytes
            if isinstance(s, TlsSession):
                result.failed_records += s.failed_records
            if s.decrypted:
                result.decrypted += 1
                result.decrypted_bytes += conn.bytes
            elif len(result.not_decrypted) < MAX_LISTED:
                result.not_decrypted.append(
                    {
                        "transport": "tcp" if conn.proto == 6 else "udp",
                        "client": f"{_ntop(conn.client)}:{conn.cport}",
                        "server": f"{_ntop(conn.server)}:{conn.sport}",
                        "sni": s.sni,
                        "bytes": conn.bytes,
                        "reason": s.reason or _incomplete(s),
                    }
                )


def _incomplete(s: TlsSession | QuicSession) -> str:
    if isinstance(s, QuicSession):
        return "no 1-RTT packet in the capture"
    if s.status == "handshake":
        return "the TLS handshake is incomplete in the capture"
    if s.undecryptable:
        return "records do not decrypt with the logged secrets"
    return "no encrypted record in the capture"


def decrypt_capture(
    path: str | Path,
    keylog: KeyLog | None,
    *,
    capture: int = 0,
    warn: Callable[[str], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> DecryptResult:
    """Decrypt the TLS and QUIC connections of a capture with ``keylog`` (or its embedded one)."""
    warn = warn or (lambda _m: None)
    name = Path(path).name
    keylog = keylog if keylog is not None else KeyLog()
    result = DecryptResult()
    sink = Sink(capture, limits)
    dec = _Decryptor(keylog, sink, warn)

    def on_secrets(stype: int, data: bytes) -> None:
        if stype == TLS_KEY_LOG:
            before = len(keylog)
            keylog.add_text(data.decode("utf-8", "replace"), f"{name} (embedded key log)", warn)
            result.embedded_secrets += len(keylog) - before

    tcp, udp = dec.tcp_packet, dec.udp_packet
    errors = 0
    first_error = ""
    for pkt in packets(path, on_secrets):
        try:
            if pkt.proto == 6:
                tcp(pkt.ts, pkt.src, pkt.dst, pkt.sport, pkt.dport, pkt.seq, pkt.flags, pkt.payload, pkt.wire_len)
            else:
                udp(pkt.ts, pkt.src, pkt.dst, pkt.sport, pkt.dport, pkt.payload, pkt.wire_len)
        except Exception as e:  # noqa: BLE001 - a decoder bug must not lose the rest of the capture (warned below)
            errors += 1
            first_error = first_error or f"{e.__class__.__name__}: {e}"
    try:
        dec.finish(result)
    except Exception as e:  # noqa: BLE001 - as above: counted and warned, what was read is kept
        errors += 1
        first_error = first_error or f"{e.__class__.__name__}: {e}"
    if errors:
        warn(f"{name}: decryption failed on {errors} packet(s) (first: {first_error[:200]}); what was read is kept")
    result.exchanges = sink.exchanges
    result.dns_messages = [raw for ex in sink.exchanges for raw in doh.dns_messages(ex)]
    if result.failed_records:
        warn(
            f"{name}: {result.failed_records} TLS record(s) failed authentication (tag, MAC or padding)"
            " with the logged secrets and were skipped"
        )
    if keylog.unused:
        warn(f"{name}: key log secrets for {keylog.unused} TLS connection(s) matched no connection in the capture")
    return result
