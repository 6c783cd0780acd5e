"""The walker of values and bodies: JSON, strings (JSON, tokens and compressed bytes inside them),
content decoded by sniffing, session replays, and body formats (NDJSON, SSE, form, multipart).

A walk collects :class:`Fields` and stops with :class:`_Full` once ``max_fields`` are taken.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from auditor.extract import replay
from auditor.extract.mime import (
    _CONTROL_RE,
    _FORM,
    _FORM_RE,
    _SSE,
    _UNTYPED,
    _binary_score,
    _content_disposition,
    _decode_text,
    _is_binary_mime,
    _is_text_mime,
    _looks_binary,
    _multipart_parts,
    _parse_content_type,
    _sniff_boundary,
)
from auditor.extract.paths import _float_text, _key_path, _scalar_text, _sub
from auditor.extract.sniff import (
    base64_compression,
    compression_of,
    inflate,
    inflate_raw,
    latin1_compression,
    lzstring_json,
)
from auditor.extract.tokens import _B64_FIRST, _b64decode, _loads_container, decode_base64_json, decode_jwt
from auditor.limits import DEFAULT_MAX_INFLATED
from auditor.models import Field

_WS = " \t\r\n"
_OPEN = ("{", "[")
# First character of a latin-1 string of gzip, zlib or zstd bytes, and of their base64.
_PACKED_FIRST = frozenset("\x1fx(")
_B64_PACKED_FIRST = frozenset("HeK")


class _Full(Exception):
    """Raised inside a walk once ``max_fields`` fields were collected."""


class Fields(list[Field]):
    """The fields of one walk.

    ``depth_cut`` is true when ``max_depth`` left deeper levels out. ``failures`` has one note
    per part whose walk stopped on an unexpected error (``"request.body: RecursionError in
    container"``): the fields before the error are kept, the rest of that part is not walked.
    The notes name the part, the exception type and the function, never captured values.
    """

    depth_cut: bool = False
    failures: tuple[str, ...] = ()


class _ContentWalker:
    """Collects fields for one walk; ``part`` is set before each part is walked.

    This class walks values and bodies; :class:`auditor.extract.parts._Walker` adds the other
    parts of an exchange.
    """

    __slots__ = ("inflate_left", "max_depth", "max_fields", "out", "page", "part")

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
            elif (
                type(first) is str
                and len(first) > 20
                and (first[0] == "x" or (first[0] == "{" and '"timestamp"' in first))
            ):
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
            sub = _key_path(path, key if type(key) is str else str(key)) if keyed else f"{path}[{key}]"
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
        out = self.out  # self.add(path, value), inline: most fields are added here
        if len(out) >= self.max_fields:
            raise _Full
        out.append(Field(self.part, path, value))
        if len(out) >= self.max_fields:
            raise _Full
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
