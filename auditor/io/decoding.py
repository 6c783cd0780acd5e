"""Decode HTTP bodies from their ``Content-Encoding``, never producing more than a set size.

:func:`decode_body` handles ``identity``, ``gzip``/``x-gzip``, ``deflate`` (zlib-wrapped or raw),
``br`` and ``zstd``, and chains of them (``Content-Encoding: gzip, br`` means gzip was applied
first, so br is undone first). Every decoder streams with a bounded output buffer, so a
decompression bomb costs about ``limit`` bytes of memory, not its inflated size. Errors are
reported as a short string next to whatever could be decoded; nothing here raises.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli
import zstandard

from auditor.limits import DEFAULT_MAX_INFLATED

__all__ = ["DEFAULT_MAX_INFLATED", "decode_body", "decompress_zstd", "over_limit_message"]

# Input is fed to the decompressors in pieces of this size, so a corrupt stream still yields the
# output decoded before the damage, and output is requested in pieces of at most this size.
_CHUNK = 64 * 1024
_FIRST_PIECE = 1024

_Decoded = tuple[bytes, str | None]


def _size_text(n: int) -> str:
    """``67108864`` -> ``"64 MiB"``; sizes that are not whole KiB/MiB/GiB stay in bytes."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def over_limit_message(limit: int) -> str:
    """The error reported when a body inflates past ``limit`` bytes."""
    return f"inflated body over {_size_text(limit)} limit, truncated"


def _zlib_reason(exc: Exception) -> str:
    """``"Error -3 while decompressing data: invalid distance"`` -> ``"invalid distance"``."""
    text = str(exc)
    return text.rpartition(": ")[2] or text


def _inflate(data: bytes, wbits: int, limit: int, name: str, multi_member: bool) -> _Decoded:
    """Inflate a zlib/gzip/raw deflate stream (by ``wbits``) into at most ``limit`` bytes.

    With ``multi_member``, concatenated gzip members are decoded one after another and trailing
    zero padding is ignored.
    """
    out = bytearray()
    end = len(data)
    view = memoryview(data)
    pos = 0
    decomp = zlib.decompressobj(wbits)
    pending: bytes = b""
    # Each member starts with small input pieces that grow: zlib copies the unused rest of a
    # piece when a member ends, so many tiny members must not each cost a full piece.
    piece = _FIRST_PIECE
    while True:
        if not pending:
            if pos >= end:
                return bytes(out), f"{name} data truncated"
            pending = bytes(view[pos : pos + piece])
            pos += len(pending)
            piece = min(piece * 2, _CHUNK)
        room = limit + 1 - len(out)
        try:
            chunk = decomp.decompress(pending, room)
        except zlib.error as exc:
            return bytes(out), f"corrupt {name} data: {_zlib_reason(exc)}"
        out += chunk
        if len(out) > limit:
            del out[limit:]
            return bytes(out), over_limit_message(limit)
        if decomp.eof:
            start = pos - len(decomp.unused_data)  # where the bytes after this stream begin
            if start >= end or (data[start] == 0 and data.count(b"\0", start) == end - start):
                return bytes(out), None  # nothing left, or only zero padding
            if not multi_member or data[start : start + 2] != b"\x1f\x8b":
                return bytes(out), f"trailing data after {name} stream"
            decomp = zlib.decompressobj(wbits)
            pos = start
            pending = b""
            piece = _FIRST_PIECE
            continue
        # Output did not fill ``room``, so all of ``pending`` was consumed.
        pending = decomp.unconsumed_tail


def _gunzip(data: bytes, limit: int) -> _Decoded:
    """gzip (also accepts a zlib stream mislabelled as gzip)."""
    return _inflate(data, 32 + zlib.MAX_WBITS, limit, "gzip", multi_member=True)


def _has_zlib_header(data: bytes) -> bool:
    """True when the first two bytes form a valid zlib (RFC 1950) header."""
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0


def _deflate(data: bytes, limit: int) -> _Decoded:
    """deflate: zlib-wrapped as the RFC says, or raw deflate as many servers send it."""
    if data[:2] == b"\x1f\x8b":
        return _gunzip(data, limit)
    if _has_zlib_header(data):
        out, err = _inflate(data, zlib.MAX_WBITS, limit, "deflate", multi_member=False)
        if err is None or err == over_limit_message(limit):
            return out, err
        raw_out, raw_err = _inflate(data, -zlib.MAX_WBITS, limit, "deflate", multi_member=False)
        if raw_err is None or len(raw_out) > len(out):
            return raw_out, raw_err
        return out, err
    return _inflate(data, -zlib.MAX_WBITS, limit, "deflate", multi_member=False)


def _brotli_pass(data: bytes, limit: int, fine_from: int) -> tuple[bytes, str | None, int]:
    """One br decoding pass; input from offset ``fine_from`` on is fed one byte at a time.

    Returns the output, the error, and the input offset of the piece that failed (or -1).
    """
    out = bytearray()
    decomp = brotli.Decompressor()
    view = memoryview(data)
    end = len(data)
    pos = 0
    piece = b""
    try:
        while not decomp.is_finished():
            piece = b""
            if pos < end and decomp.can_accept_more_data():
                piece = bytes(view[pos : pos + (1 if pos >= fine_from else _CHUNK)])
                pos += len(piece)
            chunk = decomp.process(piece, output_buffer_limit=_CHUNK)
            out += chunk
            if len(out) > limit:
                del out[limit:]
                return bytes(out), over_limit_message(limit), -1
            if not piece and not chunk:  # no input left and no progress
                return bytes(out), "br data truncated", -1
    except brotli.error:
        return bytes(out), "corrupt br data", pos - len(piece)
    if data.count(b"\0", pos) != end - pos:
        return bytes(out), "trailing data after br stream", -1
    return bytes(out), None, -1


