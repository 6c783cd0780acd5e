"""Random values of the same shape as an original: the raw material of placeholders.

Digits stay digits, hex stays hex, letters keep their case and script, punctuation and spacing
stay. Values a classifier validates keep passing its checks: a phone number stays a valid
number of its country (a fictional range where one exists), IBANs, card numbers and Chinese
resident ID numbers get valid check digits (computed with :mod:`auditor.classifiers.validators`,
the checks the classifiers make), a date stays a date written the same way, an address stays in
a documentation range.
"""

from __future__ import annotations

import ipaddress
import random
import re
from collections.abc import Callable

from auditor.classifiers import validators
from auditor.classifiers.phone import parse_number

__all__ = [
    "CHECKED",
    "documentation_ip",
    "e164",
    "fictional_phone",
    "letters_say_nothing",
    "reserved_domain",
    "scramble",
    "scramble_char",
]


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


def reserved_domain(length: int, rng: random.Random) -> str:
    """A domain under a reserved TLD (RFC 2606), as close to ``length`` characters as possible."""
    tld = "invalid" if length >= 9 else "test"
    n = max(1, length - len(tld) - 1)
    label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
    labels = [label[i : i + 60] for i in range(0, len(label), 61)]
    return ".".join([*labels, tld])


_CALENDAR_WORDS = frozenset(
    {
        *("jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june"),
        *("jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october"),
        *("nov", "november", "dec", "december", "mon", "monday", "tue", "tuesday", "wed", "wednesday"),
        *("thu", "thursday", "fri", "friday", "sat", "saturday", "sun", "sunday", "st", "nd", "rd", "th"),
    }
)


def letters_say_nothing(value: str) -> bool:
    """Whether every run of letters in ``value`` is at most 3 letters (a country code, a check
    letter) or a month or day name, so randomizing only its digits leaves nothing identifying."""
    return all(len(w) <= 3 or w.lower() in _CALENDAR_WORDS for w in re.findall(r"[^\W\d_]+", value))


def e164(value: str) -> str | None:
    import phonenumbers

    n = parse_number(value)
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if n is not None else None


def _fill_digits(template: str, digits: str) -> str:
    it = iter(digits)
    return "".join(next(it, "0") if c.isdigit() else c for c in template)


def fictional_phone(value: str, rng: random.Random) -> str | None:
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
    """An IBAN of the same country, length and layout, with valid check digits (ISO 13616 mod 97),
    for a country of the IBAN registry (others: None, the value is scrambled as text)."""
    compact = value.replace(" ", "").replace("-", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", compact):
        return None
    bban = scramble(compact[4:], rng)
    # the check digits (02-98) are the one pair that makes the mod-97 check pass
    for check in range(2, 99):
        candidate = f"{compact[:2]}{check:02d}{bban}"
        if validators.iban(candidate):
            return _keep_layout(value, candidate)
    return None


def _luhn_complete(digits: str) -> str:
    """``digits`` followed by its Luhn check digit (the one digit that makes the check pass)."""
    return next(digits + d for d in "0123456789" if validators.luhn(digits + d))


def _card(value: str, rng: random.Random) -> str | None:
    """A card number of the same length, network digit and layout, passing the Luhn check."""
    digits = "".join(c for c in value if c.isdigit())
    if not 12 <= len(digits) <= 19 or any(c not in " -" and not c.isdigit() for c in value):
        return None
    body = digits[0] + "".join(rng.choice("0123456789") for _ in digits[1:-1])
    return _keep_layout(value, _luhn_complete(body))


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


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


def _cn_id(value: str, rng: random.Random) -> str | None:
    """A mainland China resident ID number: same province, another birth date, valid check (ISO 7064)."""
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return None
    y, m, d = _random_date(rng)
    body = value[:2] + "".join(rng.choice("0123456789") for _ in range(4)) + f"{y}{m:02d}{d:02d}"
    body += "".join(rng.choice("0123456789") for _ in range(3))
    check = next(c for c in "0123456789X" if validators.cn_resident_id(body + c))
    return body + (check.lower() if value[-1] == "x" else check)


# Generators that keep a value valid for the checks its classifier makes (checksums, dates).
CHECKED: dict[str, Callable[[str, random.Random], str | None]] = {
    "bank_account": _iban,
    "payment_card": _card,
    "date_of_birth": _date,
    "government_id": _cn_id,
}


def documentation_ip(value: str, rng: random.Random) -> str | None:
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if addr.version == 4:
        net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
        return f"{net}.{rng.randrange(1, 255)}"
    return f"2001:db8::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}"
