"""Placeholders: one consistent stand-in of the same shape for each value to replace.

Placeholders come from a random key per run: the same value gets the same placeholder throughout
one file, and nothing about the original can be derived from it. An email stays an address (at a
reserved ``.invalid`` or ``.test`` domain), a JWT stays three base64url segments with its claims
redacted, an API key keeps its issuer prefix (see :mod:`.shapes` for the rest). Each placeholder
is checked with the classifiers where they detect the original on its own, so the redacted
capture, audited again, shows the same destinations and categories.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from auditor.classifiers import classify
from auditor.models import Exchange, Field
from auditor.redact.matching import MIN_LENGTH, Matcher
from auditor.redact.shapes import (
    CHECKED,
    documentation_ip,
    e164,
    fictional_phone,
    letters_say_nothing,
    reserved_domain,
    scramble,
)

__all__ = ["ID_CLAIMS", "JWT", "TRIES", "VOCABULARY", "Placeholders", "detected", "jwt_claims"]

TRIES = 40  # candidates per strategy when a classifier must still detect the placeholder
# Stand-ins for values the classifiers only accept from a fixed vocabulary (operating systems,
# network types): nothing personal, and never one of the capture's own values.
VOCABULARY = (
    "Android",
    "iOS",
    "Linux",
    "Windows",
    "macOS",
    "HarmonyOS",
    "ChromeOS",
    "Ubuntu",
    "Debian",
    "Fedora",
    "Tizen",
    "KaiOS",
    "wifi",
    "4g",
    "5g",
    "lte",
    "3g",
    "ethernet",
    "cellular",
    "wlan",
)

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
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_KEY_PREFIX = re.compile(
    r"^(?:sk-ant-(?:api\d\d-)?|sk-(?:proj|svcacct|admin)-|sk-|AIza|AKIA|ASIA|gh[pousr]_|github_pat_|xox[a-z]-|"
    r"[rs]k_(?:live|test)_|hf_|(?:Bearer|Basic|Token|Digest|Bot|OAuth) +)"
)


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
        self._inner: Matcher | None = None
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
        self._inner = Matcher({v: v for v in self.entries}, str)
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

    def _scramble_around(
        self, value: str, rng: random.Random, keep: int = 0, digits: bool = True, letters: bool = True
    ) -> str:
        """Scramble ``value`` but put known inner values' placeholders (and JWTs' redacted forms) in place."""
        spans = self._inner_spans(value)
        for m in JWT.finditer(value):
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
                out.append(
                    _b64url_encode(json.dumps(new, separators=(",", ":"), ensure_ascii=False).encode())
                    if i == 1
                    else seg
                )
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
            return int(("1" + digits[1:]) if digits.startswith("0") and len(digits) > 1 else digits) * (
                1 if obj >= 0 else -1
            )
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
            return f"{self._scramble_around(local, rng)}@{reserved_domain(len(domain), rng)}"
        if "phone" in cats and len(cats) == 1:
            p = fictional_phone(value, rng)
            if p is not None:
                return p
        if "ip_address" in cats and len(cats) == 1:
            p = documentation_ip(value, rng)
            if p is not None:
                return p
        for cat in cats:
            gen = CHECKED.get(cat)
            if gen is not None:
                p = gen(value, rng)
                if p is not None:
                    return p
        if "credential" in cats and JWT.fullmatch(value):
            return self._jwt(value, rng)
        m = _KEY_PREFIX.match(value) if "credential" in cats else None
        if "user_file" in cats and "." in value[1:]:
            stem, dot, ext = value.rpartition(".")
            return self._scramble_around(stem, rng) + dot + ext
        return self._scramble_around(value, rng, keep=m.end() if m else 0)

    def _generate(self, e: _Entry) -> str:
        checks = [c for c in e.contexts if detected(e.value, c)]
        first: str | None = None
        strategies = [0]
        if letters_say_nothing(e.value):
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
                if all(detected(p, c) for c in checks):
                    self._link(e, p)
                    return p
            if not checks:
                break
        p = first if first is not None else self._fallback(e)
        if checks:
            from auditor.audit.masking import mask

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
            a, b = e164(e.value), e164(p)
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


def detected(value: str, ctx: tuple[str, str, str, str]) -> bool:
    """Whether the classifiers find ``value`` as ``category`` at ``part``/``path`` on its own."""
    category, part, path, host = ctx
    ex = Exchange(
        capture=0,
        index=0,
        id="redact-check",
        method="POST",
        scheme="https",
        host=host or "example.invalid",
        port=443,
        path="/",
    )
    try:
        found = classify(ex, [Field(part, path, value)])
    except Exception:  # noqa: BLE001  (a classifier failing on a candidate: not detected, try another)
        return False
    return any(f.category == category and f.value == value for f in found)