def _unbrotli(data: bytes, limit: int) -> _Decoded:
    """br, fed and drained in pieces so output stays near ``limit``.

    brotli drops the output of a call that fails, so on corrupt data the failing input piece is
    decoded again byte by byte to keep everything decoded before the damage.
    """
    out, err, failed_at = _brotli_pass(data, limit, len(data))
    if failed_at >= 0:
        out, err, _ = _brotli_pass(data, limit, failed_at)
    return out, err


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_MAGIC_BYTES = _ZSTD_MAGIC.to_bytes(4, "little")


def _zstd_extent(data: bytes) -> tuple[int, str | None]:
    """How many leading bytes of ``data`` are zstd frames, by walking frame and block headers.

    Returns that length (a cut last frame counts up to the end) and the problem found: ``None``,
    ``"truncated"`` or ``"garbage"`` (bytes that do not start a frame). Trailing zero padding is
    not a problem. Frame content is left to the decoder to check.
    """
    pos = 0
    end = len(data)
    while pos < end:
        start = pos
        if end - pos < 4:
            if _ZSTD_MAGIC_BYTES.startswith(data[pos:]):
                return start, "truncated"
            return start, "garbage" if data.count(b"\0", pos) != end - pos else None
        magic = int.from_bytes(data[pos : pos + 4], "little")
        pos += 4
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
            if end - pos < 4:
                return start, "truncated"
            pos += 4 + int.from_bytes(data[pos : pos + 4], "little")
            if pos > end:
                return start, "truncated"
            continue
        if magic != _ZSTD_MAGIC:
            if data.count(b"\0", start) == end - start:
                return start, None
            return start, "garbage"
        if pos >= end:
            return end, "truncated"
        desc = data[pos]
        pos += 1
        single_segment = desc >> 5 & 1
        fcs_size = (single_segment, 2, 4, 8)[desc >> 6]
        pos += (0 if single_segment else 1) + (0, 1, 2, 4)[desc & 3] + fcs_size
        while True:
            if end - pos < 3:
                return end, "truncated"
            header = int.from_bytes(data[pos : pos + 3], "little")
            pos += 3
            block_type = header >> 1 & 3
            if block_type == 3:  # reserved: the decoder reports it
                return end, None
            pos += 1 if block_type == 1 else header >> 3
            if header & 1:
                break
        if desc >> 2 & 1:
            pos += 4  # content checksum
        if pos > end:
            return end, "truncated"
    return end, None


def _unzstd(data: bytes, limit: int) -> _Decoded:
    """zstd across frames, including frames that do not declare their content size."""
    out = bytearray()
    extent, problem = _zstd_extent(data)
    reader = zstandard.ZstdDecompressor().stream_reader(
        memoryview(data)[:extent], read_across_frames=True
    )
    try:
        while chunk := reader.read(min(_CHUNK, limit + 1 - len(out))):
            out += chunk
            if len(out) > limit:
                del out[limit:]
                return bytes(out), over_limit_message(limit)
    except zstandard.ZstdError as exc:
        reason = str(exc).removeprefix("zstd decompress error: ")
        return bytes(out), f"corrupt zstd data: {reason}"
    if problem == "truncated":
        return bytes(out), "zstd data truncated"
    if problem == "garbage":
        if extent:
            return bytes(out), "trailing data after zstd stream"
        return bytes(out), "corrupt zstd data: not a zstd frame"
    return bytes(out), None


def decompress_zstd(data: bytes, limit: int) -> _Decoded:
    """zstd frames inflated into at most ``limit`` bytes: ``(output, error)`` as for a body."""
    return _unzstd(data, limit)


_DECODERS: dict[str, Callable[[bytes, int], _Decoded]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _deflate,
    "br": _unbrotli,
    "zstd": _unzstd,
}


def decode_body(
    data: bytes, content_encoding: str | None, limit: int = DEFAULT_MAX_INFLATED
) -> tuple[bytes, str | None]:
    """Undo ``content_encoding`` on ``data``; return ``(body, error)``.

    ``error`` is ``None`` on success. On an unknown coding or corrupt data the body is the input
    unchanged, or the output decoded before the damage when there is some. A body that inflates
    past ``limit`` bytes is cut at ``limit`` and reported as truncated.
    """
    try:
        if not content_encoding or not data:
            return data, None
        limit = max(0, limit)
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        errors: list[str] = []
        current = data
        for coding in reversed(codings):
            if not coding or coding == "identity":
                continue
            decoder = _DECODERS.get(coding)
            if decoder is None:
                errors.append(f"unsupported content-encoding {coding!r}")
                break
            out, err = decoder(current, limit)
            if err is None:
                current = out
                continue
            errors.append(err)
            if not out:
                break
            current = out
        return current, "; ".join(errors) or None
    except Exception as exc:  # noqa: BLE001 - a safety net: decoding must never take the pipeline down
        return data, f"body decoding failed: {type(exc).__name__}"
