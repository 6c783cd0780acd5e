"""Read HAR 1.2 files into exchanges.

Handles what the common exporters write: Chrome and Firefox (HTTP/2 pseudo-headers,
``_webSocketMessages``), Safari, Charles, Insomnia, mitmproxy and HTTP Toolkit (base64
``content.encoding``, ``postData.params`` and ``postData.text``). HAR bodies are stored already
decoded, so no Content-Encoding is applied to them, unless a body plainly is still compressed.

Entries are read one at a time (:func:`read_har`): a scanner finds each element of
``log.entries`` in the raw bytes and only that element is parsed, with strings longer than the
body limit cut before parsing, so memory follows the largest entry, not the file. A file the
scanner cannot follow (not a HAR, or damaged before the first entry) is parsed whole, which
gives the exact error; damage after some entries keeps them and warns.
"""

from __future__ import annotations

import base64
import binascii
import json
import mmap
import re
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from auditor.errors import AuditorError
from auditor.io.decoding import decode_body
from auditor.limits import DEFAULT_LIMITS, Limits, cut_message
from auditor.models import Exchange, WebSocketMessage, header_value

Warn = Callable[[str], None]
#: Reads a body stored beside the HAR (zip member name, byte limit) -> (first bytes, full size) or None.
Attached = Callable[[str, int], "tuple[bytes, int] | None"]


class HarError(AuditorError, ValueError):
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


# -- the entry scanner --------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_WS = re.compile(rb"[ \t\r\n]*")
# A string of bounded length (up to 64 escapes, 4 KiB between them) or a structural byte; a
# longer string matches as a lone '"' and is followed with bytes.find, page by page.
_TOKEN = re.compile(rb'"[^"\\]{0,4096}+(?:\\.[^"\\]{0,4096}+){0,64}+"|[\[\]{}"]', re.S)
_CONTENT = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.S)  # string content up to an unescaped quote
_SCALAR = re.compile(rb"-?[0-9][0-9eE.+-]*|true|false|null")
_MIN_CUT = 1 << 16  # strings are never cut shorter than this while scanning
_RELEASE_EVERY = 16 * 2**20


class _NotStreamable(Exception):
    """The outer layout is not ``{"log": {"entries": [...]}}``: parse the file whole instead."""


class _Damaged(Exception):
    """The bytes stop being JSON at some point."""


