"""Value validators: checksums (Luhn, mod-97, ISO 7064), formats and plausibility checks.

Each validator takes the raw field value and says whether it can be what the key claims. They
are what keeps decoys (placeholders, booleans, timestamps, version strings) from becoming
findings when a key name alone would match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date

PLACEHOLDERS = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "undefined",
        "unknown",
        "n/a",
        "na",
        "-",
        "--",
        "0",
        "-1",
        "true",
        "false",
        "anonymous",
        "anon",
        "guest",
        "test",
        "default",
        "empty",
        "(not set)",
        "not set",
        "nan",
        "{{auto}}",
        "00000000-0000-0000-0000-000000000000",
        "unset",
        "redacted",
        "[redacted]",
        "[filtered]",
        "***",
    }
)
_BOOLEANS = frozenset({"true", "false", "yes", "no", "on", "off"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{12}$")
_MAC_PLACEHOLDERS = frozenset({"020000000000", "000000000000", "ffffffffffff"})
_NAME_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|['\u2019.-])*$")
_CJK = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af·]{1,8}$")
_IANA_TZ = re.compile(r"^(?:[A-Z][A-Za-z_-]+(?:/[A-Za-z0-9_+-]+)+|UTC|GMT|Z)$")
_OFFSET = re.compile(r"^(?:UTC|GMT)?[+-]?\d{1,2}(?::?\d{2})?$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_DIGITS_SEP = re.compile(r"^[\d -]+$")
_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
# An event name, possibly after a vendor's tag ("[Amplitude] Page Viewed").
_EVENT = re.compile(r"^(?:\[[A-Za-z][\w .-]{0,30}\] )?[A-Za-z$_@][\w$:.\- /@]{0,99}$")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_DATE_NUMERIC = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_DATE_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_WORDS = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$|^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$"
)
_OS_NAMES = (
    "android",
    "ios",
    "ipados",
    "linux",
    "windows",
    "macos",
    "mac os",
    "os x",
    "osx",
    "darwin",
    "harmonyos",
    "openharmony",
    "chromeos",
    "chrome os",
    "tvos",
    "watchos",
    "visionos",
    "fuchsia",
    "ubuntu",
    "debian",
    "fedora",
    "kaios",
    "tizen",
    "win32",
    "win64",
)
_NETWORK_TYPES = frozenset(
    {
        "wifi",
        "wi-fi",
        "wlan",
        "2g",
        "3g",
        "4g",
        "5g",
        "lte",
        "nr",
        "edge",
        "gprs",
        "umts",
        "hspa",
        "cellular",
        "mobile",
        "wwan",
        "ethernet",
        "wired",
        "bluetooth",
        "cell",
    }
)
_FLAGS = frozenset({"true", "false", "0", "1", "yes", "no"})
THIS_YEAR = 2026

# IBAN lengths by country (ISO 13616 registry, SWIFT IBAN Registry release 99, 2025).
IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SC": 31,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}
_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_CHECK = "10X98765432"
_NINO = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")


def _plain(value: str) -> str:
    return value.strip()


def is_placeholder(value: str) -> bool:
    """Empty, boolean, null-like or an all-zero id."""
    v = value.strip().lower()
    if v in PLACEHOLDERS:
        return True
    core = v.replace("-", "").replace(":", "").replace("_", "").replace(".", "")
    return bool(core) and len(set(core)) == 1 and len(core) >= 4


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check of a digit string."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_number(value: str) -> str | None:
    """The digits of a plausible payment card number (12-19 digits, Luhn, known IIN range), else None."""
    v = value.strip()
    if not _DIGITS_SEP.match(v):
        return None
    digits = v.replace(" ", "").replace("-", "")
    if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or digits[0] not in "23456":
        return None
    if digits[0] == "3" and digits[:2] not in ("34", "37", "35", "36", "30", "38", "39"):
        return None
    return digits if luhn(digits) else None


def iban(value: str) -> bool:
    """ISO 13616 IBAN: country length and the ISO 7064 mod-97 check."""
    v = value.replace(" ", "").replace("-", "").upper()
    if len(v) < 15 or not v[:2].isalpha() or not v[2:4].isdigit() or not v.isalnum():
        return False
    if IBAN_LENGTHS.get(v[:2]) != len(v):
        return False
    moved = v[4:] + v[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def ssn(value: str) -> bool:
    """A US Social Security number (area not 000/666/9xx, group not 00, serial not 0000)."""
    v = value.strip().replace("-", "").replace(" ", "")
    if len(v) != 9 or not v.isdigit():
        return False
    area, group, serial = v[:3], v[3:5], v[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return v not in ("078051120", "219099999", "123456789")


def cn_resident_id(value: str) -> bool:
    """A Chinese resident identity number (GB 11643-1999): 18 characters, a birth date, ISO 7064 check."""
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return False
    if not _valid_date(int(v[6:10]), int(v[10:12]), int(v[12:14])):
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _CN_WEIGHTS, strict=True))
    return _CN_CHECK[total % 11] == v[17]


def fr_nir(value: str) -> bool:
    """A French social security number (NIR): 15 digits with the key 97 - (number mod 97)."""
    v = value.replace(" ", "").upper()
    if len(v) != 15 or v[0] not in "12":
        return False
    body = v[:13].replace("2A", "19").replace("2B", "18")
    if not body.isdigit() or not v[13:].isdigit():
        return False
    month = int(v[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(v[13:])


def uk_nino(value: str) -> bool:
    """A UK National Insurance number (two prefix letters, six digits, suffix A-D)."""
    return bool(_NINO.match(value.replace(" ", "").upper()))


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def birth_date(value: str) -> bool:
    """A calendar date (or a year) that can be a living person's birth date (1900 to this year)."""
    v = value.strip()
    if len(v) == 4 and v.isdigit():
        return 1900 <= int(v) <= THIS_YEAR
    y = m = d = 0
    if mt := _DATE_NUMERIC.match(v):
        y, m, d = int(mt[1]), int(mt[2]), int(mt[3])
    elif mt := _DATE_DMY.match(v):
        a, b, y = int(mt[1]), int(mt[2]), int(mt[3])
        d, m = (a, b) if b <= 12 else (b, a)
    elif mt := _DATE_COMPACT.match(v):
        y, m, d = int(mt[1]), int(mt[2]), int(mt[3])
    elif mt := _DATE_WORDS.match(v):
        if mt[1]:
            d, month, y = int(mt[1]), mt[2], int(mt[3])
        else:
            month, d, y = mt[4], int(mt[5]), int(mt[6])
        m = _MONTHS.get(month.lower(), 0)
    else:
        return False
    return 1900 <= y <= THIS_YEAR and _valid_date(y, m, d)


