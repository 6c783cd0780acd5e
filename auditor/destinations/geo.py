"""Country hints for a destination: the IP address's registry country and the host's ccTLD.

``ip_country`` uses iptocc (Regional Internet Registry delegation data embedded in the package,
no network). It tells where an address block is registered, which is not always where the
server stands (anycast CDNs, cloud regions). ``tld_country`` reads country-code TLDs, ignoring
those sold as generic names (.io, .ai, .co, ...); the mapping lives in ``jurisdictions.json``.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from pathlib import Path

import iptocc

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "jurisdictions.json"


@cache
def _tld_table() -> tuple[frozenset[str], dict[str, str], frozenset[str]]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        data = json.load(fh)
    iso = frozenset(code.lower() for code in data["iso3166"])
    cctld = data["cctld"]
    return iso, dict(cctld["map"]), frozenset(cctld["generic"])


def is_ip(host: str) -> bool:
    """True if ``host`` is an IPv4 or IPv6 address literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def ip_country(ip: str) -> str | None:
    """ISO country code of the registry allocation of ``ip``; ``None`` if not a public address."""
    text = ip.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if not addr.is_global or addr.is_multicast:
        return None
    try:
        code = iptocc.country_code(str(addr))
    except (TypeError, ValueError):  # iptocc rejects an argument it cannot read with an exception, not None
        return None
    if not code or len(code) != 2:
        return None
    return code.upper()


def tld_country(host: str) -> str | None:
    """Country of the host's country-code TLD (``.cn`` -> CN, ``.uk`` -> GB), else ``None``."""
    h = host.strip().lower().rstrip(".")
    if not h or "." not in h or ":" in h:
        return None
    tld = h.rsplit(".", 1)[1]
    if not tld or tld.isdigit():
        return None
    iso, mapping, generic = _tld_table()
    if tld in generic:
        return None
    if tld in mapping:
        return mapping[tld]
    if len(tld) == 2 and tld in iso:
        return tld.upper()
    return None
