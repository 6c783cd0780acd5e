"""Walk an exchange into :class:`~auditor.models.Field` values.

Everything the client sent (URL path, query, headers, cookies, body, WebSocket messages) and the
response (headers, body) is flattened into ``Field(part, path, value, kind, content_type)``.
Path conventions:

* JSON: ``messages[1].content``; keys that are not identifier-like are quoted,
  ``a["key with space"]``; a top-level array gives ``[0].x``. Leaves become strings; ``null``
  and empty strings are skipped. A JSON string that itself holds a JSON object or array is
  walked under the same path, with no field for the string.
* NDJSON and Sentry envelopes: line ``i`` under ``[i]``; SSE: event ``i`` under ``sse[i]``;
  WebSocket message ``i`` under ``[i]``.
* Form bodies, query strings, cookies, multipart parts: the parameter/cookie/part name as is.
* Headers: the lower-cased name; ``set-cookie.<name>``; ``authorization.bearer``,
  ``authorization.basic.username``/``.password``, ``authorization.<scheme>``.
* Expansions, added after the field holding the value: JWT claims under ``<path>.@jwt``,
  base64-wrapped JSON under ``<path>.@base64``.
* Content decoded by sniffing (:mod:`auditor.sniff`), whatever the headers say, in place of the
  compressed value: ``@gzip``, ``@zlib``, ``@zstd`` (magic bytes), ``@deflate`` (raw deflate,
  only for binary content that inflates to text) and ``@lzstring`` (lz-string
  ``compressToBase64`` in form fields), after ``@base64`` when the bytes were base64-wrapped:
  ``@gzip.batch[0].properties["$email"]``, ``data.@base64.@gzip.user_id``,
  ``[5].@zlib[0].data`` (the zlib item of a Sentry envelope, line 5). Everything inflated by
  sniffing in one exchange counts against one budget, ``max_inflated`` bytes.
* Session replay event streams (rrweb) are reconstructed (:mod:`auditor.replay`): the fields
  are the page's text and what was typed into its inputs, at the paths of the events carrying
  them, marked with a ``replay/...`` ``content_type``.

Walking is bounded (``max_depth`` nesting levels, ``max_fields`` fields) and never raises.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, unquote

from auditor import replay
from auditor.decoding import DEFAULT_MAX_INFLATED
from auditor.models import Exchange, Field, WebSocketMessage
from auditor.sniff import (
    base64_compression,
    compression_of,
    inflate,
    inflate_raw,
    latin1_compression,
    lzstring_json,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_FIELDS",
    "decode_base64_json",
    "decode_jwt",
    "walk_body",
    "walk_cookies",
    "walk_exchange",
    "walk_headers",
    "walk_json",
    "walk_path_segments",
    "walk_query",
    "walk_string",
    "walk_websocket",
]

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_FIELDS = 20000

_WS = " \t\r\n"
_OPEN = ("{", "[")
# First base64 character of text starting with "{", "[", " ", "\n"/"\t", "\r".
_B64_FIRST = frozenset("eWICD")
# First character of a latin-1 string of gzip, zlib or zstd bytes, and of their base64.
_PACKED_FIRST = frozenset("\x1fx(")
_B64_PACKED_FIRST = frozenset("HeK")
_TO_STD_B64 = str.maketrans("-_", "+/")
_SNIFF = 4096  # bytes looked at when guessing whether a body is text

_SET_COOKIE = "set-cookie"
_AUTH_HEADERS = ("authorization", "proxy-authorization")

_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_TYPES = frozenset(
    {
        "application/x-protobuf",
        "application/protobuf",
        "application/x-google-protobuf",
        "application/vnd.google.protobuf",
        "application/grpc",
        "application/grpc+proto",
        "application/grpc-web",
        "application/grpc-web+proto",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/pdf",
        "application/wasm",
        "application/msgpack",
        "application/x-msgpack",
        "application/vnd.msgpack",
        "application/cbor",
        "application/x-thrift",
        "application/x-brotli",
        "application/zstd",
    }
)
_UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
_FORM = "application/x-www-form-urlencoded"
_SSE = "text/event-stream"

_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_FORM_RE = re.compile(r"[^\s=&]+=[^\s=&]*(?:&[^\s=&]+=[^\s=&]*)*&?")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


class _Full(Exception):
    """Raised inside a walk once ``max_fields`` fields were collected."""


# ---------------------------------------------------------------------------------------------
# small pure helpers


_IDENT_CACHE: dict[str, bool] = {}


def _is_ident(key: str) -> bool:
    """``[A-Za-z_][A-Za-z0-9_-]*``, memoised: JSON keys repeat a lot."""
    ok = _IDENT_CACHE.get(key)
    if ok is None:
        ok = (
            key.isascii()
            and key[:1] != "-"
            and key.replace("-", "_").isidentifier()
        )
        if len(key) <= 64 and len(_IDENT_CACHE) < 65536:
            _IDENT_CACHE[key] = ok
    return ok


def _key_path(prefix: str, key: str) -> str:
    """The path of ``key`` inside the object at ``prefix``."""
    if _is_ident(key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key, ensure_ascii=False)}]"


def _sub(prefix: str, name: str) -> str:
    """A raw name (form parameter, part name, marker) under ``prefix``."""
    return f"{prefix}.{name}" if prefix else name


def _float_text(value: float) -> str:
    """A float as JSON would write it (``NaN``/``Infinity`` as Python's json module does)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _scalar_text(value: object) -> str | None:
    """A non-container JSON leaf as text, ``None`` for ``null``/empty."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _float_text(value)
    text = str(value)
    return text or None


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


def _parse_params(text: str) -> dict[str, str]:
    """``; a=1; b="x y"`` parameters (of Content-Type / Content-Disposition), names lower-cased."""
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(text):
        name, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name, value)
    return params


def _parse_content_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``"Text/HTML; charset=UTF-8"`` -> ``("text/html", {"charset": "UTF-8"})``."""
    if not content_type:
        return "", {}
    mime, _, rest = content_type.partition(";")
    return mime.strip().lower(), _parse_params(";" + rest) if rest else {}


def _is_text_mime(mime: str) -> bool:
    """True for declared textual types (text, JSON, XML, form, JavaScript, SSE)."""
    return (
        mime.startswith("text/")
        or "json" in mime
        or "xml" in mime
        or "javascript" in mime
        or "ecmascript" in mime
        or mime == _FORM
        or mime == "application/graphql"
        or mime == "application/x-sentry-envelope"
    )


def _is_binary_mime(mime: str) -> bool:
    """True for declared binary types (images, media, protobuf, archives, ...)."""
    if mime.endswith(("+json", "+xml")):
        return False
    return mime.startswith(_BINARY_PREFIXES) or mime in _BINARY_TYPES


def _decode_text(data: bytes, charset: str | None) -> str:
    """Bytes to text in ``charset`` (UTF-8 when unknown), bad bytes replaced, BOM dropped."""
    try:
        text = data.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):
        text = data.decode("utf-8", "replace")
    return text[1:] if text[:1] == "\ufeff" else text


