"""QUIC 1-RTT packets of one connection, decrypted with key log secrets (RFC 9001).

The client's Initial packets are decrypted with :class:`auditor.io.pcap.quic.QuicInitialTracker` for the
ClientHello (server name, client random). The client random finds the connection's
``CLIENT_TRAFFIC_SECRET_0`` / ``SERVER_TRAFFIC_SECRET_0``; from them come the packet keys, IVs
and header-protection keys (``quic key``, ``quic iv``, ``quic hp``; ``quicv2`` labels for QUIC
v2). Short-header packets are unprotected and decrypted, key updates (``quic ku``) followed, and
STREAM frames reassembled by offset and handed to HTTP/3.
"""

from __future__ import annotations

from auditor.io.pcap.quic import QuicInitialTracker, decode_packet_number, varint
from auditor.io.tlsdecrypt.crypto import SUITES, Aead, Suite, header_protection, hkdf_expand_label
from auditor.io.tlsdecrypt.exchanges import ConnInfo, Sink
from auditor.io.tlsdecrypt.http3 import Http3Conn
from auditor.io.tlsdecrypt.keylog import KeyLog
from auditor.models import TlsInfo

__all__ = ["QuicSession"]

QUIC_V2 = 0x6B3343CF
MAX_STREAM_PENDING = 1 << 22


class _Keys:
    __slots__ = ("aead", "hp", "largest", "phase", "secret", "suite")

    def __init__(self, suite: Suite, secret: bytes, label: bytes, hp: bytes | None = None) -> None:
        self.suite = suite
        self.secret = secret
        self.aead = Aead.from_secret(suite, secret, label + b" ")
        self.hp = hp if hp is not None else hkdf_expand_label(secret, label + b" hp", suite.key_len, suite.hash)
        self.phase = 0
        self.largest = -1


class _StreamBuf:
    """In-order delivery of one stream's bytes, whatever order the frames came in."""

    __slots__ = ("ended", "fin", "next", "pending")

    def __init__(self) -> None:
        self.next = 0
        self.pending: dict[int, bytes] = {}
        self.fin: int | None = None
        self.ended = False

    def add(self, offset: int, data: bytes) -> bytes:
        out = bytearray()
        if offset <= self.next < offset + len(data):
            out += data[self.next - offset :]
            self.next = offset + len(data)
        elif offset > self.next and sum(map(len, self.pending.values())) < MAX_STREAM_PENDING:
            self.pending[offset] = data
        while self.pending:
            ready = [o for o in self.pending if o <= self.next]
            if not ready:
                break
            for o in ready:
                chunk = self.pending.pop(o)
                if o + len(chunk) > self.next:
                    out += chunk[self.next - o :]
                    self.next = o + len(chunk)
        return bytes(out)


