"""Redacted copies of captures, safe to commit as CI fixtures.

:func:`redact_capture` audits a capture (mitmproxy flow file or HAR, also gzip/zlib wrapped)
with values revealed, collects every detected personal value and credential (plus those in
responses, the identifier claims of JWTs and the client's public address), gives each one a
consistent placeholder of the same shape, and writes a copy with every occurrence replaced:
headers, URL and query, cookies, bodies (decoded from their Content-Encoding, replaced, encoded
again), WebSocket messages and every other text of the capture, also in URL-encoded,
JSON-escaped, HTML-escaped and base64 forms (base64 runs are decoded, searched and re-encoded, so
a value inside a JWT payload or a base64 blob is found at any alignment).

Placeholders keep the shape: digits stay digits, hex stays hex, letters keep their case and
script, punctuation and spacing stay; an email stays an address (at a reserved ``.invalid`` or
``.test`` domain), a phone number stays a valid number of the same country (a fictional range
where one exists), a JWT stays three base64url segments with its claims redacted, an API key
keeps its issuer prefix, IBANs, card numbers and resident ID numbers keep valid check digits, a
date stays a date in the same format. Each placeholder is checked with the classifiers where they
detect the original on its own, so the redacted capture, audited again, shows the same
destinations and categories. Placeholders come from a random key per run: the same value gets the same
placeholder throughout one file, and nothing about the original can be derived from it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import html
import ipaddress
import json
import os
import random
import re
import secrets
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus

from ..audit import AuditOptions, Auditor
from ..capture import CaptureError, _mapped, detect_format
from ..classifiers import classify
from ..classifiers.phone import parse_number
from ..io import InputError, Opened, Outputs, open_bounded
from ..known import KnownValue
from ..limits import DEFAULT_LIMITS, Limits
from ..models import Exchange, Field, WebSocketMessage

Warn = Callable[[str], None]

MIN_LENGTH = 3  # shorter values are not replaced (too likely to hit unrelated text)
SHORT = 6  # values shorter than this are only replaced between non-alphanumeric characters
MAX_DEPTH = 3  # base64 inside base64...
TRIES = 40  # candidates per strategy when a classifier must still detect the placeholder
# Stand-ins for values the classifiers only accept from a fixed vocabulary (operating systems,
# network types): nothing personal, and never one of the capture's own values.
VOCABULARY = (
    "Android", "iOS", "Linux", "Windows", "macOS", "HarmonyOS", "ChromeOS", "Ubuntu", "Debian", "Fedora",
    "Tizen", "KaiOS", "wifi", "4g", "5g", "lte", "3g", "ethernet", "cellular", "wlan",
)
# Headers whose values are protocol structure, never personal data.
STRUCTURAL_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "content-type", "host", ":authority", ":host"}
)
# Flow state keys that name the destination (kept, so the redacted capture has the same ones).
_HOST_KEYS = frozenset({"host", "authority", "sni", "address", "server_conn", "serverIPAddress"})
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", re.S)
# JWT claims that identify a person or a session, replaced even when no classifier flags them.
ID_CLAIMS = {
    "sub": "account_id",
    "uid": "account_id",
    "user_id": "account_id",
    "userid": "account_id",
    "oid": "account_id",
    "account_id": "account_id",
    "jti": "credential",
    "sid": "credential",
    "session_id": "credential",
    "sessionid": "credential",
    "nonce": "credential",
    "device_id": "device_id",
    "deviceid": "device_id",
    "name": "person_name",
    "given_name": "person_name",
    "family_name": "person_name",
    "nickname": "person_name",
    "preferred_username": "account_id",
    "phone_number": "phone",
    "email": "email",
}
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_KEY_PREFIX = re.compile(
    r"^(?:sk-ant-(?:api\d\d-)?|sk-(?:proj|svcacct|admin)-|sk-|AIza|AKIA|ASIA|gh[pousr]_|github_pat_|xox[a-z]-|"
    r"[rs]k_(?:live|test)_|hf_|(?:Bearer|Basic|Token|Digest|Bot|OAuth) +)"
)
_B64_RUN_STR = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_B64_RUN_BYTES = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd")
# A field key that names an identifier: ``id``, ``file_id``, ``ref_file_ids``, ``conversationId``, ``uuid``.
_ID_KEY = re.compile(r"(?i:(?:^|[_-])(?:id|ids|uuid|guid)$)|[a-z](?:Id|Ids|ID|IDs|Uuid)$")
_ID_KEY_PATH = re.compile(r"\[\d*\]")


class RedactError(ValueError):
    """The capture cannot be redacted. ``str()`` is one line meant for the user."""


# --------------------------------------------------------------------------------------------
# Placeholders


def _same_block_char(c: str, rng: random.Random) -> str:
    """A random character like ``c``: same 256-code-point block, kind, case and UTF-8 length."""
    cp = ord(c)
    base = cp & ~0xFF
    size = len(c.encode("utf-8", "surrogatepass"))
    for _ in range(30):
        d = chr(base + rng.randrange(256))
        if (
            d != c
            and d.isalpha() == c.isalpha()
            and d.isdigit() == c.isdigit()
            and d.isupper() == c.isupper()
            and d.islower() == c.islower()
            and len(d.encode("utf-8", "surrogatepass")) == size
        ):
            return d
    if c.isdigit():
        return rng.choice("0123456789")
    return rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c.isupper() else "abcdefghijklmnopqrstuvwxyz")


def scramble_char(c: str, rng: random.Random, digits: bool = True, letters: bool = True) -> str:
    """A random character of the same class: digit, hex letter, other letter (same case)."""
    if "0" <= c <= "9":
        return rng.choice("0123456789") if digits else c
    if not letters:
        return c
    if "a" <= c <= "f":
        return rng.choice("abcdef")
    if "g" <= c <= "z":
        return rng.choice("ghijklmnopqrstuvwxyz")
    if "A" <= c <= "F":
        return rng.choice("ABCDEF")
    if "G" <= c <= "Z":
        return rng.choice("GHIJKLMNOPQRSTUVWXYZ")
    if ord(c) > 127 and (c.isalpha() or c.isdigit()):
        return _same_block_char(c, rng)
    return c


def scramble(value: str, rng: random.Random, keep: int = 0, digits: bool = True, letters: bool = True) -> str:
    """``value`` with every letter and digit after the first ``keep`` characters randomized.

    A run of digits that starts with 1-9 keeps starting with 1-9, so numbers stay numbers.
    """
    out = [value[:keep]]
    prev = value[keep - 1] if keep > 0 else ""
    for c in value[keep:]:
        if digits and "1" <= c <= "9" and not ("0" <= prev <= "9"):
            out.append(rng.choice("123456789"))
        else:
            out.append(scramble_char(c, rng, digits, letters))
        prev = c
    return "".join(out)


def _reserved_domain(length: int, rng: random.Random) -> str:
    """A domain under a reserved TLD (RFC 2606), as close to ``length`` characters as possible."""
    tld = "invalid" if length >= 9 else "test"
    n = max(1, length - len(tld) - 1)
    label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
    labels = [label[i : i + 60] for i in range(0, len(label), 61)]
    return ".".join([*labels, tld])


def _b64url_decode(seg: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    except (binascii.Error, ValueError):
        return None


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT-shaped token, if it decodes to a JSON object."""
    parts = token.split(".")
    if len(parts) < 3:
        return None
    raw = _b64url_decode(parts[1])
    if raw is None:
        return None
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


