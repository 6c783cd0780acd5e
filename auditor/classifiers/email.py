"""Email addresses, in any sent field (the pattern scan in :mod:`.patterns` finds the fields)."""

from __future__ import annotations

import re

# Local part and domain per RFC 5322's common subset, the local part in any script (RFC 6531:
# müller@example.de); the TLD must be letters.
EMAIL = re.compile(
    r"(?<![\w.+-])[^\W_][\w.%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
# "logo@2x.png" and friends: asset names, not addresses.
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "js", "css", "map", "ico", "json", "html", "mjs"})


def find_emails(text: str) -> list[str]:
    """Email addresses in ``text``, in order."""
    if "@" not in text:
        return []
    out = []
    for m in EMAIL.finditer(text):
        addr = m.group()
        if text[max(0, m.start() - 2) : m.start()] == "//":
            continue  # URL userinfo (a Sentry DSN's key), not an address
        if addr.rsplit(".", 1)[-1].lower() in _NOT_TLDS:
            continue
        out.append(addr)
    return out
