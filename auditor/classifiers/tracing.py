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

Both directions: an exchange is looked up right after its own values are registered, so values
seen earlier (and in the same exchange, at another place) are traced in it. A value registered
now is also looked up in a bounded window of the exchanges before it (:data:`RECENT_EXCHANGES`,
at most :data:`RECENT_BYTES` of their sent text; an exchange that sent more than
:data:`RECENT_MAX_EXCHANGE` is not kept), so a prompt that reached an analytics SDK
before the AI request that carried it was recorded is traced all the same; those findings
belong to the earlier exchange and are collected in :attr:`Tracer.earlier`. The window is one
recent-token map (token -> the latest exchange that sent it) and the sent text of the window's
exchanges in one buffer: a newly registered value costs a dictionary probe per encoded form,
and a buffer search (of the last :data:`RECENT_TEXT_EXCHANGES` exchanges) only when every
first word of a multi-word value was sent recently.

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
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

from auditor.classifiers import SENT_PARTS
from auditor.classifiers.phone import parse_phone
from auditor.models import Exchange, Field, Finding

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
RECENT_EXCHANGES = 1000  # how far back a newly registered value is looked up
RECENT_BYTES = 8 << 20  # ... and at most this much of their sent text
RECENT_TEXT_EXCHANGES = 100  # multi-word values (prompts, names) are searched in the last 100 of them
RECENT_MAX_EXCHANGE = 1 << 20  # an exchange that sent more is not kept for looking back into
_RECENT_TOKENS_MAX = 400_000  # the recent-token map is rebuilt from the window past this size


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


