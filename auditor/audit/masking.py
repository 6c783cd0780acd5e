"""Masking of personal values for every output, unless the user asks to reveal them."""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from urllib.parse import quote, urlsplit, urlunsplit

STARS = "***"


def sha256(value: str) -> str:
    """Hex SHA-256 of the UTF-8 value: lets users correlate findings without the raw value."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _keep(s: str, n: int) -> str:
    return s[:n] + STARS if len(s) > n else STARS


def mask_email(value: str) -> str:
    """``leo@example.org`` -> ``le***@ex***.org``."""
    local, _, domain = value.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    return f"{_keep(local, 2)}@{_keep(host, 2)}{dot}{tld}"


def mask_digits(value: str, keep: int) -> str:
    """Keep the last ``keep`` digits, mask the other digits: ``+44 7700 900123`` -> ``+** **** ***123``."""
    total = sum(c.isdigit() for c in value)
    seen = 0
    out = []
    for c in value:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_text(value: str) -> str:
    """Free text: the first few characters and the length (``Hel*** (42 chars)``)."""
    v = value.strip()
    head = v[:3] if len(v) > 12 else v[:1]
    return f"{head}{STARS} ({len(value)} chars)"


def mask_secret(value: str) -> str:
    """A credential: its type prefix at most (``sk-***``, ``Bea***``), never enough to use it."""
    m = re.match(
        r"(sk-ant-|sk-proj-|sk-|AIza|AKIA|ASIA|gh[pousr]_|github_pat_|xox[a-z]-|[rs]k_live_|[rs]k_test_|hf_|eyJ)", value
    )
    if m:
        return m.group() + STARS
    return _keep(value, 2) if len(value) >= 12 else STARS


def mask(category: str, value: str) -> str:
    """The masked form of ``value`` for a finding of ``category``."""
    if not value:
        return value
    if category == "email" and "@" in value:
        return mask_email(value)
    if category == "phone":
        return mask_digits(value, 2)
    if category in ("payment_card", "bank_account"):
        return mask_digits(value, 4)
    if category == "credential":
        return mask_secret(value)
    if category in ("prompt", "postal_address", "user_file"):
        return mask_text(value)
    if len(value) <= 4:
        return STARS
    return _keep(value, 2)


_URL_FORMS: dict[str, tuple[str, ...]] = {}
_URL_FORMS_MAX = 4096


def _url_forms(value: str) -> tuple[str, ...]:
    """``value`` and its URL-encoded forms, memoized: the same values recur in many requests."""
    forms = _URL_FORMS.get(value)
    if forms is None:
        forms = (value,)
        with suppress(UnicodeEncodeError):  # (a lone surrogate has no URL-encoded form)
            forms = (value, quote(value, safe=""), quote(value))
        if len(_URL_FORMS) >= _URL_FORMS_MAX:
            _URL_FORMS.clear()
        _URL_FORMS[value] = forms
    return forms


def mask_url(url: str, secrets: list[str]) -> str:
    """A URL safe to show: query values masked; path segments holding a finding's value masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return STARS
    path = parts.path
    variants: set[str] = set()
    for s in secrets:
        # A value longer than the path is not in it, nor is its URL-encoded form (never shorter).
        if 3 <= len(s) <= len(path):
            variants.update(_url_forms(s))
    for v in sorted(variants, key=len, reverse=True):
        if v in path:
            path = path.replace(v, STARS)
    query = ""
    if parts.query:
        pairs = []
        for pair in parts.query.split("&"):
            name, eq, _ = pair.partition("=")
            pairs.append(f"{name}={STARS}" if eq else name)
        query = "&".join(pairs)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))