def person_name(value: str) -> bool:
    """One to five words made of letters (apostrophes, hyphens, dots allowed), or 2-8 CJK characters."""
    v = value.strip()
    if _CJK.match(v):
        return True
    if not 2 <= len(v) <= 80 or v.lower() in PLACEHOLDERS or v.lower() in ("user", "me", "admin", "name"):
        return False
    words = v.split()
    return 1 <= len(words) <= 5 and all(_NAME_WORD.match(w) for w in words)


def person_name_strict(value: str) -> bool:
    """:func:`person_name`, with every word capitalized (for the generic ``name`` key of a person object)."""
    v = value.strip()
    if _CJK.match(v):
        return True
    return person_name(v) and all(not w[0].islower() for w in v.split())


def person_name_full(value: str) -> bool:
    """:func:`person_name_strict` with two words or more (a full name, not a login)."""
    return person_name_strict(value) and (bool(_CJK.match(value.strip())) or len(value.split()) >= 2)


def account_id(value: str) -> bool:
    """An account identifier: no spaces, not an address, not a placeholder."""
    v = value.strip()
    if not 1 <= len(v) <= 128 or is_placeholder(v) or "@" in v:
        return False
    return not any(c.isspace() for c in v)


def device_id(value: str) -> bool:
    """A persistent identifier: 6-256 characters, no spaces, not all one character; numbers >= 8 digits."""
    v = value.strip()
    if not 6 <= len(v) <= 256 or is_placeholder(v) or any(c.isspace() for c in v):
        return False
    if v.isdigit() and len(v) < 8:
        return False
    return not (v.replace(".", "").isdigit() and "." in v and len(v) < 12)


