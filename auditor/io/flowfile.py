"""Read mitmproxy flow files (``.flows``, ``.mitm``) into exchanges.

A flow file is a sequence of tnetstring-encoded flow states. This reader parses them itself
(faster than ``mitmproxy.io.FlowReader`` and without building ``Flow`` objects), upgrades old
formats with mitmproxy's own ``compat.migrate_flow``, and recovers from damage: after a record it
cannot read it searches forward for the next readable flow, so a file with garbage in the middle
or a truncated end still yields every readable flow, with a warning that counts what was lost.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable, Iterator
from typing import Any, cast

from auditor.errors import AuditorError
from auditor.io.decoding import decode_body
from auditor.limits import DEFAULT_LIMITS, Limits, cut_message
from auditor.models import Exchange, TlsInfo, WebSocketMessage, header_value

Warn = Callable[[str], None]

_MAX_DEPTH = 32
_RECORD_START = re.compile(rb"\d{1,12}:")
_RELEASE_EVERY = 16 * 2**20  # bytes of a mapped file read before its pages are given back
_NO_CUT = 1 << 62
_MIN_CUT = 1 << 16  # strings are never cut shorter while parsing (keys, hosts, headers stay whole)


class CutBytes(bytes):
    """A byte string kept only up to the body limit; ``total`` is its full length in the file."""

    total: int


class FlowFileError(AuditorError, ValueError):
    """The file holds no readable flow at all."""


def looks_like_flowfile(head: bytes) -> bool:
    """True if ``head`` starts like a tnetstring dictionary (``1234:...``)."""
    m = re.match(rb"(\d{1,12}):", head)
    return m is not None and len(head) > m.end() and head[m.end() : m.end() + 1].isdigit()


def _parse(buf: bytes, pos: int, limit: int, depth: int = 0, keep: int = _NO_CUT) -> tuple[Any, int]:
    """Parse one tnetstring at ``pos`` (ending at or before ``limit``); return (value, next pos).

    Byte and text strings longer than ``keep`` are cut there (bytes as :class:`CutBytes`), so a
    huge body costs ``keep`` bytes of memory, not its size.
    """
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deep")
    colon = buf.find(b":", pos, min(pos + 13, limit))
    if colon < 0:
        raise ValueError("missing length prefix")
    length = int(buf[pos:colon])  # ValueError on non-digits
    start = colon + 1
    end = start + length
    if end >= limit:
        raise ValueError("length beyond end of data")
    tag = buf[end]
    if length > keep and tag in (44, 59):
        if tag == 59:
            return buf[start : start + keep].decode("utf-8", "ignore"), end + 1
        cut = CutBytes(buf[start : start + keep])
        cut.total = length
        return cut, end + 1
    if tag == 44:  # ,
        return buf[start:end], end + 1
    if tag == 59:  # ;
        return buf[start:end].decode("utf-8"), end + 1
    if tag == 125:  # }
        d: dict[Any, Any] = {}
        p = start
        while p < end:
            k, p = _parse(buf, p, end, depth + 1, keep)
            v, p = _parse(buf, p, end, depth + 1, keep)
            if isinstance(k, (bytes, str)):
                d[k] = v
        if p != end:
            raise ValueError("dictionary overruns its length")
        return d, end + 1
    if tag == 93:  # ]
        lst: list[Any] = []
        p = start
        while p < end:
            v, p = _parse(buf, p, end, depth + 1, keep)
            lst.append(v)
        if p != end:
            raise ValueError("list overruns its length")
        return lst, end + 1
    if tag == 35:  # #
        return int(buf[start:end]), end + 1
    if tag == 94:  # ^
        return float(buf[start:end]), end + 1
    if tag == 33:  # !
        if buf[start:end] == b"true":
            return True, end + 1
        if buf[start:end] == b"false":
            return False, end + 1
        raise ValueError("bad boolean")
    if tag == 126 and length == 0:  # ~
        return None, end + 1
    raise ValueError(f"unknown type tag {tag}")


def _record_at(buf: bytes, pos: int, size: int, keep: int = _NO_CUT) -> tuple[dict[Any, Any], int] | None:
    """A flow state dictionary at ``pos``, or None if there is none."""
    colon = buf.find(b":", pos, min(pos + 13, size))
    if colon <= pos or not buf[pos:colon].isdigit():
        return None
    end = colon + 1 + int(buf[pos:colon])
    if end >= size or buf[end] != 125:
        return None
    try:
        state, nxt = _parse(buf, pos, size, 0, keep)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if not isinstance(state, dict) or not (b"type" in state or "type" in state or b"response" in state):
        return None
    return state, nxt


def iter_flow_states(buf: bytes, name: str, warn: Warn, limits: Limits = DEFAULT_LIMITS) -> Iterator[dict[str, Any]]:
    """Yield every readable, migrated flow state in ``buf``; warn about what could not be read.

    Strings longer than ``limits.max_body`` are cut (see :func:`_parse`). When ``buf`` is a
    memory map, the pages already read are given back as reading goes on, so resident memory
    does not grow with the file.
    """
    from mitmproxy.io import compat  # (here: audits of network captures and HAR files never need it)

    size = len(buf)
    keep = max(_MIN_CUT, limits.max_body)  # bodies get their exact cut in state_to_exchange
    dontneed = getattr(mmap, "MADV_DONTNEED", None)
    madvise = getattr(buf, "madvise", None) if dontneed is not None else None
    released = 0
    pos = 0
    read = 0
    damaged_regions = 0
    damaged_bytes = 0
    unsupported: dict[str, int] = {}
    while pos < size:
        if madvise is not None and pos - released >= _RELEASE_EVERY:
            upto = pos - pos % mmap.PAGESIZE
            try:
                madvise(dontneed, released, upto - released)
            except (OSError, ValueError):
                madvise = None
            released = upto
        if buf[pos : pos + 1].isspace():  # trailing newlines some tools append
            pos += 1
            continue
        rec = _record_at(buf, pos, size, keep)
        if rec is None:
            nxt = pos + 1
            while True:
                m = _RECORD_START.search(buf, nxt)
                if m is None:
                    nxt = size
                    break
                if _record_at(buf, m.start(), size, keep) is not None:
                    nxt = m.start()
                    break
                nxt = m.start() + 1
            damaged_regions += 1
            damaged_bytes += nxt - pos
            pos = nxt
            continue
        state, pos = rec
        try:
            migrated = compat.migrate_flow(state)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            msg = str(e)
            version = re.search(r"flow format version (.+?)[.,]?$", msg)
            key = version.group(1) if version else msg[:80]
            unsupported[key] = unsupported.get(key, 0) + 1
            continue
        read += 1
        # Migrated to the current flow format, whose keys are all text (bytes keys are older formats').
        yield cast(dict[str, Any], migrated)
    if unsupported:
        total = sum(unsupported.values())
        kinds = ", ".join(sorted(unsupported))
        if read == 0 and not damaged_regions:
            raise FlowFileError(f"unsupported mitmproxy flow format ({kinds}): no flow can be read")
        warn(f"{name}: {total} flow(s) in an unsupported format skipped ({kinds})")
    if damaged_regions:
        if read == 0 and not unsupported:
            raise FlowFileError("damaged or not a mitmproxy flow file: no readable flow")
        warn(
            f"{name}: damaged: {damaged_regions} unreadable region(s) skipped "
            f"({damaged_bytes:,} bytes); {read:,} flow(s) read"
        )


def _s(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


def _headers(raw: Any, errors: list[str] | None = None, what: str = "", keep: int = _NO_CUT) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    items = raw or ()
    for item in items:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            if len(out) >= keep:
                if errors is not None:
                    errors.append(f"{what}: only the first {keep:,} of {len(items):,} headers were kept")
                break
            out.append((_s(item[0]), _s(item[1])))
    return out


def _body(
    raw: Any, headers: list[tuple[str, str]], errors: list[str], what: str, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    if not isinstance(raw, bytes) or not raw:
        return b""
    if isinstance(raw, CutBytes):
        errors.append(cut_message(what, len(raw), raw.total))
    elif len(raw) > limits.max_body:
        errors.append(cut_message(what, limits.max_body, len(raw)))
        raw = raw[: limits.max_body]
    body, err = decode_body(raw, header_value(headers, "content-encoding"), limits.max_inflated)
    if err:
        errors.append(f"{what}: {err}")
    return body


def _tls(conn: Any) -> TlsInfo | None:
    if not isinstance(conn, dict):
        return None
    version = conn.get("tls_version")
    sni = conn.get("sni")
    if not version and not sni and not conn.get("tls_established") and not conn.get("tls"):
        return None
    alpn = conn.get("alpn")
    return TlsInfo(
        sni=_s(sni) or None,
        version=_s(version) or None,
        cipher=_s(conn.get("cipher")) or None,
        alpn=_s(alpn) or None,
    )


def state_to_exchange(
    state: dict[str, Any], capture: int, index: int, limits: Limits = DEFAULT_LIMITS
) -> Exchange | None:
    """Build an :class:`Exchange` from a migrated HTTP flow state; None for other flow types.

    Bodies and header lists over ``limits`` are cut, with a note in ``body_errors``.
    """
    if state.get("type") != "http":
        return None
    req = state.get("request")
    if not isinstance(req, dict):
        return None
    errors: list[str] = []
    headers = _headers(req.get("headers"), errors, "request headers", limits.max_headers)
    authority = _s(req.get("authority"))
    host = authority or header_value(headers, "host") or _s(req.get("host"))
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.lower().rstrip(".")
    try:
        port = int(req.get("port") or 0)
    except (TypeError, ValueError):
        port = 0
    scheme = _s(req.get("scheme")) or "http"
    ex = Exchange(
        capture=capture,
        index=index,
        id=_s(state.get("id")),
        method=_s(req.get("method")) or "GET",
        scheme=scheme,
        host=host,
        port=port,
        path=_s(req.get("path")) or "/",
        http_version=_s(req.get("http_version")) or "HTTP/1.1",
        request_headers=headers,
        timestamp=req.get("timestamp_start") if isinstance(req.get("timestamp_start"), (int, float)) else None,
        body_errors=errors,
    )
    ex.request_body = _body(req.get("content"), headers, errors, "request body", limits)
    resp = state.get("response")
    if isinstance(resp, dict):
        ex.response_headers = _headers(resp.get("headers"), errors, "response headers", limits.max_headers)
        sc = resp.get("status_code")
        ex.status = sc if isinstance(sc, int) else None
        ex.response_body = _body(resp.get("content"), ex.response_headers, errors, "response body", limits)
    server = state.get("server_conn")
    if isinstance(server, dict):
        peer = server.get("peername") or server.get("ip_address")
        if isinstance(peer, (list, tuple)) and peer:
            ex.server_ip = _s(peer[0]) or None
        ex.tls = _tls(server) if scheme in ("https", "wss") else None
    err = state.get("error")
    if isinstance(err, dict) and err.get("msg"):
        ex.error = _s(err.get("msg"))
    ws = state.get("websocket")
    if isinstance(ws, dict):
        if ex.scheme in ("http", "https"):
            ex.scheme = "wss" if ex.scheme == "https" else "ws"
        for msg in ws.get("messages") or ():
            if not isinstance(msg, (list, tuple)) or len(msg) < 3:
                continue
            content = msg[2] if isinstance(msg[2], bytes) else _s(msg[2]).encode()
            if isinstance(content, CutBytes):
                errors.append(cut_message("websocket message", len(content), content.total))
            elif len(content) > limits.max_body:
                errors.append(cut_message("websocket message", limits.max_body, len(content)))
                content = content[: limits.max_body]
            ts = msg[3] if len(msg) > 3 and isinstance(msg[3], (int, float)) else None
            ex.websocket.append(
                WebSocketMessage(from_client=bool(msg[1]), content=content, is_text=msg[0] == 1, timestamp=ts)
            )
    return ex


_TLS_WORDS = ("tls", "ssl", "certificate", "handshake")


def opaque_connection(state: dict[str, Any]) -> tuple[str, str] | None:
    """``(host, reason)`` of a connection the proxy could not see into, else None.

    That is a TCP or UDP flow without messages whose client refused the proxy's TLS (as the
    live audit saves them: ``metadata["auditor"] == "opaque"``, or an error about TLS); the
    host is the client's SNI, else the server's address.
    """
    if state.get("type") not in ("tcp", "udp") or state.get("messages"):
        return None
    err = state.get("error")
    reason = _s(err.get("msg")) if isinstance(err, dict) else ""
    meta = state.get("metadata")
    marked = isinstance(meta, dict) and _s(meta.get("auditor")) == "opaque"
    if not marked and not any(w in reason.lower() for w in _TLS_WORDS):
        return None
    host = ""
    for conn in ("client_conn", "server_conn"):
        c = state.get(conn)
        if isinstance(c, dict) and c.get("sni"):
            host = _s(c.get("sni"))
            break
    if not host:
        server = state.get("server_conn")
        addr = server.get("address") if isinstance(server, dict) else None
        if isinstance(addr, (list, tuple)) and addr:
            host = _s(addr[0])
    host = host.lower().rstrip(".")
    if not host:
        return None
    return host, reason or "TLS handshake with the client failed"


def read_flowfile(
    buf: bytes,
    name: str,
    capture: int,
    warn: Warn,
    limits: Limits = DEFAULT_LIMITS,
    opaque: Callable[[str, str], None] | None = None,
) -> Iterator[Exchange]:
    """Yield the HTTP exchanges of a flow file held in ``buf`` (bytes or mmap); connections the
    proxy could not see into (:func:`opaque_connection`) go to ``opaque(host, reason)``."""
    index = 0
    other: dict[str, int] = {}
    skipped = 0
    first_error = ""
    for state in iter_flow_states(buf, name, warn, limits):
        try:
            ex = state_to_exchange(state, capture, index, limits)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            if not skipped:
                first_error = f"flow {index}: {type(e).__name__}: {e}"[:200]
            skipped += 1
            continue
        if ex is None:
            seen = opaque_connection(state) if opaque is not None else None
            if seen is not None and opaque is not None:
                opaque(*seen)
                continue
            kind = _s(state.get("type")) or "unknown"
            other[kind] = other.get(kind, 0) + 1
            continue
        index += 1
        yield ex
    if skipped:
        warn(f"{name}: {skipped:,} malformed flow(s) skipped ({first_error})")
    if other:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(other.items()))
        warn(f"{name}: non-HTTP flows not analysed ({kinds})")
