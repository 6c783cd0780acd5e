"""Checking a redacted copy: original values still in it, in any encoded form.

:func:`check_redacted` audits the copy (masked) and looks for the original values in its decoded
exchanges and, byte for byte, in the file itself, read through the bounded opener in windows.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.io import InputError, open_bounded
from auditor.io.capture import CaptureError, open_capture
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.redact.bodies import STRUCTURAL_HEADERS, sniffed_body
from auditor.redact.index import SpooledIndex
from auditor.redact.matching import MIN_LENGTH, SHORT

__all__ = ["LeftoverScanner", "RedactionCheck", "check_redacted", "encoded_forms", "find_leftovers", "verify_redacted"]


def encoded_forms(value: str) -> list[bytes]:
    """Byte strings that betray ``value``: raw, URL-encoded, JSON-escaped, and base64 at any alignment.

    For base64, the characters that depend on the value alone are taken at each of the three
    byte alignments, in both alphabets (only for values of 8 bytes or more, so that a match is
    not a coincidence).
    """
    raw = value.encode("utf-8", "surrogatepass")
    forms = {raw}
    with contextlib.suppress(UnicodeEncodeError):  # (a lone surrogate has no URL-encoded form)
        forms |= {quote(value, safe="").encode(), quote_plus(value).encode(), quote(value).encode()}
    forms.add(json.dumps(value)[1:-1].encode())
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass"))
    if len(raw) >= 4:
        forms.add(base64.b64encode(raw).rstrip(b"="))
        forms.add(base64.urlsafe_b64encode(raw).rstrip(b"="))
    if len(raw) >= 8:
        for k in range(3):
            enc = base64.b64encode(b"\0" * k + raw)
            first = (k + 2) // 3  # first 3-byte group lying entirely inside the value
            last = (k + len(raw)) // 3  # groups before this one end inside the value
            if last - first >= 2:
                core = enc[4 * first : 4 * last]
                forms.add(core)
                forms.add(core.replace(b"+", b"-").replace(b"/", b"_"))
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len)


class LeftoverScanner:
    """Finds original values in bytes, in every encoded form, in one pass.

    Values shorter than :data:`SHORT` are replaced only as whole tokens, so they are looked for
    as whole tokens (``420`` is not found in ``1795884588.2442021``), and only raw. The forms
    are kept on disk (:class:`.index.SpooledIndex`), so memory does not grow with the values.
    """

    def __init__(self, values: Iterable[str]) -> None:
        self.index = SpooledIndex()
        for v in values:
            if len(v) < MIN_LENGTH:
                continue
            raw = v.encode("utf-8", "surrogatepass")
            if len(v) < SHORT:
                self.index.add(raw, raw)
            else:
                for f in encoded_forms(v):
                    self.index.add(f, raw)

    @property
    def longest(self) -> int:
        """The length of the longest form looked for, in bytes."""
        return self.index.longest

    def scan(self, data: bytes) -> set[str]:
        """The values found in ``data``."""
        return {
            self.index.value(record).decode("utf-8", "surrogatepass")
            for _, _, record in self.index.finditer(data, overlapping=True)
        }

    def close(self) -> None:
        """Remove the index's file."""
        self.index.close()


def find_leftovers(data: bytes, values: Iterable[str]) -> list[str]:
    """The values of which some encoded form is still in ``data`` (see :class:`LeftoverScanner`)."""
    values = list(values)
    scanner = LeftoverScanner(values)
    try:
        found = scanner.scan(data)
    finally:
        scanner.close()
    return [v for v in values if v in found]


@dataclass
class RedactionCheck:
    """What a redacted copy still holds, and its (masked) audit."""

    leftovers: list[str]
    document: dict[str, Any]  # findings may be a spool on disk (see Auditor.document(stream=True))


_WINDOW = 8 << 20


def check_redacted(path: str | Path, originals: Iterable[str], limits: Limits | None = None) -> RedactionCheck:
    """Audit a redacted capture and look for original values still in it, in one pass.

    Values are looked for in the decoded exchanges (URL path and query, headers, bodies,
    WebSocket messages) and, for values of :data:`SHORT` characters or more, byte for byte in the
    file itself (raw, URL-encoded, JSON-escaped or base64 at any alignment), read in windows so
    memory does not grow with the file. Destination host names are kept by redaction and left
    out of the search; so are structural headers such as Content-Length.
    """
    limits = limits or DEFAULT_LIMITS
    values = [v for v in originals if len(v) >= MIN_LENGTH]
    scanner = LeftoverScanner(values)
    auditor = Auditor(AuditOptions(reveal=False, limits=limits))
    found: set[str] = set()
    hosts: set[str] = set()
    try:
        cap = open_capture(path, limits=limits)
        auditor.captures.append(cap.info)
        for ex in cap.exchanges:
            auditor.add_exchange(ex)
            hosts.add(ex.host)
            chunks = [ex.path.encode("utf-8", "replace"), ex.request_body, ex.response_body]
            packed = (sniffed_body(b, limits.max_inflated) for b in (ex.request_body, ex.response_body))
            chunks += [p.content for p in packed if p is not None]
            chunks += [
                f"{k}: {v}".encode("utf-8", "replace")
                for k, v in ex.request_headers + ex.response_headers
                if k.lower() not in STRUCTURAL_HEADERS
            ]
            chunks += [m.content for m in ex.websocket]
            found |= scanner.scan(b"\n".join(chunks))
    except CaptureError:
        pass
    scanner.close()
    raw_scanner = LeftoverScanner(v for v in values if len(v) >= SHORT and v not in found)
    longest = raw_scanner.longest
    host_bytes = sorted((h.encode("utf-8", "replace") for h in hosts), key=len, reverse=True)
    try:
        opened = open_bounded(path, max_inflated=limits.max_capture_inflated)
    except InputError:
        raw_scanner.close()
        return RedactionCheck([v for v in values if v in found], auditor.document(stream=True))
    with opened, contextlib.closing(raw_scanner):
        tail = b""
        while piece := opened.file.read(_WINDOW):
            window = tail + piece
            for h in host_bytes:
                window = window.replace(h, b" ")
            found |= raw_scanner.scan(window)
            tail = window[-(longest + 64) :] if longest else b""
    return RedactionCheck([v for v in values if v in found], auditor.document(stream=True))


def verify_redacted(path: str | Path, originals: Iterable[str]) -> list[str]:
    """Original values still present in a redacted capture (see :func:`check_redacted`)."""
    return check_redacted(path, originals).leftovers
