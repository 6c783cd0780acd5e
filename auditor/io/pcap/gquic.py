"""Google QUIC (gQUIC): the server name in a client's CHLO handshake message.

Versions Q043 to Q046 send the first CHLO in clear (a STREAM frame on stream 1 after the public
header, or after Q046's long header); Q050 sends it in a CRYPTO frame of an Initial packet that
:mod:`auditor.io.pcap.quic` decrypts. A CHLO is a tag-value map: ``"CHLO"``, the number of entries
(uint16, little-endian), two bytes of padding, then per entry a four-byte tag and the uint32
end offset of its value, then the values. The server name is the value of tag ``SNI\\0``.
"""

from __future__ import annotations

import struct

from auditor.io.pcap.clienthello import ClientHelloInfo, clean_name

CHLO = b"CHLO"
_SNI = b"SNI\x00"
_ALPN = b"ALPN"
_MAX_TAGS = 256
_HEAD_SEARCH = 96  # the CHLO starts within this many bytes of the datagram (headers and frame)


def public_header_version(datagram: bytes) -> int | None:
    """The version of a gQUIC packet whose header has one in clear (Q043-Q046), else None.

    Q043-Q045 use the public header: flags (0x01 = version present, high bit clear), an 8-byte
    connection id, then the version. Q046 uses a long header with the version at byte 1.
    """
    if len(datagram) < 13:
        return None
    b0 = datagram[0]
    if b0 & 0x80 == 0:
        if b0 & 0x09 != 0x09:  # version and an 8-byte connection id
            return None
        raw = datagram[9:13]
    elif b0 & 0xC0 == 0xC0:
        raw = datagram[1:5]
    else:
        return None
    if raw[:2] != b"Q0" or not raw[2:].isdigit() or raw >= b"Q050":
        return None
    return int.from_bytes(raw, "big")


def chlo_length(data: bytes | bytearray) -> int | None:
    """The full length of the CHLO message that ``data`` starts with, once its tag table is there."""
    if len(data) < 8:
        return None
    n = struct.unpack_from("<H", data, 4)[0]
    if n > _MAX_TAGS:
        return -1
    table_end = 8 + 8 * n
    if len(data) < table_end:
        return None
    return table_end + (struct.unpack_from("<I", data, table_end - 4)[0] if n else 0)


def parse_chlo(data: bytes | bytearray) -> ClientHelloInfo | None:
    """The server name and ALPN of a CHLO message (``data`` starts with ``CHLO``); None if malformed.

    Values past the end of ``data`` are left out (a CHLO cut by the capture still gives its
    earlier tags).
    """
    if data[:4] != CHLO or len(data) < 8:
        return None
    n = struct.unpack_from("<H", data, 4)[0]
    if n > _MAX_TAGS or len(data) < 8 + 8 * n:
        return None
    base = 8 + 8 * n
    info = ClientHelloInfo()
    prev = 0
    for i in range(n):
        tag = bytes(data[8 + 8 * i : 12 + 8 * i])
        end = struct.unpack_from("<I", data, 12 + 8 * i)[0]
        if end < prev:
            return None
        value = bytes(data[base + prev : base + end])
        if base + end <= len(data):
            if tag == _SNI:
                info.sni = clean_name(value)
            elif tag == _ALPN and value:
                info.alpn = [
                    value[i : i + 4].rstrip(b"\x00").decode("ascii", "replace") for i in range(0, len(value), 4)
                ]
        prev = end
    return info


def cleartext_chlo(datagram: bytes) -> ClientHelloInfo | None:
    """The CHLO in a Q043-Q046 client packet, if the packet carries one."""
    at = datagram.find(CHLO, 13, _HEAD_SEARCH)
    if at < 0:
        return None
    return parse_chlo(datagram[at:])
