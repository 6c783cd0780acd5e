"""Phone numbers, validated with libphonenumber's metadata (the ``phonenumbers`` package).

Phone-named fields are found by the key rules (:mod:`.rules`, lexicon group ``phone_keys``) and
accept national forms; numbers inside other text are found by :mod:`.patterns` and must be
international (``+CC``) or Chinese mobile numbers.
"""

from __future__ import annotations

import re

import phonenumbers

# Regions tried for numbers written without a country code in a phone-named field.
NATIONAL_REGIONS = ("CN", "US", "GB", "DE", "FR", "IN", "JP", "KR")
CANDIDATE = re.compile(r"\+\d[\d ()./-]{6,20}\d")
CN_MOBILE = re.compile(r"(?<![0-9A-Za-z+])1[3-9]\d{9}(?![0-9A-Za-z])")
_CACHE: dict[tuple[str, bool], str | None] = {}


def parse_phone(value: str, national: bool) -> str | None:
    """The E.164 form of ``value`` if it is a valid phone number, else None."""
    hit = _CACHE.get((value, national), "")
    if hit != "":
        return hit
    result = _parse(value, national)
    if len(_CACHE) < 50_000:
        _CACHE[(value, national)] = result
    return result


def _parse(value: str, national: bool) -> str | None:
    v = value.strip()
    digits = sum(c.isdigit() for c in v)
    if digits < 7 or digits > 15 or len(v) > 32:
        return None
    if any(c.isalpha() for c in v):
        return None
    n = parse_number(v, national)
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if n is not None else None


def parse_number(value: str, national: bool = True) -> phonenumbers.PhoneNumber | None:
    """The valid number ``value`` holds: international (``+CC`` or ``00CC``), or with
    ``national`` also written without a country code in one of :data:`NATIONAL_REGIONS`."""
    v = value.strip()
    if v.startswith("00"):
        v = "+" + v[2:]
    regions: tuple[str | None, ...] = (None,) if v.startswith("+") else (NATIONAL_REGIONS if national else ())
    for region in regions:
        try:
            n = phonenumbers.parse(v, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(n):
            return n
    return None


def parse_cn_mobile(value: str) -> str | None:
    """The E.164 form of a Chinese mobile number written nationally (``13812345678``), else None."""
    try:
        n = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(n) and phonenumbers.number_type(n) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return None