def _binary_score(data: bytes, charset: str | None) -> float:
    """Share of undecodable bytes and control characters in the start of ``data``."""
    sample = data[:_SNIFF]
    if not sample:
        return 0.0
    text = _decode_text(sample, charset)
    if len(data) > _SNIFF:
        text = text[:-4]  # a multi-byte character may be cut at the sample's end
    if not text:
        return 1.0
    bad = text.count("\ufffd") + len(_CONTROL_RE.findall(text))
    return bad / len(text)


def _looks_binary(data: bytes, charset: str | None, declared_text: bool) -> bool:
    """Guess whether a body is binary; a declared text type needs much stronger evidence."""
    score = _binary_score(data, charset)
    return score > 0.3 if declared_text else score > 0.05


def _content_disposition(value: str) -> tuple[str | None, str | None]:
    """``form-data; name="a"; filename="b.png"`` -> ``("a", "b.png")`` (``filename*`` wins)."""
    params = _parse_params(";" + value.partition(";")[2])
    filename = params.get("filename")
    extended = params.get("filename*")
    if extended:
        charset, _, rest = extended.partition("'")
        _lang, _, encoded = rest.partition("'")
        try:
            filename = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        except LookupError:
            filename = unquote(encoded, errors="replace")
    return params.get("name"), filename