class _Scanner:
    """Finds JSON values in raw bytes without parsing them, noting strings over ``keep`` bytes.

    When the bytes are a memory map, pages already scanned are given back every 16 MiB, so
    resident memory does not grow with the file (or with one huge string in it).
    """

    def __init__(self, data: bytes, keep: int) -> None:
        self.data = data
        self.keep = keep
        self.long: list[tuple[int, int]] = []  # (start, end) of long strings in the current value
        dontneed = getattr(mmap, "MADV_DONTNEED", None)
        self._madvise = getattr(data, "madvise", None) if dontneed is not None else None
        self._dontneed = dontneed
        self._released = 0

    def release(self, upto: int) -> None:
        """Give back the mapped pages before ``upto``."""
        if self._madvise is None or upto - self._released < _RELEASE_EVERY:
            return
        upto -= upto % mmap.PAGESIZE
        try:
            self._madvise(self._dontneed, self._released, upto - self._released)
        except (OSError, ValueError):
            self._madvise = None
        self._released = upto

    def ws(self, pos: int) -> int:
        return _WS.match(self.data, pos).end()  # type: ignore[union-attr]

    def string_end(self, pos: int) -> int:
        """The end of the string whose opening quote is at ``pos``."""
        data = self.data
        size = len(data)
        i = pos + 1
        while True:  # a piece at a time, giving pages back
            stop = min(size, i + _RELEASE_EVERY)
            j = _CONTENT.match(data, i, stop).end()  # type: ignore[union-attr]
            if j < stop and data[j] == 0x22:
                return j + 1
            if j >= size or (stop == size and j >= stop - 1):
                raise _Damaged("unterminated string")
            self.release(j)
            i = j  # at the end of the piece, or at an escape cut by it

    def skip(self, pos: int) -> int:
        """The end of the JSON value at ``pos``."""
        data = self.data
        c = data[pos : pos + 1]
        if c not in (b"{", b"[", b'"'):
            m = _SCALAR.match(data, pos)
            if m is None:
                raise _Damaged(f"unexpected byte at {pos:,}")
            return m.end()
        depth = 0
        search = _TOKEN.search
        while True:
            m = search(data, pos)
            if m is None:
                raise _Damaged("unexpected end of file")
            start, pos = m.span()
            ch = data[start]
            if ch == 0x22:  # a string
                if pos - start == 1:
                    pos = self.string_end(start)
                if pos - start > self.keep + 2:
                    self.long.append((start, pos))
                if depth == 0:
                    return pos
            else:
                depth += 1 if ch in (0x7B, 0x5B) else -1
                if depth == 0:
                    return pos

    def key(self, pos: int) -> tuple[str | None, int]:
        """The object key at ``pos`` and where its value starts (long keys come back as None)."""
        if self.data[pos : pos + 1] != b'"':
            raise _Damaged(f"expected a key at byte {pos:,}")
        end = self.skip(pos)
        key = None
        if end - pos <= 256:
            try:
                key = json.loads(self.data[pos:end])
            except ValueError:
                raise _Damaged(f"bad key at byte {pos:,}") from None
        pos = self.ws(end)
        if self.data[pos : pos + 1] != b":":
            raise _Damaged(f"expected ':' at byte {pos:,}")
        return key, self.ws(pos + 1)

    def after(self, pos: int, close: bytes) -> tuple[int, bool]:
        """After a member or element: the next one's position and True, or past ``close`` and False."""
        pos = self.ws(pos)
        c = self.data[pos : pos + 1]
        if c == b",":
            return self.ws(pos + 1), True
        if c == close:
            return pos + 1, False
        raise _Damaged(f"expected ',' or {close.decode()!r} at byte {pos:,}")

    def members(self, pos: int) -> Generator[tuple[str | None, int], int, int]:
        """The ``(key, value position)`` of each member of the object at ``pos``; the consumer
        sends back where each value ends. Returns the position after the object."""
        pos = self.ws(pos + 1)
        if self.data[pos : pos + 1] == b"}":
            return pos + 1
        while True:
            key, value = self.key(pos)
            end = yield key, value
            pos, more = self.after(end, b"}")
            if not more:
                return pos
            pos = self.ws(pos)

    def entries(self) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of each element of ``log.entries``, scanning the bytes once.

        Before each is yielded, :attr:`long` lists its strings over ``keep`` bytes.
        """
        data = self.data
        pos = self.ws(len(_BOM) if data[:3] == _BOM else 0)
        if data[pos : pos + 1] != b"{":
            raise _NotStreamable
        seen_log = seen_entries = False
        top = self.members(pos)
        try:
            key, value = next(top)
            while True:
                if key == "log" and not seen_log:
                    if data[value : value + 1] != b"{":
                        raise _NotStreamable
                    seen_log = True
                    end = yield from self._log(value)
                    seen_entries = self._seen_entries
                else:
                    end = self.skip(value)
                key, value = top.send(end)
        except StopIteration as stop:
            pos = self.ws(int(stop.value))
        if not seen_entries:
            raise _NotStreamable
        if pos < len(data):
            raise _Damaged(f"extra data at byte {pos:,}")

    _seen_entries = False
    pages: dict[str, str] = {}  # noqa: RUF012 - replaced, never mutated

    def parse_small(self, start: int, end: int) -> Any:
        """A small value (``log.pages``), or None when it is too big or not JSON."""
        if end - start > 1 << 20:
            return None
        try:
            return json.loads(self.data[start:end])
        except (ValueError, RecursionError):
            return None

    def _log(self, pos: int) -> Generator[tuple[int, int], None, int]:
        """The entries of the ``log`` object at ``pos``; returns the position after it."""
        data = self.data
        inner = self.members(pos)
        try:
            k, v = next(inner)
            while True:
                if k == "entries" and not self._seen_entries:
                    if data[v : v + 1] != b"[":
                        raise _NotStreamable
                    self._seen_entries = True
                    p = self.ws(v + 1)
                    if data[p : p + 1] == b"]":
                        end = p + 1
                    else:
                        while True:
                            self.long = []
                            e = self.skip(p)
                            yield p, e
                            self.release(e)
                            p, more = self.after(e, b"]")
                            if not more:
                                end = p
                                break
                else:
                    end = self.skip(v)
                    if k == "pages":
                        self.pages = _pages(self.parse_small(v, end))
                k, v = inner.send(end)
        except StopIteration as stop:
            return int(stop.value)

    def parse(self, start: int, end: int) -> Any:
        """The value between ``start`` and ``end`` with its long strings cut to ``keep`` bytes."""
        data = self.data
        if not self.long:
            return json.loads(data[start:end])
        parts: list[bytes] = []
        prev = start
        for s, e in self.long:
            parts.append(data[prev:s])
            parts.append(_cut_string(data[s : s + self.keep + 8], self.keep))
            prev = e
        parts.append(data[prev:end])
        return json.loads(b"".join(parts))


def _pages(raw: Any) -> dict[str, str]:
    """``log.pages`` as ``{page id: the page's URL}``. A page's ``title`` is its URL in the HARs
    that Chromium's DevTools export; where it is not a URL (Playwright writes the document's
    title), the URL is left empty here and taken from the page's first entry (:func:`_page_of`)."""
    out: dict[str, str] = {}
    for p in raw if isinstance(raw, list) else ():
        if isinstance(p, dict) and isinstance(p.get("id"), str):
            title = p["title"].strip() if isinstance(p.get("title"), str) else ""
            out[p["id"]] = title if title.startswith(("http://", "https://")) else ""
    return out


