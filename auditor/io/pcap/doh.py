"""DNS over HTTPS (RFC 8484): the DNS messages inside an HTTP exchange.

A DoH query is a GET whose query string carries the DNS message in base64url (``?dns=``), or a
POST whose body is the message (``Content-Type: application/dns-message``); the answer is a
response body of that content type. These functions are pure: they take an exchange (from
cleartext HTTP in a capture, or from traffic decrypted with a key log) and return the raw DNS
messages, which :mod:`auditor.io.pcap` parses like any other DNS message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from auditor.models import Exchange

CONTENT_TYPE = "application/dns-message"
MAX_MESSAGE = 65535

__all__ = ["CONTENT_TYPE", "dns_messages", "query_message", "response_message"]


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _is_dns_type(headers: Iterable[tuple[str, str]]) -> bool:
    ctype = _header(headers, "content-type")
    return ctype is not None and ctype.split(";", 1)[0].strip().lower() == CONTENT_TYPE


def query_message(method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes) -> bytes | None:
    """The DNS query a DoH request carries (GET ``?dns=`` or POST ``application/dns-message``), or None."""
    method = method.upper()
    if method == "POST":
        if _is_dns_type(headers) and 12 <= len(body) <= MAX_MESSAGE:
            return body
        return None
    if method != "GET" or "dns=" not in path:
        return None
    for key, value in parse_qsl(urlsplit(path).query, keep_blank_values=False):
        if key == "dns":
            try:
                raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                return None
            return raw if 12 <= len(raw) <= MAX_MESSAGE else None
    return None


def response_message(headers: Iterable[tuple[str, str]], body: bytes) -> bytes | None:
    """The DNS answer a DoH response carries (``application/dns-message`` body), or None."""
    if _is_dns_type(headers) and 12 <= len(body) <= MAX_MESSAGE:
        return body
    return None


def dns_messages(ex: Exchange) -> list[bytes]:
    """The DNS messages of one exchange: its query, then its answer (either may be absent)."""
    out: list[bytes] = []
    q = query_message(ex.method, ex.path, ex.request_headers, ex.request_body)
    if q is not None:
        out.append(q)
    if ex.status is not None:
        a = response_message(ex.response_headers, ex.response_body)
        if a is not None:
            out.append(a)
    return out