def _split_part(chunk: bytes) -> tuple[bytes, bytes]:
    """Split one multipart part into its header block and content (CRLF or LF)."""
    if chunk.startswith(b"\r\n"):
        return b"", chunk[2:]
    if chunk.startswith(b"\n"):
        return b"", chunk[1:]
    crlf = chunk.find(b"\r\n\r\n")
    lf = chunk.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf <= lf):
        return chunk[:crlf], chunk[crlf + 4 :]
    if lf >= 0:
        return chunk[:lf], chunk[lf + 2 :]
    return chunk, b""


def _multipart_parts(data: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]] | None:
    """The ``(headers, content)`` of each part, or ``None`` when ``boundary`` is not found."""
    try:
        delimiter = b"--" + boundary.encode("utf-8")
    except UnicodeEncodeError:
        return None
    chunks = data.split(delimiter)
    if len(chunks) < 2:
        return None
    parts: list[tuple[dict[str, str], bytes]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the close delimiter
        newline = chunk.find(b"\n")  # the rest of the delimiter line (transport padding)
        if newline < 0:
            continue
        chunk = chunk[newline + 1 :]
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        head, content = _split_part(chunk)
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").splitlines():
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        parts.append((headers, content))
    return parts


def _sniff_boundary(data: bytes) -> str | None:
    """The boundary of an untyped body that starts like multipart (``--xyz`` then headers)."""
    if not data.startswith(b"--"):
        return None
    line = data[2:200].split(b"\n", 1)[0].rstrip(b"\r")
    if not line or b" " in line or b"content-disposition" not in data[:1024].lower():
        return None
    return line.decode("latin-1")


# ---------------------------------------------------------------------------------------------
# the walker


class _Walker:
    """Collects fields for one walk; ``part`` is set before each part is walked."""

    __slots__ = ("out", "max_depth", "max_fields", "part", "inflate_left", "page")

    def __init__(
        self,
        max_depth: int,
        max_fields: int,
        part: str = "",
        max_inflated: int = DEFAULT_MAX_INFLATED,
        page: replay.Page | None = None,
    ) -> None:
        self.out: Fields = Fields()
        self.max_depth = max_depth
        self.max_fields = max_fields
        self.part = part
        self.inflate_left = max_inflated  # bytes sniffed decompression may still produce
        self.page = page  # the replayed page known from earlier exchanges to this host

    def add(
        self, path: str, value: str, kind: str = "value", content_type: str | None = None
    ) -> None:
        """Append one field; raise :class:`_Full` once ``max_fields`` are collected."""
        out = self.out
        if len(out) >= self.max_fields:
            raise _Full
        out.append(Field(self.part, path, value, kind, content_type))
        if len(out) >= self.max_fields:
            raise _Full

    # -- JSON ---------------------------------------------------------------------------------

    def json(self, obj: object, path: str, depth: int) -> None:
        """Walk a parsed JSON value whose containers start at nesting ``depth``."""
        t = type(obj)
        if t is dict or t is list:
            self.container(obj, path, depth)  # type: ignore[arg-type]
        elif t is str:
            if obj:
                self.string(path, obj, depth)  # type: ignore[arg-type]
        elif isinstance(obj, dict | list | tuple):
            self.container(obj, path, depth)
        elif isinstance(obj, str):
            if obj:
                self.string(path, str(obj), depth)
        else:
            text = _scalar_text(obj)
            if text is not None:
                self.add(path, text)

    def container(self, obj: dict | list | tuple, path: str, depth: int) -> None:
        """Walk an object/array's members (the hot loop: type checks, no regexes)."""
        if depth >= self.max_depth:
            if obj:
                self.out.depth_cut = True
            return
        inner = depth + 1
        keyed = isinstance(obj, dict)
        if not keyed and obj:
            first = obj[0]
            if type(first) is dict:
                if "timestamp" in first and replay.is_event_list(obj):  # type: ignore[arg-type]
                    self.replay(obj, path, depth)  # type: ignore[arg-type]
                    return
            elif type(first) is str and len(first) > 20 and (first[0] == "x" or (first[0] == "{" and '"timestamp"' in first)):
                unpacked = replay.unpack_events(obj, self.inflate_left)  # type: ignore[arg-type]
                if unpacked is not None:
                    events, steps, spent = unpacked
                    self.inflate_left -= spent
                    self.replay(events, path, depth, steps)
                    return
        items = obj.items() if keyed else enumerate(obj)  # type: ignore[union-attr]
        for key, value in items:
            t = type(value)
            if value is None or (not value and (t is str or t is dict or t is list)):
                continue
            if keyed:
                sub = _key_path(path, key if type(key) is str else str(key))
            else:
                sub = f"{path}[{key}]"
            if t is str:
                self.string(sub, value, inner)
            elif t is dict or t is list:
                self.container(value, sub, inner)
            elif t is int:
                self.add(sub, int.__repr__(value))
            elif t is float:
                self.add(sub, _float_text(value))
            elif t is bool:
                self.add(sub, "true" if value else "false")
            else:
                self.json(value, sub, inner)

    # -- strings ------------------------------------------------------------------------------

    def string(self, path: str, value: str, depth: int, inline_json: bool = True) -> None:
        """A non-empty string value: walked as JSON when it holds an object/array (and
        ``inline_json``), else one field plus its JWT / base64-JSON expansion."""
        first = value[0]
        if inline_json and depth < self.max_depth and (
            first == "{" or first == "[" or (first in _WS and value.lstrip()[:1] in _OPEN)
        ):
            obj = _loads_container(value)
            if obj is not None:
                self.container(obj, path, depth)
                return
        if depth < self.max_depth and len(value) >= 8:
            if first in _PACKED_FIRST:
                kind = latin1_compression(value)
                if kind is not None and self.packed_latin1(value, kind, path, depth):
                    return
            elif first in _B64_PACKED_FIRST and base64_compression(value):
                raw = _b64decode(value)
                kind = compression_of(raw) if raw is not None else None
                if kind is not None and self.inflated(raw, kind, _sub(path, "@base64"), depth):  # type: ignore[arg-type]
                    return
        self.add(path, value)
        if depth >= self.max_depth or len(value) < 16:
            return
        if first == "e" and value.startswith("eyJ") and value.count(".") == 2:
            claims = decode_jwt(value)
            if claims is not None:
                self.container(claims, _sub(path, "@jwt"), depth)
                return
        if first in _B64_FIRST:
            wrapped = decode_base64_json(value)
            if wrapped is not None:
                self.container(wrapped, _sub(path, "@base64"), depth)

    # -- content decoded by sniffing ----------------------------------------------------------

    def packed_latin1(self, value: str, kind: str, path: str, depth: int) -> bool:
        """A string holding compressed bytes one per character (``strFromU8(gzipSync(...), true)``)."""
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:
            return False
        return self.inflated(data, kind, path, depth)

    def inflated(self, data: bytes, kind: str, path: str, depth: int) -> bool:
        """Inflate ``data`` (compressed with ``kind``) and walk it under ``<path>.@<kind>``;
        ``False`` (walking nothing) when it does not inflate."""
        if depth >= self.max_depth:
            return False
        got = inflate(data, kind, self.inflate_left)
        if got is None:
            return False
        out = got[0]
        self.inflate_left -= len(out)
        self.body(out, None, _sub(path, "@" + kind), depth + 1)
        return True

    def replay(self, events: list, path: str, depth: int, steps: list[str] | None = None) -> None:
        """A session replay event stream: its text and typed input, the rest of its events
        (custom and plugin events) walked as JSON."""
        inflated, items = replay.reconstruct(events, path, self.inflate_left, self.max_depth - depth, steps, self.page)
        self.inflate_left -= inflated
        for item in items:
            if isinstance(item, replay.Walk):
                self.json(item.value, item.path, depth + item.depth)
            else:
                self.add(item.path, item.text, "value", item.content_type)

    # -- bodies -------------------------------------------------------------------------------

    def binary(self, path: str, size: int, mime: str) -> None:
        """One ``kind="binary"`` field describing undecodable content."""
        value = f"<{size} bytes {mime}>" if mime else f"<{size} bytes>"
        self.add(path, value, "binary", mime or None)

    def body(self, data: bytes, content_type: str | None, prefix: str, depth: int = 0) -> None:
        """Walk a body, choosing the format from its content type and its content (compressed
        content is inflated whatever the content type says)."""
        if not data:
            return
        kind = compression_of(data)
        if kind is not None and self.inflated(data, kind, prefix, depth):
            return
        mime, params = _parse_content_type(content_type)
        charset = params.get("charset")
        if mime.startswith("multipart/"):
            boundary = params.get("boundary") or _sniff_boundary(data)
            if boundary and self.multipart(data, boundary, prefix, depth):
                return
        if _is_binary_mime(mime):
            self.binary(prefix, len(data), mime)
            return
        declared_text = _is_text_mime(mime)
        untyped = mime in _UNTYPED
        if untyped:
            boundary = _sniff_boundary(data)
            if boundary and self.multipart(data, boundary, prefix, depth):
                return
        if _looks_binary(data, charset, declared_text):
            if data[:1] == b"{" and b"\n" in data and self.ndjson(data, prefix, depth):
                return  # an envelope with binary items (a compressed replay recording)
            if depth < self.max_depth:
                out = inflate_raw(data, self.inflate_left)
                if out is not None:
                    self.inflate_left -= len(out)
                    self.body(out, None, _sub(prefix, "@deflate"), depth + 1)
                    return
            self.binary(prefix, len(data), mime)
            return
        text = _decode_text(data, charset)
        stripped = text.lstrip()
        if not stripped:
            return
        if mime == _SSE or stripped.startswith(("data:", "event:")):
            self.sse(text, prefix, depth)
            return
        if stripped[0] in "{[" or "json" in mime:
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError):
                if "\n" in stripped.rstrip() and self.ndjson(data, prefix, depth):
                    return
            else:
                self.json(obj, prefix, depth)
                return
        if mime == _FORM and "=" in text:
            self.form(text, prefix, depth)
            return
        if untyped and _FORM_RE.fullmatch(stripped.rstrip()):
            self.form(stripped.rstrip(), prefix, depth)
            return
        self.string(prefix, text, depth, inline_json=False)

    def ndjson(self, data: bytes, prefix: str, depth: int = 0) -> bool:
        """Newline-delimited JSON (also Sentry envelopes): line ``i`` under ``[i]``.

        Compressed data at the start of a line (the zlib replay recording of a Sentry envelope)
        is inflated to the end of its stream, newlines and all, under ``[i].@zlib``; the lines
        after it keep their numbers. Returns ``False`` (walking nothing) unless the first
        non-blank line is JSON.
        """
        data = data.removeprefix(b"\xef\xbb\xbf")
        first = next((s for s in (line.strip(b" \t\r\x1e") for line in data.split(b"\n", 8)[:8]) if s), b"")
        try:
            if _loads_container(first.decode("utf-8")) is None:
                return False
        except UnicodeDecodeError:
            return False
        end = len(data)
        pos = 0
        index = 0  # the line number of ``pos``
        while pos < end:
            path = f"{prefix}[{index}]"
            kind = compression_of(data[pos : pos + 8])
            if kind is not None and depth < self.max_depth:
                got = inflate(data[pos:], kind, self.inflate_left)
                if got is not None:
                    out, used = got
                    self.inflate_left -= len(out)
                    self.body(out, None, _sub(path, "@" + kind), depth + 1)
                    stop = pos + used
                    index += data.count(b"\n", pos, stop)
                    pos = stop
                    if pos < end and data[pos] == 0x0A:
                        pos += 1
                        index += 1
                    continue
            newline = data.find(b"\n", pos)
            stop = end if newline < 0 else newline
            self.ndjson_line(data[pos:stop], path, depth)
            pos = stop
            if pos < end and data[pos] == 0x0A:
                pos += 1
                index += 1
        return True

    def ndjson_line(self, raw: bytes, path: str, depth: int) -> None:
        """One NDJSON line: JSON walked, text as a field, binary as a ``binary`` field."""
        raw = raw.strip(b" \t\r\x1e")
        if not raw:
            return
        try:
            line: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = None
        if line is None or _CONTROL_RE.search(line):
            # Envelope items may carry binary payloads (attachments, compressed replays).
            if _binary_score(raw, None) > 0.05:
                self.binary(path, len(raw), "")
                return
            line = raw.decode("utf-8", "replace")
        if line[0] in "{[":
            obj = _loads_container(line)
            if obj is not None:
                self.container(obj, path, depth)
                return
        self.string(path, line, depth, inline_json=False)

    def sse(self, text: str, prefix: str, depth: int = 0) -> None:
        """Server-sent events: the data of event ``i`` under ``sse[i]``; ``[DONE]`` skipped."""
        base = _sub(prefix, "sse")
        index = 0
        data_lines: list[str] | None = None
        for line in text.split("\n"):
            line = line.rstrip("\r")
            if not line:
                if data_lines is not None:
                    self.sse_event(base, index, "\n".join(data_lines), depth)
                    index += 1
                    data_lines = None
                continue
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if name == "data":
                if sep and value[:1] == " ":
                    value = value[1:]
                if data_lines is None:
                    data_lines = [value]
                else:
                    data_lines.append(value)
        if data_lines is not None:
            self.sse_event(base, index, "\n".join(data_lines), depth)

    def sse_event(self, base: str, index: int, data: str, depth: int = 0) -> None:
        """One event's data: JSON walked, text as a field, ``[DONE]`` and empty data skipped."""
        if not data.strip() or data.strip() == "[DONE]":
            return
        self.string(f"{base}[{index}]", data, depth)

    def form(self, text: str, prefix: str, depth: int = 0) -> None:
        """``application/x-www-form-urlencoded``: one field per parameter, named as is; an
        lz-string ``compressToBase64`` value holding JSON is walked under ``<name>.@lzstring``."""
        for name, value in parse_qsl(text, keep_blank_values=True):
            if not value:
                continue
            path = _sub(prefix, name)
            if len(value) >= 16 and depth < self.max_depth and value[0] not in "{[":
                unpacked = lzstring_json(value, self.inflate_left)
                if unpacked is not None:
                    self.inflate_left -= len(unpacked)
                    obj = _loads_container(unpacked)
                    if obj is not None:
                        self.container(obj, _sub(path, "@lzstring"), depth + 1)
                        continue
            self.string(path, value, depth)

    def multipart(self, data: bytes, boundary: str, prefix: str, depth: int = 0) -> bool:
        """``multipart/*``: text parts by name, file parts as ``kind="file"`` fields (compressed
        parts, such as a replay segment, are inflated and walked)."""
        parts = _multipart_parts(data, boundary)
        if not parts:
            return False
        for index, (headers, content) in enumerate(parts):
            name, filename = _content_disposition(headers.get("content-disposition", ""))
            mime, params = _parse_content_type(headers.get("content-type"))
            path = _sub(prefix, name) if name is not None else f"{prefix}[{index}]"
            kind = compression_of(content)
            if kind is not None and self.inflated(content, kind, path, depth):
                continue
            if filename is not None or (mime and not _is_text_mime(mime)):
                self.add(path, filename or "", "file", mime or None)
                continue
            text = _decode_text(content, params.get("charset"))
            if text:
                self.string(path, text, depth)
        return True

    # -- HTTP metadata ------------------------------------------------------------------------

    def headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """Headers by lower-cased name; ``cookie`` skipped; ``set-cookie`` and
        ``authorization`` split into their parts."""
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == "cookie":
                continue
            if name == _SET_COOKIE:
                cookie, sep, cookie_value = value.split(";", 1)[0].partition("=")
                cookie, cookie_value = cookie.strip(), cookie_value.strip()
                if len(cookie_value) >= 2 and cookie_value[0] == '"' and cookie_value[-1] == '"':
                    cookie_value = cookie_value[1:-1]
                if sep and cookie and cookie_value:
                    self.string(f"{_SET_COOKIE}.{cookie}", cookie_value, 0, inline_json=False)
                continue
            if not value:
                continue
            self.string(name, value, 0, inline_json=False)
            if name in _AUTH_HEADERS:
                self.authorization(name, value)

    def authorization(self, name: str, value: str) -> None:
        """``Bearer X`` -> ``<name>.bearer``; ``Basic`` -> ``.basic.username``/``.password``;
        other schemes -> ``<name>.<scheme>``."""
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip()
        if not credentials:
            return
        scheme = scheme.lower()
        if scheme == "basic":
            raw = _b64decode(credentials)
            if raw is not None:
                username, _, password = raw.decode("utf-8", "replace").partition(":")
                if username:
                    self.add(f"{name}.basic.username", username)
                if password:
                    self.add(f"{name}.basic.password", password)
                return
        self.string(f"{name}.{scheme}", credentials, 0, inline_json=False)

    def cookies(self, cookies: Iterable[tuple[str, str]]) -> None:
        """Request cookies by name; URL-encoded JSON values are walked too."""
        for name, value in cookies:
            if not value:
                continue
            if value[:3].upper() in ("%7B", "%5B"):
                obj = _loads_container(unquote(value, errors="replace"))
                if obj is not None:
                    self.container(obj, name, 0)
                    continue
            self.string(name, value, 0, inline_json=True)

    def query(self, query: str | Iterable[tuple[str, str]]) -> None:
        """Query parameters by name (repeated names give one field each)."""
        if isinstance(query, str):
            query = parse_qsl(query.partition("#")[0].removeprefix("?"), keep_blank_values=True)
        for name, value in query:
            if value:
                self.string(name, value, 0)

    def path_segments(self, path: str) -> None:
        """Non-empty, percent-decoded path segments as ``path[0]``, ``path[1]``, ..."""
        path = path.partition("?")[0].partition("#")[0]
        if not path.startswith("/") and "://" in path:  # absolute-form request target
            slash = path.find("/", path.find("://") + 3)
            path = path[slash:] if slash >= 0 else ""
        index = 0
        for segment in path.split("/"):
            if not segment:
                continue
            decoded = unquote(segment, errors="replace")
            if decoded:
                self.string(f"path[{index}]", decoded, 0)
                index += 1

    def websocket(self, messages: list[WebSocketMessage], from_client: bool) -> None:
        """The messages of one direction, each under ``[i]`` (its index among all messages)."""
        for index, message in enumerate(messages):
            if message.from_client != from_client or not message.content:
                continue
            path = f"[{index}]"
            if message.is_text:
                text = message.content.decode("utf-8", "replace")
                if text:
                    self.string(path, text, 0)
            else:
                self.add(path, f"<{len(message.content)} bytes>", "binary")


