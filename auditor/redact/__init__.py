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

Layout, each module depending only on those listed before it:

- :mod:`.errors`: :class:`RedactError`.
- :mod:`.matching`: finding many values at once in text or bytes.
- :mod:`.index`: :class:`SpooledIndex`, the same search with the values on disk.
- :mod:`.shapes`: random values of the same shape, with valid check digits.
- :mod:`.placeholders`: :class:`Placeholders`, one consistent stand-in per value.
- :mod:`.substitution`: :class:`Substituter`, replacing values in every encoded form (the forms
  held in a :class:`SpooledIndex`, so memory does not grow with them).
- :mod:`.bodies`: compressed bodies and content encodings.
- :mod:`.leftovers`: original values still in a copy, :func:`check_redacted`.
- :mod:`.rewriting`: collecting the values and rewriting flow states and HAR entries.
- :mod:`.formats`: HAR and mitmproxy flow files, streamed.
- :mod:`.pipeline`: :func:`redact_capture`.
"""

from __future__ import annotations

from auditor.redact.bodies import STRUCTURAL_HEADERS
from auditor.redact.errors import RedactError
from auditor.redact.index import SpooledIndex
from auditor.redact.leftovers import (
    LeftoverScanner,
    RedactionCheck,
    check_redacted,
    encoded_forms,
    find_leftovers,
    verify_redacted,
)
from auditor.redact.matching import MIN_LENGTH, SHORT
from auditor.redact.pipeline import RedactionSummary, redact_capture
from auditor.redact.placeholders import ID_CLAIMS, TRIES, VOCABULARY, Placeholders, jwt_claims
from auditor.redact.placeholders import detected as _detected
from auditor.redact.rewriting import Warn
from auditor.redact.shapes import scramble, scramble_char
from auditor.redact.substitution import B64_FORMS, MAX_DEPTH, TEXT_FORMS, Substituter, form_pairs

__all__ = [
    "B64_FORMS",
    "ID_CLAIMS",
    "MAX_DEPTH",
    "MIN_LENGTH",
    "SHORT",
    "STRUCTURAL_HEADERS",
    "TEXT_FORMS",
    "TRIES",
    "VOCABULARY",
    "LeftoverScanner",
    "Placeholders",
    "RedactError",
    "RedactionCheck",
    "RedactionSummary",
    "SpooledIndex",
    "Substituter",
    "Warn",
    "_detected",
    "check_redacted",
    "encoded_forms",
    "find_leftovers",
    "form_pairs",
    "jwt_claims",
    "redact_capture",
    "scramble",
    "scramble_char",
    "verify_redacted",
]
