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
from collections.abc import Callable, Iterator
from urllib.parse import quote, quote_plus

from auditor.redact.index import SpooledIndex
from auditor.redact.matching import MIN_LENGTH

__all__ = ["B64_FORMS", "MAX_DEPTH", "TEXT_FORMS", "Substituter", "form_pairs", "iter_form_pairs"]

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


def iter_form_pairs(mapping: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Every searched form of every value with the same form of its placeholder, longest values
    first; where two values share a form, the first pair given for it is the one kept."""
    for value, repl in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        for form in TEXT_FORMS:
            try:
                a = form(value)
                if a and len(a) >= MIN_LENGTH:
                    yield a, form(repl)
            except UnicodeEncodeError:  # (a lone surrogate has no URL-encoded form)
                continue
        if len(value) >= 4:
            vb, rb = value.encode("utf-8", "surrogatepass"), repl.encode("utf-8", "surrogatepass")
            for bform in B64_FORMS:
                yield bform(vb).decode("ascii"), bform(rb).decode("ascii")


def form_pairs(mapping: dict[str, str]) -> dict[str, str]:
    """Every searched form of every value, with the same form of its placeholder."""
    pairs: dict[str, str] = {}
    for a, b in iter_form_pairs(mapping):
        pairs.setdefault(a, b)
    return pairs


class Substituter:
    """Replaces registered values (in every searched form) in text and bytes, also inside base64.

    The forms and their placeholders are kept on disk (:class:`.index.SpooledIndex`), so memory
    does not grow with the number of values; text is searched as UTF-8, with the same result.
    """

    def __init__(self, mapping: dict[str, str]) -> None:
        self.index = SpooledIndex()
        for a, b in iter_form_pairs(mapping):
            self.index.add(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"), len(a))
        self.enabled = bool(self.index.size)

    @property
    def replacements(self) -> int:
        return self.index.count

    def close(self) -> None:
        """Remove the index's file."""
        self.index.close()
        self.enabled = False

    def text(self, s: str, depth: int = 0) -> str:
        if not self.enabled or not s:
            return s
        b = s.encode("utf-8", "surrogatepass")
        new = self.index.sub(b, text=True)
        if new is not b:
            s = new.decode("utf-8", "surrogatepass")
        if depth < MAX_DEPTH and len(s) >= 8:
            s = _B64_RUN_STR.sub(lambda m: self._b64_run_text(m.group(), depth), s)
        return s

    def data(self, b: bytes, depth: int = 0) -> bytes:
        if not self.enabled or not b:
            return b
        b = self.index.sub(b)
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