# ---------------------------------------------------------------------------------------------
# public API


def _run(walker: _Walker, walk: Callable[..., None], *args: object) -> list[Field]:
    """Run one walker method, swallowing the field cap and any failure on hostile input."""
    try:
        if walker.max_fields > 0:
            walk(*args)
    except _Full:
        pass
    except Exception:  # hostile input must yield fields or nothing, never an exception
        pass
    return walker.out


def walk_json(
    obj: object,
    prefix: str = "",
    part: str = "request.body",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """Fields of a parsed JSON value, paths under ``prefix`` (``a.b[0].c``)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.json, obj, prefix, 0)


def walk_string(
    value: str,
    path: str,
    part: str,
    *,
    inline_json: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> list[Field]:
    """Fields of one string value: JSON inside it walked in place (with ``inline_json``),
    compressed bytes inflated and walked (``<path>.@gzip``...), else the value itself plus its
    JWT claims (``<path>.@jwt``) or base64-wrapped JSON (``<path>.@base64``)."""
    walker = _Walker(max_depth, max_fields, part, max_inflated)
    if not value:
        return []
    return _run(walker, walker.string, path, value, 0, inline_json)


def walk_body(
    body: bytes,
    content_type: str | None,
    part: str,
    prefix: str = "",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> list[Field]:
    """Fields of a (decoded) body: JSON, NDJSON/envelope, form, multipart, SSE, text, binary;
    compressed content found by sniffing is inflated (at most ``max_inflated`` bytes in all)."""
    walker = _Walker(max_depth, max_fields, part, max_inflated)
    return _run(walker, walker.body, body, content_type, prefix)


def walk_headers(
    headers: Iterable[tuple[str, str]],
    part: str = "request.header",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """Header fields (``cookie`` skipped: see :func:`walk_cookies`)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.headers, headers)


