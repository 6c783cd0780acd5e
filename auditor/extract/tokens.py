"""Values that wrap JSON in a token: JWT payloads and base64-wrapped JSON objects or arrays.

Nothing here raises; a value that is not such a token gives ``None``.
"""

from __future__ import annotations

import binascii
import json

__all__ = ["decode_base64_json", "decode_jwt"]

# First base64 character of text starting with "{", "[", " ", "\n"/"\t", "\r".
_B64_FIRST = frozenset("eWICD")
_TO_STD_B64 = str.maketrans("-_", "+/")


def _loads_container(text: str) -> dict | list | None:
    """``json.loads`` that returns only an object/array and never raises."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if type(obj) is dict or type(obj) is list else None


def _b64decode(text: str) -> bytes | None:
    """Decode standard or url-safe base64, padded or not; ``None`` if it is not base64."""
    if not text.isascii():
        return None
    body = text.rstrip("=")
    if len(text) - len(body) > 2 or len(body) % 4 == 1:
        return None
    body = body.translate(_TO_STD_B64) + "=" * (-len(body) % 4)
    try:
        return binascii.a2b_base64(body, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def decode_jwt(value: str) -> dict | list | None:
    """The payload of a JWT (three base64url segments, header JSON with ``alg``), else ``None``."""
    if not value.startswith("eyJ") or value.count(".") != 2:
        return None
    header_b64, payload_b64, _signature = value.split(".")
    header_raw = _b64decode(header_b64)
    payload_raw = _b64decode(payload_b64)
    if header_raw is None or payload_raw is None:
        return None
    try:
        header = _loads_container(header_raw.decode("utf-8"))
        if type(header) is not dict or "alg" not in header:
            return None
        return _loads_container(payload_raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def decode_base64_json(value: str) -> dict | list | None:
    """The JSON object/array wrapped in base64 (standard/url-safe, >= 16 chars), or ``None``."""
    if len(value) < 16 or value[0] not in _B64_FIRST:
        return None
    head = _b64decode(value[:8])  # cheap: does it decode to something starting like JSON?
    if head is None or head.lstrip(b" \t\r\n")[:1] not in (b"{", b"["):
        return None
    raw = _b64decode(value)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _loads_container(text)
