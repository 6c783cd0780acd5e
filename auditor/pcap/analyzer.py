"""Network captures (pcap and pcapng): who the device talked to, and what went in clear.

:func:`read_pcap` streams a capture once and returns

* the network destinations, named from DNS answers, TLS ClientHello SNI (reassembled across
  TCP segments), QUIC Initial SNI (every version with a known salt, decrypted, CRYPTO frames
  reassembled across packets; gQUIC CHLOs) and HTTP ``Host`` headers, with payload bytes each
  way, and the names looked up in DNS without an answer;
* the DNS queries and answers (also multicast DNS, LLMNR and DNS over HTTPS in cleartext HTTP);
* every cleartext HTTP/1.x exchange and HTTP/2 (h2c) stream, as :class:`~auditor.models.Exchange`.

Records are read with ``struct`` from a buffered file (pcap in either byte order, micro- or
nanosecond; pcapng; either of them gzip-compressed) and filtered on raw bytes; only DNS, TLS
handshakes, QUIC Initials and HTTP are dissected. Memory stays flat whatever the file size: no
packet is kept, and per-connection state is bounded and dropped when a connection ends or idles.
Rarer link types are in :mod:`auditor.linklayer`, QUIC in :mod:`auditor.quic` and
:mod:`auditor.gquic`, HTTP/2 framing in :mod:`auditor.h2c`, DoH in :mod:`auditor.doh`.

Limits: HTTP/3 and WebSocket frames are not parsed (an HTTP/1.1 upgrade, also to h2c, ends
parsing of that connection); IP fragments after the first are not reassembled; a connection
whose handshake was not captured starts at the first segment seen, so data before it is not
reassembled; only the first QUIC connection of a UDP port pair is named.
"""

from __future__ import annotations

import gzip
import os
import socket
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from auditor.decoding import decode_body
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor import doh
from auditor.h2c import H2Connection, H2Stream
from auditor.linklayer import network_offset
from auditor.geo import is_ip
from auditor.models import Exchange
from auditor.quic import ClientHelloInfo, QuicInitialTracker, parse_client_hello, version_name
from auditor.tcpreassembly import MASK, TcpStream

__all__ = [
    "DnsRecord",
    "NetworkDestination",
    "PcapResult",
    "PcapStats",
    "is_pcap",
    "read_pcap",
]

# --------------------------------------------------------------------------------------------
# Public data types


@dataclass(slots=True)
class DnsRecord:
    """One DNS question (name and type) with every answer seen for it in the capture.

    ``answers`` holds the addresses and CNAME targets of all responses, without repeats;
    ``queries`` and ``responses`` count the messages seen.
    """

    name: str
    type: str
    answers: list[str] = field(default_factory=list)
    queries: int = 0
    responses: int = 0
    rcode: str | None = None  # of the last response
    first_seen: float | None = None


@dataclass(slots=True)
class NetworkDestination:
    """A server the capture shows traffic to, with how its name was learned.

    ``host`` is a name, or the IP address when no name was seen. ``seen`` lists, in the order
    dns, sni, quic, http, ip, how the destination appeared: a DNS answer, a TLS ClientHello, a
    QUIC Initial, an HTTP ``Host`` header, or a connection to an address with no known name.
    ``bytes_out`` counts client-to-server TCP/UDP payload bytes as they crossed the wire
    (retransmissions included), ``bytes_in`` the other way; ``packets`` counts both directions.
    A destination known only from DNS has no ports, transport or traffic. ``dns_lookup`` says
    whether the name was looked up in DNS (over port 53) and got an answer: "answered",
    "unanswered" (queried, but no response or none with an address or alias: a blocked or failed
    lookup; such a name is listed even when no traffic went to it), or None when not looked up.
    """

    host: str
    ips: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    transport: set[str] = field(default_factory=set)
    bytes_out: int = 0
    bytes_in: int = 0
    packets: int = 0
    connections: int = 0
    cnames: list[str] = field(default_factory=list)
    first_seen: float | None = None
    last_seen: float | None = None
    dns_lookup: str | None = None


@dataclass(slots=True)
class PcapStats:
    """Counts for one capture file."""

    format: str = "pcap"
    packets: int = 0
    bytes: int = 0  # original (on-the-wire) length of every packet
    dissected: int = 0  # packets handed to a DNS, TLS, QUIC or HTTP dissector
    non_ip: int = 0  # packets that were not IPv4/IPv6 or had an unsupported link type
    first_timestamp: float | None = None
    last_timestamp: float | None = None

    @property
    def duration(self) -> float:
        """Seconds between the first and the last packet."""
        if self.first_timestamp is None or self.last_timestamp is None:
            return 0.0
        return self.last_timestamp - self.first_timestamp


@dataclass(slots=True)
class PcapResult:
    """Everything :func:`read_pcap` found in one capture; ``warnings`` repeats what ``warn`` got."""

    exchanges: list[Exchange] = field(default_factory=list)
    destinations: list[NetworkDestination] = field(default_factory=list)
    dns: list[DnsRecord] = field(default_factory=list)
    stats: PcapStats = field(default_factory=PcapStats)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# File formats

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_GZIP = b"\x1f\x8b"

CHUNK = 1 << 20
MAX_RECORD = 262144  # largest sane packet when the header gives no snapshot length
MAX_BLOCK = 1 << 24  # largest sane pcapng block
RESYNC_WINDOW = 1 << 20  # how far to look for the next good record after a bad one
_WINDOW_TEXT = "1 MiB"
_PCAPNG_BLOCK_TYPES = frozenset({0x0A0D0D0A, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xBAD, 0x40000BAD})


