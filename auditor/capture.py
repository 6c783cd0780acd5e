"""Open a saved capture of any supported format, detected from its content.

Supported: mitmproxy flow files, HAR (plain, with a byte-order mark, or zlib/gzip compressed
such as mitmproxy's ``.zhar``) and, where the pcap reader is present, pcap and pcapng.
"""

from __future__ import annotations

import gzip
import mmap
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .decoding import _size_text
from .flowfile import FlowFileError, looks_like_flowfile, read_flowfile
from .har import HarError, read_har
from .limits import DEFAULT_LIMITS, Limits
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


_INFLATE_CHUNK = 1 << 20


def _inflate_to_file(path: Path, kind: str, name: str, limit: int) -> IO[bytes]:
    """Inflate a gzip or zlib capture into an unlinked temporary file, at most ``limit`` bytes.

    Streams in pieces, so memory stays small whatever the inflated size.
    """
    out = tempfile.TemporaryFile(prefix="auditor-")
    total = 0
    try:
        with open(path, "rb") as raw:
            if kind == "gzip":
                with gzip.GzipFile(fileobj=raw) as g:
                    while chunk := g.read(min(_INFLATE_CHUNK, limit + 1 - total) or 1):
                        total += len(chunk)
                        if total > limit:
                            break
                        out.write(chunk)
            else:
                d = zlib.decompressobj()
                while (data := raw.read(_INFLATE_CHUNK)) or d.unconsumed_tail:
                    chunk = d.decompress(d.unconsumed_tail + data, _INFLATE_CHUNK)
                    total += len(chunk)
                    if total > limit:
                        break
                    out.write(chunk)
                    if d.eof:
                        break
                    if not data and not chunk:
                        break
        if total > limit:
            out.close()
            raise CaptureError(f"{name}: compressed capture inflates beyond {_size_text(limit)}")
    except (OSError, zlib.error, EOFError) as e:
        out.close()
        raise CaptureError(f"{name}: compressed capture is damaged ({e})") from None
    out.flush()
    out.seek(0)
    return out


@contextmanager
def _mapped(path: Path | IO[bytes]) -> Iterator[bytes]:
    with open(path, "rb") if isinstance(path, Path) else path as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            yield b""
            return
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mm  # type: ignore[misc]
        finally:
            mm.close()


def _exchanges(
    buf: bytes, fmt: str, info: CaptureInfo, capture: int, warn: Warn, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Exchange]:
    name = Path(info.path).name
    if fmt == "har":
        it = read_har(buf, name, capture, warn, limits)
    else:
        it = read_flowfile(buf, name, capture, warn, limits)
    for ex in it:
        info.exchanges += 1
        yield ex


def open_capture(
    path: str | Path, capture: int = 0, warn: Warn | None = None, limits: Limits | None = None, keylog: Any = None
) -> Capture:
    """Open ``path`` and detect its format. Raises :class:`CaptureError` with a one-line message.

    ``limits`` bounds what is read (see :class:`auditor.limits.Limits`; default: its defaults).
    ``keylog`` (an :class:`auditor.tlsdecrypt.KeyLog`) decrypts a pcap's TLS and QUIC.
    """
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
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
        return _open_pcap(path, name, info, capture, _warn, limits, keylog)

    if fmt == "gzip":
        with gzip.open(path, "rb") as g:
            try:
                inner_head = g.read(64)
            except (OSError, EOFError, zlib.error) as e:
                raise CaptureError(f"{name}: compressed capture is damaged ({e})") from None
        if detect_format(inner_head) == "pcap":
            return _open_pcap(path, name, info, capture, _warn, limits, keylog)
    source: Path | IO[bytes] = path
    if fmt in ("gzip", "zlib"):
        inflated = _inflate_to_file(path, fmt, name, limits.max_capture_inflated)
        inner = detect_format(inflated.read(64))
        inflated.seek(0)
        if inner not in ("har", "mitmproxy"):
            inflated.close()
            raise CaptureError(f"{name}: compressed file does not hold a HAR or mitmproxy capture")
        info.format = fmt = inner
        source = inflated

    def _from_file() -> Iterator[Exchange]:
        with _mapped(source) as buf:
            yield from _checked(buf, fmt, info, capture, _warn, name, limits)

    return Capture(info=info, exchanges=_from_file())


def _open_pcap(
    path: Path, name: str, info: CaptureInfo, capture: int, warn: Warn, limits: Limits = DEFAULT_LIMITS,
    keylog: Any = None,
) -> Capture:
    from . import pcap

    info.format = "pcap"
    try:
        result = pcap.read_pcap(path, capture=capture, warn=warn, limits=limits)
    except ValueError as e:
        raise CaptureError(f"{name}: {e}") from None
    except OSError as e:
        raise CaptureError(f"{name}: cannot read ({e.strerror or e})") from None
    exchanges = result.exchanges
    from . import tlsdecrypt

    if keylog is not None or tlsdecrypt.has_embedded_secrets(path):
        decrypted = tlsdecrypt.decrypt_capture(path, keylog, capture=capture, warn=warn, limits=limits)
        for i, ex in enumerate(decrypted.exchanges, len(exchanges)):
            ex.index, ex.id = i, f"pcap-{capture}-{i}"
        exchanges = exchanges + decrypted.exchanges
        info.decryption = decrypted.coverage()
    info.exchanges = len(exchanges)
    return Capture(info=info, exchanges=iter(exchanges), network=list(result.destinations))


def _checked(
    buf: bytes, fmt: str, info: CaptureInfo, capture: int, warn: Warn, name: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Exchange]:
    try:
        yield from _exchanges(buf, fmt, info, capture, warn, limits)
    except (HarError, FlowFileError) as e:
        raise CaptureError(f"{name}: {e}") from None