@dataclass
class _Entry:
    value: str
    categories: list[str] = field(default_factory=list)
    contexts: list[tuple[str, str, str, str]] = field(default_factory=list)  # (category, part, path, host)


class Placeholders:
    """Consistent placeholders of the same shape for a set of values."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key if key is not None else secrets.token_bytes(32)
        self.entries: dict[str, _Entry] = {}
        self.mapping: dict[str, str] = {}
        self.extra: dict[str, str] = {}  # other forms of a value (E.164 phone, lower-case email)
        self.undetected: list[tuple[str, str]] = []  # (category, masked) whose placeholder no classifier finds
        self._used: set[str] = set()
        self._inner: _Matcher | None = None
        self.any_case: set[str] = set()  # values replaced in any letter case (known values)

    # ---- registration

    def add(self, value: str, category: str, part: str = "", path: str = "", host: str = "") -> None:
        """Register a value to replace (``part``/``path``/``host``: where it was found)."""
        if len(value) < MIN_LENGTH or not value.strip():
            return
        e = self.entries.get(value)
        if e is None:
            e = self.entries[value] = _Entry(value)
        if category not in e.categories:
            e.categories.append(category)
        if part and len(e.contexts) < 4 and not any(c[0] == category for c in e.contexts):
            e.contexts.append((category, part, path, host))

    # ---- generation

    def _rng(self, value: str, salt: str) -> random.Random:
        digest = hmac.new(self.key, f"{salt}\0{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return random.Random(digest)

    def build(self) -> dict[str, str]:
        """Generate every placeholder, shortest values first (longer ones embed them)."""
        self._inner = _Matcher({v: v for v in self.entries}, str)
        for value in sorted(self.entries, key=lambda v: (len(v), v)):
            if value in self.mapping:
                continue
            p = self._generate(self.entries[value])
            self.mapping[value] = p
            self._used.add(p)
        self._inner = None
        self._used = set()
        return self.mapping

    def _inner_spans(self, value: str) -> list[tuple[int, int, str]]:
        """Shorter registered values inside ``value``: (start, end, placeholder)."""
        if len(value) < 2 * MIN_LENGTH or self._inner is None:
            return []
        return [
            (start, start + len(key), self.mapping[key])
            for start, key in self._inner.finditer(value, max_len=len(value) - 1)
            if key in self.mapping
        ]

    def _scramble_around(self, value: str, rng: random.Random, keep: int = 0, digits: bool = True, letters: bool = True) -> str:
        """Scramble ``value`` but put known inner values' placeholders (and JWTs' redacted forms) in place."""
        spans = self._inner_spans(value)
        for m in _JWT.finditer(value):
            if m.start() >= keep and not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), self._jwt(m.group(), rng)))
        spans.sort()
        out: list[str] = []
        pos = 0
        for start, end, repl in spans:
            if start < pos:
                continue
            out.append(scramble(value[pos:start], rng, max(0, keep - pos), digits, letters))
            out.append(repl)
            pos = end
        out.append(scramble(value[pos:], rng, max(0, keep - pos), digits, letters))
        return "".join(out)

    def _jwt(self, token: str, rng: random.Random) -> str:
        """A JWT-shaped placeholder: JSON segments with their values redacted, others scrambled."""
        segs = token.split(".")
        out = []
        for i, seg in enumerate(segs):
            raw = _b64url_decode(seg) if i < 2 else None
            obj: Any = None
            if raw is not None:
                try:
                    obj = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    obj = None
            if isinstance(obj, dict):
                new = self._redact_json(obj, rng) if i == 1 else obj
                out.append(_b64url_encode(json.dumps(new, separators=(",", ":"), ensure_ascii=False).encode()) if i == 1 else seg)
            else:
                out.append(scramble(seg, rng))
        return ".".join(out)

    def _redact_json(self, obj: Any, rng: random.Random, key: str = "") -> Any:
        if isinstance(obj, dict):
            return {k: self._redact_json(v, rng, str(k)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._redact_json(v, rng, key) for v in obj]
        if isinstance(obj, str):
            if obj in self.mapping:
                return self.mapping[obj]
            if key.lower() in ID_CLAIMS and len(obj) >= MIN_LENGTH:
                return self._scramble_around(obj, rng)
            return self._scramble_around(obj, rng, keep=len(obj)) if self._inner_spans(obj) else obj
        if isinstance(obj, int) and not isinstance(obj, bool) and key.lower() in ID_CLAIMS:
            digits = scramble(str(abs(obj)), rng)
            return int(("1" + digits[1:]) if digits.startswith("0") and len(digits) > 1 else digits) * (1 if obj >= 0 else -1)
        return obj

    def _candidate(self, e: _Entry, rng: random.Random, strategy: int) -> str:
        value = e.value
        cats = e.categories
        if strategy == 1:
            return self._scramble_around(value, rng, letters=False)
        if strategy == 2:
            word = rng.choice(VOCABULARY)
            return word.lower() if value.islower() else word.upper() if value.isupper() and len(value) > 1 else word
        if "email" in cats and "@" in value and len(cats) == 1:
            local, _, domain = value.rpartition("@")
            return f"{self._scramble_around(local, rng)}@{_reserved_domain(len(domain), rng)}"
        if "phone" in cats and len(cats) == 1:
            p = _phone(value, rng)
            if p is not None:
                return p
        if "ip_address" in cats and len(cats) == 1:
            p = _ip(value, rng)
            if p is not None:
                return p
        for cat in cats:
            gen = _CHECKED.get(cat)
            if gen is not None:
                p = gen(value, rng)
                if p is not None:
                    return p
        if "credential" in cats and _JWT.fullmatch(value):
            return self._jwt(value, rng)
        m = _KEY_PREFIX.match(value) if "credential" in cats else None
        if "user_file" in cats and "." in value[1:]:
            stem, dot, ext = value.rpartition(".")
            return self._scramble_around(stem, rng) + dot + ext
        return self._scramble_around(value, rng, keep=m.end() if m else 0)

    def _generate(self, e: _Entry) -> str:
        checks = [c for c in e.contexts if _detected(e.value, c)]
        first: str | None = None
        strategies = [0]
        if _letters_say_nothing(e.value):
            strategies.append(1)  # keeps the letters: only when they cannot identify anyone
        if len(e.value) <= 24 and " " not in e.value.strip():
            strategies.append(2)
        for strategy in strategies:
            for attempt in range(TRIES if checks else 1):
                p = self._candidate(e, self._rng(e.value, f"{strategy}:{attempt}"), strategy)
                if p == e.value or p in self._used or p in self.entries:
                    continue
                if first is None:
                    first = p
                if all(_detected(p, c) for c in checks):
                    self._link(e, p)
                    return p
            if not checks:
                break
        p = first if first is not None else self._fallback(e)
        if checks:
            from ..masking import mask

            self.undetected.append((e.categories[0], mask(e.categories[0], e.value)))
        self._link(e, p)
        return p

    def _fallback(self, e: _Entry) -> str:
        for attempt in range(1000):
            rng = self._rng(e.value, f"fallback:{attempt}")
            p = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") if c.isalnum() else c for c in e.value)
            if p != e.value and p not in self._used and p not in self.entries:
                return p
        return "x" * len(e.value) + "-" + secrets.token_hex(4)

    def _link(self, e: _Entry, p: str) -> None:
        """Record other written forms of the value (E.164, letter case) with their counterparts."""
        if "phone" in e.categories:
            a, b = _e164(e.value), _e164(p)
            if a and b and a != e.value and a not in self.entries:
                self.extra[a] = b
                digits_a, digits_b = a.lstrip("+"), b.lstrip("+")
                if len(digits_a) >= 8 and digits_a not in self.entries:
                    self.extra[digits_a] = digits_b
        if "email" in e.categories:
            for f in (str.lower, str.upper):
                if f(e.value) != e.value and f(e.value) not in self.entries:
                    self.extra[f(e.value)] = f(p)
        if e.value in self.any_case or {"person_name", "postal_address"} & set(e.categories):
            # known values and names are replaced however they are written (Jane, JANE, jane)
            for f in (str.lower, str.upper, str.title, str.capitalize):
                if f(e.value) != e.value and f(e.value) not in self.entries and len(f(e.value)) == len(e.value):
                    self.extra.setdefault(f(e.value), f(p))


_CALENDAR_WORDS = frozenset(
    "jan january feb february mar march apr april may jun june jul july aug august sep sept september "
    "oct october nov november dec december mon monday tue tuesday wed wednesday thu thursday fri friday "
    "sat saturday sun sunday st nd rd th".split()
)


def _letters_say_nothing(value: str) -> bool:
    """Whether every run of letters in ``value`` is at most 3 letters (a country code, a check
    letter) or a month or day name, so randomizing only its digits leaves nothing identifying."""
    return all(len(w) <= 3 or w.lower() in _CALENDAR_WORDS for w in re.findall(r"[^\W\d_]+", value))


def _detected(value: str, ctx: tuple[str, str, str, str]) -> bool:
    """Whether the classifiers find ``value`` as ``category`` at ``part``/``path`` on its own."""
    category, part, path, host = ctx
    ex = Exchange(capture=0, index=0, id="redact-check", method="POST", scheme="https", host=host or "example.invalid", port=443, path="/")
    try:
        found = classify(ex, [Field(part, path, value)])
    except Exception:
        return False
    return any(f.category == category and f.value == value for f in found)


def _e164(value: str) -> str | None:
    import phonenumbers

    n = parse_number(value)
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if n is not None else None


def _fill_digits(template: str, digits: str) -> str:
    it = iter(digits)
    return "".join(next(it, "0") if c.isdigit() else c for c in template)


def _phone(value: str, rng: random.Random) -> str | None:
    """A valid phone number of the same country and layout: fictional ranges where they exist."""
    for _ in range(50):
        p = _phone_once(value, rng)
        if p is not None and p != value:
            return p
    return None


def _phone_once(value: str, rng: random.Random) -> str | None:
    n = parse_number(value)
    if n is None:
        return None
    digits = "".join(c for c in value if c.isdigit())
    cc = str(n.country_code)
    intl = value.strip().startswith(("+", "00"))
    cc_end = (2 if value.strip().startswith("00") else 0) + len(cc) if intl else 0
    national = str(n.national_number)
    if intl and cc == "1" and len(national) == 10 and len(digits) - cc_end == 10:
        # North American numbers: the 555-0100 to 555-0199 lines are reserved for fiction
        area = rng.choice(["201", "202", "212", "213", "305", "312", "415", "617", "702", "718"])
        new = digits[:cc_end] + f"{area}55501{rng.randrange(100):02d}"
    else:
        # keep the country code and the first national digit (mobile or landline), or a national prefix
        keep = cc_end + 1 if intl else min(3, len(digits))
        new = digits[:keep] + "".join(rng.choice("0123456789") for _ in digits[keep:])
    candidate = _fill_digits(value, new)
    return candidate if parse_number(candidate) is not None else None


def _keep_layout(template: str, chars: str) -> str:
    """``chars`` laid out like ``template``: its spaces and dashes stay where they were."""
    it = iter(chars)
    return "".join(c if c in " -" else next(it, "") for c in template)


def _iban(value: str, rng: random.Random) -> str | None:
    """An IBAN of the same country and layout, with valid check digits (ISO 13616 mod 97)."""
    compact = value.replace(" ", "").replace("-", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return None
    bban = scramble(compact[4:], rng)
    num = int("".join(str(int(c, 36)) for c in bban + compact[:2] + "00"))
    check = f"{98 - num % 97:02d}"
    return _keep_layout(value, compact[:2] + check + bban)


def _luhn_complete(digits: str) -> str:
    """``digits`` followed by its Luhn check digit."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def _card(value: str, rng: random.Random) -> str | None:
    """A card number of the same length, network digit and layout, passing the Luhn check."""
    digits = "".join(c for c in value if c.isdigit())
    if not 12 <= len(digits) <= 19 or any(c not in " -" and not c.isdigit() for c in value):
        return None
    body = digits[0] + "".join(rng.choice("0123456789") for _ in digits[1:-1])
    return _keep_layout(value, _luhn_complete(body))


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def _random_date(rng: random.Random) -> tuple[int, int, int]:
    from datetime import date, timedelta

    d = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    return d.year, d.month, d.day