def _page_of(pages: dict[str, str], entry: dict[str, Any], ex: Exchange) -> str | None:
    """The URL of the page of a HAR entry (its ``pageref``), if the HAR has pages."""
    ref = entry.get("pageref")
    if not isinstance(ref, str) or ref not in pages:
        return None
    if not pages[ref]:
        pages[ref] = ex.url  # the page's first entry: its document
    return pages[ref]


def _cut_string(token: bytes, keep: int) -> bytes:
    """A JSON string token cut to about ``keep`` bytes of content, still valid JSON."""
    content = token[1 : 1 + keep]
    i = content.rfind(b"\\", max(0, len(content) - 6))
    if i >= 0:
        j = i
        while j > 0 and content[j - 1] == 0x5C:
            j -= 1
        if (i - j) % 2 == 0:  # content[i] starts an escape: drop it if it is incomplete
            need = 6 if content[i + 1 : i + 2] == b"u" else 2
            if len(content) - i < need:
                content = content[:i]
    text = content.decode("utf-8", "ignore")  # a character cut in two is dropped
    return b'"' + text.encode("utf-8", "surrogatepass") + b'"'


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _headers(raw: Any, errors: list[str] | None = None, what: str = "", keep: int = -1) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        return out
    for h in raw:
        if 0 <= keep <= len(out):
            if errors is not None:
                errors.append(f"{what}: only the first {keep:,} of {len(raw):,} headers were kept")
            break
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


