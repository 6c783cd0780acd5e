"""Recognize compressed data by its content, whatever the headers say.

SDKs compress without saying so: a gzip JSON body sent as ``text/plain`` with no
``Content-Encoding``, gzip or zlib bytes kept as a latin-1 string inside a JSON field (session
replay events), base64-wrapped gzip, a zlib-compressed item in a Sentry envelope, a zstd part of
a multipart upload, an lz-string ``compressToBase64`` form field. This module says what a run
of bytes (or a string) is compressed with and inflates it under a byte limit:

* gzip (``1f 8b``), zstd (``28 b5 2f fd``) and zlib (a valid RFC 1950 header) by their magic
  bytes;
* raw deflate has no magic: :func:`inflate_raw` is only tried on content that already looks
  binary, and kept only when the stream ends cleanly and inflates to text;
* lz-string ``compressToBase64`` has no magic either: :func:`lzstring_json` decodes the first
  characters and goes on only when they start a JSON object or array.

Nothing here raises; undecodable input gives ``None``. The walker in :mod:`auditor.extract`
names each step in the field path (``@gzip``, ``@zlib``, ``@deflate``, ``@zstd``,
``@lzstring``, after ``@base64`` when the bytes were base64-wrapped).
"""

from __future__ import annotations

import zlib

from auditor.io.decoding import decompress_zstd, over_limit_message

__all__ = [
    "MARKERS",
    "base64_compression",
    "compression_of",
    "inflate",
    "inflate_raw",
    "latin1_compression",
    "lzstring_json",
]

# The path markers of content decoded by sniffing (see auditor.extract).
MARKERS = frozenset({"@gzip", "@zlib", "@deflate", "@zstd", "@lzstring"})

_ZSTD = b"\x28\xb5\x2f\xfd"
# Second bytes that make a valid zlib header after 0x78 (32 KiB window, any level).
_ZLIB_FLG = frozenset({0x01, 0x5E, 0x9C, 0xDA})
_MIN = 8  # no compressed stream of real content is shorter
# base64 of the magic bytes: gzip "H4sI", zlib "eJ"/"eN"/"eA"/"eF", zstd "KLUv".
_B64_PREFIXES = ("H4sI", "eJ", "eN", "eAE", "eF4", "KLUv")


def compression_of(data: bytes | bytearray | memoryview) -> str | None:
    """``"gzip"``, ``"zlib"`` or ``"zstd"`` when ``data`` starts with that format's magic bytes."""
    if len(data) < _MIN:
        return None
    b0, b1 = data[0], data[1]
    if b0 == 0x1F and b1 == 0x8B and data[2] == 8:
        return "gzip"
    if b0 == 0x78 and b1 in _ZLIB_FLG:
        return "zlib"
    if bytes(data[:4]) == _ZSTD:
        return "zstd"
    return None


def latin1_compression(value: str) -> str | None:
    """The compression of a string holding compressed bytes one character per byte (latin-1)."""
    if len(value) < _MIN:
        return None
    first = value[0]
    if first == "\x1f":
        kind = "gzip" if value[1] == "\x8b" else None
    elif first == "x":
        kind = "zlib" if ord(value[1]) in _ZLIB_FLG else None
    elif first == "(":
        kind = "zstd" if value.startswith("(\xb5/\xfd") else None
    else:
        return None
    return kind


def base64_compression(value: str) -> bool:
    """Whether ``value`` may be base64 of gzip, zlib or zstd bytes (a cheap prefix test)."""
    return len(value) >= 16 and value.startswith(_B64_PREFIXES)


def inflate(data: bytes, kind: str, limit: int) -> tuple[bytes, int] | None:
    """Inflate ``data`` compressed with ``kind`` into at most ``limit`` bytes.

    Returns the output and the input bytes the stream used (bytes after the end of the stream
    are left for the caller), or ``None`` when the stream is corrupt or empty. A stream that
    inflates past ``limit`` gives its first ``limit`` bytes (a bomb stops there); a stream cut
    short gives what was decoded when that is at least a few bytes.
    """
    if limit <= 0 or not data:
        return None
    try:
        if kind == "zstd":
            out, err = decompress_zstd(data, limit)
            if not out or (err is not None and err != over_limit_message(limit) and "truncated" not in err):
                return None
            return (out, len(data))
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "zlib": zlib.MAX_WBITS, "deflate": -zlib.MAX_WBITS}[kind]
        decomp = zlib.decompressobj(wbits)
        out = decomp.decompress(data, limit + 1)
    except (zlib.error, KeyError, ValueError, MemoryError):
        return None
    except Exception:  # noqa: BLE001 - zstandard's errors and anything a hostile stream may provoke: corrupt
        return None
    if len(out) > limit:
        return (out[:limit], len(data))
    if decomp.eof:
        return (out, len(data) - len(decomp.unused_data)) if out else None
    if len(out) >= _MIN:  # cut short (a truncated capture): keep what was decoded
        return (out, len(data))
    return None