def _date(value: str, rng: random.Random) -> str | None:
    """Another plausible birth date written the same way (numeric orders, month names, padding)."""
    y, m, d = _random_date(rng)

    def num(old: str, new: int) -> str:
        return f"{new:0{len(old)}d}" if len(old) >= 2 else str(new)

    if mt := re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(.*)", value):
        return f"{y}{mt[2]}{num(mt[3], m)}{mt[2]}{num(mt[4], d)}{mt[5]}"
    if mt := re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", value):
        a, b = (d, m) if int(mt[3]) <= 12 else (m, d)
        return f"{num(mt[1], a)}{mt[2]}{num(mt[3], b)}{mt[2]}{y}"
    if re.fullmatch(r"\d{8}", value):
        return f"{y}{m:02d}{d:02d}"
    if mt := re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?(\s+)([A-Za-z]+)(\.?,?\s+)(\d{4})", value):
        return f"{num(mt[1], d)}{mt[3]}{_month_like(mt[4], m)}{mt[5]}{y}"
    if mt := re.fullmatch(r"([A-Za-z]+)(\.?\s+)(\d{1,2})(st|nd|rd|th)?(,?\s+)(\d{4})", value):
        return f"{_month_like(mt[1], m)}{mt[2]}{num(mt[3], d)}{mt[5]}{y}"
    if re.fullmatch(r"\d{4}", value):
        return str(y)
    return None


