"""The lines the live audit says: a destination as it appears, a failed upstream handshake."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def destination_line(s: dict[str, Any]) -> str:
    """One line for a destination summary (a new destination, or new categories for it)."""
    where = owner_text(s["owner"], s["country"])
    if s.get("opaque"):
        return f"  ! {s['host']}  {where}  not inspected: the client refused the proxy's certificate"
    cats = ", ".join(s["categories"]) or "no personal data yet"
    return f"  > {s['host']}  {where}  {cats}"


def upstream_hint(failures: dict[str, str], option: str) -> str:
    """What to say when upstream TLS handshakes failed (``option``: how to accept any certificate)."""
    host, error = next(iter(failures.items()))
    more = f" and {len(failures) - 1} more host(s)" if len(failures) > 1 else ""
    return (
        f"the TLS handshake with the upstream server {host}{more} failed ({error}); "
        f"if it is a test backend with a self-signed or private certificate, add {option}"
    )


def owner_text(owner: str | None, country: str | None) -> str:
    """``"DeepSeek (CN)"``, or what is missing said in words instead of ``(??)``."""
    if owner and country:
        return f"{owner} ({country})"
    if owner:
        return f"{owner} (country not in auditor's data)"
    return "(owner not in auditor's data; auditor explain HOST shows what is known)"


def count_text(n: int, word: str) -> str:
    """``"1 request"``, ``"1,200 requests"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def log_destination(s: dict[str, Any]) -> None:
    """Log a destination summary (what the addon does without an ``on_update`` callback)."""
    log.info("auditor: %s", destination_line(s).strip())
