"""Open a saved capture of any supported format, detected from its content.

Supported: mitmproxy flow files, HAR (plain, with a byte-order mark, or zlib/gzip compressed
such as mitmproxy's ``.zhar``) and, where the pcap reader is present, pcap and pcapng.
"""

from __future__ import annotations

import gzip
import io
import mmap
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .flowfile import FlowFileError, looks_like_flowfile, read_flowfile
from .har import HarError, read_har
from .models import CaptureInfo, Exchange

Warn = Callable[[str], None]

FORMATS = ("mitmproxy", "har", "pcap")
MAX_DECOMPRESSED = 4 * 2**30


class CaptureError(Exception):
    """A capture cannot be read at all. ``str()`` is one line meant for the user."""


@dataclass
class Capture:
    """An opened capture: what it is, and its exchanges (read lazily, in order)."""

    info: CaptureInfo
    exchanges: Iterator[Exchange]
    network: list[Any] = field(default_factory=list)


def _is_pcap(head: bytes) -> bool:
    return head[:4] in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
        b"\x0a\x0d\x0d\x0a",
    )


def detect_format(head: bytes) -> str | None:
    """``"mitmproxy"``, ``"har"``, ``"pcap"``, ``"zlib"``, ``"gzip"`` or None, from the first bytes."""
    if _is_pcap(head):
        return "pcap"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    stripped = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    stripped = stripped.lstrip()
    if stripped.startswith(b"{"):
        return "har"
    if looks_like_flowfile(head):
        return "mitmproxy"
    return None


def _decompress(data: bytes, kind: str, name: str) -> bytes:
    try:
        if kind == "gzip":
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                out = g.read(MAX_DECOMPRESSED + 1)
        else:
            d = zlib.decompressobj()
            out = d.decompress(data, MAX_DECOMPRESSED + 1)
    except (OSError, zlib.error, EOFError) as e:
        raise CaptureError(f"{name}: compressed capture is damaged ({e})") from None
    if len(out) > MAX_DECOMPRESSED:
        raise CaptureError(f"{name}: compressed capture inflates beyond {MAX_DECOMPRESSED >> 30} GiB")
    return out


@contextmanager
def _mapped(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield b""
            return
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mm  # type: ignore[misc]
        finally:
            mm.close()


def _exchanges(buf: bytes, fmt: str, info: CaptureInfo, capture: int, warn: Warn) -> Iterator[Exchange]:
    name = Path(info.path).name
    if fmt == "har":
        it = read_har(bytes(buf), name, capture, warn)
    else:
        it = read_flowfile(buf, name, capture, warn)
    for ex in it:
        info.exchanges += 1
        yield ex


def open_capture(path: str | Path, capture: int = 0, warn: Warn | None = None) -> Capture:
    """Open ``path`` and detect its format. Raises :class:`CaptureError` with a one-line message."""
    path = Path(path)
    name = str(path)
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    try:
        if path.is_dir():
            raise CaptureError(f"{name}: is a directory, not a capture file")
        with open(path, "rb") as fh:
            head = fh.read(64)
    except CaptureError:
        raise
    except FileNotFoundError:
        raise CaptureError(f"{name}: no such file") from None
    except PermissionError:
        raise CaptureError(f"{name}: permission denied") from None
    except OSError as e:
        raise CaptureError(f"{name}: cannot read ({e.strerror or e})") from None
    if not head:
        raise CaptureError(f"{name}: empty file, not a capture")
    fmt = detect_format(head)
    if fmt is None:
        raise CaptureError(f"{name}: unrecognized format (expected a mitmproxy flow file, HAR or pcap)")
    info = CaptureInfo(path=name, format=fmt, warnings=warnings)

    if fmt == "pcap":
        return _open_pcap(path, name, info, capture, _warn)

    if fmt == "gzip":
        with gzip.open(path, "rb") as g:
            try:
                inner_head = g.read(64)
            except (OSError, EOFError, zlib.error) as e:
                raise CaptureError(f"{name}: compressed capture is damaged ({e})") from None
        if detect_format(inner_head) == "pcap":
            return _open_pcap(path, name, info, capture, _warn)
    if fmt in ("gzip", "zlib"):
        data = _decompress(path.read_bytes(), fmt, name)
        inner = detect_format(data[:64])
        if inner not in ("har", "mitmproxy"):
            raise CaptureError(f"{name}: compressed file does not hold a HAR or mitmproxy capture")
        info.format = inner
        return Capture(info=info, exchanges=_checked(data, inner, info, capture, _warn, name))

    def _from_file() -> Iterator[Exchange]:
        with _mapped(path) as buf:
            yield from _checked(buf, fmt, info, capture, _warn, name)

    return Capture(info=info, exchanges=_from_file())


def _open_pcap(path: Path, name: str, info: CaptureInfo, capture: int, warn: Warn) -> Capture:
    from . import pcap

    info.format = "pcap"
    try:
        result = pcap.read_pcap(path, capture=capture, warn=warn)
    except ValueError as e:
        raise CaptureError(f"{name}: {e}") from None
    except OSError as e:
        raise CaptureError(f"{name}: cannot read ({e.strerror or e})") from None
    info.exchanges = len(result.exchanges)
    return Capture(info=info, exchanges=iter(result.exchanges), network=list(result.destinations))


def _checked(buf: bytes, fmt: str, info: CaptureInfo, capture: int, warn: Warn, name: str) -> Iterator[Exchange]:
    try:
        yield from _exchanges(buf, fmt, info, capture, warn)
    except (HarError, FlowFileError) as e:
        raise CaptureError(f"{name}: {e}") from None