def imei(value: str) -> bool:
    """An IMEI (15 digits, Luhn) or a MEID (14 hex digits)."""
    v = value.strip().replace("-", "").replace(" ", "")
    if len(v) == 15 and v.isdigit():
        return luhn(v) and len(set(v)) > 1
    return len(v) == 14 and bool(_HEX.match(v)) and len(set(v)) > 1


def mac(value: str) -> bool:
    """A MAC address that is not a placeholder (Android's 02:00:00:00:00:00, all zeros, broadcast)."""
    v = value.strip()
    if not _MAC.match(v):
        return False
    return v.replace(":", "").replace("-", "").lower() not in _MAC_PLACEHOLDERS


def hex32(value: str) -> bool:
    """32 hexadecimal digits, not all zeros."""
    v = value.strip()
    return len(v) == 32 and bool(_HEX.match(v)) and len(set(v)) > 1


def ad_id(value: str) -> bool:
    """An advertising id: a UUID (IDFA, GAID) or 16-64 hex digits (OAID), not the all-zero opt-out value."""
    v = value.strip()
    if is_placeholder(v):
        return False
    if _UUID.match(v):
        return True
    return 16 <= len(v) <= 64 and bool(_HEX.match(v.replace("-", "")))


def ip(value: str) -> bool:
    """An IPv4 or IPv6 address (the first of a list), not unspecified or loopback."""
    v = value.split(",", 1)[0].strip().strip("[]")
    try:
        addr = ipaddress.ip_address(v)
    except ValueError:
        return False
    return not (addr.is_unspecified or addr.is_loopback or addr.is_multicast)


def place(value: str) -> bool:
    """A place name: letters, 2-60 characters, not a bare country/region code."""
    v = value.strip()
    if not 2 <= len(v) <= 60 or v.lower() in PLACEHOLDERS or not any(c.isalpha() for c in v):
        return False
    if len(v) <= 3 and v.isupper() and v.isalpha():
        return False
    return sum(c.isdigit() for c in v) <= 2


def postcode(value: str) -> bool:
    """A postcode: 3-10 letters, digits, spaces or dashes, with at least one digit."""
    v = value.strip()
    return bool(_POSTCODE.match(v)) and any(c.isdigit() for c in v) and not is_placeholder(v) and len(v) >= 3


def address(value: str) -> bool:
    """A street address: several words, letters and a number or comma, no URL or e-mail."""
    v = value.strip()
    if not 5 <= len(v) <= 300 or "@" in v or "://" in v or v.lower().startswith("0x"):
        return False
    if not any(c.isalpha() for c in v) or not any(c.isspace() for c in v):
        return False
    return any(c.isdigit() for c in v) or "," in v


def address_part(value: str) -> bool:
    """A member of a postal address object: some letters or digits, not a placeholder."""
    v = value.strip()
    return 1 <= len(v) <= 200 and not is_placeholder(v) and any(c.isalnum() for c in v)


def card(value: str) -> bool:
    return card_number(value) is not None


def cvc(value: str) -> bool:
    """A card security code: 3 or 4 digits."""
    v = value.strip()
    return v.isdigit() and len(v) in (3, 4)


def card_expiry(value: str) -> bool:
    """A card expiry: a month (1-12), a year (2 or 4 digits), or MM/YY, MM/YYYY."""
    v = value.strip().replace(" ", "")
    if v.isdigit():
        n = int(v)
        return (len(v) <= 2 and 1 <= n <= 12) or (len(v) == 2 and 20 <= n <= 60) or (len(v) == 4 and 2000 <= n <= 2060)
    m = re.match(r"^(\d{1,2})[/-](\d{2}|\d{4})$", v)
    return m is not None and 1 <= int(m[1]) <= 12


def bank_account(value: str) -> bool:
    """An IBAN, or a 6-20 digit account number."""
    v = value.strip()
    if v[:2].isalpha():
        return iban(v)
    digits = v.replace(" ", "").replace("-", "")
    return digits.isdigit() and 6 <= len(digits) <= 20 and len(set(digits)) > 1