def _month_like(old: str, month: int) -> str:
    """A month name written like ``old`` (abbreviated or not, same case), of the same length
    where one exists, so a text that holds the date keeps its length."""
    name = _MONTH_NAMES[month - 1]
    same = [n for n in _MONTH_NAMES if len(n) == len(old)]
    if len(old) == 3:
        name = name[:3]
    elif same and len(name) != len(old):
        name = same[month % len(same)]
    return name.upper() if old.isupper() else name.lower() if old.islower() else name


_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _cn_id(value: str, rng: random.Random) -> str | None:
    """A mainland China resident ID number: same province, another birth date, valid check (ISO 7064)."""
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return None
    y, m, d = _random_date(rng)
    body = value[:2] + "".join(rng.choice("0123456789") for _ in range(4)) + f"{y}{m:02d}{d:02d}"
    body += "".join(rng.choice("0123456789") for _ in range(3))
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _CN_WEIGHTS, strict=True)) % 11]
    return body + (check.lower() if value[-1] == "x" else check)


# Generators that keep a value valid for the checks its classifier makes (checksums, dates).
_CHECKED: dict[str, Callable[[str, random.Random], str | None]] = {
    "bank_account": _iban,
    "payment_card": _card,
    "date_of_birth": _date,
    "government_id": _cn_id,
}


def _ip(value: str, rng: random.Random) -> str | None:
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if addr.version == 4:
        net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
        return f"{net}.{rng.randrange(1, 255)}"
    return f"2001:db8::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}"


# --------------------------------------------------------------------------------------------
# Finding and replacing values in text and bytes


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


