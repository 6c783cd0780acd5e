"""Personal values inside free text (a typed prompt), for redaction.

A prompt is found whole (category ``prompt``), but an AI answer echoes pieces of it: the name
the user signed with, the street address. :func:`personal_values` picks those pieces out of a
text so they can be replaced wherever else they occur:

- street addresses (``Flat 3, 10 Example Road, London``; ``Musterstraße 12``), whole and in
  parts (the flat, the house number with the street, the street name);
- names: runs of two to four capitalized words (``Jane Doe``), and one capitalized word after
  a cue (``my name is``, ``I am``, ``sign it as``), with each of their words;
- dates of birth (after ``born``, ``date of birth``...);
- identifiers: words that mix letters and digits (``X1234567``, a passport number).

It errs towards replacing more: a redacted capture with an extra word scrambled is still a
good fixture; one with a name left in is not.
"""

from __future__ import annotations

import re

__all__ = ["email_name", "id_like", "personal_values"]

_UPPER = r"[A-ZÀ-ÖØ-ÞĀ-Ž]"
_WORD = rf"{_UPPER}[\w'\u2019-]*"
_STREET_TYPES = (
    "Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Place|Pl|Court|Ct|Square|Sq|"
    "Terrace|Close|Crescent|Gardens|Hill|Park|Row|Walk|Mews|Parade|Highway|Hwy"
)
_UNIT = r"(?:Flat|Apt\.?|Apartment|Unit|Suite|Room|Floor)\s+\w{1,6}"
_STREET = rf"\d{{1,5}}[A-Za-z]?\s+(?:{_WORD}\s+){{0,3}}(?:{_STREET_TYPES})\b"
_CITY = rf"(?:,\s*{_WORD}(?:\s+{_WORD})?)?"
_ADDRESS = re.compile(rf"(?:(?P<unit>{_UNIT}),?\s+)?(?P<street>{_STREET}){_CITY}")
# German-style: street name with its suffix, then the number
_ADDRESS_DE = re.compile(rf"\b{_UPPER}\w*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring)\s+\d{{1,4}}[a-z]?\b")
_UNIT_ALONE = re.compile(_UNIT + r"\b")
_NAME_RUN = re.compile(rf"(?<![\w.@/])({_WORD}(?:[ \t]+{_WORD}){{1,3}})(?![\w@])")
_NAME_CUE = re.compile(
    rf"(?i:\b(?:my name is|name:|i am|i'm|this is|sign(?:ed)?(?: it)? as|regards,|from|called|named))\s+({_WORD})"
)
_BIRTH = re.compile(
    r"(?i:born|birth|dob|birthday)\D{0,20}?"
    r"(\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{4})"
)
_ID_WORD = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]{5,}(?![\w-])")
# Capitalized words that start sentences or name the calendar, not people.
_COMMON = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "i'm",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "they",
        "this",
        "that",
        "these",
        "those",
        "please",
        "hello",
        "hi",
        "hey",
        "dear",
        "thanks",
        "thank",
        "kind",
        "best",
        "regards",
        "sign",
        "draft",
        "write",
        "translate",
        "summarise",
        "summarize",
        "plan",
        "remind",
        "help",
        "call",
        "tell",
        "ask",
        "reply",
        "email",
        "phone",
        "and",
        "or",
        "but",
        "if",
        "when",
        "what",
        "why",
        "how",
        "who",
        "where",
        "which",
        "can",
        "could",
        "would",
        "should",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "today",
        "tomorrow",
        "yesterday",
        "gp",
        "ok",
        "yes",
        "no",
    ]
)
_GENERIC_LOCAL = frozenset(
    [
        "info",
        "admin",
        "support",
        "contact",
        "hello",
        "noreply",
        "no-reply",
        "mail",
        "office",
        "sales",
        "team",
        "user",
        "test",
        "root",
        "postmaster",
    ]
)


def _plain(word: str) -> str:
    return word.strip(".,;:!?'\u2019\"").lower()


def personal_values(text: str) -> list[tuple[str, str]]:
    """``(value, category)`` of the addresses, names and identifiers in ``text`` (longest first)."""
    out: dict[str, str] = {}
    address_spans: list[tuple[int, int]] = []
    for m in _ADDRESS.finditer(text):
        address_spans.append(m.span())
        out.setdefault(m.group().strip(" ,"), "postal_address")
        street = m.group("street")
        out.setdefault(street, "postal_address")
        name = street.split(None, 1)[1] if " " in street else ""
        if len(name) >= 6:
            out.setdefault(name, "postal_address")
        if m.group("unit"):
            out.setdefault(m.group("unit"), "postal_address")
    for m in _ADDRESS_DE.finditer(text):
        address_spans.append(m.span())
        out.setdefault(m.group(), "postal_address")
    for m in _UNIT_ALONE.finditer(text):
        out.setdefault(m.group(), "postal_address")

    def in_address(start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in address_spans)

    for m in _NAME_RUN.finditer(text):
        words = [w for w in m.group(1).split() if _plain(w) not in _COMMON]
        if len(words) < 2 or in_address(*m.span(1)):
            continue
        out.setdefault(" ".join(words), "person_name")
        for w in words:
            out.setdefault(w.strip(".,;:!?"), "person_name")
    for m in _NAME_CUE.finditer(text):
        word = m.group(1).strip(".,;:!?")
        if _plain(word) not in _COMMON and not in_address(*m.span(1)):
            out.setdefault(word, "person_name")
    for m in _BIRTH.finditer(text):
        out.setdefault(m.group(1), "date_of_birth")
    for m in _ID_WORD.finditer(text):
        if id_like(m.group()):
            out.setdefault(m.group(), "account_id")
    return sorted(out.items(), key=lambda kv: -len(kv[0]))


def id_like(value: str) -> bool:
    """An identifier-shaped token: 6 characters or more, letters and digits, no spaces (a
    passport number, a file or session id), not a plain number or word."""
    v = value.strip()
    return (
        len(v) >= 6
        and not any(c.isspace() for c in v)
        and any(c.isdigit() for c in v)
        and any(c.isalpha() for c in v)
        and not re.fullmatch(r"\d+(?:px|ms|s|kb|mb|gb|x\d+)", v, re.I)
    )


def email_name(email: str) -> str | None:
    """The local part of an address when it likely names its owner (``jane.doe``), else None."""
    local = email.rpartition("@")[0]
    if len(local) < 3 or local.lower() in _GENERIC_LOCAL:
        return None
    return local