def _textual(data: bytes) -> bool:
    """Mostly printable UTF-8 text (used to accept a raw deflate guess)."""
    sample = data[:4096].decode("utf-8", "replace")
    if len(data) > 4096:
        sample = sample[:-4]
    if not sample:
        return False
    bad = sum(1 for c in sample if c == "\ufffd" or (c < " " and c not in "\t\r\n"))
    return bad / len(sample) <= 0.02


def inflate_raw(data: bytes, limit: int) -> bytes | None:
    """A guess that binary ``data`` is a raw deflate stream: the output, only when the stream
    ends cleanly at the end of ``data`` (or past ``limit``) and inflates to text."""
    if len(data) < _MIN or limit <= 0:
        return None
    try:
        decomp = zlib.decompressobj(-zlib.MAX_WBITS)
        out = decomp.decompress(data, limit + 1)
    except (zlib.error, ValueError, MemoryError):
        return None
    if len(out) > limit:
        out = out[:limit]
    elif not decomp.eof or decomp.unused_data.strip(b"\0") or len(out) < len(data):
        return None
    return out if _textual(out) else None


# ---------------------------------------------------------------------------------------------
# lz-string (https://github.com/pieroxy/lz-string), compressToBase64 only

_LZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_LZ_VALUE = {c: i for i, c in enumerate(_LZ_ALPHABET)}


def _lz_decompress(text: str, limit: int, head_only: bool = False) -> str | None:
    """lz-string's ``_decompress`` over base64 characters (6 bits each), bounded by ``limit``
    output characters. With ``head_only``, stop after the first character decoded."""
    values = _LZ_VALUE
    length = len(text)
    if not length:
        return None
    try:
        dictionary: list[str] = ["", "", ""]
        enlarge_in = 4
        dict_size = 4
        num_bits = 3
        out: list[str] = []
        out_len = 0
        data_val = values[text[0]]
        data_position = 32
        data_index = 1

        def bits(n: int) -> int:
            nonlocal data_val, data_position, data_index
            result = 0
            power = 1
            maxpower = 1 << n
            while power != maxpower:
                resb = data_val & data_position
                data_position >>= 1
                if data_position == 0:
                    data_position = 32
                    data_val = values[text[data_index]] if data_index < length else 0
                    data_index += 1
                if resb:
                    result |= power
                power <<= 1
            return result

        kind = bits(2)
        if kind == 0:
            c = chr(bits(8))
        elif kind == 1:
            c = chr(bits(16))
        else:
            return None
        if head_only:
            return c
        dictionary.append(c)
        w = c
        out.append(c)
        out_len = 1
        while True:
            if data_index > length:
                return None
            code = bits(num_bits)
            if code == 0:
                dictionary.append(chr(bits(8)))
                code = dict_size
                dict_size += 1
                enlarge_in -= 1
            elif code == 1:
                dictionary.append(chr(bits(16)))
                code = dict_size
                dict_size += 1
                enlarge_in -= 1
            elif code == 2:
                return "".join(out)
            if enlarge_in == 0:
                enlarge_in = 1 << num_bits
                num_bits += 1
            if code < len(dictionary) and dictionary[code]:
                entry = dictionary[code]
            elif code == dict_size:
                entry = w + w[0]
            else:
                return None
            out.append(entry)
            out_len += len(entry)
            if out_len > limit:
                return None
            dictionary.append(w + entry[0])
            dict_size += 1
            enlarge_in -= 1
            w = entry
            if enlarge_in == 0:
                enlarge_in = 1 << num_bits
                num_bits += 1
    except (KeyError, IndexError, ValueError, OverflowError):
        return None


def lzstring_json(value: str, limit: int) -> str | None:
    """The text of an lz-string ``compressToBase64`` value when it holds a JSON object or array
    (at most ``limit`` characters), else ``None``. The first character is decoded first, so
    other base64 costs almost nothing."""
    if len(value) < 16 or limit <= 0 or value[0] not in _LZ_VALUE:
        return None
    if _lz_decompress(value[:8], 1, head_only=True) not in ("{", "["):
        return None
    text = _lz_decompress(value, limit)
    if not text or text[0] not in "{[" or text.rstrip()[-1:] not in ("}", "]"):
        return None
    return text
