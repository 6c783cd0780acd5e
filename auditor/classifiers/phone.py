"""Phone numbers: validated with libphonenumber's metadata (the ``phonenumbers`` package)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from .. import lexicons
from ..models import Finding
from . import Context

# Regions tried for numbers written without a country code in a phone-named field.
_NATIONAL_REGIONS = ("CN", "US", "GB", "DE", "FR", "IN", "JP", "KR")
_CANDIDATE = re.compile(r"\+\d[\d ()./-]{6,20}\d")
_MAX_TEXT = 20_000


def parse_phone(value: str, national: bool) -> str | None:
    """The E.164 form of ``value`` if it is a valid phone number, else None."""
    v = value.strip()
    digits = sum(c.isdigit() for c in v)
    if digits < 7 or digits > 15 or len(v) > 32:
        return None
    regions: tuple[str | None, ...] = (None,) if v.startswith(("+", "00")) else (_NATIONAL_REGIONS if national else ())
    if v.startswith("00"):
        v = "+" + v[2:]
    for region in regions:
        try:
            n = phonenumbers.parse(v, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(n):
            return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return None


def detect(ctx: Context) -> Iterator[Finding]:
    keys = lexicons.names("phone_keys")
    for f in ctx.sent:
        if f.kind != "value" or not any(c.isdigit() for c in f.value[:200]):
            continue
        key = lexicons.normalize_key(lexicons.last_key(f.path))
        if key in keys:
            if parse_phone(f.value, national=True):
                yield Finding("phone", f.part, f.path, f.value, "phone.key", 0.95)
            continue
        if "+" not in f.value or len(f.value) > _MAX_TEXT:
            continue
        for m in _CANDIDATE.finditer(f.value):
            if parse_phone(m.group(), national=False):
                yield Finding("phone", f.part, f.path, m.group(), "phone.international", 0.85)
