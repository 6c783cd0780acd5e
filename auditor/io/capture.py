"""Open a saved capture of any supported format, detected from its content.

Supported: mitmproxy flow files, HAR (plain, with a byte-order mark, or zlib/gzip compressed
such as mitmproxy's ``.zhar``) and, where the pcap reader is present, pcap and pcapng.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from auditor.io.flowfile import FlowFileError, looks_like_flowfile, read_flowfile
from auditor.io.har import HarError, read_har
from auditor.io.inputs import InputError, Opened, compression, open_bounded
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import CaptureInfo, Exchange

Warn = Callable[[str], None]

FORMATS = ("mitmproxy", "har", "pcap")
MAX_DECOMPRESSED = 4 * 2**30


class CaptureError(InputError):
    """A capture cannot be read at all. ``str()`` is one line meant for the user."""


@dataclass
class Capture:
    """An opened capture: what it is, and its exchanges (read lazily, in order)."""

    info: CaptureInfo
    exchanges: Iterator[Exchange]
    network: list[Any] = field(default_factory=list)
    #: ``(host, reason)`` of each connection the proxy could not see into (filled while the
    #: exchanges are read: a live audit saves them in ``capture.flows``)
    opaque: list[tuple[str, str]] = field(default_factory=list)


def _is_pcap(head: bytes) -> bool:
    return head[:4] in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
        b"\x0a\x0d\x0d\x0a",
    )


def detect_format(head: bytes) -> str | None:
    """``"mitmproxy"``, ``"har"``, ``"pcap"``, ``"zlib"``, ``"gzip"``, ``"zip"`` or None, from the first bytes."""
    if _is_pcap(head):
        return "pcap"
    wrapped = compression(head)
    if wrapped is not None:
        return wrapped
    stripped = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    stripped = stripped.lstrip()
    if stripped.startswith(b"{"):
        return "har"
    if looks_like_flowfile(head):
        return "mitmproxy"
    return None


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
    buf: bytes,
    fmt: str,
    info: CaptureInfo,
    capture: int,
    warn: Warn,
    limits: Limits = DEFAULT_LIMITS,
    opened: Opened | None = None,
    opaque: list[tuple[str, str]] | None = None,
) -> Iterator[Exchange]:
    name = Path(info.path).name
    if fmt == "har":
        attached = opened.attachment if opened is not None and opened.archive is not None else None
        it = read_har(buf, name, capture, warn, limits, attached)
    else:
        found = (lambda host, reason: opaque.append((host, reason))) if opaque is not None else None
        it = read_flowfile(buf, name, capture, warn, limits, found)
    for ex in it:
        info.exchanges += 1
        yield ex


def open_capture(
    path: str | Path, capture: int = 0, warn: Warn | None = None, limits: Limits | None = None, keylog: Any = None
) -> Capture:
    """Open ``path`` (``-``: standard input) and detect its format. Raises :class:`CaptureError`
    with a one-line message.

    ``limits`` bounds what is read (see :class:`auditor.limits.Limits`; default: its defaults).
    ``keylog`` (an :class:`auditor.io.tlsdecrypt.KeyLog`) decrypts a pcap's TLS and QUIC.
    The file is opened through :func:`auditor.io.open_bounded`: gzip, zlib and zip (Playwright's
    ``.zip`` HAR) are inflated to at most ``limits.max_capture_inflated``.
    """
    limits = limits or DEFAULT_LIMITS
    name = "standard input" if str(path) == "-" else str(path)
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    try:
        opened = open_bounded(
            path, max_inflated=limits.max_capture_inflated, keep_gzip=lambda inner: detect_format(inner) == "pcap"
        )
    except InputError as e:
        raise CaptureError(str(e)) from None
    try:
        return _open(opened, name, capture, _warn, warnings, limits, keylog)
    except BaseException:
        opened.close()
        raise


def _open(
    opened: Opened, name: str, capture: int, warn: Warn, warnings: list[str], limits: Limits, keylog: Any = None
) -> Capture:
    head = opened.head
    if not head:
        raise CaptureError(f"{name}: empty file, not a capture")
    fmt = detect_format(head)
    if opened.wrapper is not None and fmt not in ("har", "mitmproxy"):
        what = "zip archive" if opened.wrapper == "zip" else "compressed file"
        raise CaptureError(f"{name}: {what} does not hold a HAR or mitmproxy capture")
    if fmt is None:
        raise CaptureError(f"{name}: unrecognized format (expected a mitmproxy flow file, HAR or pcap)")
    info = CaptureInfo(path=name, format=fmt, warnings=warnings)
    if fmt == "pcap":
        try:
            return _open_pcap(opened.path, name, info, capture, warn, limits, keylog)
        finally:
            opened.close()

    cap = Capture(info=info, exchanges=iter(()))

    def _from_file() -> Iterator[Exchange]:
        try:
            with _mapped(opened.file) as buf:
                yield from _checked(buf, fmt, info, capture, warn, name, limits, opened, cap.opaque)
        finally:
            opened.close()

    cap.exchanges = _from_file()
    return cap


def _open_pcap(
    path: Path,
    name: str,
    info: CaptureInfo,
    capture: int,
    warn: Warn,
    limits: Limits = DEFAULT_LIMITS,
    keylog: Any = None,
) -> Capture:
    from auditor.io import pcap

    info.format = "pcap"
    from auditor.io import tlsdecrypt

    # Decrypted first, so that DNS over HTTPS inside it names destinations like the capture's own
    # DNS does; its warnings are told after the reader's, in the order the report lists them.
    decrypted = None
    decrypt_warnings: list[str] = []
    try:
        if keylog is not None or tlsdecrypt.has_embedded_secrets(path):
            decrypted = tlsdecrypt.decrypt_capture(
                path, keylog, capture=capture, warn=decrypt_warnings.append, limits=limits
            )
        result = pcap.read_pcap(
            path,
            capture=capture,
            warn=warn,
            limits=limits,
            dns_messages=decrypted.dns_messages if decrypted is not None else (),
        )
    except ValueError as e:
        raise CaptureError(f"{name}: {e}") from None
    except OSError as e:
        raise CaptureError(f"{name}: cannot read ({e.strerror or e})") from None
    for message in decrypt_warnings:
        warn(message)
    exchanges = result.exchanges
    if decrypted is not None:
        for i, ex in enumerate(decrypted.exchanges, len(exchanges)):
            ex.index, ex.id = i, f"pcap-{capture}-{i}"
        exchanges = exchanges + decrypted.exchanges
        info.decryption = decrypted.coverage()
    info.exchanges = len(exchanges)
    return Capture(info=info, exchanges=iter(exchanges), network=list(result.destinations))


def _checked(
    buf: bytes,
    fmt: str,
    info: CaptureInfo,
    capture: int,
    warn: Warn,
    name: str,
    limits: Limits = DEFAULT_LIMITS,
    opened: Opened | None = None,
    opaque: list[tuple[str, str]] | None = None,
) -> Iterator[Exchange]:
    try:
        yield from _exchanges(buf, fmt, info, capture, warn, limits, opened, opaque)
    except (HarError, FlowFileError) as e:
        raise CaptureError(f"{name}: {e}") from None