def government_id(value: str) -> bool:
    """A national id: checked when its format is known (SSN, CN resident id, NIR, NINO), else an
    alphanumeric document number of 6-20 characters with at least two digits."""
    v = value.strip().upper().replace(" ", "")
    core = v.replace("-", "")
    if not core.isalnum() or is_placeholder(core):
        return False
    if len(core) == 18 and core[:17].isdigit():
        return cn_resident_id(core)
    if len(core) == 15 and core[:1] in "12" and core[5:].isdigit():
        return fr_nir(core)
    if len(core) == 9 and core.isdigit():
        return ssn(core)
    if _NINO.match(core):
        return True
    return 6 <= len(core) <= 20 and sum(c.isdigit() for c in core) >= 2 and len(set(core)) > 2


def conversation_id(value: str) -> bool:
    """An id: 6-128 characters, no spaces."""
    v = value.strip()
    return (
        6 <= len(v) <= 128 and not is_placeholder(v) and not any(c.isspace() for c in v) and any(c.isalnum() for c in v)
    )


_THREAD_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?)")


def chat_thread_id(value: str) -> bool:
    """A chat thread id (``thread_abc123``, a UUID), not an OS thread id (a bare integer, decimal
    or ``0x`` hex, as crash reports and traces give it)."""
    return conversation_id(value) and not _THREAD_NUMBER.fullmatch(value.strip())


def device_attribute(value: str) -> bool:
    """A device attribute value: short, not boolean or a placeholder."""
    v = value.strip()
    return 1 <= len(v) <= 120 and v.lower() not in _BOOLEANS and v.lower() not in PLACEHOLDERS - {"0"}


def os_name(value: str) -> bool:
    """A value naming an operating system (``Android``, ``iOS 17.2``, ``Linux``)."""
    v = value.strip().lower()
    return 2 <= len(v) <= 80 and any(v.startswith(n) or f" {n}" in v for n in _OS_NAMES)


def network_type(value: str) -> bool:
    """A network access type (``wifi``, ``4g``, ``cellular``...)."""
    return value.strip().lower() in _NETWORK_TYPES


def flag(value: str) -> bool:
    return value.strip().lower() in _FLAGS


def timezone(value: str) -> bool:
    """An IANA time zone name or a UTC offset (hours or minutes)."""
    v = value.strip()
    if _IANA_TZ.match(v) or (_OFFSET.match(v) and not v.lstrip("+-").isdigit()):
        return True
    if v.lstrip("+-").isdigit():
        n = int(v)
        return -840 <= n <= 840 or (n % 900 == 0 and -50400 <= n <= 50400)  # minutes, or seconds in quarter hours
    return False


def event_name(value: str) -> bool:
    """An analytics event name: starts with a letter (or ``$``/``_``), at most six words, not an id."""
    v = value.strip()
    if not 2 <= len(v) <= 100 or v.lower() in PLACEHOLDERS or not _EVENT.match(v):
        return False
    if _UUID.match(v) or (len(v) >= 16 and _HEX.match(v)) or "://" in v:
        return False
    return len(v.split()) <= 6 and any(c.isalpha() for c in v)


def number(value: str) -> bool:
    return bool(_NUMBER.match(value.strip()))


def free_text(value: str) -> bool:
    from auditor.classifiers.prompt import is_free_text

    return is_free_text(value)


def phone(value: str) -> bool:
    from auditor.classifiers.phone import parse_phone

    return parse_phone(value, national=True) is not None


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "phone": phone,
    "free_text": free_text,
    "person_name": person_name,
    "person_name_strict": person_name_strict,
    "birth_date": birth_date,
    "account_id": account_id,
    "device_id": device_id,
    "imei": imei,
    "mac": mac,
    "hex32": hex32,
    "ad_id": ad_id,
    "ip": ip,
    "place": place,
    "postcode": postcode,
    "address": address,
    "address_part": address_part,
    "card": card,
    "cvc": cvc,
    "card_expiry": card_expiry,
    "bank_account": bank_account,
    "government_id": government_id,
    "conversation_id": conversation_id,
    "chat_thread_id": chat_thread_id,
    "person_name_full": person_name_full,
    "device_attribute": device_attribute,
    "os_name": os_name,
    "network_type": network_type,
    "flag": flag,
    "timezone": timezone,
    "event_name": event_name,
    "keystroke": number,
    "number": number,
}
