"""Rewriting a capture's records with every registered value replaced.

A :class:`Redactor` first collects the values to replace from each exchange (what the audit
finds with values revealed, in requests and in responses, the identifier claims of JWTs,
identifier-shaped values under id keys, the client's public address), then rewrites mitmproxy
flow states and HAR entries: headers, URL and query (not the host), cookies, bodies (decoded
from their Content-Encoding, replaced, encoded again), WebSocket messages and every other text.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from auditor.audit.pipeline import AuditOptions, Auditor
from auditor.classifiers import classify
from auditor.limits import DEFAULT_LIMITS, Limits
from auditor.models import Exchange, Field, WebSocketMessage
from auditor.redact.bodies import COMPRESSED_MAGIC, STRUCTURAL_HEADERS, compress, encode_body, header, sniffed_body
from auditor.redact.placeholders import ID_CLAIMS, JWT, Placeholders, jwt_claims
from auditor.redact.substitution import Substituter

__all__ = ["Redactor", "Warn", "mirror"]

Warn = Callable[[str], None]

# Flow state keys that name the destination (kept, so the redacted capture has the same ones).
_HOST_KEYS = frozenset({"host", "authority", "sni", "address", "server_conn", "serverIPAddress"})
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.S)
# A field key that names an identifier: ``id``, ``file_id``, ``ref_file_ids``, ``conversationId``, ``uuid``.
_ID_KEY = re.compile(r"(?i:(?:^|[_-])(?:id|ids|uuid|guid)$)|[a-z](?:Id|Ids|ID|IDs|Uuid)$")
_ID_KEY_PATH = re.compile(r"\[\d*\]")


def mirror(ex: Exchange) -> Exchange:
    """The response side of an exchange dressed as a request, so the classifiers read it."""
    headers = [(k, v) for k, v in ex.response_headers if k.lower() != "set-cookie"]
    cookies = ex.set_cookies
    if cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
    return Exchange(
        capture=ex.capture,
        index=ex.index,
        id=ex.id,
        method="POST",
        scheme=ex.scheme,
        host=ex.host,
        port=ex.port,
        path="/",
        request_headers=headers,
        request_body=ex.response_body,
        websocket=[
            WebSocketMessage(True, m.content, m.is_text, m.timestamp) for m in ex.websocket if not m.from_client
        ],
    )


class Redactor:
    def __init__(self, name: str, key: bytes | None, warn: Warn, limits: Limits = DEFAULT_LIMITS) -> None:
        self.name = name
        self.limits = limits
        self.placeholders = Placeholders(key)
        self.auditor = Auditor(AuditOptions(reveal=True, limits=limits))
        self.warn = warn
        self.sub: Substituter | None = None
        self.exchanges = 0
        self.partial_bodies = 0
        self.cut = 0  # values cut at the body limit in the copy

    def release(self) -> None:
        """Drop what the rewriting needed (the audit, the placeholders, the matchers)."""
        self.auditor = Auditor(AuditOptions(reveal=False))
        if self.sub is not None:
            self.sub.close()
        self.sub = None
        self.placeholders = Placeholders(b"\0" * 32)

    # ---- collection

    def collect(self, ex: Exchange) -> None:
        from auditor.extract import walk_exchange

        self.exchanges += 1
        for f in self.auditor.add_exchange(ex):
            self._found(f, ex.host)
        self._ids(walk_exchange(ex, max_depth=self.limits.max_depth, max_fields=self.limits.max_fields))
        mirrored = mirror(ex)
        if mirrored.request_headers or mirrored.request_body or mirrored.websocket:
            fields = walk_exchange(mirrored, max_depth=self.limits.max_depth, max_fields=self.limits.max_fields)
            for f in classify(mirrored, fields):
                if f.category != "prompt":
                    self._found(f, ex.host)
            self._ids(fields)

    def _found(self, f: Any, host: str) -> None:
        """Register a finding's value, and the personal values inside it: the pieces of a
        prompt (names, addresses), the name part of an email address, a JWT's claims."""
        from auditor.extract.freetext import email_name, personal_values

        ph = self.placeholders
        ph.add(f.value, f.category, f.part, f.path, host)
        if f.category == "credential":
            for m in JWT.finditer(f.value):
                self._claims(m.group(), host)
        elif f.category == "prompt":
            for value, category in personal_values(f.value):
                ph.add(value, category)
        elif f.category == "email":
            name = email_name(f.value)
            if name is not None:
                ph.add(name, "person_name")

    def _ids(self, fields: Iterable[Field]) -> None:
        """Identifier-shaped values under keys that name an id (``file_id``, ``ref_file_ids``,
        ``event_id``, ``id``): no classifier calls them personal, but they link a copy to a user."""
        from auditor.extract.freetext import id_like

        for f in fields:
            key = _ID_KEY_PATH.sub("", f.path).rpartition(".")[2]
            if _ID_KEY.search(key) and id_like(f.value) and len(f.value) <= 200:
                self.placeholders.add(f.value, "identifier")

    def _claims(self, token: str, host: str) -> None:
        claims = jwt_claims(token)
        if not claims:
            return
        for k, v in claims.items():
            cat = ID_CLAIMS.get(str(k).lower())
            if cat and isinstance(v, (str, int)) and not isinstance(v, bool):
                self.placeholders.add(str(v), cat)

    def client_address(self, ip: Any) -> None:
        """A client's public address is personal data (its private and loopback ones are not)."""
        if not isinstance(ip, str):
            return
        try:
            if ipaddress.ip_address(ip).is_global:
                self.placeholders.add(ip, "ip_address")
        except ValueError:
            pass

    def finish_collection(self) -> None:
        mapping = dict(self.placeholders.build())
        mapping.update({k: v for k, v in self.placeholders.extra.items() if k not in mapping})
        self.sub = Substituter(mapping)

    # ---- rewriting

    def body(self, raw: Any, encoding: str | None) -> Any:
        """A body with values replaced, decoded from and encoded back to its Content-Encoding."""
        assert self.sub is not None
        if not isinstance(raw, bytes) or not raw:
            return raw
        if not encoding or encoding.strip().lower() in ("identity", "none", ""):
            packed = sniffed_body(raw, self.limits.max_inflated)  # no Content-Encoding: rewritten inside
            if packed is not None:
                new = self.sub.data(packed.content)
                if new == packed.content:
                    return raw
                if not packed.whole:
                    self.partial_bodies += 1
                return compress(new, packed.kind)
            return self.sub.data(raw)
        from auditor.io.decoding import decode_body

        decoded, err = decode_body(raw, encoding, self.limits.max_inflated)
        new = self.sub.data(decoded)
        if new == decoded:
            return self.sub.data(raw) if err else raw
        if err:
            self.partial_bodies += 1
        try:
            return encode_body(new, encoding)
        except (ValueError, KeyError, OSError):
            self.partial_bodies += 1
            return new

    def value(self, obj: Any) -> Any:
        assert self.sub is not None
        if isinstance(obj, bytes):
            return self.sub.data(obj)
        if isinstance(obj, str):
            return self.sub.text(obj)
        if isinstance(obj, list):
            return [self.value(x) for x in obj]
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        return obj

    def url(self, url: Any) -> Any:
        """A URL with values replaced everywhere but in its host and port."""
        if not isinstance(url, str):
            return self.value(url)
        m = _URL.match(url)
        if m is None:
            return self.value(url)
        scheme, authority, rest = m.groups()
        if "@" in authority:
            userinfo, _, hostport = authority.rpartition("@")
            authority = f"{self.value(userinfo)}@{hostport}"
        return scheme + authority + self.value(rest)

    def headers(self, headers: Any) -> Any:
        if not isinstance(headers, list):
            return self.value(headers)
        out: list[Any] = []
        for h in headers:
            if isinstance(h, list) and len(h) == 2:
                name = h[0].decode("latin-1") if isinstance(h[0], bytes) else str(h[0])
                out.append(h if name.lower() in STRUCTURAL_HEADERS else [h[0], self.value(h[1])])
            elif isinstance(h, dict) and "value" in h:
                name = str(h.get("name", ""))
                out.append(h if name.lower() in STRUCTURAL_HEADERS else {**h, "value": self.value(h.get("value"))})
            else:
                out.append(self.value(h))
        return out

    # mitmproxy flow states

    def flow_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        headers = msg.get("headers") or []
        encoding = header(headers, "content-encoding") if isinstance(headers, list) else None
        out: dict[str, Any] = {}
        for k, v in msg.items():
            if k == "headers" or k == "trailers":
                out[k] = self.headers(v)
            elif k == "content":
                out[k] = self.body(v, encoding)
            elif k in _HOST_KEYS:
                out[k] = v
            else:
                out[k] = self.value(v)
        old, new = msg.get("content"), out.get("content")
        if (
            isinstance(old, bytes)
            and isinstance(new, bytes)
            and len(old) != len(new)
            and isinstance(out.get("headers"), list)
        ):
            fixed = []
            for h in out["headers"]:
                if (
                    isinstance(h, list)
                    and len(h) == 2
                    and isinstance(h[0], bytes)
                    and h[0].lower() == b"content-length"
                    and h[1] == str(len(old)).encode()
                ):
                    h = [h[0], str(len(new)).encode()]
                fixed.append(h)
            out["headers"] = fixed
        return out

    def flow_state(self, state: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in state.items():
            if k in ("request", "response") and isinstance(v, dict):
                out[k] = self.flow_message(v)
            elif k in _HOST_KEYS:
                out[k] = v
            elif k == "client_conn" and isinstance(v, dict):
                out[k] = {ck: (cv if ck in _HOST_KEYS else self.value(cv)) for ck, cv in v.items()}
            else:
                out[k] = self.value(v)
        return out

    # HAR

    def har_content(self, content: dict[str, Any], headers: Any) -> dict[str, Any]:
        out = {k: (self.value(v) if k != "text" else v) for k, v in content.items()}
        text = content.get("text")
        if not isinstance(text, str) or not text:
            return out
        if str(content.get("encoding", "")).lower() == "base64":
            try:
                raw = base64.b64decode(text, validate=False)
            except (binascii.Error, ValueError):
                out["text"] = self.value(text)
                return out
            ce = header(headers, "content-encoding") if isinstance(headers, list) else None
            new = self.body(raw, ce) if ce and raw.startswith(COMPRESSED_MAGIC) else self.value(raw)
            out["text"] = text if new == raw else base64.b64encode(new).decode("ascii")
        else:
            out["text"] = self.value(text)
        return out

    def har_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        headers = msg.get("headers")
        for k, v in msg.items():
            if k == "headers":
                out[k] = self.headers(v)
            elif k in ("content", "postData") and isinstance(v, dict):
                out[k] = self.har_content(v, headers)
            elif k == "url":
                out[k] = self.url(v)
            else:
                out[k] = self.value(v)
        return out

    def har_entry(self, entry: Any) -> Any:
        if not isinstance(entry, dict):
            return self.value(entry)
        out: dict[str, Any] = {}
        for k, v in entry.items():
            if k in ("request", "response") and isinstance(v, dict):
                out[k] = self.har_message(v)
            elif k in _HOST_KEYS:
                out[k] = v
            elif k == "_webSocketMessages" and isinstance(v, list):
                msgs = []
                for m in v:
                    if isinstance(m, dict) and m.get("opcode") == 2 and isinstance(m.get("data"), str):
                        try:
                            raw = base64.b64decode(m["data"])
                        except (binascii.Error, ValueError):
                            msgs.append(self.value(m))
                            continue
                        new = self.value(raw)
                        msgs.append({**m, "data": m["data"] if new == raw else base64.b64encode(new).decode("ascii")})
                    else:
                        msgs.append(self.value(m))
                out[k] = msgs
            else:
                out[k] = self.value(v)
        return out
