"""Cross-flow tracing: values found in one exchange, searched for in every later one.

When a detector finds a traceable value (an email, a phone number, a name, an account, device or
advertising id, a prompt, a credential, a conversation id, card, bank or national id numbers),
the value is *registered*: its normalized forms (an email lower-cased, a phone number in E.164
and as bare digits) and their encodings (plain, URL-encoded, base64, hex, and md5, sha1 and
sha256 digests in lower and upper case) go into one hash index. Every exchange is then looked
up in that index, so a prompt copied into an analytics event, an email hashed into an ad pixel
or a device id in a header is a finding even where no key names it. Its ``derived`` says where
the value was first seen and in which encoding::

    {"from": {"capture": 0, "index": 3, "part": "request.body", "path": "prompt",
              "category": "prompt"}, "encoding": "sha256"}

Values given with ``--known`` are registered before the first exchange (``"from": {"known":
"email", "category": "email"}``).

Streaming, with no second pass: an exchange is looked up right after its own values are
registered, so values seen earlier (and in the same exchange, at another place) are traced in
it; a value that first appears later is not traced back into earlier exchanges.

Indexing: the lookup never compares a field with each known value. The sent values of an
exchange are joined and cut into tokens (at whitespace and URL/JSON punctuation, and again at
``/ + . @ %``); the token set is intersected with the index in one set operation. Multi-word
values (prompts, full names) are indexed by their first four words, looked up at every word of
the exchange, and a hit is confirmed by a substring check. Cost is linear in the size of the
exchange, whatever the number of registered values. A match must cover a whole token, so a value
is not found inside a longer id; a copy of a prompt truncated to its first 32 or more characters
is found with the encoding ``prefix``. Long texts are not indexed in hex, nor their digests in
base64 (both unseen in practice); identifiers and addresses are.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

from .classifiers import SENT_PARTS
from .classifiers.phone import parse_phone
from .models import Exchange, Field, Finding

# Categories whose values are traced, and the shortest plain form searched for (hashes and
# other encodings are long enough to be unique whatever the value's length).
TRACED: dict[str, int] = {
    "email": 6,
    "phone": 8,
    "person_name": 6,
    "account_id": 6,
    "device_id": 8,
    "advertising_id": 8,
    "prompt": 12,
    "credential": 12,
    "conversation_id": 8,
    "payment_card": 12,
    "bank_account": 10,
    "government_id": 8,
    "ip_address": 7,
    "date_of_birth": 8,
    "postal_address": 10,
}
ENCODINGS = ("plain", "url", "base64", "hex", "md5", "sha1", "sha256", "prefix")
PREFIX_MIN = 32
DEFAULT_BUDGET = 4 << 20  # bytes of index (estimated); past it the oldest values go first
_ENTRY_COST = 180  # a dict entry, its key object and value tuple, roughly
ANCHOR_WORDS = 4  # multi-word values are indexed by their first (up to) four words
# Values kept per anchor: bounds the work per lookup when many values share their first words.
ANCHOR_BUCKET = 16
_MIN_HASHED = 2
_COARSE_CHARS = b"\t\r\n\"'<>(){}[]|#\\,;:=&?`^"
_FINE_CHARS = _COARSE_CHARS + b"/+.@%*!$~"
_COARSE = bytes.maketrans(_COARSE_CHARS, b" " * len(_COARSE_CHARS))
_FINE = bytes.maketrans(_FINE_CHARS, b" " * len(_FINE_CHARS))

_CONFIDENCE = {"plain": 0.85, "prefix": 0.8, "url": 0.85}


@dataclass(frozen=True, slots=True)
class Source:
    """Where a registered value was first seen (an exchange's field, or the known-values file)."""

    category: str
    value: str
    host: str | None
    origin: tuple[int, int, str, str] | None = None  # capture, index, part, path
    known: str | None = None

    def describe(self) -> dict[str, Any]:
        if self.origin is None:
            return {"known": self.known, "category": self.category}
        capture, index, part, path = self.origin
        return {"capture": capture, "index": index, "part": part, "path": path, "category": self.category}


_HASHES = (("md5", hashlib.md5), ("sha1", hashlib.sha1), ("sha256", hashlib.sha256))
_URL_PLAIN = re.compile(r"[A-Za-z0-9_.~ -]*")


def _digests(data: bytes, short: bool) -> Iterable[tuple[str, str]]:
    """Hex (both cases) of md5, sha1 and sha256; for short values (identifiers, addresses: what ad
    and analytics APIs hash) also base64, standard and URL-safe, unpadded."""
    for name, fn in _HASHES:
        raw = fn(data).digest()
        h = raw.hex()
        yield h, name
        yield h.upper(), name
        if short:
            b = base64.b64encode(raw).decode().rstrip("=")
            yield b, name
            yield b.replace("+", "-").replace("/", "_"), name


def normal_forms(category: str, value: str) -> list[str]:
    """The forms of ``value`` that apps hash or encode (an email lower-cased, a phone in E.164...)."""
    v = value.strip()
    forms = [v]
    if category in ("email", "person_name", "postal_address"):
        forms.append(v.lower())
    elif category == "phone":
        e164 = parse_phone(v, national=True)
        if e164:
            forms += [e164, e164[1:]]
    elif category in ("device_id", "advertising_id", "account_id", "conversation_id"):
        forms += [v.lower(), v.upper()]
    out: list[str] = []
    for f in forms:
        if f and f not in out:
            out.append(f)
    return out


def encodings(text: str) -> Iterable[tuple[str, str]]:
    """``(encoded form, encoding name)`` of one normal form, the plain form first."""
    yield text, "plain"
    if not text.isalnum():
        if _URL_PLAIN.fullmatch(text):  # fast path: only spaces need escaping
            if " " in text:
                yield text.replace(" ", "%20"), "url"
                yield text.replace(" ", "+"), "url"
        else:
            yield quote(text, safe="", errors="surrogatepass"), "url"
            yield quote_plus(text, safe="", errors="surrogatepass"), "url"
    data = text.encode("utf-8", "surrogatepass")
    if len(data) >= 3:
        b = base64.b64encode(data).decode().rstrip("=")
        yield b, "base64"
        if "+" in b or "/" in b:
            yield b.replace("+", "-").replace("/", "_"), "base64"
        if len(data) <= 64:  # hex of long text is not seen in practice
            yield data.hex(), "hex"
            yield data.hex().upper(), "hex"
    yield from _digests(data, len(data) <= 64)


class Tracer:
    """The index of registered values, and the lookup of each exchange in it.

    The index is bounded (``budget`` bytes, estimated): past it, the values registered first are
    dropped, so memory stays flat in a long live capture; known values are never dropped.
    """

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._used = 0
        self._fifo: deque[tuple[Source, list[bytes], bytes | None, int]] = deque()
        # Keys are UTF-8 bytes: tokenizing bytes with a 256-byte table is much faster than str.
        self._tokens: dict[bytes, tuple[Source, str]] = {}
        self._anchors: dict[bytes, list[Source]] = {}
        self._anchor_sizes: set[int] = set()
        self._anchor_firsts: dict[bytes, set[int]] = {}  # first word -> anchor lengths
        self._registered: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self._registered)

    # -- registering ------------------------------------------------------------------------

    def add_known(self, category: str, value: str, key: str) -> None:
        """Register a value from the known-values file."""
        self._register(Source(category, value, None, known=key))

    def _register(self, src: Source) -> None:
        mark = (src.category, src.value)
        if mark in self._registered or src.category not in TRACED:
            return
        self._registered.add(mark)
        min_plain = TRACED[src.category] if src.known is None else 3
        tokens = self._tokens
        added: list[bytes] = []
        anchor: bytes | None = None
        for form in normal_forms(src.category, src.value):
            multiword = len(form.split(None, 1)) > 1
            for enc, name in encodings(form):
                if name == "plain":
                    if src.category == "person_name" and form != src.value.strip():
                        continue  # a lower-cased name is for hashes only, not for matching text
                    if len(form) < min_plain or (form.isdigit() and len(form) < 8 and src.known is None):
                        continue
                    if multiword:
                        anchor = self._add_anchor(form, src)
                        continue
                elif len(form) < _MIN_HASHED or len(enc) < 6:
                    continue
                elif name == "url" and multiword and len(form) < min_plain:
                    continue
                key = enc.encode("utf-8", "surrogatepass")
                if key not in tokens:
                    tokens[key] = (src, name)
                    added.append(key)
        if src.known is None:
            cost = sum(len(k) for k in added) + _ENTRY_COST * (len(added) + 1) + 2 * len(src.value)
            self._fifo.append((src, added, anchor, cost))
            self._used += cost
            while self._used > self.budget and len(self._fifo) > 1:
                self._evict()

    def _evict(self) -> None:
        """Drop the oldest registered value from the index."""
        src, keys, anchor, cost = self._fifo.popleft()
        for k in keys:
            self._tokens.pop(k, None)
        if anchor is not None:
            srcs = self._anchors.get(anchor)
            if srcs is not None:
                srcs[:] = [s for s in srcs if s is not src]
                if not srcs:
                    del self._anchors[anchor]
        self._registered.discard((src.category, src.value))
        self._used -= cost

    def _add_anchor(self, form: str, src: Source) -> bytes | None:
        words = _words(form.encode("utf-8", "surrogatepass"))
        if not words:
            return None
        n = min(ANCHOR_WORDS, len(words))
        key = b" ".join(words[:n])
        bucket = self._anchors.setdefault(key, [])
        bucket.append(src)
        if len(bucket) > ANCHOR_BUCKET:  # many values opening with the same words: keep the newest
            del bucket[0]
        self._anchor_firsts.setdefault(words[0], set()).add(n)
        self._anchor_sizes.add(n)
        return key

    # -- tracing ----------------------------------------------------------------------------

    def trace(self, ex: Exchange, fields: Sequence[Field], found: list[Finding]) -> list[Finding]:
        """Register the traceable values of ``found``, then look the exchange up.

        Returns ``found`` with new findings for values seen elsewhere (``detector``
        ``trace.<encoding>``) and, on findings that hold a value first seen at another host,
        ``derived`` filled in.
        """
        registered = self._registered
        for f in found:
            if f.category in TRACED and f.derived is None and (f.category, f.value) not in registered:
                self._register(Source(f.category, f.value, ex.host, (ex.capture, ex.index, f.part, f.path)))
        if not self._registered:
            return found
        matches = self._lookup(fields)
        if not matches:
            return found
        at: dict[tuple[str, str, str], int] = {}
        for i, f in enumerate(found):
            at.setdefault((f.category, f.part, f.path), i)
        out = list(found)
        values_at: dict[tuple[str, str], set[str]] = {}
        for f in found:
            values_at.setdefault((f.part, f.path), set()).add(f.value)
        for fl, src, enc in matches:
            if src.origin is not None and src.origin[:2] == (ex.capture, ex.index) and src.origin[2:] == (fl.part, fl.path):
                continue  # the value's own field
            if src.value in values_at.get((fl.part, fl.path), ()) and (src.category, fl.part, fl.path) not in at:
                continue  # the field is already a finding of this value under another category
            if _inside(found, src, fl):
                continue  # a field inside this one (a token's claims, an Authorization scheme) holds it
            same_exchange = src.origin is not None and src.origin[:2] == (ex.capture, ex.index)
            derived = {"from": src.describe(), "encoding": enc}
            i = at.get((src.category, fl.part, fl.path))
            if i is not None:
                old = out[i]
                if old.derived is None and not same_exchange and (src.host != ex.host or src.known is not None):
                    out[i] = replace(old, derived=derived)
                continue
            at[(src.category, fl.part, fl.path)] = len(out)
            out.append(
                Finding(src.category, fl.part, fl.path, src.value, f"trace.{enc}", _CONFIDENCE.get(enc, 0.95), derived)
            )
        return out

    def _lookup(self, fields: Sequence[Field]) -> list[tuple[Field, Source, str]]:
        """``(field, source, encoding)`` for every sent field holding a registered value.

        The sent values are joined and cut into tokens once; the tokens are intersected with the
        index in one set operation, and only the (rare) hits are located in their fields.
        """
        sent = [fl for fl in fields if fl.part in SENT_PARTS and fl.kind == "value" and len(fl.value) >= 6]
        if not sent:
            return []
        data = "\n".join(fl.value for fl in sent).encode("utf-8", "surrogatepass")
        coarse = _words(data)
        words = set(coarse)
        words.update(data.translate(_FINE).split())
        hits = self._tokens.keys() & words
        out: list[tuple[Field, Source, str]] = []
        seen: set[tuple[int, str, str]] = set()
        for hit in hits:
            src, enc = self._tokens[hit]
            tok = hit.decode("utf-8", "surrogatepass")
            for i, fl in enumerate(sent):
                if tok in fl.value and (i, src.category, src.value) not in seen and _is_token(fl.value, tok):
                    seen.add((i, src.category, src.value))
                    out.append((fl, src, enc))
        if self._anchors and b" " in data:
            self._lookup_anchors(sent, coarse, seen, out)
        if len(out) > 1:  # field order, then a stable order within a field (sets have none)
            index = {id(fl): i for i, fl in enumerate(sent)}
            out.sort(key=lambda m: (index[id(m[0])], m[1].category, m[1].value, m[2]))
        return out

    def _lookup_anchors(
        self, sent: list[Field], words: list[bytes], seen: set[tuple[int, str, str]], out: list[tuple[Field, Source, str]]
    ) -> None:
        """Multi-word values: their first words looked up at every word of the text, then confirmed."""
        firsts = self._anchor_firsts.keys() & set(words)
        if not firsts:
            return
        anchors = self._anchors
        lengths = self._anchor_firsts
        found: set[Source] = set()
        for i, w in enumerate(words):
            if w not in firsts:
                continue
            for n in lengths[w]:
                srcs = anchors.get(b" ".join(words[i : i + n]))
                if srcs:
                    found.update(srcs)
        for src in found:
            for i, fl in enumerate(sent):
                if (i, src.category, src.value) in seen:
                    continue
                enc = _confirm(fl.value, src.value)
                if enc is not None:
                    seen.add((i, src.category, src.value))
                    out.append((fl, src, enc))


