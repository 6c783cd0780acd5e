"""Capture records: classic pcap (either byte order, micro- or nanoseconds) and pcapng.

Records are read with ``struct`` from a buffered window on the file (:class:`_Buffer`), which
may be a gzip stream. Damage (truncation, bad record or block lengths) is reported through
:class:`_Damage`, and reading resumes at the next place where two records in a row look sane.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
PCAPNG_MAGIC = _PCAPNG_SHB  # a pcapng file starts with its Section Header Block's type
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

    __slots__ = ("base", "buf", "damage", "eof", "f", "pos", "read")

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
            what = (
                f"bad record length {incl:,} at byte {start} after {_count(damage.records, 'packet')} "
                f"(snapshot length {snaplen:,})"
            )
            if skipped is None:
                damage.warn(
                    f"{damage.name}: {what}; no readable record follows within {_WINDOW_TEXT}, "
                    "the rest of the file was not read"
                )
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
                damage.warn(
                    f"{damage.name}: {what}; no readable block follows within {_WINDOW_TEXT}, "
                    "the rest of the file was not read"
                )
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


def records_of(f: BinaryIO, name: str, on_secrets: Callable[[int, bytes], None] | None = None) -> Iterator[Record]:
    """The records of the open (already decompressed) capture ``f``, for a second pass over a file
    that :func:`~auditor.io.pcap.read_pcap` reads too: damage is skipped as there, but not reported
    again. Nothing if ``f`` is not a pcap or pcapng capture. ``on_secrets(secrets_type, data)``
    receives each pcapng Decryption Secrets Block.
    """
    head = f.read(24)
    damage = _Damage(name, lambda _m: None)
    if head[:4] in _PCAP_MAGICS and len(head) == 24:
        return _pcap_records(_Buffer(f, b"", 24, damage), head, damage)
    if head[:4] == _PCAPNG_SHB:
        return _pcapng_records(_Buffer(f, head, 0, damage), damage, on_secrets)
    return iter(())


def _count(n: int, noun: str) -> str:
    """``3, "packet"`` -> ``"3 packets"``; ``1`` -> ``"1 packet"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