class _Matcher:
    """Finds the longest registered key at each position: a prefix regex, then exact checks."""

    PREFIX = 12

    def __init__(self, pairs: dict[Any, Any], kind: type) -> None:
        self.kind = kind
        self.pairs = pairs
        self.by_prefix: dict[Any, list[Any]] = {}
        for k in pairs:
            self.by_prefix.setdefault(k[: self.PREFIX], []).append(k)
        for keys in self.by_prefix.values():
            keys.sort(key=len, reverse=True)
        self.prefix_lengths = sorted({len(p) for p in self.by_prefix}, reverse=True)
        self.regex = re.compile(_trie_regex(list(self.by_prefix), kind)) if pairs else None
        self.count = 0

    def _alnum(self, text: Any, i: int) -> bool:
        if i < 0 or i >= len(text):
            return False
        c = text[i]
        if self.kind is bytes:
            return bool((48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122))
        return bool(c.isalnum())

    def finditer(self, text: Any, max_len: int | None = None, overlapping: bool = False) -> Iterable[tuple[int, Any]]:
        """``(start, key)`` of the longest key at each place, left to right (not overlapping
        unless ``overlapping``)."""
        if self.regex is None or not text:
            return
        search_at = 0
        n = len(text)
        while search_at < n:
            m = self.regex.search(text, search_at)
            if m is None:
                return
            start = m.start()
            hit = None
            for plen in self.prefix_lengths:
                if plen > m.end() - start:
                    continue
                for key in self.by_prefix.get(text[start : start + plen], ()):
                    if max_len is not None and len(key) > max_len:
                        continue
                    if text.startswith(key, start) and (
                        len(key) >= SHORT or not (self._alnum(text, start - 1) or self._alnum(text, start + len(key)))
                    ):
                        hit = key
                        break
                if hit is not None:
                    break
            if hit is None:
                search_at = start + 1
                continue
            yield start, hit
            search_at = start + 1 if overlapping else start + len(hit)

    def sub(self, text: Any) -> Any:
        """``text`` with every key replaced by its value."""
        out = []
        pos = 0
        for start, key in self.finditer(text):
            out.append(text[pos:start])
            out.append(self.pairs[key])
            self.count += 1
            pos = start + len(key)
        if not out:
            return text
        out.append(text[pos:])
        return self.kind().join(out)


def _trie_regex(words: list[Any], kind: type) -> Any:
    """A regex matching any of ``words``, longest first, factored as a trie."""
    end = object()
    root: dict[Any, Any] = {}
    for w in words:
        node = root
        for i in range(len(w)):
            node = node.setdefault(w[i : i + 1], {})
        node[end] = True

    def build(node: dict[Any, Any]) -> Any:
        alts = []
        for ch in sorted(k for k in node if k is not end):
            lit = ch
            sub = node[ch]
            while len(sub) == 1 and end not in sub:
                (c2, s2), = sub.items()
                lit += c2
                sub = s2
            alts.append(re.escape(lit) + build(sub))
        if not alts:
            return kind()
        syntax: tuple[Any, Any, Any, Any] = (b"|", b"(?:", b")", b"?") if kind is bytes else ("|", "(?:", ")", "?")
        sep, op, cl, q = syntax
        body = alts[0] if len(alts) == 1 and end not in node else op + sep.join(alts) + cl
        return body + q if end in node else body

    return build(root)