class QuicSession:
    """Decrypts one QUIC connection seen from its first client Initial."""

    def __init__(self, keylog: KeyLog, sink: Sink, server_ip: str, server_port: int) -> None:
        self.keylog = keylog
        self.sink = sink
        self.server_ip = server_ip
        self.server_port = server_port
        self.tracker = QuicInitialTracker()
        self.version = 1
        self.client_cid: bytes | None = None
        self.server_cid: bytes | None = None
        self.keys: list[_Keys | None] = [None, None]
        self.secrets: dict[str, bytes] | None = None
        self.looked_up = False
        self.reason: str | None = None
        self.packets = 0  # 1-RTT packets decrypted
        self.failures = 0
        self.streams: dict[tuple[int, int], _StreamBuf] = {}
        self.h3: Http3Conn | None = None

    @property
    def is_quic(self) -> bool:
        return self.client_cid is not None and self.tracker.original_dcid is not None

    @property
    def sni(self) -> str | None:
        return self.tracker.hello.sni if self.tracker.hello else None

    @property
    def decrypted(self) -> bool:
        return self.packets > 0

    def feed(self, from_client: bool, datagram: bytes) -> None:
        p = 0
        n = len(datagram)
        try:
            while p < n:
                first = datagram[p]
                if first & 0x80:  # long header
                    version = int.from_bytes(datagram[p + 1 : p + 5], "big")
                    if version == 0:
                        return  # version negotiation
                    dl = datagram[p + 5]
                    q = p + 6 + dl
                    sl = datagram[q]
                    scid = datagram[q + 1 : q + 1 + sl]
                    q += 1 + sl
                    ptype = (first >> 4) & 3
                    if version == QUIC_V2:
                        ptype = (ptype - 1) & 3
                    if from_client and self.client_cid is None:
                        self.client_cid = scid
                        self.version = version
                    elif not from_client and self.server_cid is None:
                        self.server_cid = scid
                    if ptype == 3:  # Retry
                        return
                    if ptype == 0:
                        tlen, q = varint(datagram, q)
                        q += tlen
                    length, q = varint(datagram, q)
                    end = q + length
                    if from_client and ptype == 0 and self.tracker.hello is None:
                        self.tracker.feed(datagram[p:end])
                    p = end
                elif not any(datagram[p:]):
                    return  # zero padding after the datagram's last long-header packet
                else:
                    self._short(from_client, datagram[p:])
                    return
        except IndexError:
            return

    # -- 1-RTT -------------------------------------------------------------------------------

    def _lookup(self) -> None:
        hello = self.tracker.hello
        if hello is None:
            # Not final: the rest of a ClientHello split over several Initials may still come.
            self.reason = "the QUIC ClientHello was not captured"
            return
        self.looked_up = True
        self.reason = None
        data = self.tracker.crypto.data()
        secrets = self.keylog.lookup(bytes(data[6:38]))
        if secrets is None or "CLIENT_TRAFFIC_SECRET_0" not in secrets or "SERVER_TRAFFIC_SECRET_0" not in secrets:
            self.reason = "no secret for this connection in the key log"
            return
        self.secrets = secrets

    def _short(self, from_client: bool, pkt: bytes) -> None:
        if not self.looked_up:
            self._lookup()
        if self.secrets is None:
            return
        cid = self.server_cid if from_client else self.client_cid
        if cid is None:
            return
        d = 0 if from_client else 1
        pn_off = 1 + len(cid)
        sample = pkt[pn_off + 4 : pn_off + 20]
        if len(sample) < 16:
            return
        keys = self.keys[d]
        candidates = [keys] if keys is not None else self._first_keys(from_client)
        for k in candidates:
            assert k is not None
            mask = header_protection(k.suite, k.hp, sample)
            first = pkt[0] ^ (mask[0] & 0x1F)
            pn_len = (first & 3) + 1
            pn_bytes = bytes(b ^ m for b, m in zip(pkt[pn_off : pn_off + pn_len], mask[1 : 1 + pn_len], strict=True))
            pn = decode_packet_number(int.from_bytes(pn_bytes, "big"), pn_len * 8, k.largest)
            aad = bytes([first]) + pkt[1:pn_off] + pn_bytes
            body = pkt[pn_off + pn_len :]
            phase = (first >> 2) & 1
            use = k
            if phase != k.phase:
                nxt = hkdf_expand_label(
                    k.secret, b"quicv2 ku" if self.version == QUIC_V2 else b"quic ku", len(k.secret), k.suite.hash
                )
                use = _Keys(k.suite, nxt, self._label(), k.hp)
                use.phase = phase
                use.largest = k.largest
            plain = use.aead.open(use.aead.nonce(pn), body, aad)
            if plain is None:
                continue
            use.largest = max(use.largest, pn)
            self.keys[d] = use
            self.packets += 1
            self._frames(d, plain)
            return
        self.failures += 1
        if self.failures >= 8 and not self.packets:
            self.reason = "1-RTT packets do not decrypt with the logged secrets"

    def _label(self) -> bytes:
        return b"quicv2" if self.version == QUIC_V2 else b"quic"

    def _first_keys(self, from_client: bool) -> list[_Keys | None]:
        assert self.secrets is not None
        secret = self.secrets["CLIENT_TRAFFIC_SECRET_0" if from_client else "SERVER_TRAFFIC_SECRET_0"]
        ids = (0x1302,) if len(secret) == 48 else (0x1301, 0x1303)
        return [_Keys(SUITES[i], secret, self._label()) for i in ids]

    def _frames(self, d: int, buf: bytes) -> None:
        p = 0
        n = len(buf)
        try:
            while p < n:
                t = buf[p]
                if t == 0x00 or t == 0x01 or t == 0x1E:
                    p += 1
                    continue
                t, p = varint(buf, p)
                if t in (0x02, 0x03):  # ACK
                    _, p = varint(buf, p)
                    _, p = varint(buf, p)
                    count, p = varint(buf, p)
                    _, p = varint(buf, p)
                    for _ in range(2 * count + (3 if t == 0x03 else 0)):
                        _, p = varint(buf, p)
                elif t == 0x04:  # RESET_STREAM
                    for _ in range(3):
                        _, p = varint(buf, p)
                elif t == 0x05 or t == 0x11 or t == 0x15:
                    for _ in range(2):
                        _, p = varint(buf, p)
                elif t == 0x06 or t == 0x07:  # CRYPTO, NEW_TOKEN
                    if t == 0x06:
                        _, p = varint(buf, p)
                    ln, p = varint(buf, p)
                    p += ln
                elif 0x08 <= t <= 0x0F:  # STREAM
                    sid, p = varint(buf, p)
                    off = 0
                    if t & 0x04:
                        off, p = varint(buf, p)
                    if t & 0x02:
                        ln, p = varint(buf, p)
                    else:
                        ln = n - p
                    data = buf[p : p + ln]
                    p += ln
                    self._stream(d, sid, off, data, bool(t & 0x01))
                elif t in (0x10, 0x12, 0x13, 0x14, 0x16, 0x17, 0x19):
                    _, p = varint(buf, p)
                elif t == 0x18:  # NEW_CONNECTION_ID
                    _, p = varint(buf, p)
                    _, p = varint(buf, p)
                    p += 1 + buf[p] + 16
                elif t in (0x1A, 0x1B):
                    p += 8
                elif t in (0x1C, 0x1D):  # CONNECTION_CLOSE
                    _, p = varint(buf, p)
                    if t == 0x1C:
                        _, p = varint(buf, p)
                    ln, p = varint(buf, p)
                    p += ln
                elif t in (0x30, 0x31):  # DATAGRAM
                    if t == 0x31:
                        ln, p = varint(buf, p)
                        p += ln
                    else:
                        p = n
                else:
                    return  # unknown frame type: the rest of the packet cannot be walked
        except IndexError:
            return

    def _stream(self, d: int, sid: int, off: int, data: bytes, fin: bool) -> None:
        sb = self.streams.get((d, sid))
        if sb is None:
            sb = self.streams[(d, sid)] = _StreamBuf()
        if sb.ended:
            return
        out = sb.add(off, data)
        if fin:
            sb.fin = off + len(data)
        h3 = self.h3
        if h3 is None:
            keys = self.keys[d]
            tls = TlsInfo(sni=self.sni, version="TLSv1.3", cipher=keys.suite.name if keys else None, alpn="h3")
            h3 = self.h3 = Http3Conn(self.sink, ConnInfo(self.server_ip, self.server_port, tls))
        if out:
            h3.data(d == 0, sid, out)
        if sb.fin is not None and sb.next >= sb.fin:
            sb.ended = True
            sb.pending.clear()
            h3.end(d == 0, sid)

    def finish(self) -> None:
        if self.h3 is not None:
            self.h3.finish()