def _words(data: bytes) -> list[bytes]:
    """Coarse tokens: split at whitespace and URL/JSON punctuation, sentence-final dots dropped."""
    return data.replace(b". ", b" ").replace(b".\n", b"\n").translate(_COARSE).split()


_TOKEN_EDGE = frozenset("\t\r\n \"'<>(){}[]|#\\,;:=&?`^/+.@%*!$~")


def _is_token(value: str, tok: str) -> bool:
    """True when ``tok`` occurs in ``value`` delimited as a token (not inside a longer id)."""
    start = value.find(tok)
    while start >= 0:
        end = start + len(tok)
        if (start == 0 or value[start - 1] in _TOKEN_EDGE) and (end == len(value) or value[end] in _TOKEN_EDGE):
            return True
        start = value.find(tok, start + 1)
    return False


def _inside(found: list[Finding], src: Source, fl: Field) -> bool:
    prefix = fl.path + "."
    return any(f.value == src.value and f.part == fl.part and f.path.startswith(prefix) for f in found)


def _confirm(text: str, value: str) -> str | None:
    """``plain`` if ``value`` is in ``text``, ``prefix`` if ``text`` holds a truncated copy."""
    v = value.strip()
    head = v[:PREFIX_MIN]
    pos = text.find(head)  # (first: most texts do not hold even the head, and then not the value)
    if pos < 0:
        return None
    if v in text:
        return "plain"
    if len(v) <= PREFIX_MIN:
        return None
    n = PREFIX_MIN
    limit = min(len(v), len(text) - pos)
    while n < limit and text[pos + n] == v[n]:
        n += 1
    rest = text[pos + n :].strip()
    return "prefix" if rest in ("", "…", "...", "..") or rest.startswith(("…", "...")) else None