class Substituter:
    """Replaces registered values (in every searched form) in text and bytes, also inside base64."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self._pairs: dict[str, str] | None = form_pairs(mapping)
        self._text: _Matcher | None = None
        self._bytes: _Matcher | None = None
        self.enabled = bool(self._pairs)

    # Each matcher is built on first use: a flow file is mostly bytes, a HAR mostly text, and
    # every matcher holds every form of every value.
    @property
    def text_matcher(self) -> _Matcher:
        if self._text is None:
            if self._pairs is not None:
                pairs, self._pairs = self._pairs, None
            else:  # (from the other matcher's pairs: one copy of the forms is kept meanwhile)
                assert self._bytes is not None
                pairs = {k.decode("utf-8", "surrogatepass"): v.decode("utf-8", "surrogatepass") for k, v in self._bytes.pairs.items()}
            self._text = _Matcher(pairs, str)
        return self._text

    @property
    def bytes_matcher(self) -> _Matcher:
        if self._bytes is None:
            if self._pairs is not None:
                source, self._pairs = self._pairs, None
            else:
                assert self._text is not None
                source = self._text.pairs
            self._bytes = _Matcher(
                {k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass") for k, v in source.items()}, bytes
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


# --------------------------------------------------------------------------------------------
# Encoded forms of a value, for checking that none is left


def encoded_forms(value: str) -> list[bytes]:
    """Byte strings that betray ``value``: raw, URL-encoded, JSON-escaped, and base64 at any alignment.

    For base64, the characters that depend on the value alone are taken at each of the three
    byte alignments, in both alphabets (only for values of 8 bytes or more, so that a match is
    not a coincidence).
    """
    raw = value.encode("utf-8", "surrogatepass")
    forms = {raw}
    try:
        forms |= {quote(value, safe="").encode(), quote_plus(value).encode(), quote(value).encode()}
    except UnicodeEncodeError:  # (a lone surrogate has no URL-encoded form)
        pass
    forms.add(json.dumps(value)[1:-1].encode())
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8", "surrogatepass"))
    if len(raw) >= 4:
        forms.add(base64.b64encode(raw).rstrip(b"="))
        forms.add(base64.urlsafe_b64encode(raw).rstrip(b"="))
    if len(raw) >= 8:
        for k in range(3):
            enc = base64.b64encode(b"\0" * k + raw)
            first = (k + 2) // 3  # first 3-byte group lying entirely inside the value
            last = (k + len(raw)) // 3  # groups before this one end inside the value
            if last - first >= 2:
                core = enc[4 * first : 4 * last]
                forms.add(core)
                forms.add(core.replace(b"+", b"-").replace(b"/", b"_"))
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len)


class LeftoverScanner:
    """Finds original values in bytes, in every encoded form, in one pass.

    Values shorter than :data:`SHORT` are replaced only as whole tokens, so they are looked for
    as whole tokens (``420`` is not found in ``1795884588.2442021``), and only raw.
    """

    def __init__(self, values: Iterable[str]) -> None:
        pairs: dict[bytes, str] = {}
        for v in values:
            if len(v) < MIN_LENGTH:
                continue
            if len(v) < SHORT:
                pairs.setdefault(v.encode("utf-8", "surrogatepass"), v)
            else:
                for f in encoded_forms(v):
                    pairs.setdefault(f, v)
        self.matcher = _Matcher(pairs, bytes)

    def scan(self, data: bytes) -> set[str]:
        """The values found in ``data``."""
        return {self.matcher.pairs[key] for _, key in self.matcher.finditer(data, overlapping=True)}


def find_leftovers(data: bytes, values: Iterable[str]) -> list[str]:
    """The values of which some encoded form is still in ``data`` (see :class:`LeftoverScanner`)."""
    values = list(values)
    found = LeftoverScanner(values).scan(data)
    return [v for v in values if v in found]


# --------------------------------------------------------------------------------------------
# Capture formats


def _sniffed_body(raw: bytes) -> tuple[str, bytes] | None:
    """``(kind, content)`` of a body that is one whole gzip, zlib or zstd stream by its magic
    bytes (as SDKs send without a Content-Encoding), else ``None``."""
    from ..sniff import compression_of, inflate

    kind = compression_of(raw)
    if kind is None:
        return None
    got = inflate(raw, kind, 2**31)
    return (kind, got[0]) if got is not None and got[1] == len(raw) else None


def _compress(body: bytes, kind: str) -> bytes:
    """``body`` compressed again as ``kind`` (``gzip``, ``zlib`` or ``zstd``)."""
    if kind == "gzip":
        return gzip.compress(body)
    if kind == "zlib":
        return zlib.compress(body)
    import zstandard

    return zstandard.ZstdCompressor().compress(body)


def _encode_body(body: bytes, encoding: str) -> bytes:
    from mitmproxy.net import encoding as mencoding

    for enc in [e.strip().lower() for e in encoding.split(",") if e.strip()]:
        if enc in ("identity", "none"):
            continue
        body = mencoding.encode(body, "gzip" if enc == "x-gzip" else enc)
    return body


def _header(headers: Iterable[Any], name: str) -> str | None:
    for h in headers:
        k, v = (h.get("name"), h.get("value")) if isinstance(h, dict) else (h[0], h[1])
        k = k.decode("latin-1") if isinstance(k, bytes) else str(k)
        if k.lower() == name:
            return v.decode("latin-1") if isinstance(v, bytes) else str(v)
    return None


def _mirror(ex: Exchange) -> Exchange:
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
        websocket=[WebSocketMessage(True, m.content, m.is_text, m.timestamp) for m in ex.websocket if not m.from_client],
    )


@dataclass
class RedactionSummary:
    """What a redaction did."""

    source: str
    output: str
    format: str
    exchanges: int
    values: dict[str, int]  # distinct values replaced, per category
    replacements: int
    warnings: list[str] = field(default_factory=list)
    originals: list[str] = field(default_factory=list, repr=False)  # kept in memory only, for checks
    categories: dict[str, list[str]] = field(default_factory=dict)  # data categories per host, before
    leftovers: int = 0  # original values still found in the copy (then nothing was written)
    after: dict[str, list[str]] | None = None  # data categories per host in the copy, if checked


class _Redactor:
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
        self.sub = None
        self.placeholders = Placeholders(b"\0" * 32)

    # ---- collection

    def collect(self, ex: Exchange) -> None:
        from ..fields import walk_exchange

        self.exchanges += 1
        for f in self.auditor.add_exchange(ex):
            self._found(f, ex.host)
        self._ids(walk_exchange(ex, max_depth=self.limits.max_depth, max_fields=self.limits.max_fields))
        mirrored = _mirror(ex)
        if mirrored.request_headers or mirrored.request_body or mirrored.websocket:
            fields = walk_exchange(mirrored, max_depth=self.limits.max_depth, max_fields=self.limits.max_fields)
            for f in classify(mirrored, fields):
                if f.category != "prompt":
                    self._found(f, ex.host)
            self._ids(fields)

    def _found(self, f: Any, host: str) -> None:
        """Register a finding's value, and the personal values inside it: the pieces of a
        prompt (names, addresses), the name part of an email address, a JWT's claims."""
        from ..freetext import email_name, personal_values

        ph = self.placeholders
        ph.add(f.value, f.category, f.part, f.path, host)
        if f.category == "credential":
            for m in _JWT.finditer(f.value):
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
        from ..freetext import id_like

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
            packed = _sniffed_body(raw)  # compressed with no Content-Encoding: rewritten inside
            if packed is not None:
                kind, inner = packed
                new = self.sub.data(inner)
                return raw if new == inner else _compress(new, kind)
            return self.sub.data(raw)
        from ..decoding import decode_body

        decoded, err = decode_body(raw, encoding, self.limits.max_inflated)
        new = self.sub.data(decoded)
        if new == decoded:
            return self.sub.data(raw) if err else raw
        if err:
            self.partial_bodies += 1
        try:
            return _encode_body(new, encoding)
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
        encoding = _header(headers, "content-encoding") if isinstance(headers, list) else None
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
        if isinstance(old, bytes) and isinstance(new, bytes) and len(old) != len(new) and isinstance(out.get("headers"), list):
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
            ce = _header(headers, "content-encoding") if isinstance(headers, list) else None
            new = self.body(raw, ce) if ce and raw.startswith(_COMPRESSED_MAGIC) else self.value(raw)
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


class _Deflater:
    """A binary writer that zlib-compresses what it is given into ``raw`` (for ``.zhar``)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.z = zlib.compressobj(9)

    def write(self, data: bytes) -> int:
        self.raw.write(self.z.compress(data))
        return len(data)

    def close(self) -> None:
        self.raw.write(self.z.flush())


@contextmanager
def _wrapped(raw: IO[bytes], wrapper: str | None) -> Iterator[IO[bytes]]:
    """``raw``, compressed the way the source was (gzip, zlib) so the copy has the same form."""
    if wrapper == "gzip":
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
            yield g  # type: ignore[misc]
    elif wrapper == "zlib":
        d = _Deflater(raw)
        yield d  # type: ignore[misc]
        d.close()
    else:
        yield raw


def _har_layout(head: bytes) -> tuple[int | None, bool]:
    """The indentation of a HAR file's JSON (None: one line) and whether it escaped non-ASCII."""
    text = head.decode("utf-8", "ignore")
    m = re.search(r"\n( +|\t+)\S", text[:4096])
    indent = len(m.group(1)) if m else None
    return indent, bool(re.search(r"\\u[0-9a-fA-F]{4}", text)) and not re.search(r"[^\x00-\x7f]", text)


