"""Replacing values in text and bytes, in every form a capture may hold them.

A value is searched raw, URL-encoded, JSON-escaped (also twice, as in JSON inside a JSON string),
HTML-escaped and base64-encoded whole; base64 runs are decoded, searched and re-encoded, so a
value inside a JWT payload or a base64 blob is found at any alignment. Each form of a value is
replaced by the same form of its placeholder.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

from auditor.redact.matching import MIN_LENGTH, Matcher

__all__ = ["B64_FORMS", "MAX_DEPTH", "TEXT_FORMS", "Substituter", "form_pairs"]

MAX_DEPTH = 3  # base64 inside base64...
_B64_RUN_STR = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_B64_RUN_BYTES = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")


def _json(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)[1:-1]


def _json_ascii(s: str) -> str:
    return json.dumps(s)[1:-1]


def _quote_lower(s: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(s, safe=""))


# The textual encodings a value is searched in, each applied to the value and its placeholder.
TEXT_FORMS: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    _json,
    _json_ascii,
    lambda s: _json(s).replace("/", "\\/"),
    lambda s: _json_ascii(s).replace("/", "\\/"),
    lambda s: _json(_json(s)),
    lambda s: _json_ascii(_json_ascii(s)),
    lambda s: quote(s, safe=""),
    quote,
    _quote_lower,
    quote_plus,
    lambda s: quote(quote(s, safe=""), safe=""),
    lambda s: quote_plus(quote_plus(s)),
    html.escape,
    lambda s: html.escape(s, quote=False),
)
# The base64 forms of a whole value (base64 runs holding it at other offsets are decoded instead).
B64_FORMS: tuple[Callable[[bytes], bytes], ...] = (
    base64.b64encode,
    lambda b: base64.b64encode(b).rstrip(b"="),
    base64.urlsafe_b64encode,
    lambda b: base64.urlsafe_b64encode(b).rstrip(b"="),
)


def form_pairs(mapping: dict[str, str]) -> dict[str, str]:
    """Every searched form of every value, with the same form of its placeholder."""
    pairs: dict[str, str] = {}
    for value, repl in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        for form in TEXT_FORMS:
            try:
                a = form(value)
                if a and a not in pairs and len(a) >= MIN_LENGTH:
                    pairs[a] = form(repl)
            except UnicodeEncodeError:  # (a lone surrogate has no URL-encoded form)
                continue
        if len(value) >= 4:
            vb, rb = value.encode("utf-8", "surrogatepass"), repl.encode("utf-8", "surrogatepass")
            for bform in B64_FORMS:
                a = bform(vb).decode("ascii")
                if a not in pairs:
                    pairs[a] = bform(rb).decode("ascii")
    return pairs


class Substituter:
    """Replaces registered values (in every searched form) in text and bytes, also inside base64."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self._pairs: dict[str, str] | None = form_pairs(mapping)
        self._text: Matcher | None = None
        self._bytes: Matcher | None = None
        self.enabled = bool(self._pairs)

    # Each matcher is built on first use: a flow file is mostly bytes, a HAR mostly text, and
    # every matcher holds every form of every value.
    @property
    def text_matcher(self) -> Matcher:
        if self._text is None:
            if self._pairs is not None:
                pairs, self._pairs = self._pairs, None
            else:  # (from the other matcher's pairs: one copy of the forms is kept meanwhile)
                assert self._bytes is not None
                pairs = {
                    k.decode("utf-8", "surrogatepass"): v.decode("utf-8", "surrogatepass")
                    for k, v in self._bytes.pairs.items()
                }
            self._text = Matcher(pairs, str)
        return self._text

    @property
    def bytes_matcher(self) -> Matcher:
        if self._bytes is None:
            if self._pairs is not None:
                source, self._pairs = self._pairs, None
            else:
                assert self._text is not None
                source = self._text.pairs
            self._bytes = Matcher(
                {k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass") for k, v in source.items()},
                bytes,
            )
        return self._bytes

    @property
    def replacements(self) -> int:
        return (self._text.count if self._text else 0) + (self._bytes.count if self._bytes else 0)

    def text(self, s: str, depth: int = 0) -> str:
        if not self.enabled or not s:
            return s
        s = self.text_matcher.sub(s)
        if depth < MAX_DEPTH and len(s) >= 8:
            s = _B64_RUN_STR.sub(lambda m: self._b64_run_text(m.group(), depth), s)
        return s

    def data(self, b: bytes, depth: int = 0) -> bytes:
        if not self.enabled or not b:
            return b
        b = self.bytes_matcher.sub(b)
        if depth < MAX_DEPTH and len(b) >= 8:
            b = _B64_RUN_BYTES.sub(lambda m: self._b64_run(m.group(), depth), b)
        return b

    def _b64_run_text(self, run: str, depth: int) -> str:
        return self._b64_run(run.encode("ascii"), depth).decode("ascii")

    def _b64_run(self, run: bytes, depth: int) -> bytes:
        body = run.rstrip(b"=")
        if len(body) % 4 == 1:
            return run
        urlsafe = b"-" in body or b"_" in body
        if urlsafe and (b"+" in body or b"/" in body):
            return run
        try:
            raw = base64.b64decode(body + b"=" * (-len(body) % 4), altchars=b"-_" if urlsafe else None, validate=True)
        except (binascii.Error, ValueError):
            return run
        new = self.data(raw, depth + 1)
        if new == raw:
            return run
        if not urlsafe and not run.endswith(b"=") and (len(body) % 4 != 0):
            urlsafe = True  # unpadded: base64url is the likelier alphabet (JWT segments, URLs)
        enc = base64.urlsafe_b64encode(new) if urlsafe else base64.b64encode(new)
        if not run.endswith(b"="):
            enc = enc.rstrip(b"=")
        return enc
