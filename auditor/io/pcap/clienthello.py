"""The TLS ClientHello: what a client says in clear before encryption starts.

Read from TLS over TCP (:mod:`auditor.io.pcap`), from the CRYPTO frames of QUIC Initials
(:mod:`auditor.io.pcap.quic`), and, for the server name only, from gQUIC CHLOs (:mod:`auditor.io.pcap.gquic`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["ClientHelloInfo", "clean_name", "parse_client_hello"]

_U16 = struct.Struct("!H")


@dataclass(slots=True)
class ClientHelloInfo:
    """What a ClientHello says in clear: server name, ALPN offers, TLS versions, ECH."""

    sni: str | None = None
    alpn: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    ech: bool = False


def clean_name(raw: bytes) -> str | None:
    """A server name as a lowercase string without trailing dot, or None if it is not text."""
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    name = name.strip().rstrip(".").lower()
    if not name or any(c <= " " or c == "\x7f" for c in name):
        return None
    return name


def parse_client_hello(message: bytes) -> ClientHelloInfo:
    """Parse a TLS handshake message holding a ClientHello (4-byte handshake header included).

    Raises ``ValueError`` if the message is not a well-formed ClientHello.
    """
    if len(message) < 4 or message[0] != 1:
        raise ValueError("not a ClientHello")
    length = int.from_bytes(message[1:4], "big")
    body = message[4 : 4 + length]
    if len(body) < length:
        raise ValueError("ClientHello is incomplete")
    try:
        p = 2 + 32  # legacy_version, random
        p += 1 + body[p]  # session id
        p += 2 + _U16.unpack_from(body, p)[0]  # cipher suites
        p += 1 + body[p]  # compression methods
        info = ClientHelloInfo()
        if p >= len(body):
            return info
        ext_end = p + 2 + _U16.unpack_from(body, p)[0]
        p += 2
        if ext_end > len(body):
            raise ValueError("ClientHello extensions overrun the message")
        while p + 4 <= ext_end:
            etype, elen = struct.unpack_from("!HH", body, p)
            p += 4
            ext = body[p : p + elen]
            p += elen
            if len(ext) < elen:
                raise ValueError("ClientHello extension overruns the message")
            if etype == 0:  # server_name
                q = 2
                end = 2 + _U16.unpack_from(ext, 0)[0]
                while q + 3 <= min(end, len(ext)):
                    ntype = ext[q]
                    nlen = _U16.unpack_from(ext, q + 1)[0]
                    raw = ext[q + 3 : q + 3 + nlen]
                    q += 3 + nlen
                    if ntype == 0 and info.sni is None:
                        info.sni = clean_name(raw)
            elif etype == 16:  # application_layer_protocol_negotiation
                q = 2
                end = min(2 + _U16.unpack_from(ext, 0)[0], len(ext))
                while q < end:
                    plen = ext[q]
                    info.alpn.append(ext[q + 1 : q + 1 + plen].decode("ascii", "replace"))
                    q += 1 + plen
            elif etype == 43:  # supported_versions
                n = ext[0] if ext else 0
                info.versions = [_U16.unpack_from(ext, 1 + 2 * i)[0] for i in range(n // 2)]
            elif etype == 0xFE0D:  # encrypted_client_hello
                info.ech = True
    except (IndexError, struct.error) as exc:
        raise ValueError("ClientHello is malformed") from exc
    return info