def _open_source(source: str | Path, name: str, limits: Limits) -> Opened:
    try:
        opened = open_bounded(source, max_inflated=limits.max_capture_inflated)
    except InputError as e:
        raise RedactError(str(e)) from None
    fmt = detect_format(opened.head)
    problem = None
    if not opened.head:
        problem = f"{name}: empty file, not a capture"
    elif opened.wrapper == "zip":
        problem = f"{name}: zip archives cannot be redacted (unzip the HAR and its bodies first)"
    elif fmt == "pcap":
        problem = f"{name}: pcap captures cannot be redacted (only mitmproxy flow files and HAR)"
    elif fmt not in ("har", "mitmproxy"):
        problem = f"{name}: unrecognized format (expected a mitmproxy flow file or HAR)"
    if problem is not None:
        opened.close()
        raise RedactError(problem)
    return opened


def redact_capture(
    source: str | Path,
    output: str | Path,
    *,
    key: bytes | None = None,
    warn: Warn | None = None,
    known: Iterable[KnownValue] = (),
    limits: Limits | None = None,
    verify: bool = True,
) -> RedactionSummary:
    """Write a redacted copy of ``source`` (flow file or HAR; ``-`` for standard input) to
    ``output``, owner-only.

    The source is read through the bounded reader (``limits``, as ``auditor report`` does);
    ``known`` values (``--known``) are replaced wherever they occur, as are the values found.
    With ``verify``, the copy is checked (:func:`check_redacted`) before it replaces
    ``output``: if an original value is still in it, nothing is written and the summary's
    ``leftovers`` says how many. Raises :class:`RedactError` with a one-line message.
    """
    limits = limits or DEFAULT_LIMITS
    dst = Path(output)
    name = "standard input" if str(source) == "-" else str(source)
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn is not None:
            warn(msg)

    try:
        if str(source) != "-" and dst.exists() and Path(source).resolve() == dst.resolve():
            raise RedactError(f"{dst}: the output would overwrite the capture itself")
    except OSError:
        pass
    r = _Redactor(name, key, _warn, limits)
    for k in known:
        r.placeholders.add(k.value, k.category)
        r.placeholders.any_case.add(k.value)
    opened = _open_source(source, name, limits)
    fmt = detect_format(opened.head) or ""
    outs = Outputs()
    try:
        with opened, _mapped(opened.file) as buf:
            with outs.open_binary(dst) as raw, _wrapped(raw, opened.wrapper) as fh:
                if fmt == "har":
                    _redact_har(r, buf, name, fh)
                else:
                    _redact_flows(r, buf, name, _warn, fh)
        summary = _summary(r, name, dst, fmt, warnings)
        r.release()  # (the check below audits the copy: the first audit's memory goes first)
        if verify:
            check = check_redacted(outs.temporary(dst), summary.originals, limits)
            summary.leftovers = len(check.leftovers)
            summary.after = {d["host"]: d["data_categories"] for d in check.document["destinations"]}
            if check.leftovers:
                outs.discard()
                return summary
        outs.commit()
    except OSError as e:
        outs.discard()
        raise RedactError(f"cannot write {dst}: {e.strerror or e}") from None
    except BaseException:
        outs.discard()
        raise
    return summary


def _summary(r: _Redactor, name: str, dst: Path, fmt: str, warnings: list[str]) -> RedactionSummary:
    if r.partial_bodies:
        r.warn(
            f"{Path(name).name}: {r.partial_bodies} body(ies) could not be fully decoded or re-encoded; "
            "their readable part was redacted and kept"
        )
    if r.cut:
        r.warn(
            f"{Path(name).name}: {r.cut} value(s) over the body limit ({r.limits.max_body:,} bytes) were cut there "
            "in the copy (their first part redacted, the rest left out; raise --max-body-mb to keep more)"
        )
    if r.placeholders.undetected:
        cats = Counter(c for c, _ in r.placeholders.undetected)
        r.warn(
            f"{Path(name).name}: no placeholder the classifiers still detect was found for "
            + ", ".join(f"{n} {c} value(s)" for c, n in sorted(cats.items()))
            + "; they were replaced anyway"
        )
    per_cat: Counter[str] = Counter()
    for entry in r.placeholders.entries.values():
        per_cat[entry.categories[0]] += 1
    return RedactionSummary(
        source=name,
        output=str(dst),
        format=fmt,
        exchanges=r.exchanges,
        values=dict(sorted(per_cat.items())),
        replacements=r.sub.replacements if r.sub else 0,
        warnings=warnings,
        originals=list(r.placeholders.entries) + list(r.placeholders.extra),
        categories={d.host: sorted(d.data_categories) for d in r.auditor.resolver.by_host.values()},
    )


