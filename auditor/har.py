"""Read HAR 1.2 files into exchanges.

Handles what the common exporters write: Chrome and Firefox (HTTP/2 pseudo-headers,
``_webSocketMessages``), Safari, Charles, Insomnia, mitmproxy and HTTP Toolkit (base64
``content.encoding``, ``postData.params`` and ``postData.text``). HAR bodies are stored already
decoded, so no Content-Encoding is applied to them, unless a body plainly is still compressed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from .decoding import decode_body
from .models import Exchange, WebSocketMessage, header_value

Warn = Callable[[str], None]


class HarError(ValueError):
    """The file is not a usable HAR file."""


def load_har(data: bytes) -> dict[str, Any]:
    """Parse HAR bytes (an optional byte-order mark is skipped) and check the outer structure."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise HarError(f"not a valid HAR file: not UTF-8 ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise HarError(f"not a valid HAR file: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise HarError("not a valid HAR file: JSON nested too deep") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("log"), dict):
        raise HarError('not a valid HAR file: no "log" object')
    entries = doc["log"].get("entries")
    if not isinstance(entries, list):
        raise HarError('not a valid HAR file: "log.entries" is not a list')
    return doc


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _headers(raw: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        return out
    for h in raw:
        if isinstance(h, dict):
            name, value = h.get("name"), h.get("value")
        elif isinstance(h, (list, tuple)) and len(h) >= 2:
            name, value = h[0], h[1]
        else:
            continue
        name = _str(name)
        if not name or name.startswith(":"):  # HTTP/2 pseudo-headers are not real headers
            continue
        out.append((name, _str(value)))
    return out


_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")


def _content(text: Any, encoding: Any, headers: list[tuple[str, str]], errors: list[str], what: str) -> bytes:
    if not isinstance(text, str) or not text:
        return b""
    if _str(encoding).lower() == "base64":
        try:
            body = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            errors.append(f"{what}: invalid base64 content")
            return text.encode("utf-8", "replace")
    else:
        body = text.encode("utf-8", "replace")
    ce = header_value(headers, "content-encoding")
    if ce and body.startswith(_COMPRESSED_MAGIC):
        decoded, err = decode_body(body, ce)
        if err is None:
            return decoded
    return body


def _post_data(pd: Any, headers: list[tuple[str, str]], errors: list[str]) -> bytes:
    if not isinstance(pd, dict):
        return b""
    text = pd.get("text")
    if isinstance(text, str) and text:
        return _content(text, pd.get("encoding"), headers, errors, "request body")
    params = pd.get("params")
    if isinstance(params, list) and params:
        parts = []
        for p in params:
            if not isinstance(p, dict):
                continue
            name = _str(p.get("name"))
            if p.get("fileName") is not None:
                # A file field with no body in the HAR: keep its name visible to the walkers.
                parts.append(f"{quote_plus(name)}={quote_plus(_str(p.get('fileName')))}")
            else:
                parts.append(f"{quote_plus(name)}={quote_plus(_str(p.get('value')))}")
        return "&".join(parts).encode()
    return b""


def _timestamp(v: Any) -> float | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def entry_to_exchange(entry: dict[str, Any], capture: int, index: int) -> Exchange:
    """Build an :class:`Exchange` from one HAR entry (raises ValueError if it has no usable URL)."""
    req = entry.get("request")
    if not isinstance(req, dict):
        raise ValueError("entry has no request")
    url = _str(req.get("url"))
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"entry has no absolute URL: {url[:80]!r}")
    scheme = parts.scheme.lower()
    default = 443 if scheme in ("https", "wss") else 80
    try:
        port = parts.port or default
    except ValueError:
        port = default
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    headers = _headers(req.get("headers"))
    if header_value(headers, "cookie") is None and isinstance(req.get("cookies"), list) and req["cookies"]:
        pairs = [
            f"{_str(c.get('name'))}={_str(c.get('value'))}"
            for c in req["cookies"]
            if isinstance(c, dict) and c.get("name")
        ]
        if pairs:
            headers.append(("Cookie", "; ".join(pairs)))
    errors: list[str] = []
    ex = Exchange(
        capture=capture,
        index=index,
        id=_str(entry.get("_id")) or f"har-{capture}-{index}",
        method=_str(req.get("method")) or "GET",
        scheme=scheme,
        host=(parts.hostname or "").lower().rstrip("."),
        port=port,
        path=path,
        http_version=_str(req.get("httpVersion")) or "HTTP/1.1",
        request_headers=headers,
        timestamp=_timestamp(entry.get("startedDateTime")),
        body_errors=errors,
    )
    ex.request_body = _post_data(req.get("postData"), headers, errors)
    resp = entry.get("response")
    if isinstance(resp, dict):
        status = resp.get("status")
        ex.status = status if isinstance(status, int) and status > 0 else None
        ex.response_headers = _headers(resp.get("headers"))
        content = resp.get("content")
        if isinstance(content, dict):
            ex.response_body = _content(
                content.get("text"), content.get("encoding"), ex.response_headers, errors, "response body"
            )
        if _str(resp.get("_error")):
            ex.error = _str(resp.get("_error"))
    ip = _str(entry.get("serverIPAddress")).strip("[]")
    ex.server_ip = ip or None
    ws = entry.get("_webSocketMessages")
    if isinstance(ws, list) and ws:
        if ex.scheme in ("http", "https"):
            ex.scheme = "wss" if ex.scheme == "https" else "ws"
        for m in ws:
            if not isinstance(m, dict):
                continue
            opcode = m.get("opcode", 1)
            data = _str(m.get("data"))
            if opcode == 2:
                try:
                    content = base64.b64decode(data)
                except (binascii.Error, ValueError):
                    content = data.encode("utf-8", "replace")
            else:
                content = data.encode("utf-8", "replace")
            t = m.get("time")
            ex.websocket.append(
                WebSocketMessage(
                    from_client=_str(m.get("type")) == "send",
                    content=content,
                    is_text=opcode != 2,
                    timestamp=float(t) if isinstance(t, (int, float)) else None,
                )
            )
    return ex


def read_har(data: bytes, name: str, capture: int, warn: Warn) -> Iterator[Exchange]:
    """Yield the exchanges of a HAR file; malformed entries are skipped with one warning."""
    doc = load_har(data)
    skipped: list[str] = []
    index = 0
    for entry in doc["log"]["entries"]:
        if not isinstance(entry, dict):
            skipped.append("not an object")
            continue
        try:
            ex = entry_to_exchange(entry, capture, index)
        except (ValueError, TypeError, AttributeError) as e:
            skipped.append(str(e))
            continue
        index += 1
        yield ex
    if skipped:
        warn(f"{name}: {len(skipped)} malformed HAR entr{'y' if len(skipped) == 1 else 'ies'} skipped ({skipped[0]})")
