"""Bodies and headers as the rewriting finds them: compressed streams and content encodings."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auditor.extract.sniff import compression_of, inflate

__all__ = ["COMPRESSED_MAGIC", "STRUCTURAL_HEADERS", "Packed", "compress", "encode_body", "header", "sniffed_body"]

# Headers whose values are protocol structure, never personal data.
STRUCTURAL_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-type", "host", ":authority", ":host"}
)
COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")


@dataclass(frozen=True, slots=True)
class Packed:
    """A body that is one whole compressed stream: its ``kind`` (``gzip``, ``zlib``, ``zstd``), its
    inflated ``content``, and whether that content is ``whole`` (False: cut at the limit)."""

    kind: str
    content: bytes
    whole: bool


def sniffed_body(raw: bytes, limit: int) -> Packed | None:
    """The content of a body that is one whole gzip, zlib or zstd stream by its magic bytes (as
    SDKs send without a Content-Encoding), inflated to at most ``limit`` bytes; else ``None``."""
    kind = compression_of(raw)
    if kind is None:
        return None
    got = inflate(raw, kind, limit + 1)
    if got is None or got[1] != len(raw):
        return None
    content = got[0]
    return Packed(kind, content[:limit], whole=len(content) <= limit)


def compress(body: bytes, kind: str) -> bytes:
    """``body`` compressed again as ``kind`` (``gzip``, ``zlib`` or ``zstd``)."""
    if kind == "gzip":
        return gzip.compress(body)
    if kind == "zlib":
        return zlib.compress(body)
    import zstandard

    return zstandard.ZstdCompressor().compress(body)


def encode_body(body: bytes, encoding: str) -> bytes:
    from mitmproxy.net import encoding as mencoding

    for enc in [e.strip().lower() for e in encoding.split(",") if e.strip()]:
        if enc in ("identity", "none"):
            continue
        body = mencoding.encode(body, "gzip" if enc == "x-gzip" else enc)
    return body


def header(headers: Iterable[Any], name: str) -> str | None:
    for h in headers:
        k, v = (h.get("name"), h.get("value")) if isinstance(h, dict) else (h[0], h[1])
        k = k.decode("latin-1") if isinstance(k, bytes) else str(k)
        if k.lower() == name:
            return v.decode("latin-1") if isinstance(v, bytes) else str(v)
    return None