def _redact_har(r: _Redactor, buf: bytes, name: str, out: IO[bytes]) -> None:
    """Two passes over the HAR's entries (streamed: one entry in memory at a time): collect the
    values, then write the copy, each entry re-serialized in place and the bytes between entries
    (the document's other members) substituted as they are."""
    from ..har import HarError, _Damaged, _exchange_or_reason, _NotStreamable, _Scanner, load_har

    limits = r.limits
    keep = max(1 << 16, limits.max_body)
    indent, ascii_only = _har_layout(bytes(buf[:200_000]))
    separators = None if indent else (",", ":")
    try:
        scan = _Scanner(buf, keep)
        index = 0
        for start, end in scan.entries():
            try:
                entry = scan.parse(start, end)
            except (ValueError, RecursionError):
                continue
            ex = _exchange_or_reason(entry, 0, index, limits) if isinstance(entry, dict) else "not an object"
            if not isinstance(ex, str):
                index += 1
                r.collect(ex)
    except (_NotStreamable, _Damaged):
        # not the usual layout, or damaged: parse it whole (bounded by the inflated limit)
        try:
            doc = load_har(bytes(buf))
        except HarError as e:
            raise RedactError(f"{name}: {e}") from None
        r.exchanges = 0
        for i, entry in enumerate(doc["log"]["entries"]):
            ex = _exchange_or_reason(entry, 0, i, limits) if isinstance(entry, dict) else "not an object"
            if not isinstance(ex, str):
                r.collect(ex)
        r.finish_collection()
        new = {k: (r.value(v) if k != "log" else v) for k, v in doc.items()}
        new["log"] = {k: (r.value(v) if k != "entries" else [r.har_entry(e) for e in v]) for k, v in doc["log"].items()}
        if buf[:3] == b"\xef\xbb\xbf":
            out.write(b"\xef\xbb\xbf")
        out.write(json.dumps(new, indent=indent, ensure_ascii=ascii_only, separators=separators).encode("utf-8", "surrogatepass"))
        if bytes(buf[-1:]) == b"\n":
            out.write(b"\n")
        return
    r.finish_collection()
    scan = _Scanner(buf, keep)
    prev = 0
    for start, end in scan.entries():
        out.write(r.value(bytes(buf[prev:start])))
        try:
            entry = scan.parse(start, end)
        except (ValueError, RecursionError):
            entry = None
        r.cut += len(scan.long)
        if entry is None:  # unreadable: left out (it cannot be checked for values)
            out.write(b"null")
        else:
            text = json.dumps(r.har_entry(entry), indent=indent, ensure_ascii=ascii_only, separators=separators)
            if indent:
                line_start = buf.rfind(b"\n", max(0, start - 4096), start)
                base = bytes(buf[line_start + 1 : start]) if line_start >= 0 else b""
                text = text.replace("\n", "\n" + (base.decode("ascii") if not base.strip(b" \t") else ""))
            out.write(text.encode("utf-8", "surrogatepass"))
        prev = end
    out.write(r.value(bytes(buf[prev:])))


def _redact_flows(r: _Redactor, buf: bytes, name: str, warn: Warn, out: IO[bytes]) -> None:
    from ..flowfile import FlowFileError, iter_flow_states, state_to_exchange
    from ..live import tnetstring_dumps

    limits = r.limits
    index = 0
    try:
        for state in iter_flow_states(buf, name, lambda m: None, limits):
            c = state.get("client_conn")
            if isinstance(c, dict):
                for k in ("peername", "address"):
                    if isinstance(c.get(k), list) and c[k]:
                        r.client_address(c[k][0])
            try:
                ex = state_to_exchange(state, 0, index, limits)
            except (ValueError, TypeError, KeyError, AttributeError):
                ex = None
            if ex is not None:
                index += 1
                r.collect(ex)
    except FlowFileError as e:
        raise RedactError(f"{name}: {e}") from None
    r.finish_collection()
    for state in iter_flow_states(buf, name, warn, limits):
        r.cut += _count_cut(state)
        out.write(tnetstring_dumps(r.flow_state(state)))


def _count_cut(state: dict[str, Any]) -> int:
    """Bodies and messages of a flow state cut at the body limit by the reader."""
    from ..flowfile import CutBytes

    n = 0
    for side in ("request", "response"):
        msg = state.get(side)
        if isinstance(msg, dict) and isinstance(msg.get("content"), CutBytes):
            n += 1
    ws = state.get("websocket")
    if isinstance(ws, dict):
        n += sum(1 for m in ws.get("messages") or () if isinstance(m, (list, tuple)) and len(m) > 2 and isinstance(m[2], CutBytes))
    return n


@dataclass
class RedactionCheck:
    """What a redacted copy still holds, and its (masked) audit."""

    leftovers: list[str]
    document: dict[str, Any]


_WINDOW = 8 << 20


def check_redacted(path: str | Path, originals: Iterable[str], limits: Limits | None = None) -> RedactionCheck:
    """Audit a redacted capture and look for original values still in it, in one pass.

    Values are looked for in the decoded exchanges (URL path and query, headers, bodies,
    WebSocket messages) and, for values of :data:`SHORT` characters or more, byte for byte in the
    file itself (raw, URL-encoded, JSON-escaped or base64 at any alignment), read in windows so
    memory does not grow with the file. Destination host names are kept by redaction and left
    out of the search; so are structural headers such as Content-Length.
    """
    from ..capture import open_capture

    limits = limits or DEFAULT_LIMITS
    values = [v for v in originals if len(v) >= MIN_LENGTH]
    scanner = LeftoverScanner(values)
    auditor = Auditor(AuditOptions(reveal=False, limits=limits))
    found: set[str] = set()
    hosts: set[str] = set()
    try:
        cap = open_capture(path, limits=limits)
        auditor.captures.append(cap.info)
        for ex in cap.exchanges:
            auditor.add_exchange(ex)
            hosts.add(ex.host)
            chunks = [ex.path.encode("utf-8", "replace"), ex.request_body, ex.response_body]
            chunks += [p[1] for p in (_sniffed_body(ex.request_body), _sniffed_body(ex.response_body)) if p is not None]
            chunks += [
                f"{k}: {v}".encode("utf-8", "replace")
                for k, v in ex.request_headers + ex.response_headers
                if k.lower() not in STRUCTURAL_HEADERS
            ]
            chunks += [m.content for m in ex.websocket]
            found |= scanner.scan(b"\n".join(chunks))
    except CaptureError:
        pass
    raw_scanner = LeftoverScanner(v for v in values if len(v) >= SHORT and v not in found)
    longest = max((len(k) for k in raw_scanner.matcher.pairs), default=0)
    host_bytes = sorted((h.encode("utf-8", "replace") for h in hosts), key=len, reverse=True)
    try:
        opened = open_bounded(path, max_inflated=limits.max_capture_inflated)
    except InputError:
        return RedactionCheck([v for v in values if v in found], auditor.document())
    with opened:
        tail = b""
        while piece := opened.file.read(_WINDOW):
            window = tail + piece
            for h in host_bytes:
                window = window.replace(h, b" ")
            found |= raw_scanner.scan(window)
            tail = window[-(longest + 64) :] if longest else b""
    return RedactionCheck([v for v in values if v in found], auditor.document())


def verify_redacted(path: str | Path, originals: Iterable[str]) -> list[str]:
    """Original values still present in a redacted capture (see :func:`check_redacted`)."""
    return check_redacted(path, originals).leftovers