def is_pcap(head: bytes) -> bool:
    """True if ``head`` (the first bytes of a file) starts a pcap or pcapng capture.

    Gzip-compressed captures are recognised too when ``head`` holds enough of the stream.
    """
    if head[:2] == _GZIP:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return False
    if head[:4] in _PCAP_MAGICS:
        return True
    if head[:4] == _PCAPNG_SHB:
        return len(head) < 12 or head[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")
    return False


class _Damage:
    """Reports damage in the file as warnings that name the file and the position."""

    def __init__(self, name: str, warn: Callable[[str], None]) -> None:
        self.name = name
        self.warn = warn
        self.records = 0
        self.compressed_error = False  # the gzip stream ended early or is corrupt
        self.reported_truncation = False

    def truncated(self, offset: int) -> None:
        where = " of the decompressed data" if self.compressed_error else ""
        why = " (the compressed stream ends early or is corrupt)" if self.compressed_error else ""
        self.reported_truncation = True
        self.warn(f"{self.name}: truncated at byte {offset}{where} after {_count(self.records, 'packet')}{why}")


class _Buffer:
    """A window on a binary file: ``buf[pos:]`` is unread; ``base`` is the file offset of buf[0]."""

    __slots__ = ("f", "buf", "pos", "base", "eof", "damage", "read")

    def __init__(self, f: BinaryIO, initial: bytes, base: int, damage: _Damage) -> None:
        self.f = f
        self.buf = initial
        self.pos = 0
        self.base = base
        self.eof = False
        self.damage = damage
        # Compressed input is read a piece at a time, so an error loses only the last piece.
        self.read = getattr(f, "read1", f.read) if isinstance(f, gzip.GzipFile) else f.read

    def fill(self, need: int) -> bool:
        """Make ``need`` bytes available from ``pos``; False if the file ends first."""
        avail = len(self.buf) - self.pos
        if avail >= need:
            return True
        if self.eof:
            return False
        parts = [self.buf[self.pos :]]
        self.base += self.pos
        self.pos = 0
        want = max(need - avail, CHUNK)
        while want > 0:
            try:
                chunk = self.read(want)
            except (EOFError, OSError, zlib.error, gzip.BadGzipFile):
                chunk = b""
                self.damage.compressed_error = True
            if not chunk:
                self.eof = True
                break
            parts.append(chunk)
            want -= len(chunk)
        self.buf = b"".join(parts)
        return len(self.buf) >= need

    @property
    def offset(self) -> int:
        return self.base + self.pos


Record = tuple[float, int, bytes, int]  # timestamp, link type, captured bytes, original length


def _pcap_records(b: _Buffer, header: bytes, damage: _Damage) -> Iterator[Record]:
    """Records of a classic pcap file (after its 24-byte header)."""
    endian, scale = _PCAP_MAGICS[header[:4]]
    snaplen, network = struct.unpack(endian + "II", header[16:24])
    link = network & 0xFFFF
    limit = min(snaplen, MAX_BLOCK) if snaplen else MAX_RECORD
    frac_limit = 1_000_000 if scale == 1e-6 else 1_000_000_000
    rec = struct.Struct(endian + "IIII")
    unpack = rec.unpack_from
    last_sec = None

    def plausible(buf: bytes, p: int) -> int:
        """Length of the record at ``p`` if its header looks sane, else -1."""
        if p + 16 > len(buf):
            return -1
        sec, frac, incl, orig = unpack(buf, p)
        if incl > limit or orig < incl or frac >= frac_limit or orig > MAX_BLOCK:
            return -1
        if last_sec is not None and abs(sec - last_sec) > 7 * 86400:
            return -1
        return 16 + incl

    while True:
        buf = b.buf
        pos = b.pos
        if pos + 16 > len(buf):
            if not b.fill(16):
                if len(b.buf) - b.pos:
                    damage.truncated(b.offset)
                return
            buf = b.buf
            pos = b.pos
        sec, frac, incl, orig = unpack(buf, pos)
        if incl > limit:
            start = b.offset
            skipped = _resync(b, plausible, step=1)
            what = f"bad record length {incl:,} at byte {start} after {_count(damage.records, 'packet')} (snapshot length {snaplen:,})"
            if skipped is None:
                damage.warn(f"{damage.name}: {what}; no readable record follows within {_WINDOW_TEXT}, the rest of the file was not read")
                return
            damage.warn(f"{damage.name}: {what}; skipped {skipped:,} bytes to the next readable record")
            continue
        end = pos + 16 + incl
        if end > len(buf):
            if not b.fill(16 + incl):
                damage.truncated(b.offset)
                return
            buf = b.buf
            pos = b.pos
            end = pos + 16 + incl
        b.pos = end
        last_sec = sec
        damage.records += 1
        yield sec + frac * scale, link, buf[pos + 16 : end], orig


def _resync(b: _Buffer, plausible: Callable[[bytes, int], int], step: int) -> int | None:
    """Move ``b.pos`` to the next place where two consecutive records look sane.

    Returns the number of bytes skipped, or None (and leaves the buffer at the end) if none
    was found within :data:`RESYNC_WINDOW` bytes.
    """
    b.fill(RESYNC_WINDOW + 2 * MAX_RECORD)
    buf = b.buf
    start = b.pos
    stop = min(len(buf), start + RESYNC_WINDOW)
    for p in range(start + step, stop, step):
        n = plausible(buf, p)
        if n < 0:
            continue
        q = p + n
        if (q == len(buf) and b.eof) or plausible(buf, q) >= 0:
            b.pos = p
            return p - start
    b.pos = len(buf)
    return None


def _tsresol(value: int) -> float:
    return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0 ** -value


def _pcapng_records(
    b: _Buffer, damage: _Damage, on_secrets: Callable[[int, bytes], None] | None = None
) -> Iterator[Record]:
    """Records of a pcapng file: Enhanced, Simple and (obsolete) Packet Blocks.

    ``on_secrets(secrets_type, data)`` receives each Decryption Secrets Block.
    """
    endian = "<"
    ifaces: list[tuple[int, float, float, int]] = []  # link type, scale, offset, snaplen
    bad_iface = 0
    over_snap = 0

    def plausible(buf: bytes, p: int) -> int:
        if p + 12 > len(buf):
            return -1
        btype, blen = struct.unpack_from(endian + "II", buf, p)
        if btype not in _PCAPNG_BLOCK_TYPES or blen < 12 or blen % 4 or blen > MAX_BLOCK:
            return -1
        if p + blen > len(buf) or struct.unpack_from(endian + "I", buf, p + blen - 4)[0] != blen:
            return -1
        return blen

    while True:
        if not b.fill(12):
            if len(b.buf) - b.pos:
                damage.truncated(b.offset)
            break
        buf = b.buf
        pos = b.pos
        if buf[pos : pos + 4] == _PCAPNG_SHB:
            bom = buf[pos + 8 : pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            ifaces = []
        btype, blen = struct.unpack_from(endian + "II", buf, pos)
        bad = blen < 12 or blen % 4 != 0 or blen > MAX_BLOCK
        if not bad:
            if not b.fill(blen):
                damage.truncated(b.offset)
                break
            buf = b.buf
            pos = b.pos
            bad = struct.unpack_from(endian + "I", buf, pos + blen - 4)[0] != blen
        if bad:
            start = b.offset
            skipped = _resync(b, plausible, step=4)
            what = f"bad block length {blen:,} at byte {start} after {_count(damage.records, 'packet')}"
            if skipped is None:
                damage.warn(f"{damage.name}: {what}; no readable block follows within {_WINDOW_TEXT}, the rest of the file was not read")
                break
            damage.warn(f"{damage.name}: {what}; skipped {skipped:,} bytes to the next readable block")
            continue
        b.pos = pos + blen
        if btype == 6:  # Enhanced Packet Block
            iface, hi, lo, caplen, orig = struct.unpack_from(endian + "IIIII", buf, pos + 8)
            if caplen > blen - 32:
                damage.warn(
                    f"{damage.name}: bad packet length {caplen:,} at byte {b.base + pos} after "
                    f"{_count(damage.records, 'packet')}; the packet was skipped"
                )
                continue
            if iface >= len(ifaces):
                bad_iface += 1
                continue
            link, scale, offset, snap = ifaces[iface]
            if snap and caplen > snap:
                over_snap += 1
            damage.records += 1
            yield ((hi << 32) | lo) * scale + offset, link, buf[pos + 28 : pos + 28 + caplen], orig
        elif btype == 3:  # Simple Packet Block
            if not ifaces:
                bad_iface += 1
                continue
            link, scale, offset, snap = ifaces[0]
            orig = struct.unpack_from(endian + "I", buf, pos + 8)[0]
            caplen = min(orig, blen - 16, snap or orig)
            damage.records += 1
            yield 0.0, link, buf[pos + 12 : pos + 12 + caplen], orig
        elif btype == 2:  # Packet Block (obsolete)
            iface, _drops, hi, lo, caplen, orig = struct.unpack_from(endian + "HHIIII", buf, pos + 8)
            if iface >= len(ifaces) or caplen > blen - 32:
                bad_iface += 1
                continue
            link, scale, offset, snap = ifaces[iface]
            damage.records += 1
            yield ((hi << 32) | lo) * scale + offset, link, buf[pos + 28 : pos + 28 + caplen], orig
        elif btype == 1:  # Interface Description Block
            link, _reserved, snap = struct.unpack_from(endian + "HHI", buf, pos + 8)
            scale, offset = 1e-6, 0.0
            p, end = pos + 16, pos + blen - 4
            while p + 4 <= end:
                code, olen = struct.unpack_from(endian + "HH", buf, p)
                if code == 0:
                    break
                value = buf[p + 4 : p + 4 + olen]
                if code == 9 and olen >= 1:
                    scale = _tsresol(value[0])
                elif code == 14 and olen == 8:
                    offset = float(struct.unpack(endian + "q", value)[0])
                p += 4 + olen + (-olen % 4)
            ifaces.append((link, scale, offset, snap))
        elif btype == 10 and on_secrets is not None and blen >= 20:  # Decryption Secrets Block
            stype, slen = struct.unpack_from(endian + "II", buf, pos + 8)
            on_secrets(stype, bytes(buf[pos + 16 : pos + 16 + min(slen, blen - 20)]))
    if bad_iface:
        damage.warn(f"{damage.name}: {_count(bad_iface, 'packet block')} with no described interface skipped")
    if over_snap:
        damage.warn(f"{damage.name}: {_count(over_snap, 'packet')} longer than the interface's snapshot length")


# --------------------------------------------------------------------------------------------
# DNS

_DNS_TYPES = {
    1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
    33: "SRV", 64: "SVCB", 65: "HTTPS", 255: "ANY",
}
_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def _dns_name(msg: bytes, p: int) -> tuple[str, int]:
    """Read a (possibly compressed) domain name at ``p``; return (name, position after it)."""
    labels: list[bytes] = []
    after = -1
    hops = 0
    while True:
        n = msg[p]
        if n == 0:
            p += 1
            break
        if n & 0xC0 == 0xC0:
            if after < 0:
                after = p + 2
            p = ((n & 0x3F) << 8) | msg[p + 1]
            hops += 1
            if hops > 64:
                raise ValueError("DNS name compression loop")
            continue
        if n & 0xC0:
            raise ValueError("bad DNS label")
        labels.append(msg[p + 1 : p + 1 + n])
        p += 1 + n
    name = b".".join(labels).decode("ascii", "replace").lower()
    return name, (after if after >= 0 else p)


@dataclass(slots=True)
class _DnsMessage:
    response: bool
    rcode: int
    qname: str
    qtype: int
    answers: list[tuple[str, int, str | bytes]]  # owner name, type, value (packed address or name)
    more: list[tuple[str, int]] = field(default_factory=list)  # further questions (mDNS asks several)


def _parse_dns(msg: bytes) -> _DnsMessage | None:
    """Parse a DNS message's first question and its answer section; None if malformed."""
    try:
        _id, flags, qd, an = struct.unpack_from("!HHHH", msg, 0)
        if qd < 1:
            return None
        qname, p = _dns_name(msg, 12)
        qtype = struct.unpack_from("!H", msg, p)[0]
        p += 4
        more: list[tuple[str, int]] = []
        for _ in range(qd - 1):
            name, p = _dns_name(msg, p)
            more.append((name.rstrip("."), struct.unpack_from("!H", msg, p)[0]))
            p += 4
        answers: list[tuple[str, int, str | bytes]] = []
        if flags & 0x8000:
            for _ in range(an):
                owner, p = _dns_name(msg, p)
                rtype, _cls, _ttl, rdlen = struct.unpack_from("!HHIH", msg, p)
                p += 10
                if p + rdlen > len(msg):
                    break
                if rtype == 1 and rdlen == 4 or rtype == 28 and rdlen == 16:
                    answers.append((owner, rtype, msg[p : p + rdlen]))
                elif rtype == 5:
                    answers.append((owner, rtype, _dns_name(msg, p)[0]))
                p += rdlen
        return _DnsMessage(bool(flags & 0x8000), flags & 0x0F, qname.rstrip("."), qtype, answers, more)
    except (IndexError, struct.error, ValueError):
        return None


def _count(n: int, noun: str) -> str:
    """``3, "packet"`` -> ``"3 packets"``; ``1`` -> ``"1 packet"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _ntop(packed: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


# --------------------------------------------------------------------------------------------
# HTTP/1.x

MAX_HEAD = 1 << 16  # largest header section accepted
MAX_BODY = 1 << 24  # body bytes kept per message; the rest is counted, not stored
MAX_WAITING = 1 << 20  # response bytes held while their request has not been seen

_METHODS = frozenset(
    b"GET POST PUT DELETE HEAD OPTIONS PATCH CONNECT TRACE PROPFIND PROPPATCH MKCOL COPY MOVE "
    b"LOCK UNLOCK REPORT SEARCH PURGE".split()
)

_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _UNTIL_CLOSE, _DEAD = range(8)


def _classify(head: bytes) -> str | None:
    """What the first bytes of a TCP stream look like; None if more bytes are needed."""
    b0 = head[0]
    if 0x14 <= b0 <= 0x17:
        if len(head) < 6:
            return None if len(head) < 2 or head[1] == 3 else "other"
        if head[1] != 3:
            return "other"
        return "tls_hello" if b0 == 0x16 and head[5] == 1 else "tls"
    if head.startswith(b"HTTP/1."):
        return "http_response"
    if head.startswith(b"PRI * HTTP/2.0"):
        return "h2c"
    if len(head) < 14 and b"PRI * HTTP/2.0".startswith(head):
        return None
    if len(head) < 7 and b"HTTP/1.".startswith(head):
        return None
    sp = head.find(b" ", 0, 12)
    if sp > 0:
        return "http_request" if head[:sp] in _METHODS else "other"
    if len(head) < 12 and head.isalpha() and head.isupper():
        return None
    return "other"


def _decode_head(raw: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Split a header section into its start line and (name, value) pairs."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return lines[0].rstrip("\r"), headers


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _framing(headers: list[tuple[str, str]]) -> tuple[int, int]:
    """(state, length) for a message body from Transfer-Encoding / Content-Length; (-1, 0) if none."""
    te = _header(headers, "transfer-encoding")
    if te and te.lower().replace(" ", "").split(",")[-1] == "chunked":
        return _CHUNK_SIZE, 0
    cl = _header(headers, "content-length")
    if cl is not None:
        try:
            n = int(cl.split(",")[0].strip())
        except ValueError:
            return _DEAD, 0
        return (_BODY, n) if n > 0 else (-1, 0)
    return -1, 0


def _finish_body(
    ex: Exchange, side: str, headers: list[tuple[str, str]], body: bytes, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """Decode ``body`` from its Content-Encoding; record failures on the exchange."""
    ce = _header(headers, "content-encoding")
    if not ce or not body:
        return body
    try:
        data, err = decode_body(body, ce, limits.max_inflated)
    except Exception as exc:  # a decoder bug must not lose the exchange
        ex.body_errors.append(f"{side} body: {exc}")
        return body
    if err:
        ex.body_errors.append(f"{side} body: {err}")
    return data


class _Http1Parser:
    """Incremental HTTP/1.x framing for one direction of a connection."""

    __slots__ = ("conn", "is_request", "buf", "state", "remaining", "body", "body_len", "exchange",
                 "headers", "msg_ts", "missing")

    def __init__(self, conn: _HttpConn, is_request: bool) -> None:
        self.conn = conn
        self.is_request = is_request
        self.buf = bytearray()
        self.state = _HEAD
        self.remaining = 0
        self.body = bytearray()
        self.body_len = 0
        self.exchange: Exchange | None = None
        self.headers: list[tuple[str, str]] = []
        self.msg_ts: float | None = None
        self.missing = 0

    def feed(self, data: bytes) -> None:
        st = self.state
        if st == _DEAD:
            return
        if st == _HEAD and not self.buf:
            self.msg_ts = self.conn.an.ts
        self.buf += data
        self.run()

    def _add(self, data: bytes | bytearray) -> None:
        room = self.conn.an.limits.max_body - len(self.body)
        self.body += data if len(data) <= room else data[:room]
        self.body_len += len(data)

    def die(self, reason: str) -> None:
        if self.exchange is not None and self.exchange.error is None:
            self.exchange.error = reason
        self.state = _DEAD
        self.buf.clear()

    def run(self) -> None:
        buf = self.buf
        while True:
            st = self.state
            if st == _HEAD:
                while buf[:2] == b"\r\n":
                    del buf[:2]
                if not buf:
                    return
                if not self.is_request and not self.conn.pending:
                    if len(buf) > MAX_WAITING:
                        self.die("response without a request")
                    return
                i = buf.find(b"\r\n\r\n")
                j = buf.find(b"\n\n", 0, i if i >= 0 else len(buf))
                if j >= 0 and (i < 0 or j < i):
                    idx, sep = j, 2
                elif i >= 0:
                    idx, sep = i, 4
                else:
                    if len(buf) > MAX_HEAD:
                        self.die("HTTP header section too large")
                    return
                raw = bytes(buf[:idx])
                del buf[: idx + sep]
                self.body = bytearray()
                self.body_len = 0
                self.missing = 0
                if self.is_request:
                    self.conn.request_head(self, raw)
                else:
                    self.conn.response_head(self, raw)
                if self.state == _HEAD and self.exchange is not None:
                    self.conn.message_done(self)
            elif st == _BODY or st == _CHUNK_DATA:
                if not buf:
                    return
                take = min(self.remaining, len(buf))
                self._add(buf[:take])
                del buf[:take]
                self.remaining -= take
                if self.remaining:
                    return
                if st == _BODY:
                    self.state = _HEAD
                    self.conn.message_done(self)
                else:
                    self.state = _CHUNK_CRLF
            elif st == _CHUNK_SIZE:
                i = buf.find(b"\n")
                if i < 0:
                    if len(buf) > 4096:
                        self.die("bad chunked encoding")
                    return
                line = bytes(buf[:i]).split(b";", 1)[0].strip()
                del buf[: i + 1]
                try:
                    size = int(line, 16)
                except ValueError:
                    self.die("bad chunked encoding")
                    return
                if size == 0:
                    self.state = _TRAILERS
                else:
                    self.remaining = size
                    self.state = _CHUNK_DATA
            elif st == _CHUNK_CRLF:
                if buf[:2] == b"\r\n":
                    del buf[:2]
                elif buf[:1] == b"\n":
                    del buf[:1]
                elif buf == b"\r" or not buf:
                    return
                self.state = _CHUNK_SIZE
            elif st == _TRAILERS:
                i = buf.find(b"\n")
                if i < 0:
                    return
                line = bytes(buf[:i]).strip()
                del buf[: i + 1]
                if not line:
                    self.state = _HEAD
                    self.conn.message_done(self)
            elif st == _UNTIL_CLOSE:
                if buf:
                    self._add(buf)
                    buf.clear()
                return
            else:
                return

    def gap(self, n: int) -> None:
        """``n`` bytes of this direction were not captured."""
        st = self.state
        if st in (_BODY, _CHUNK_DATA) and n <= self.remaining and not self.buf:
            self.remaining -= n
            self.missing += n
            self.body_len += n
            if not self.remaining:
                if st == _BODY:
                    self.state = _HEAD
                    self.conn.message_done(self)
                else:
                    self.state = _CHUNK_CRLF
        elif st == _UNTIL_CLOSE:
            self.missing += n
            self.body_len += n
        elif st != _DEAD:
            self.die("TCP data missing from the capture")

    def end(self) -> None:
        """The direction ended (FIN, reset or end of capture)."""
        st = self.state
        if st == _UNTIL_CLOSE:
            self.state = _HEAD
            self.conn.message_done(self)
        elif st in (_BODY, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS) and self.exchange is not None:
            side = "request" if self.is_request else "response"
            if st == _BODY:
                total = self.body_len + self.remaining
                note = f"{side} body incomplete: the capture has {self.body_len:,} of {total:,} bytes"
            else:
                note = f"{side} body incomplete: the chunked body ends early after {self.body_len:,} bytes"
            self.exchange.body_errors.append(note)
            self.state = _HEAD
            self.conn.message_done(self)
        self.state = _DEAD
        self.buf.clear()


class _HttpConn:
    """HTTP/1.x on one TCP connection: requests matched to responses in order (pipelining)."""

    __slots__ = ("an", "flow", "req", "resp", "pending", "done")

    def __init__(self, an: _Analyzer, flow: _Flow) -> None:
        self.an = an
        self.flow = flow
        self.req = _Http1Parser(self, True)
        self.resp = _Http1Parser(self, False)
        self.pending: deque[Exchange] = deque()
        self.done = False

    def request_head(self, p: _Http1Parser, raw: bytes) -> None:
        start, headers = _decode_head(raw)
        parts = start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            p.exchange = None
            p.die("not an HTTP/1.x request")
            return
        method, target, version = parts
        path = target
        authority = _header(headers, "host")
        if target.startswith(("http://", "https://")):  # absolute form (proxy requests)
            rest = target.split("://", 1)[1]
            authority, slash, tail = rest.partition("/")
            path = slash + tail if slash else "/"
        ex = self.an.new_exchange(self.flow, authority, method, path, version, headers, p.msg_ts)
        self.pending.append(ex)
        p.exchange = ex
        p.headers = headers
        state, length = _framing(headers)
        if state == _DEAD:
            p.die("bad Content-Length")
        elif state < 0:
            p.state = _HEAD
        else:
            p.state = state
            p.remaining = length
        if self.resp.buf and self.resp.state == _HEAD:
            self.resp.run()

    def response_head(self, p: _Http1Parser, raw: bytes) -> None:
        start, headers = _decode_head(raw)
        parts = start.split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            p.exchange = None
            p.die("not an HTTP/1.x response")
            return
        ex = self.pending[0]
        p.exchange = None
        if 100 <= status < 200 and status != 101:
            return  # interim response; the final one follows
        ex.status = status
        ex.response_headers = headers
        p.exchange = ex
        p.headers = headers
        if status == 101 or (ex.method == "CONNECT" and 200 <= status < 300):
            # The connection now carries another protocol.
            p.state = _HEAD
            self.message_done(p)
            self.stop()
            return
        if ex.method == "HEAD" or status in (204, 304):
            p.state = _HEAD
            return
        state, length = _framing(headers)
        if state == _DEAD:
            p.die("bad Content-Length")
        elif state < 0:
            if _header(headers, "content-length") is not None:
                p.state = _HEAD  # Content-Length: 0
            else:
                p.state = _UNTIL_CLOSE
        else:
            p.state = state
            p.remaining = length

    def message_done(self, p: _Http1Parser) -> None:
        ex = p.exchange
        if ex is None:
            return
        side = "request" if p.is_request else "response"
        if p.missing:
            ex.body_errors.append(f"{side} body: {p.missing:,} bytes were not captured")
        limits = self.an.limits
        if p.body_len > limits.max_body:
            ex.body_errors.append(f"{side} body: only the first {limits.max_body:,} of {p.body_len:,} bytes were kept")
        body = _finish_body(ex, side, p.headers, bytes(p.body), limits)
        if p.is_request:
            ex.request_body = body
            self.an.dns_over_http(doh.query_message(ex.method, ex.path, p.headers, body))
        else:
            ex.response_body = body
            self.an.dns_over_http(doh.response_message(p.headers, body))
            if self.pending and self.pending[0] is ex:
                self.pending.popleft()
        p.exchange = None
        p.body = bytearray()
        p.body_len = 0
        p.missing = 0

    def stop(self) -> None:
        """Stop parsing this connection (protocol switch or tunnel)."""
        self.req.state = _DEAD
        self.resp.state = _DEAD
        self.req.buf.clear()
        self.resp.buf.clear()
        self.done = True

    def feed(self, from_client: bool, data: bytes) -> None:
        (self.req if from_client else self.resp).feed(data)

    def gap(self, from_client: bool, n: int) -> None:
        (self.req if from_client else self.resp).gap(n)

    def end(self, from_client: bool) -> None:
        (self.req if from_client else self.resp).end()

    def finish(self) -> None:
        self.req.end()
        self.resp.end()
        self.pending.clear()


def _strip_port(authority: str) -> str:
    authority = authority.strip()
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    if authority.count(":") == 1:
        return authority.split(":", 1)[0]
    return authority




# --------------------------------------------------------------------------------------------
# TLS and DNS over TCP


class _TlsHello:
    """Collects the first handshake message of a TLS stream, across records and segments."""

    __slots__ = ("buf", "hs", "info", "failed")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.hs = bytearray()
        self.info: ClientHelloInfo | None = None
        self.failed = False

    def feed(self, data: bytes) -> bool:
        """Add stream bytes; True once the ClientHello is parsed or cannot be."""
        buf = self.buf
        buf += data
        while len(buf) >= 5:
            if buf[0] != 0x16 or buf[1] != 3:
                self.failed = True
                return True
            rlen = (buf[3] << 8) | buf[4]
            if len(buf) < 5 + rlen:
                break
            self.hs += buf[5 : 5 + rlen]
            del buf[: 5 + rlen]
        hs = self.hs
        if len(hs) >= 4:
            need = 4 + int.from_bytes(hs[1:4], "big")
            if hs[0] != 1 or need > 1 << 18:
                self.failed = True
                return True
            if len(hs) >= need:
                try:
                    self.info = parse_client_hello(bytes(hs[:need]))
                except ValueError:
                    self.failed = True
                return True
        if len(buf) > 1 << 18:
            self.failed = True
            return True
        return False


class _TcpDns:
    """DNS over TCP: two-byte length-prefixed messages in each direction."""

    __slots__ = ("bufs",)

    def __init__(self) -> None:
        self.bufs = (bytearray(), bytearray())

    def feed(self, d: int, data: bytes) -> list[bytes]:
        buf = self.bufs[d]
        buf += data
        out: list[bytes] = []
        while len(buf) >= 2:
            n = (buf[0] << 8) | buf[1]
            if len(buf) < 2 + n:
                break
            out.append(bytes(buf[2 : 2 + n]))
            del buf[: 2 + n]
        if len(buf) > 1 << 17:
            buf.clear()
        return out


# --------------------------------------------------------------------------------------------
# Flows

_M_UNDECIDED, _M_HTTP, _M_TLS, _M_DNS, _M_QUIC, _M_OTHER, _M_H2 = range(7)
_SERVER_PORTS = frozenset({53, 80, 443, 853, 1080, 3128, 5228, 5222, 8000, 8008, 8080, 8443, 8888, 9000})
_SEEN_ORDER = ("dns", "sni", "quic", "http", "ip")
_DNS_PORTS = frozenset({53, 5353, 5355})  # DNS, multicast DNS, LLMNR
_LOOKUP_TYPES = frozenset({1, 5, 28, 64, 65, 255})  # A, CNAME, AAAA, SVCB, HTTPS, ANY: a name to connect to
_LOCAL_SUFFIXES = (".arpa", ".local", ".localdomain", ".home.arpa", ".lan", ".internal")

TCP_IDLE = 900.0  # seconds of capture time before an idle open TCP connection is dropped
TCP_CLOSED_IDLE = 30.0  # ... a closed one (or at the second sweep after it closed)
UDP_IDLE = 120.0
QUIC_IDLE = 600.0  # a UDP conversation named by its QUIC Initial
SWEEP_EVERY = 1 << 16  # packets between sweeps of idle connections


class _Flow:
    """One TCP connection or UDP conversation. ``a`` is the side seen first."""

    __slots__ = (
        "proto", "a_ip", "a_port", "b_ip", "b_port", "client_is_a", "client_known",
        "packets", "ab", "ba", "first_ts", "last_ts", "name", "name_src", "dns_a", "dns_b",
        "watch", "need", "mode", "streams", "heads", "handler", "fins", "closed", "gapped",
        "undecided", "checks", "swept_closed",
    )

    def __init__(self, proto: int, a_ip: bytes, a_port: int, b_ip: bytes, b_port: int, ts: float) -> None:
        self.proto = proto
        self.a_ip = a_ip
        self.a_port = a_port
        self.b_ip = b_ip
        self.b_port = b_port
        # Until the traffic says otherwise, the side on a well-known port is the server.
        self.client_is_a = not (a_port in _SERVER_PORTS or (a_port < 1024 <= b_port)) or (
            b_port in _SERVER_PORTS
        )
        self.client_known = False
        self.packets = 0
        self.ab = 0
        self.ba = 0
        self.first_ts = ts
        self.last_ts = ts
        self.name: str | None = None
        self.name_src: str | None = None
        self.dns_a: str | None = None
        self.dns_b: str | None = None
        self.watch = True
        self.need = [True, True]
        self.mode = _M_UNDECIDED
        self.streams: list[TcpStream | None] = [None, None]
        self.heads: list[bytearray] = [bytearray(), bytearray()]
        self.handler: object = None
        self.fins = 0
        self.closed = False
        self.gapped = False
        self.undecided = 0
        self.checks = 0
        self.swept_closed = False

    @property
    def client_dir(self) -> int:
        """0 if the client sends a->b, 1 if b->a."""
        return 0 if self.client_is_a else 1

    @property
    def server_ip(self) -> bytes:
        return self.b_ip if self.client_is_a else self.a_ip

    @property
    def server_ip_str(self) -> str:
        return _ntop(self.server_ip)

    @property
    def server_port(self) -> int:
        return self.b_port if self.client_is_a else self.a_port

    def release(self) -> None:
        """Drop the dissection state; only the counters remain."""
        self.watch = False
        self.mode = _M_OTHER
        self.need = [False, False]
        self.streams = [None, None]
        self.heads = [bytearray(), bytearray()]
        self.handler = None


class _Dest:
    __slots__ = ("host", "ips", "seen", "ports", "transport", "out", "inb", "packets", "connections",
                 "cnames", "first", "last", "dns_lookup")

    def __init__(self, host: str, ts: float) -> None:
        self.host = host
        self.ips: dict[str, None] = {}
        self.seen: set[str] = set()
        self.ports: set[int] = set()
        self.transport: set[str] = set()
        self.out = 0
        self.inb = 0
        self.packets = 0
        self.connections = 0
        self.cnames: dict[str, None] = {}
        self.first = ts
        self.last = ts
        self.dns_lookup: str | None = None


# --------------------------------------------------------------------------------------------
# The analyser


class _Analyzer:
    """Per-capture state: connections, destinations, DNS names, exchanges."""

    def __init__(
        self, name: str, capture: int, warn: Callable[[str], None], limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.name = name
        self.capture = capture
        self.warn = warn
        self.limits = limits
        self.tcp: dict[tuple[bytes, bytes, int, int], tuple[_Flow, bool]] = {}
        self.udp: dict[tuple[bytes, bytes, int, int], tuple[_Flow, bool]] = {}
        self.dests: dict[str, _Dest] = {}
        self.ip_names: dict[bytes, str] = {}
        self.dns: dict[tuple[str, str], DnsRecord] = {}
        self.exchanges: list[Exchange] = []
        self.stats = PcapStats()
        self.ts = 0.0
        self.dissected = 0
        self.unsupported_links: dict[int, int] = {}
        self.gapped_flows = 0
        self.malformed = 0
        self.quic_unread: dict[str, int] = {}  # QUIC versions never decrypted -> connections
        self.looked_up: dict[str, float] = {}  # names asked over unicast DNS -> first seen
        self.answered: set[str] = set()  # ... of which got an address or an alias

    # -- main loop --------------------------------------------------------------------------

    def run(self, records: Iterator[Record]) -> None:
        """Count and route every record; the hot path uses only struct and dict lookups."""
        unpack = struct.unpack_from
        tcp = self.tcp
        udp = self.udp
        tcp_slow = self._tcp_slow
        udp_slow = self._udp_slow
        new_flow = self._new_flow
        packets = 0
        nbytes = 0
        non_ip = 0
        first_ts: float | None = None
        ts = 0.0
        next_sweep = SWEEP_EVERY
        for ts, link, data, orig in records:
            packets += 1
            nbytes += orig
            if first_ts is None:
                first_ts = ts
            if packets >= next_sweep:
                next_sweep = packets + SWEEP_EVERY
                self.ts = ts
                self._sweep(ts)
            try:
                if link == 1:  # Ethernet
                    et = (data[12] << 8) | data[13]
                    off = 14
                    while et == 0x8100 or et == 0x88A8 or et == 0x9100:
                        et = (data[off + 2] << 8) | data[off + 3]
                        off += 4
                    if et == 0x8864:  # PPPoE session
                        ppp = (data[off + 6] << 8) | data[off + 7]
                        et = 0x0800 if ppp == 0x21 else 0x86DD if ppp == 0x57 else 0
                        off += 8
                elif link == 113:  # Linux cooked capture
                    et = (data[14] << 8) | data[15]
                    off = 16
                elif link == 276:  # Linux cooked capture v2
                    et = (data[0] << 8) | data[1]
                    off = 20
                elif link == 101 or link == 12 or link == 14 or link == 228 or link == 229:  # raw IP
                    v = data[0] >> 4
                    et = 0x0800 if v == 4 else 0x86DD if v == 6 else 0
                    off = 0
                elif link == 0 or link == 108:  # BSD loopback
                    fam = unpack("<I" if link == 0 else ">I", data, 0)[0]
                    if fam > 0xFFFF:
                        fam = unpack(">I" if link == 0 else "<I", data, 0)[0]
                    et = 0x0800 if fam == 2 else 0x86DD if fam in (10, 23, 24, 28, 30) else 0
                    off = 4
                else:
                    found = network_offset(link, data)
                    if found is None:
                        self.unsupported_links[link] = self.unsupported_links.get(link, 0) + 1
                        non_ip += 1
                        continue
                    et, off = found
                if et == 0x0800:
                    ihl = (data[off] & 0x0F) << 2
                    total, frag = unpack("!H2xH", data, off + 2)
                    if frag & 0x1FFF:
                        continue  # not the first fragment: no transport header
                    proto = data[off + 9]
                    src = data[off + 12 : off + 16]
                    dst = data[off + 16 : off + 20]
                    l4 = off + ihl
                    end = off + total if total else orig  # TSO captures may say 0
                elif et == 0x86DD:
                    plen, proto = unpack("!HB", data, off + 4)
                    src = data[off + 8 : off + 24]
                    dst = data[off + 24 : off + 40]
                    l4 = off + 40
                    end = l4 + plen if plen else len(data)
                    while proto in (0, 43, 44, 60, 51):
                        if proto == 44:
                            if unpack("!H", data, l4 + 2)[0] & 0xFFF8:
                                proto = -1
                                break
                            proto = data[l4]
                            l4 += 8
                        elif proto == 51:
                            proto, hl = data[l4], data[l4 + 1]
                            l4 += (hl + 2) << 2
                        else:
                            proto, hl = data[l4], data[l4 + 1]
                            l4 += (hl + 1) << 3
                else:
                    non_ip += 1
                    continue
                if proto == 6:
                    sport, dport, seq, offflags = unpack("!HHI4xH", data, l4)
                    doff = (offflags >> 12) << 2
                    flags = offflags & 0xFF
                    paylen = end - l4 - doff
                    if paylen < 0:
                        paylen = 0
                    entry = tcp.get((src, dst, sport, dport))
                    if entry is None:
                        flow = new_flow(6, src, sport, dst, dport, ts, flags)
                        fwd = True
                    else:
                        flow, fwd = entry
                    flow.packets += 1
                    flow.last_ts = ts
                    if fwd:
                        flow.ab += paylen
                    else:
                        flow.ba += paylen
                    if flags & 0x07 or (paylen and flow.watch):
                        self.ts = ts
                        tcp_slow(flow, fwd, seq, flags, data, l4 + doff, end, paylen)
                elif proto == 17:
                    sport, dport = unpack("!HH", data, l4)
                    paylen = end - l4 - 8
                    if paylen < 0:
                        paylen = 0
                    entry = udp.get((src, dst, sport, dport))
                    if entry is None:
                        flow = new_flow(17, src, sport, dst, dport, ts, 0)
                        fwd = True
                    else:
                        flow, fwd = entry
                    flow.packets += 1
                    flow.last_ts = ts
                    if fwd:
                        flow.ab += paylen
                    else:
                        flow.ba += paylen
                    if flow.watch and paylen > 0:
                        self.ts = ts
                        udp_slow(flow, fwd, data[l4 + 8 : end])
            except (IndexError, struct.error):
                self.malformed += 1
        st = self.stats
        st.packets = packets
        st.bytes = nbytes
        st.non_ip = non_ip
        st.first_timestamp = first_ts
        st.last_timestamp = ts if packets else None

    # -- flows ------------------------------------------------------------------------------

    def _new_flow(self, proto: int, src: bytes, sport: int, dst: bytes, dport: int, ts: float, flags: int) -> _Flow:
        flow = _Flow(proto, src, sport, dst, dport, ts)
        if proto == 6:
            if flags & 0x12 == 0x12:  # SYN-ACK: the sender is the server
                flow.client_is_a = False
                flow.client_known = True
            if sport == 53 or dport == 53:
                flow.mode = _M_DNS
                flow.handler = _TcpDns()
            table = self.tcp
        else:
            if sport in _DNS_PORTS or dport in _DNS_PORTS:
                flow.mode = _M_DNS
            else:
                flow.mode = _M_QUIC
            table = self.udp
        names = self.ip_names
        flow.dns_a = names.get(src)
        flow.dns_b = names.get(dst)
        table[(src, dst, sport, dport)] = (flow, True)
        table[(dst, src, dport, sport)] = (flow, False)
        return flow

    def _stream(self, flow: _Flow, d: int) -> TcpStream:
        st = flow.streams[d]
        if st is None:
            st = flow.streams[d] = TcpStream(
                on_data=lambda data: self._on_data(flow, d, data),
                on_gap=lambda n: self._on_gap(flow, d, n),
                on_end=lambda: self._on_end(flow, d),
            )
        return st

    def _tcp_slow(self, flow: _Flow, fwd: bool, seq: int, flags: int, data: bytes, pstart: int, end: int, paylen: int) -> None:
        d = 0 if fwd else 1
        if flags & 0x02:  # SYN
            if not flags & 0x10:
                if flow.closed or (flow.ab + flow.ba - paylen) > 0:
                    # A new connection on the same ports: account for the old one first.
                    flow.packets -= 1
                    if fwd:
                        flow.ab -= paylen
                    else:
                        flow.ba -= paylen
                    self._evict(flow)
                    flow = self._new_flow(6, flow.a_ip if fwd else flow.b_ip, flow.a_port if fwd else flow.b_port,
                                          flow.b_ip if fwd else flow.a_ip, flow.b_port if fwd else flow.a_port,
                                          self.ts, flags)
                    flow.packets = 1
                    flow.ab = paylen
                    d = 0
                    fwd = True
                flow.client_is_a = fwd
                flow.client_known = True
            elif not flow.client_known:
                flow.client_is_a = not fwd
                flow.client_known = True
            if flow.watch and flow.need[d]:
                self._stream(flow, d).syn(seq)
            seq = (seq + 1) & MASK
        if paylen and flow.watch and flow.need[d]:
            self.dissected += 1
            self._stream(flow, d).segment(seq, data[pstart : min(end, len(data))], paylen)
        if flags & 0x01:  # FIN
            st = flow.streams[d]
            if st is not None and flow.watch:
                st.fin((seq + paylen) & MASK)
            flow.fins |= 1 << d
            if flow.fins == 3:
                self._close(flow)
        if flags & 0x04:  # RST
            self._close(flow)

    def _on_data(self, flow: _Flow, d: int, data: bytes) -> None:
        mode = flow.mode
        if mode == _M_HTTP:
            handler: _HttpConn = flow.handler  # type: ignore[assignment]
            handler.feed(d == flow.client_dir, data)
            if handler.done:
                flow.release()
        elif mode == _M_TLS:
            if d == flow.client_dir:
                hello: _TlsHello = flow.handler  # type: ignore[assignment]
                if hello.feed(data):
                    if hello.info is not None and hello.info.sni and flow.name is None:
                        flow.name = hello.info.sni
                        flow.name_src = "sni"
                    flow.release()
        elif mode == _M_H2:
            flow.handler.feed(d == flow.client_dir, data)  # type: ignore[attr-defined]
        elif mode == _M_UNDECIDED:
            head = flow.heads[d]
            head += data
            kind = _classify(bytes(head[:16]))
            if kind is None:
                return
            self._decide(flow, d, kind)
        elif mode == _M_DNS:
            for raw in flow.handler.feed(d, data):  # type: ignore[attr-defined]
                self.dissected += 1
                msg = _parse_dns(raw)
                if msg is not None:
                    self._record_dns(msg)

    def _decide(self, flow: _Flow, d: int, kind: str) -> None:
        if kind in ("tls_hello", "http_request", "h2c"):
            if not flow.client_known:
                flow.client_is_a = d == 0
                flow.client_known = True
            elif flow.client_dir != d:
                kind = "other"
        elif kind in ("tls", "http_response"):
            if not flow.client_known:
                flow.client_is_a = d == 1
                flow.client_known = True
            elif flow.client_dir == d:
                kind = "other"
        if kind == "other" or kind == "tls":
            flow.undecided |= 1 << d
            if kind == "tls" or flow.undecided == 3 or (flow.client_known and d == flow.client_dir) or len(flow.heads[d]) > MAX_HEAD:
                flow.mode = _M_OTHER
                flow.release()
            return
        heads = flow.heads
        flow.heads = [bytearray(), bytearray()]
        c = flow.client_dir
        if kind == "tls_hello":
            flow.mode = _M_TLS
            flow.handler = _TlsHello()
            flow.need[1 - c] = False
            flow.streams[1 - c] = None
            self._on_data(flow, c, bytes(heads[c]))
        elif kind == "h2c":
            flow.mode = _M_H2
            flow.handler = H2Connection(lambda st: self._h2_stream(flow, st), max_body=self.limits.max_body,
                                        now=lambda: self.ts)
            for d in (c, 1 - c):
                if heads[d]:
                    self._on_data(flow, d, bytes(heads[d]))
        else:
            flow.mode = _M_HTTP
            flow.handler = _HttpConn(self, flow)
            if heads[c]:
                self._on_data(flow, c, bytes(heads[c]))
            if heads[1 - c] and flow.mode == _M_HTTP:
                self._on_data(flow, 1 - c, bytes(heads[1 - c]))

    def _on_gap(self, flow: _Flow, d: int, n: int) -> None:
        if not flow.gapped:
            flow.gapped = True
            if flow.mode in (_M_HTTP, _M_TLS):
                self.gapped_flows += 1
        if flow.mode == _M_HTTP:
            flow.handler.gap(d == flow.client_dir, n)  # type: ignore[attr-defined]
        elif flow.mode == _M_TLS:
            if d == flow.client_dir:
                flow.release()
        elif flow.mode == _M_UNDECIDED and flow.heads[d]:
            flow.mode = _M_OTHER
            flow.release()

    def _on_end(self, flow: _Flow, d: int) -> None:
        if flow.mode == _M_HTTP and flow.handler is not None:
            flow.handler.end(d == flow.client_dir)  # type: ignore[attr-defined]

    def _close(self, flow: _Flow) -> None:
        """The connection ended: flush reassembly and parsers, keep only the counters."""
        if flow.closed:
            return
        flow.closed = True
        if flow.watch:
            for st in flow.streams:
                if st is not None:
                    st.finish()
            if flow.mode in (_M_HTTP, _M_H2) and flow.handler is not None:
                flow.handler.finish()  # type: ignore[attr-defined]
        flow.release()

    def _evict(self, flow: _Flow) -> None:
        if flow.proto == 6:
            self._close(flow)
            table = self.tcp
        else:
            self._quic_unread(flow)
            flow.release()
            table = self.udp
        self._account(flow)
        table.pop((flow.a_ip, flow.b_ip, flow.a_port, flow.b_port), None)
        table.pop((flow.b_ip, flow.a_ip, flow.b_port, flow.a_port), None)

    def _sweep(self, now: float) -> None:
        """Drop connections that ended or went idle, accounting for their traffic.

        A closed connection stays one sweep longer (or 30 s of capture time) so that its last
        ACKs are not mistaken for a new connection.
        """
        stale: list[_Flow] = []
        for flow, fwd in self.tcp.values():
            if not fwd:
                continue
            if flow.closed:
                if flow.swept_closed or now - flow.last_ts > TCP_CLOSED_IDLE:
                    stale.append(flow)
                flow.swept_closed = True
            elif now - flow.last_ts > TCP_IDLE:
                stale.append(flow)
        for flow, fwd in self.udp.values():
            if fwd and now - flow.last_ts > (QUIC_IDLE if flow.name_src == "quic" else UDP_IDLE):
                stale.append(flow)
        for flow in stale:
            self._evict(flow)

    def _account(self, flow: _Flow) -> None:
        """Add a finished connection's counters to its destination."""
        server = flow.server_ip
        if flow.name:
            host, src = flow.name, flow.name_src or "ip"
        else:
            dn = (flow.dns_b if flow.client_is_a else flow.dns_a) or self.ip_names.get(server)
            host, src = (dn, "dns") if dn else (_ntop(server), "ip")
        dest = self._dest(host, flow.first_ts)
        dest.seen.add(src)
        dest.ips[_ntop(server)] = None
        dest.ports.add(flow.server_port)
        dest.transport.add("tcp" if flow.proto == 6 else "udp")
        if flow.client_is_a:
            dest.out += flow.ab
            dest.inb += flow.ba
        else:
            dest.out += flow.ba
            dest.inb += flow.ab
        dest.packets += flow.packets
        dest.connections += 1
        dest.first = min(dest.first, flow.first_ts)
        dest.last = max(dest.last, flow.last_ts)

    def _dest(self, host: str, ts: float) -> _Dest:
        dest = self.dests.get(host)
        if dest is None:
            dest = self.dests[host] = _Dest(host, ts)
        return dest

    # -- UDP: DNS and QUIC -----------------------------------------------------------------

    def _udp_slow(self, flow: _Flow, fwd: bool, payload: bytes) -> None:
        if not payload:
            return  # cut by the snapshot length
        mode = flow.mode
        if mode == _M_DNS:
            self.dissected += 1
            msg = _parse_dns(payload)
            if msg is not None:
                if not flow.client_known:
                    flow.client_is_a = fwd != msg.response
                    flow.client_known = True
                self._record_dns(msg, multicast=flow.server_port != 53)
                # flow.checks counts unanswered queries; a conversation whose queries are all
                # answered is accounted for at once (resolvers use a new port per query).
                flow.checks += -1 if msg.response else 1
                if flow.checks <= 0 and msg.response:
                    self._evict(flow)
            return
        # QUIC: Initials have a long header; gQUIC before Q046 a public header with the version.
        b0 = payload[0]
        if b0 & 0xC0 != 0xC0 and (b0 & 0x89 != 0x09 or payload[9:11] != b"Q0"):
            flow.checks += 1
            if flow.checks > 8:
                self._quic_unread(flow)
                flow.release()
            return
        if flow.client_known and fwd != flow.client_is_a:
            return  # the server's Initials use other keys
        if payload[1:5] == b"\0\0\0\0":
            return  # version negotiation: the server lists its versions, the client starts again
        tracker: QuicInitialTracker | None = flow.handler  # type: ignore[assignment]
        if tracker is None:
            tracker = flow.handler = QuicInitialTracker()
        self.dissected += 1
        if tracker.feed(payload) and not flow.client_known:
            flow.client_is_a = fwd
            flow.client_known = True
        if tracker.hello is not None:
            if tracker.hello.sni and flow.name is None:
                flow.name = tracker.hello.sni
                flow.name_src = "quic"
            flow.release()
        elif tracker.failed or tracker.datagrams > 32:
            self._quic_unread(flow)
            flow.release()

    def _quic_unread(self, flow: _Flow) -> None:
        """Count a QUIC connection whose client packets never decrypted, by version."""
        tracker = flow.handler
        if isinstance(tracker, QuicInitialTracker) and not tracker.opened and tracker.versions:
            key = ", ".join(version_name(v) for v in tracker.versions)
            self.quic_unread[key] = self.quic_unread.get(key, 0) + 1

    def _dns_record(self, qname: str, qtype: int) -> DnsRecord:
        name = _DNS_TYPES.get(qtype, f"TYPE{qtype}")
        key = (qname, name)
        rec = self.dns.get(key)
        if rec is None:
            rec = self.dns[key] = DnsRecord(qname, name, first_seen=self.ts)
        return rec

    def dns_over_http(self, raw: bytes | None) -> None:
        """Record a DNS message carried over HTTP (DoH), if there is one."""
        if raw is not None:
            msg = _parse_dns(raw)
            if msg is not None:
                self._record_dns(msg)

    def new_exchange(self, flow: _Flow, authority: str | None, method: str, path: str, version: str,
                     headers: list[tuple[str, str]], ts: float | None) -> Exchange:
        """A cleartext HTTP exchange of ``flow``, listed; its authority names the flow if nothing did."""
        host = _strip_port(authority) if authority else ""
        if not host:
            host = flow.server_ip_str
        elif flow.name is None and not is_ip(host):
            flow.name = host.lower()
            flow.name_src = "http"
        index = len(self.exchanges)
        ex = Exchange(
            capture=self.capture,
            index=index,
            id=f"pcap-{self.capture}-{index}",
            method=method,
            scheme="http",
            host=host,
            port=flow.server_port,
            path=path,
            http_version=version,
            request_headers=headers,
            server_ip=flow.server_ip_str,
            timestamp=ts,
        )
        self.exchanges.append(ex)
        return ex

    def _h2_stream(self, flow: _Flow, st: H2Stream) -> None:
        """A finished HTTP/2 stream of a cleartext connection becomes an exchange."""
        pseudo = {k: v for k, v in st.request_headers if k.startswith(":")}
        headers = [(k, v) for k, v in st.request_headers if not k.startswith(":")]
        authority = pseudo.get(":authority") or _header(headers, "host")
        ex = self.new_exchange(flow, authority, pseudo.get(":method", "GET"), pseudo.get(":path", "/"), "HTTP/2.0",
                               headers, st.timestamp)
        limits = self.limits
        for side, hdrs, body, length in (
            ("request", headers, st.request_body, st.request_length),
            ("response", st.response_headers, st.response_body, st.response_length),
        ):
            if length > limits.max_body:
                ex.body_errors.append(f"{side} body: only the first {limits.max_body:,} of {length:,} bytes were kept")
            decoded = _finish_body(ex, side, [(k, v) for k, v in hdrs if not k.startswith(":")], bytes(body), limits)
            if side == "request":
                ex.request_body = decoded
            else:
                ex.response_body = decoded
        if st.response_headers:
            status = next((v for k, v in st.response_headers if k == ":status"), "")
            ex.status = int(status) if status.isdigit() else None
            ex.response_headers = [(k, v) for k, v in st.response_headers if not k.startswith(":")]
        if not st.complete:
            ex.error = "the stream was reset" if st.reset else "the stream ended before its response was complete"
        for raw in doh.dns_messages(ex):
            self.dns_over_http(raw)

    def _record_dns(self, msg: _DnsMessage, multicast: bool = False) -> None:
        """Record a DNS message; ``multicast`` (mDNS, LLMNR) answers name local devices, not destinations."""
        rec = self._dns_record(msg.qname, msg.qtype)
        if not multicast and msg.qtype in _LOOKUP_TYPES and msg.qname not in self.looked_up:
            self.looked_up[msg.qname] = self.ts
        if not msg.response:
            rec.queries += 1
            for qname, qtype in msg.more:
                self._dns_record(qname, qtype).queries += 1
            return
        rec.responses += 1
        rec.rcode = _RCODES.get(msg.rcode, str(msg.rcode))
        # Follow the CNAME chain from the question; its addresses belong to the queried name.
        chain = {msg.qname}
        grew = True
        while grew:
            grew = False
            for owner, rtype, value in msg.answers:
                if rtype == 5 and owner.rstrip(".") in chain and value not in chain:
                    chain.add(value)  # type: ignore[arg-type]
                    grew = True
        addresses: list[bytes] = []
        cnames: list[str] = []
        for owner, rtype, value in msg.answers:
            text = value if isinstance(value, str) else _ntop(value)
            if text not in rec.answers:
                rec.answers.append(text)
            if owner.rstrip(".") not in chain:
                continue
            if rtype == 5:
                cnames.append(value)  # type: ignore[arg-type]
            else:
                addresses.append(value)  # type: ignore[arg-type]
        if (addresses or cnames) and not multicast and msg.qtype in _LOOKUP_TYPES:
            self.answered.add(msg.qname)
        if addresses and not multicast:
            dest = self._dest(msg.qname, self.ts)
            dest.seen.add("dns")
            for a in addresses:
                self.ip_names[a] = msg.qname
                dest.ips[_ntop(a)] = None
            for c in cnames:
                dest.cnames[c] = None

    # -- results ----------------------------------------------------------------------------

    def _lookups(self) -> None:
        """Mark each destination's DNS lookup; list names looked up without an answer."""
        for name, first in self.looked_up.items():
            if not name or name.endswith(_LOCAL_SUFFIXES):
                continue
            answered = name in self.answered
            dest = self.dests.get(name)
            if dest is None:
                if answered:
                    continue  # an alias whose addresses are listed under the name it points to
                dest = self._dest(name, first)
                dest.seen.add("dns")
            dest.dns_lookup = "answered" if answered else "unanswered"

    def finish(self, result: PcapResult) -> None:
        for table in (self.tcp, self.udp):
            for flow, fwd in list(table.values()):
                if fwd:
                    self._evict(flow)
        self.stats.dissected = self.dissected
        result.stats = self.stats
        self._lookups()
        result.exchanges = self.exchanges
        result.dns = sorted(self.dns.values(), key=lambda r: (r.first_seen or 0.0))
        dests = sorted(self.dests.values(), key=lambda x: (x.first, x.host))
        result.destinations = [
            NetworkDestination(
                host=x.host,
                ips=list(x.ips),
                seen=[s for s in _SEEN_ORDER if s in x.seen],
                ports=sorted(x.ports),
                transport=set(x.transport),
                bytes_out=x.out,
                bytes_in=x.inb,
                packets=x.packets,
                connections=x.connections,
                cnames=list(x.cnames),
                first_seen=x.first,
                last_seen=x.last,
                dns_lookup=x.dns_lookup,
            )
            for x in dests
        ]
        for link, count in sorted(self.unsupported_links.items()):
            self.warn(f"{self.name}: {_count(count, 'packet')} with unsupported link type {link} skipped")
        if self.gapped_flows:
            self.warn(
                f"{self.name}: {_count(self.gapped_flows, 'TCP connection')} with segments missing from "
                "the capture; TLS or HTTP data there may be incomplete"
            )
        if self.quic_unread:
            total = sum(self.quic_unread.values())
            versions = "; ".join(f"{v}: {n:,}" for v, n in sorted(self.quic_unread.items()))
            self.warn(
                f"{self.name}: {_count(total, 'QUIC connection')} could not be decrypted (version {versions}); "
                "their server names are unknown and they are listed by address"
            )
        if self.malformed:
            self.warn(f"{self.name}: {_count(self.malformed, 'packet')} with malformed or cut-off headers skipped")


# --------------------------------------------------------------------------------------------
# Entry point


def read_pcap(
    path: str | os.PathLike[str],
    *,
    capture: int = 0,
    warn: Callable[[str], None] | None = None,
    limits: Limits | None = None,
) -> PcapResult:
    """Read a pcap or pcapng file (optionally gzip-compressed) in one streaming pass.

    Damage (truncation, bad record lengths, unknown link types, missing TCP segments) is
    reported through ``warn`` and in ``result.warnings``, and what could be read is returned.
    A file that is not a capture at all raises ``ValueError``.
    """
    name = Path(path).name
    result = PcapResult()

    def _warn(message: str) -> None:
        result.warnings.append(message)
        if warn is not None:
            warn(message)

    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        f: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if magic == _GZIP else raw  # type: ignore[assignment]
        try:
            head = f.read(24)
        except (EOFError, OSError, zlib.error):
            head = b""
        if not head:
            raise ValueError("the file is empty or unreadable, not a pcap or pcapng capture")
        damage = _Damage(name, _warn)
        analyzer = _Analyzer(name, capture, _warn, limits or DEFAULT_LIMITS)
        fmt = analyzer.stats.format = "pcap"
        if head[:4] in _PCAP_MAGICS:
            buffer = _Buffer(f, b"", 24, damage)
            if len(head) < 24:
                damage.truncated(len(head))
                records: Iterator[Record] = iter(())
            else:
                records = _pcap_records(buffer, head, damage)
        elif head[:4] == _PCAPNG_SHB and (
            len(head) < 12 or head[8:12] in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")
        ):
            fmt = "pcapng"
            buffer = _Buffer(f, head, 0, damage)
            records = _pcapng_records(buffer, damage)
        else:
            raise ValueError(f"not a pcap or pcapng capture (the file starts with bytes {head[:4].hex()})")
        analyzer.stats.format = fmt + (".gz" if magic == _GZIP else "")
        analyzer.run(records)
        if damage.compressed_error and not damage.reported_truncation:
            damage.truncated(buffer.offset)
        analyzer.finish(result)
    return result