@dataclass(slots=True)
class Earlier:
    """An exchange of the lookback window: what a finding in it needs, and its sent fields."""

    capture: int
    index: int
    id: str
    host: str
    method: str
    url: str
    seq: int
    start: int  # its sent text in the window's buffer: [start, end) in absolute offsets
    end: int
    sent: list[Field]
    found: list[Finding]


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
        # The lookback window (earlier exchanges), its sent text and its recent-token map.
        self._window: deque[Earlier] = deque()
        self._text = bytearray()
        self._text_base = 0  # absolute offset of _text[0]
        self._recent: dict[bytes, int] = {}  # token -> seq of the latest window exchange sending it
        self._seq = 0
        self._new: list[tuple[Source, list[bytes], bytes | None]] = []  # registered by this exchange
        #: Findings in earlier exchanges of values registered since the last call to :meth:`trace`
        #: (drained by the caller): ``(earlier exchange, finding)``.
        self.earlier: list[tuple[Earlier, Finding]] = []

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
                elif len(form) < _MIN_HASHED or len(enc) < 6 or (name == "url" and multiword and len(form) < min_plain):
                    continue
                key = enc.encode("utf-8", "surrogatepass")
                if key not in tokens:
                    tokens[key] = (src, name)
                    added.append(key)
        if src.known is None:
            self._new.append((src, added, anchor))
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
        self._new.clear()
        for f in found:
            if f.category in TRACED and f.derived is None and (f.category, f.value) not in registered:
                self._register(Source(f.category, f.value, ex.host, (ex.capture, ex.index, f.part, f.path)))
        sent = [fl for fl in fields if fl.part in SENT_PARTS and fl.kind == "value" and len(fl.value) >= 6]
        data = "\n".join(fl.value for fl in sent).encode("utf-8", "surrogatepass") if sent else b""
        if self._new and self._window:
            self._look_back()
        remember = len(data) <= RECENT_MAX_EXCHANGE  # a huge upload is not kept for looking back into
        if not remember and not self._registered:
            return found  # (nor cut into tokens for nothing)
        coarse = _words(data)
        words = set(coarse)
        words.update(data.translate(_FINE).split())
        out = self._forward(ex, sent, data, coarse, words, found)
        if remember:
            self._remember(ex, sent, data, words, out)
        return out

    def _forward(
        self, ex: Exchange, sent: list[Field], data: bytes, coarse: list[bytes], words: set[bytes], found: list[Finding]
    ) -> list[Finding]:
        """``found`` with the values registered so far (this exchange's included) traced in ``ex``."""
        if not self._registered or not sent:
            return found
        matches = self._lookup(sent, data, coarse, words)
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
            if (
                src.origin is not None
                and src.origin[:2] == (ex.capture, ex.index)
                and src.origin[2:] == (fl.part, fl.path)
            ):
                continue  # the value's own field
            if src.value in values_at.get((fl.part, fl.path), ()) and (src.category, fl.part, fl.path) not in at:
                continue  # the field is already a finding of this value under another category
            if _inside(found, src, fl):
                continue  # a field inside this one (a token's claims, an Authorization scheme) holds it
            same_exchange = src.origin is not None and src.origin[:2] == (ex.capture, ex.index)
            derived = {"from": src.describe(), "encoding": enc}
            known_at = at.get((src.category, fl.part, fl.path))
            if known_at is not None:
                old = out[known_at]
                if old.derived is None and not same_exchange and (src.host != ex.host or src.known is not None):
                    out[known_at] = replace(old, derived=derived)
                continue
            at[(src.category, fl.part, fl.path)] = len(out)
            out.append(
                Finding(src.category, fl.part, fl.path, src.value, f"trace.{enc}", _CONFIDENCE.get(enc, 0.95), derived)
            )
        return out

    def _lookup(
        self, sent: list[Field], data: bytes, coarse: list[bytes], words: set[bytes]
    ) -> list[tuple[Field, Source, str]]:
        """``(field, source, encoding)`` for every sent field holding a registered value.

        The sent values are joined and cut into tokens once (``data``, ``coarse``, ``words``); the
        tokens are intersected with the index in one set operation, and only the (rare) hits are
        located in their fields.
        """
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
        self,
        sent: list[Field],
        words: list[bytes],
        seen: set[tuple[int, str, str]],
        out: list[tuple[Field, Source, str]],
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

    # -- the lookback window ----------------------------------------------------------------

    def _remember(self, ex: Exchange, sent: list[Field], data: bytes, words: set[bytes], found: list[Finding]) -> None:
        """Put ``ex`` in the lookback window, dropping the oldest past its bounds."""
        self._seq += 1
        seq = self._seq
        start = self._text_base + len(self._text)
        self._text += data
        self._text += b"\x00"
        window = self._window
        window.append(
            Earlier(
                ex.capture,
                ex.index,
                ex.id,
                ex.host,
                ex.method,
                ex.url,
                seq,
                start,
                start + len(data),
                sent,
                list(found),
            )
        )
        recent = self._recent
        recent.update(dict.fromkeys(words, seq))
        while len(window) > RECENT_EXCHANGES or (len(window) > 1 and window[-1].end - window[0].start > RECENT_BYTES):
            window.popleft()
        dead = window[0].start - self._text_base
        if dead > len(self._text) // 2 and dead > 1 << 16:
            del self._text[:dead]
            self._text_base += dead
        if len(recent) > _RECENT_TOKENS_MAX:
            self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        """The recent-token map again from the window's text, without tokens of dropped exchanges."""
        recent: dict[bytes, int] = {}
        base = self._text_base
        for e in self._window:
            data = bytes(self._text[e.start - base : e.end - base])
            recent.update(dict.fromkeys(_words(data), e.seq))
            recent.update(dict.fromkeys(data.translate(_FINE).split(), e.seq))
        self._recent = recent

    def _look_back(self) -> None:
        """The values this exchange registered, looked up in the window's earlier exchanges."""
        oldest = self._window[0].seq
        recent = self._recent
        for src, keys, anchor in self._new:
            for key in keys:
                if recent.get(key, 0) >= oldest and key in self._tokens:
                    self._look_back_key(src, key.decode("utf-8", "surrogatepass"), self._tokens[key][1])
            if anchor is not None and all(recent.get(w, 0) >= oldest for w in anchor.split()):
                head = src.value.strip()[:PREFIX_MIN].encode("utf-8", "surrogatepass")
                self._look_back_text(src, head)

    def _look_back_key(self, src: Source, tok: str, enc: str) -> None:
        for e in self._containing(tok.encode("utf-8", "surrogatepass")):
            for fl in e.sent:
                if tok in fl.value and _is_token(fl.value, tok):
                    self._earlier_finding(e, fl, src, enc)

    def _look_back_text(self, src: Source, head: bytes) -> None:
        for e in self._containing(head, RECENT_TEXT_EXCHANGES):
            for fl in e.sent:
                enc = _confirm(fl.value, src.value)
                if enc is not None:
                    self._earlier_finding(e, fl, src, enc)

    def _containing(self, needle: bytes, last: int = 0) -> list[Earlier]:
        """The window's exchanges (the ``last`` ones only, if given) whose sent text holds
        ``needle``: one search of the buffer."""
        text, base, window = self._text, self._text_base, self._window
        out: list[Earlier] = []
        first = window[-last] if 0 < last < len(window) else window[0]
        pos = text.find(needle, first.start - base)
        while pos >= 0:
            i = bisect_right(window, pos + base, key=_start) - 1
            e = window[i]
            out.append(e)
            pos = text.find(needle, e.end - base + 1)
        return out

    def _earlier_finding(self, e: Earlier, fl: Field, src: Source, enc: str) -> None:
        """A finding of ``src`` in the earlier exchange ``e``, unless it has one there already."""
        for f in e.found:
            if f.part == fl.part and (f.path == fl.path or f.path.startswith(fl.path + ".")) and f.value == src.value:
                return  # already a finding of this value (under this or another category, or inside)
        finding = Finding(
            src.category,
            fl.part,
            fl.path,
            src.value,
            f"trace.{enc}",
            _CONFIDENCE.get(enc, 0.95),
            {"from": src.describe(), "encoding": enc},
        )
        e.found.append(finding)
        self.earlier.append((e, finding))


def _start(e: Earlier) -> int:
    return e.start


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
