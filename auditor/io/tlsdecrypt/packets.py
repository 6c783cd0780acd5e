"""Packets of a capture for decryption: TCP segments and UDP datagrams, and embedded key logs.

The records come from the pcap reader of :mod:`auditor.io.pcap` (pcap, pcapng, gzip, damage
handling), and the link layer is cut off by the reader's own decoder
(:func:`auditor.io.pcap.linklayer.network_offset`: Ethernet, Linux cooked captures of
``tcpdump -i any``, raw IP, loopback, PPP, 802.11 and the others it reads); this module cuts the
IP header off and yields the transport payloads.
pcapng Decryption Secrets Blocks (type 0x0000000A) holding a TLS key log (secrets type
0x544c534b, as written by ``editcap --inject-secrets tls,keys.log``) are passed to ``on_secrets``.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from auditor.io import pcap
from auditor.io.pcap.linklayer import ETHERTYPE_IPV4, ETHERTYPE_IPV6, network_offset

__all__ = ["TLS_KEY_LOG", "Packet", "has_embedded_secrets", "packets"]

TLS_KEY_LOG = 0x544C534B
_DSB = 0x0000000A


class Packet(NamedTuple):
    ts: float
    proto: int  # 6 or 17
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int  # TCP only
    flags: int  # TCP only
    payload: bytes
    wire_len: int  # payload length on the wire (more than len(payload) if the snapshot cut it)


def _transport(ts: float, data: bytes, off: int) -> Packet | None:
    v = data[off] >> 4
    if v == 4:
        ihl = (data[off] & 0x0F) << 2
        total, frag = struct.unpack_from("!H2xH", data, off + 2)
        if frag & 0x1FFF:
            return None
        proto = data[off + 9]
        src, dst = data[off + 12 : off + 16], data[off + 16 : off + 20]
        l4 = off + ihl
        end = off + total if total else len(data)
    elif v == 6:
        plen, proto = struct.unpack_from("!HB", data, off + 4)
        src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
        l4 = off + 40
        end = l4 + plen if plen else len(data)
        while proto in (0, 43, 60):
            proto, hl = data[l4], data[l4 + 1]
            l4 += (hl + 1) << 3
    else:
        return None
    if proto == 6:
        sport, dport, seq, offflags = struct.unpack_from("!HHI4xH", data, l4)
        start = l4 + ((offflags >> 12) << 2)
        return Packet(ts, 6, src, dst, sport, dport, seq, offflags & 0xFF, data[start:end], max(end - start, 0))
    if proto == 17:
        sport, dport = struct.unpack_from("!HH", data, l4)
        return Packet(ts, 17, src, dst, sport, dport, 0, 0, data[l4 + 8 : end], max(end - l4 - 8, 0))
    return None


def _open(path: Path) -> BinaryIO:
    raw = open(path, "rb")  # noqa: SIM115 - returned (or wrapped) open to the reader, which closes it
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def packets(path: str | Path, on_secrets: Callable[[int, bytes], None] | None = None) -> Iterator[Packet]:
    """Every TCP and UDP packet of the capture, in file order."""
    p = Path(path)
    with _open(p) as f:
        for ts, link, data, _orig in pcap.records_of(f, p.name, on_secrets):  # read_pcap reports damage
            try:
                found = network_offset(link, data)
                if found is None or (found[0] != ETHERTYPE_IPV4 and found[0] != ETHERTYPE_IPV6):
                    continue
                pkt = _transport(ts, data, found[1])
            except (IndexError, struct.error):
                continue
            if pkt is not None:
                yield pkt


def has_embedded_secrets(path: str | Path, max_blocks: int = 64) -> bool:
    """True if a pcapng file has a TLS key log block among its blocks before the first packets."""
    try:
        with _open(Path(path)) as f:
            head = f.read(12)
            if head[:4] != pcap.PCAPNG_MAGIC:
                return False
            endian = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
            blen = struct.unpack(endian + "I", head[4:8])[0]
            f.read(blen - 12)
            for _ in range(max_blocks):
                hdr = f.read(12)
                if len(hdr) < 12:
                    return False
                btype, blen, stype = struct.unpack(endian + "III", hdr)
                if btype == _DSB and stype == TLS_KEY_LOG:
                    return True
                if btype in (2, 3, 6) or blen < 12:
                    return False
                f.read(blen - 12)
    except (OSError, EOFError, zlib.error, struct.error):
        return False
    return False