def _content(
    text: Any,
    encoding: Any,
    headers: list[tuple[str, str]],
    errors: list[str],
    what: str,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    body = _raw_content(text, encoding, headers, errors, what, limits)
    if len(body) > limits.max_body:
        errors.append(cut_message(what, limits.max_body, len(body)))
        body = body[: limits.max_body]
    return body


def _raw_content(
    text: Any, encoding: Any, headers: list[tuple[str, str]], errors: list[str], what: str, limits: Limits
) -> bytes:
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
        decoded, err = decode_body(body, ce, limits.max_inflated)
        if err is None:
            return decoded
    return body


def _attached(
    content: dict[str, Any], attached: Attached | None, errors: list[str], what: str, limits: Limits
) -> bytes | None:
    """A body stored beside the HAR (Playwright's ``.zip`` HAR names it in ``_file``)."""
    member = content.get("_file")
    if attached is None or not isinstance(member, str) or content.get("text"):
        return None
    got = attached(member, limits.max_body)
    if got is None:
        errors.append(f"{what}: {member} is not in the archive")
        return b""
    body, size = got
    if size > len(body):
        errors.append(cut_message(what, len(body), size))
    return body


def _post_data(
    pd: Any,
    headers: list[tuple[str, str]],
    errors: list[str],
    limits: Limits = DEFAULT_LIMITS,
    attached: Attached | None = None,
) -> bytes:
    if not isinstance(pd, dict):
        return b""
    body = _attached(pd, attached, errors, "request body", limits)
    if body is not None:
        return body
    text = pd.get("text")
    if isinstance(text, str) and text:
        return _content(text, pd.get("encoding"), headers, errors, "request body", limits)
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


def entry_to_exchange(
    entry: dict[str, Any], capture: int, index: int, limits: Limits = DEFAULT_LIMITS, attached: Attached | None = None
) -> Exchange:
    """Build an :class:`Exchange` from one HAR entry (raises ValueError if it has no usable URL).

    Bodies and header lists over ``limits`` are cut, with a note in ``body_errors``.
    ``attached`` reads bodies stored beside the HAR in a zip archive (``content._file``).
    """
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
    errors: list[str] = []
    headers = _headers(req.get("headers"), errors, "request headers", limits.max_headers)
    if header_value(headers, "cookie") is None and isinstance(req.get("cookies"), list) and req["cookies"]:
        pairs = [
            f"{_str(c.get('name'))}={_str(c.get('value'))}"
            for c in req["cookies"]
            if isinstance(c, dict) and c.get("name")
        ]
        if pairs:
            headers.append(("Cookie", "; ".join(pairs)))
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
    ex.request_body = _post_data(req.get("postData"), headers, errors, limits, attached)
    resp = entry.get("response")
    if isinstance(resp, dict):
        status = resp.get("status")
        ex.status = status if isinstance(status, int) and status > 0 else None
        ex.response_headers = _headers(resp.get("headers"), errors, "response headers", limits.max_headers)
        content = resp.get("content")
        if isinstance(content, dict):
            body = _attached(content, attached, errors, "response body", limits)
            ex.response_body = (
                body
                if body is not None
                else _content(
                    content.get("text"), content.get("encoding"), ex.response_headers, errors, "response body", limits
                )
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
            if len(content) > limits.max_body:
                errors.append(cut_message("websocket message", limits.max_body, len(content)))
                content = content[: limits.max_body]
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


def read_har(
    data: bytes, name: str, capture: int, warn: Warn, limits: Limits = DEFAULT_LIMITS, attached: Attached | None = None
) -> Iterator[Exchange]:
    """Yield the exchanges of a HAR file (bytes or mmap); malformed entries are skipped with one
    warning, damage after the first entry stops reading with a warning."""
    scan = _Scanner(data, max(_MIN_CUT, limits.max_body))
    skipped = 0
    first = ""
    index = 0
    entries = 0
    damage = ""
    try:
        for start, end in scan.entries():
            entries += 1
            cut = len(scan.long)
            longest = max((e - s - 2 for s, e in scan.long), default=0)
            try:
                entry = scan.parse(start, end)
            except (ValueError, RecursionError) as e:
                entry = None
                reason = "nested too deep" if isinstance(e, RecursionError) else f"invalid JSON: {e}"
            else:
                reason = "not an object"
            if not isinstance(entry, dict):
                first = first or reason[:200]
                skipped += 1
                continue
            ex = _exchange_or_reason(entry, capture, index, limits, attached)
            if isinstance(ex, str):
                first = first or ex
                skipped += 1
                continue
            if scan.pages:
                ex.page = _page_of(scan.pages, entry, ex)
            if cut:
                ex.body_errors.append(
                    f"HAR entry: {cut} value(s) over {scan.keep:,} bytes cut (the longest {longest:,} bytes)"
                )
            index += 1
            yield ex
    except (_NotStreamable, _Damaged) as e:
        if entries == 0:
            entries = -1  # parse the file whole below: it gives the exact error
        else:
            damage = str(e) or "damaged"
    if entries <= 0:  # nothing streamed: the whole-file parser says what is wrong, if anything
        yield from _read_whole(bytes(data), name, capture, warn, limits, attached)
        return
    _warn_skipped(warn, name, skipped, first)
    if damage:
        warn(f"{name}: damaged: {damage} after {entries:,} entr{'y' if entries == 1 else 'ies'}; the rest was not read")


def _exchange_or_reason(
    entry: dict[str, Any], capture: int, index: int, limits: Limits, attached: Attached | None = None
) -> Exchange | str:
    """The entry's exchange, or why it was skipped (one line)."""
    try:
        return entry_to_exchange(entry, capture, index, limits, attached)
    except RecursionError:
        return "nested too deep"
    except (ValueError, TypeError, AttributeError) as e:
        return str(e)[:200]


def _warn_skipped(warn: Warn, name: str, skipped: int, first: str) -> None:
    if skipped:
        warn(f"{name}: {skipped} malformed HAR entr{'y' if skipped == 1 else 'ies'} skipped ({first})")


def _read_whole(
    data: bytes, name: str, capture: int, warn: Warn, limits: Limits, attached: Attached | None = None
) -> Iterator[Exchange]:
    """:func:`read_har` for a file parsed whole."""
    doc = load_har(data)
    skipped = 0
    first = ""
    index = 0
    pages = _pages(doc["log"].get("pages"))
    for entry in doc["log"]["entries"]:
        if not isinstance(entry, dict):
            first = first or "not an object"
            skipped += 1
            continue
        ex = _exchange_or_reason(entry, capture, index, limits, attached)
        if isinstance(ex, str):
            first = first or ex
            skipped += 1
            continue
        if pages:
            ex.page = _page_of(pages, entry, ex)
        index += 1
        yield ex
    _warn_skipped(warn, name, skipped, first)
