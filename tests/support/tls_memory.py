"""TLS 1.2 sessions made in memory by OpenSSL (Python's ``ssl`` over ``MemoryBIO``, no network),
with their key logs, and captures of them written for any link type.

``tls12_session`` returns the records as the wire carried them, direction by direction;
``capture_of`` lays them out as one TCP connection in a classic pcap file whose frames carry the
link-layer header of the link type asked for.
"""

from __future__ import annotations

import contextlib
import ssl
import struct
from pathlib import Path

from support.certs import make_certs
from support.packets import T0, Conn, classic_pcap

# OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (Python's ssl has no name for it; the option bits pass through).
OP_NO_ENCRYPT_THEN_MAC = 1 << 19
REQUEST = b"POST /v1/chat HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 40\r\n\r\n" + b'{"email": "jane.doe@example.org", "a": 1}'[:40]
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


Wire = list[tuple[bool, bytes]]


def exchange(
    cctx: ssl.SSLContext, sctx: ssl.SSLContext, request: bytes, response: bytes, more: bytes = b""
) -> tuple[Wire, int, ssl.SSLObject]:
    """Handshake between two in-memory ``ssl`` objects, then ``request``, ``response`` and
    ``more`` (a second client message): the records as the wire carried them, the index of the
    request's first record, and the client end."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(c_in, c_out, server_hostname="api.openai.com")
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    wire: Wire = []

    def pump() -> None:
        for _ in range(10):
            moved = False
            if data := c_out.read():
                wire.append((True, data))
                s_in.write(data)
                moved = True
            if data := s_out.read():
                wire.append((False, data))
                c_in.write(data)
                moved = True
            if not moved:
                return

    for _ in range(6):
        for side in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        pump()
    request_at = len(wire)
    client.write(request)
    pump()
    assert server.read(4096) == request
    server.write(response)
    pump()
    if more:
        client.write(more)
        pump()
    return wire, request_at, client


def contexts(tmp: Path, rsa_key: bool = False) -> tuple[ssl.SSLContext, ssl.SSLContext, Path]:
    """(client, server) contexts for ``api.openai.com`` with a fresh CA; the client logs its
    secrets to the returned key log."""
    ca, cert, key = make_certs(tmp, ["api.openai.com"], rsa_key=rsa_key)
    keys = tmp / "keys.log"
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.create_default_context(cafile=str(ca))
    cctx.keylog_filename = str(keys)
    return cctx, sctx, keys


def tls12_session(tmp: Path, cipher: str, etm: bool, rsa_key: bool = False, more: bytes = b"") -> tuple[Wire, Path, str, int]:
    """The records of one in-memory TLS 1.2 exchange with ``cipher``, its key log, the suite, and
    the index in the records of the client's request; ``more``: a second client message after
    the response (given as the client's, whose negotiated protocol must be TLS 1.2)."""
    cctx, sctx, keys = contexts(tmp, rsa_key)
    sctx.set_ciphers("ALL")
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.set_ciphers(cipher)
    if not etm:
        cctx.options |= OP_NO_ENCRYPT_THEN_MAC
    wire, request_at, client = exchange(cctx, sctx, REQUEST, RESPONSE, more)
    info = client.cipher()
    assert info is not None and client.version() == "TLSv1.2"
    return wire, keys, info[0], request_at


def _sll(ip: bytes) -> bytes:  # Linux cooked capture v1: packet type, ARPHRD, address, protocol
    return struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, 0x0800) + ip


def _sll2(ip: bytes) -> bytes:  # v2: protocol, reserved, interface, ARPHRD, packet type, address
    return struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, b"\0" * 8) + ip


_ETH = bytes.fromhex("020000000002" "020000000001")
_WLAN = (bytes.fromhex("08010000") + bytes.fromhex("020000000002" "020000000001" "020000000003") + b"\0\0"
         + b"\xaa\xaa\x03\x00\x00\x00\x08\x00")  # 802.11 data frame to the AP, then LLC/SNAP for IPv4
# (LINKTYPE, frame of an IPv4 packet) for every link type the reader reads
LINKS = {
    "ethernet": (1, lambda ip: _ETH + b"\x08\x00" + ip),
    "vlan": (1, lambda ip: _ETH + b"\x81\x00\x00\x07\x08\x00" + ip),
    "pppoe": (1, lambda ip: _ETH + b"\x88\x64" + struct.pack("!BBHH", 0x11, 0, 1, len(ip) + 2) + b"\x00\x21" + ip),
    "sll": (113, _sll),
    "sll2": (276, _sll2),
    "raw": (101, lambda ip: ip),
    "null": (0, lambda ip: struct.pack("<I", 2) + ip),
    "loop": (108, lambda ip: struct.pack(">I", 2) + ip),
    "ppp": (9, lambda ip: b"\xff\x03\x00\x21" + ip),
    "ppp-hdlc": (50, lambda ip: b"\xff\x03\x00\x21" + ip),
    "ppp-dir": (204, lambda ip: b"\x01\xff\x03\x00\x21" + ip),
    "pppoe-link": (51, lambda ip: struct.pack("!BBHH", 0x11, 0, 1, len(ip) + 2) + b"\x00\x21" + ip),
    "c-hdlc": (104, lambda ip: b"\x0f\x00\x08\x00" + ip),
    "wlan": (105, lambda ip: _WLAN + ip),
    "radiotap": (127, lambda ip: b"\x00\x00\x08\x00\x00\x00\x00\x00" + _WLAN + ip),
}


def capture_of(path: Path, wire: Wire, link: str = "ethernet") -> Path:
    """Write ``wire`` to ``path`` as one TCP connection (handshake, data, close) over ``link``."""
    linktype, frame = LINKS[link]
    conn = Conn(server="10.0.0.80", client="10.0.0.2", link="raw")
    packets = [*conn.handshake(), *(conn.c(d) if from_client else conn.s(d) for from_client, d in wire), *conn.close()]
    path.write_bytes(classic_pcap([(T0 + i * 0.001, frame(bytes(p))) for i, p in enumerate(packets)], link=linktype))
    return path
