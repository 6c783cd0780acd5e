"""Plain data types passed between the pipeline stages.

sources -> :class:`Exchange` -> :class:`Field` -> :class:`Finding` -> destinations -> audit.
Every type here is a small slotted dataclass with no behaviour beyond derived properties,
so stages can be tested one at a time with exact values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlsplit

# The parts of an exchange a field can come from (the JSON report's `location.part`).
PARTS = (
    "request.url",
    "request.query",
    "request.header",
    "request.cookie",
    "request.body",
    "response.header",
    "response.body",
    "websocket.client",
    "websocket.server",
)


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


@dataclass(slots=True)
class WebSocketMessage:
    """One WebSocket message; ``from_client`` is its direction."""

    from_client: bool
    content: bytes
    is_text: bool = True
    timestamp: float | None = None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass(slots=True)
class TlsInfo:
    """What is known of the TLS session between the client and the server."""

    sni: str | None = None
    version: str | None = None
    cipher: str | None = None
    alpn: str | None = None


@dataclass(slots=True)
class Exchange:
    """One normalized request (and its response, if any).

    Bodies are already decoded from their ``Content-Encoding``; ``body_errors`` says when that
    failed or was cut short, and then the body holds what could be read.
    """

    capture: int
    index: int
    id: str
    method: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent
    http_version: str = "HTTP/1.1"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    server_ip: str | None = None
    tls: TlsInfo | None = None
    websocket: list[WebSocketMessage] = field(default_factory=list)
    timestamp: float | None = None
    error: str | None = None
    body_errors: list[str] = field(default_factory=list)
    page: str | None = None  # a HAR entry's page (the top-level document's URL), from ``log.pages``

    @property
    def url(self) -> str:
        default = 443 if self.scheme in ("https", "wss") else 80
        netloc = self.host if self.port in (default, 0) else f"{self.host}:{self.port}"
        if ":" in self.host and not self.host.startswith("["):
            netloc = f"[{self.host}]" if self.port in (default, 0) else f"[{self.host}]:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"

    @property
    def cleartext(self) -> bool:
        """True when the exchange crossed the network unencrypted."""
        return self.scheme in ("http", "ws")

    def request_header(self, name: str) -> str | None:
        return header_value(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return header_value(self.response_headers, name)

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.path).query, keep_blank_values=True)

    @property
    def cookies(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for k, v in self.request_headers:
            if k.lower() != "cookie":
                continue
            for pair in v.split(";"):
                name, sep, value = pair.strip().partition("=")
                if sep and name:
                    out.append((name, value))
        return out

    @property
    def set_cookies(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for k, v in self.response_headers:
            if k.lower() != "set-cookie":
                continue
            try:
                jar: SimpleCookie = SimpleCookie()
                jar.load(v)
                out.extend((m.key, m.value) for m in jar.values())
            except CookieError:  # a cookie the strict parser rejects: its first name=value pair
                name, sep, value = v.split(";", 1)[0].partition("=")
                if sep:
                    out.append((name.strip(), value.strip()))
        return out


@dataclass(frozen=True, slots=True, init=False)
class Field:
    """One value the walkers found in an exchange.

    ``kind`` is ``"value"`` for ordinary values, ``"file"`` for an uploaded file (``value`` is its
    file name, ``content_type`` its declared type) and ``"binary"`` for undecodable content.
    """

    part: str
    path: str
    value: str
    kind: str = "value"
    content_type: str | None = None

    def __init__(self, part: str, path: str, value: str, kind: str = "value", content_type: str | None = None) -> None:
        # What the frozen dataclass's own __init__ does, through the slots directly (a walk makes
        # hundreds of thousands of fields: this halves the cost of each).
        _SET_PART(self, part)
        _SET_PATH(self, path)
        _SET_VALUE(self, value)
        _SET_KIND(self, kind)
        _SET_CONTENT_TYPE(self, content_type)


_SET_PART = Field.__dict__["part"].__set__
_SET_PATH = Field.__dict__["path"].__set__
_SET_VALUE = Field.__dict__["value"].__set__
_SET_KIND = Field.__dict__["kind"].__set__
_SET_CONTENT_TYPE = Field.__dict__["content_type"].__set__


@dataclass(frozen=True, slots=True)
class Finding:
    """A classifier's verdict that a field holds personal data of one category."""

    category: str
    part: str
    path: str
    value: str  # the raw value; renderers mask it unless asked to reveal
    detector: str
    confidence: float
    derived: dict | None = None


@dataclass(slots=True)
class Owner:
    name: str
    parent: str | None = None
    country: str | None = None
    parent_country: str | None = None
    category: str | None = None
    source: str | None = None
    as_of: str | None = None
    product: str | None = None  # the SDK or service, where the owner has several (Firebase Analytics)


@dataclass(slots=True)
class CaptureInfo:
    path: str
    format: str
    exchanges: int = 0
    warnings: list[str] = field(default_factory=list)
    decryption: dict | None = None  # pcap with a key log: coverage (auditor.io.tlsdecrypt)
