"""Value patterns with validators, anywhere in what the client sent.

One multi-pattern prefilter scan per exchange (:class:`auditor.classifiers.textscan.Scanner`) says which
fields may hold an email, a phone number, a card number, an IBAN, a national id, an API key, a
JWT, an embedded file or a chat URL; the exact expression and its checksum then run on those
fields only. A bare number (the whole value) is judged by its key in :mod:`.rules`, not here:
a 16-digit ``order_id`` that happens to pass Luhn is not a card, but the same digits inside
free text are.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from functools import cache

from auditor.classifiers import Context, lexicons
from auditor.classifiers import validators as v
from auditor.classifiers.email import find_emails
from auditor.classifiers.phone import CANDIDATE, CN_MOBILE, parse_cn_mobile, parse_phone
from auditor.classifiers.textscan import Scanner
from auditor.models import Field, Finding

_MAX_SCAN = 1_000_000  # characters of one value looked at by the exact expressions

# Well-known secret formats, each documented by its issuer.
API_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("anthropic", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("google", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("aws", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b")),
    ("stripe", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("slack", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("huggingface", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("posthog", re.compile(r"\bph[cx]_[A-Za-z0-9]{32,}\b")),  # project and personal API keys
)
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# Digit runs, not the digits of a decimal number (``14675.599999999627``).
_CARD = re.compile(r"(?<![\w-])(?<!\d\.)(?:\d[ -]?){11,18}\d(?![\w-])(?!\.\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,34}")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_CN_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_FR_NIR = re.compile(r"(?<![0-9A-Za-z])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![0-9A-Za-z])")
_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_DATA_URI = re.compile(r"data:([a-z]+/[A-Za-z0-9.+-]+)((?:;[A-Za-z0-9=.-]+)*);base64,([A-Za-z0-9+/=_-]*)")
_B64_RUN = re.compile(
    r"(?<![A-Za-z0-9+/])(?:iVBORw0KGgo|/9j/|R0lGOD|JVBERi0|UklGR|SUQz|T2dnUw|ZkxhQw|AAAA[A-Za-z0-9+/]{2}ZnR5c)[A-Za-z0-9+/_-]*=*"
)
_NOT_USER_FILES = ("font/", "application/font", "application/x-font", "image/x-icon", "image/vnd.microsoft.icon")
# Magic numbers of media and document formats (file signatures).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
    (b"ID3", 0, "audio/mpeg"),
    (b"OggS", 0, "audio/ogg"),
    (b"fLaC", 0, "audio/flac"),
    (b"ftyp", 4, "video/mp4"),
)


def _prefilters() -> list[tuple[str, str]]:
    hosts = sorted({re.escape(u.host) for u in lexicons.chat_urls()})
    return [
        ("email", r"[^\s@\"'<>]@[A-Za-z0-9-]+\.[A-Za-z]"),  # (any letter before @: UTF-8 local parts)
        ("phone_intl", r"\+[1-9][0-9 ().-]{5}"),
        ("cn_mobile", r"(?:^|[^0-9])1[3-9][0-9]{9}(?:[^0-9]|$)"),
        (
            "card",
            r"(?:^|[^0-9A-Za-z_-])(?:[2-6][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}|3[47][0-9]{2}[ -]?[0-9]{6}[ -]?[0-9]{5})",
        ),
        ("iban", r"\b[A-Z]{2}\d{2} ?[A-Z0-9]{4}"),
        ("ssn", r"\d{3}-\d{2}-\d{4}"),
        ("cn_id", r"(?:^|[^0-9])[0-9]{6}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"),
        ("fr_nir", r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b"),
        ("uk_nino", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
        (
            "api_key",
            r"sk-[A-Za-z0-9_-]{8}|AIza[0-9A-Za-z_-]{8}|A[KS]IA[0-9A-Z]{8}|gh[pousr]_[A-Za-z0-9]{8}|github_pat_|[rs]k_(?:live|test)_|xox[abposr]-|hf_[A-Za-z0-9]{8}|ph[cx]_[A-Za-z0-9]{8}",
        ),
        ("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ"),
        ("data_uri", r"data:[a-z]+/[A-Za-z0-9.+-]+(?:;[A-Za-z0-9=.-]+)*;base64,"),
        (
            "b64_media",
            r"(?:^|[^A-Za-z0-9+/])(?:iVBORw0KGgo|/9j/|R0lGOD|JVBERi0|UklGR|SUQz|T2dnUw|ZkxhQw|AAAA[A-Za-z0-9+/]{2}ZnR5c)",
        ),
        ("chat_url", "(?:" + "|".join(hosts) + ")(?::[0-9]+)?/"),
    ]


@cache
def scanner(use_hyperscan: bool = True) -> Scanner:
    """The compiled prefilter (Hyperscan when available)."""
    return Scanner(_prefilters(), use_hyperscan=use_hyperscan)


def prefilter(ctx: Context, use_hyperscan: bool = True) -> dict[str, list[int]]:
    """``pattern name -> indices into ctx.sent`` of the fields worth the exact check."""
    sc = scanner(use_hyperscan)
    values = [f.value if f.kind == "value" else "" for f in ctx.sent]
    return {name: sorted(idx) for name, idx in zip(sc.names, sc.scan(values), strict=True) if idx}


@cache
def _chat_url_re() -> re.Pattern[str]:
    alts = []
    for u in lexicons.chat_urls():
        mid = r"[^/?#\s]+" + re.escape(u.id_after) if u.id_after else ""
        alts.append(re.escape(u.host) + r"(?::\d+)?" + re.escape(u.prefix) + mid)
    return re.compile(r"(?:^|[/.@])(?:" + "|".join(alts) + r")([A-Za-z0-9_-]{6,128})(?![A-Za-z0-9_-])")


def _bare(match: str, value: str) -> bool:
    return match.strip() == value.strip()


Check = Callable[[Context, Field, str], Iterator[Finding]]


def _email(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for addr in find_emails(text):
        yield Finding("email", f.part, f.path, addr, "email.regex", 0.95 if addr == f.value else 0.9)


def _phone_intl(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("phone", f.part, f.path) in ctx.found:
        return
    for m in CANDIDATE.finditer(text):
        if parse_phone(m.group(), national=False):
            yield Finding("phone", f.part, f.path, m.group(), "phone.international", 0.85)


def _cn_mobile(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("phone", f.part, f.path) in ctx.found:
        return
    for m in CN_MOBILE.finditer(text):
        if not _bare(m.group(), f.value) and parse_cn_mobile(m.group()):
            yield Finding("phone", f.part, f.path, m.group(), "phone.cn_mobile", 0.8)


def _card(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("payment_card", f.part, f.path) in ctx.found:
        return
    for m in _CARD.finditer(text):
        if not _bare(m.group(), f.value) and v.card_number(m.group()):
            yield Finding("payment_card", f.part, f.path, m.group(), "payment_card.luhn", 0.85)


def _iban(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("bank_account", f.part, f.path) in ctx.found:
        return
    for m in _IBAN.finditer(text):
        raw = m.group()
        want = v.IBAN_LENGTHS.get(raw[:2])
        if want is None:
            continue
        count = 0
        for end, c in enumerate(raw):
            if c != " ":
                count += 1
            if count == want:
                cand = raw[: end + 1]
                after = text[m.start() + end + 1 : m.start() + end + 2]
                if not after.isalnum() and v.iban(cand):
                    yield Finding("bank_account", f.part, f.path, cand, "bank_account.iban", 0.95)
                break


def _ssn(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _SSN.finditer(text):
        if v.ssn(m.group()):
            yield Finding("government_id", f.part, f.path, m.group(), "government_id.us_ssn", 0.85)


def _cn_id(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _CN_ID.finditer(text):
        if not _bare(m.group(), f.value) and v.cn_resident_id(m.group()):
            yield Finding("government_id", f.part, f.path, m.group(), "government_id.cn_resident_id", 0.9)


def _fr_nir(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _FR_NIR.finditer(text):
        if not _bare(m.group(), f.value) and v.fr_nir(m.group()):
            yield Finding("government_id", f.part, f.path, m.group(), "government_id.fr_nir", 0.85)


def _nino(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _NINO.finditer(text):
        if v.uk_nino(m.group()):
            yield Finding("government_id", f.part, f.path, m.group(), "government_id.uk_nino", 0.8)


_AUTH_HEADERS = ("authorization", "proxy-authorization")


def _api_key(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("credential", f.part, f.path) in ctx.found or (f.part == "request.header" and f.path in _AUTH_HEADERS):
        return
    for issuer, rx in API_KEYS:
        m = rx.search(text)
        if m:
            yield Finding("credential", f.part, f.path, m.group(), f"credential.api_key.{issuer}", 0.95)
            return


def _jwt(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("credential", f.part, f.path) in ctx.found or "@jwt" in f.path:
        return
    if f.part == "request.header" and f.path in _AUTH_HEADERS:
        return
    m = JWT.search(text)
    if m:
        yield Finding("credential", f.part, f.path, m.group(), "credential.jwt", 0.8)


def _data_uri(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _DATA_URI.finditer(text):
        mime = m.group(1).lower()
        if mime.startswith(_NOT_USER_FILES):
            continue
        size = len(m.group(3)) * 3 // 4
        yield Finding("user_file", f.part, f.path, f"{mime} ({size} bytes, data URI)", "user_file.data_uri", 0.9)


def sniff_base64(run: str) -> str | None:
    """The media type of base64 data from its magic number, else None."""
    head = run[:32].replace("-", "+").replace("_", "/")
    head = head[: len(head) // 4 * 4]
    try:
        raw = base64.b64decode(head, validate=True)
    except (binascii.Error, ValueError):
        return None
    for magic, offset, mime in _MAGIC:
        if raw[offset : offset + len(magic)] == magic:
            if mime in ("image/webp", "audio/wav") and not raw.startswith(b"RIFF"):
                continue
            return mime
    return None


def _b64_media(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    if ("user_file", f.part, f.path) in ctx.found:
        return
    for m in _B64_RUN.finditer(text):
        run = m.group()
        if len(run) < 40:
            continue
        mime = sniff_base64(run)
        if mime:
            size = len(run.rstrip("=")) * 3 // 4
            yield Finding("user_file", f.part, f.path, f"{mime} ({size} bytes, base64)", "user_file.base64", 0.85)
            return


def _chat_url(ctx: Context, f: Field, text: str) -> Iterator[Finding]:
    for m in _chat_url_re().finditer(text):
        yield Finding("conversation_id", f.part, f.path, m.group(1), "conversation_id.chat_url", 0.85)


CHECKS: dict[str, Check] = {
    "email": _email,
    "phone_intl": _phone_intl,
    "cn_mobile": _cn_mobile,
    "card": _card,
    "iban": _iban,
    "ssn": _ssn,
    "cn_id": _cn_id,
    "fr_nir": _fr_nir,
    "uk_nino": _nino,
    "api_key": _api_key,
    "jwt": _jwt,
    "data_uri": _data_uri,
    "b64_media": _b64_media,
    "chat_url": _chat_url,
}


def detect(ctx: Context) -> Iterator[Finding]:
    """Exact checks on the fields the prefilter picked, in field order."""
    todo: list[tuple[int, int, str]] = []
    hits = ctx.hits()
    assert isinstance(hits, dict)
    for order, name in enumerate(CHECKS):
        for i in hits.get(name, ()):
            todo.append((i, order, name))
    todo.sort()
    for i, _order, name in todo:
        f = ctx.sent[i]
        text = f.value if len(f.value) <= _MAX_SCAN else f.value[:_MAX_SCAN]
        yield from CHECKS[name](ctx, f, text)