def walk_cookies(
    cookies: Iterable[tuple[str, str]],
    part: str = "request.cookie",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """Cookie fields from ``(name, value)`` pairs (as :attr:`Exchange.cookies` gives them)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.cookies, cookies)


def walk_query(
    query: str | Iterable[tuple[str, str]],
    part: str = "request.query",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """Query fields from a query string (``a=1&b=2``, leading ``?`` allowed) or pairs."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.query, query)


def walk_path_segments(
    path: str,
    part: str = "request.url",
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """Path segment fields of a request target (its query, if any, is ignored)."""
    walker = _Walker(max_depth, max_fields, part)
    return _run(walker, walker.path_segments, path)


def walk_websocket(
    messages: list[WebSocketMessage],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
) -> list[Field]:
    """WebSocket fields: all client messages (``websocket.client``), then server messages."""
    walker = _Walker(max_depth, max_fields)
    for part, from_client in (("websocket.client", True), ("websocket.server", False)):
        walker.part = part
        _run(walker, walker.websocket, messages, from_client)
    return walker.out


class Fields(list[Field]):
    """The fields of one walk; ``depth_cut`` is true when ``max_depth`` left deeper levels out."""

    depth_cut: bool = False


def walk_exchange(
    ex: Exchange,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_fields: int = DEFAULT_MAX_FIELDS,
    max_inflated: int = DEFAULT_MAX_INFLATED,
    replays: replay.Memory | None = None,
) -> Fields:
    """Every field of an exchange, in pipeline order: URL path, query, request headers,
    cookies, request body, WebSocket client then server messages, response headers, body.

    At most ``max_fields`` fields in all, and at most ``max_inflated`` bytes inflated by
    sniffing; a part that fails to parse is skipped, never raised. ``replays`` keeps the pages
    of session replays between exchanges (the elements typed into are named in earlier ones).
    """
    page = replays.page(ex.host) if replays is not None else None
    walker = _Walker(max_depth, max_fields, max_inflated=max_inflated, page=page)
    query = ex.path.partition("#")[0].partition("?")[2]
    steps: list[tuple[str, Callable[..., None], tuple[object, ...]]] = [
        ("request.url", walker.path_segments, (ex.path,)),
        ("request.query", walker.query, (query,)),
        ("request.header", walker.headers, (ex.request_headers,)),
        ("request.cookie", walker.cookies, (_request_cookies(ex),)),
        ("request.body", walker.body, (ex.request_body, ex.request_header("content-type"), "")),
        ("websocket.client", walker.websocket, (ex.websocket, True)),
        ("websocket.server", walker.websocket, (ex.websocket, False)),
        ("response.header", walker.headers, (ex.response_headers,)),
        ("response.body", walker.body, (ex.response_body, ex.response_header("content-type"), "")),
    ]
    for part, walk, args in steps:
        if len(walker.out) >= max_fields:
            break
        walker.part = part
        _run(walker, walk, *args)
    return walker.out


def _request_cookies(ex: Exchange) -> list[tuple[str, str]]:
    """``Exchange.cookies``, tolerating odd header values."""
    try:
        return ex.cookies
    except Exception:
        return []
