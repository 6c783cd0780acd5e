"""Content types, the text-or-binary guess for bodies, and multipart parsing."""

from __future__ import annotations

import re
from urllib.parse import unquote

_SNIFF = 4096  # bytes looked at when guessing whether a body is text

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
