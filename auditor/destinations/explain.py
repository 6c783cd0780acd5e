"""What auditor knows of one host or address, and where each fact comes from."""

from __future__ import annotations

from typing import Any

from auditor.destinations import geo, jurisdictions, owners


def host_of(text: str) -> str:
    """The host a user means: ``https://chat.deepseek.com/api?x=1`` -> ``chat.deepseek.com``;
    also ``host:port``, ``host/path`` and ``[v6]``."""
    from urllib.parse import urlsplit

    t = text.strip()
    if "://" not in t and ("/" in t or t.count(":") == 1):
        t = "//" + t
    if "://" in t or t.startswith("//"):
        try:
            h = urlsplit(t).hostname or ""
        except ValueError:
            h = ""
        if h:
            return h.lower().rstrip(".")
    h = t.lower().rstrip(".")
    return h[1:-1] if h.startswith("[") and h.endswith("]") else h


def explain(host: str) -> dict[str, Any]:
    """Owner, parent, countries, service category, legal notes and sources for ``host``."""
    h = host_of(host)
    out: dict[str, Any] = {"host": h, "registrable_domain": owners.registrable_domain(h), "facts": []}
    facts: list[dict[str, Any]] = out["facts"]
    if geo.is_ip(h):
        country = geo.ip_country(h)
        out["ip_country"] = country
        facts.append(
            {
                "fact": "IP registry country",
                "value": country or "none (private, loopback, reserved or unallocated address)",
                "source": "Regional Internet Registry delegation data embedded in the iptocc package "
                "(a registry country, not a physical location)",
            }
        )
    match = owners.lookup(h)
    out["owner"] = None
    if match is not None:
        o = match.owner
        out["owner"] = {
            "name": o.name,
            "parent": o.parent,
            "country": o.country,
            "parent_country": o.parent_country,
            "category": o.category,
            "matched": match.matched,
            "origin": match.origin,
            "source": o.source,
            "as_of": o.as_of,
        }
        where = match.source_file if match.origin == owners.ORIGIN_CURATED else f"owners file {match.source_file}"
        cited = f"{where}: {o.source}" if o.source else where
        facts.append(
            {
                "fact": "owner",
                "value": o.name,
                "source": f"{where}, entry {match.matched!r}: {o.source} (as of {o.as_of})",
            }
        )
        if o.parent:
            facts.append({"fact": "parent company", "value": o.parent, "source": cited})
        if o.country:
            facts.append({"fact": "owner country", "value": o.country, "source": cited})
        if o.category:
            facts.append({"fact": "service category", "value": o.category, "source": where})
    elif not geo.is_ip(h):
        facts.append({"fact": "owner", "value": "unknown (not in auditor's data; never guessed)", "source": None})
    tld = geo.tld_country(h)
    out["tld_country"] = tld
    if tld:
        facts.append(
            {
                "fact": "country-code TLD",
                "value": tld,
                "source": "ISO 3166-1 country-code top-level domain (inferred, not proof of location)",
            }
        )
    owner = out["owner"] or {}
    candidates = [
        (owner.get("country"), "owner"),
        (owner.get("parent_country"), "parent"),
        (tld, "tld"),
        (out.get("ip_country"), "ip registry"),
    ]
    country, basis = next(((c, b) for c, b in candidates if c), (None, None))
    out["jurisdiction"] = None
    j = jurisdictions.lookup(country)
    if j is not None:
        out["jurisdiction"] = {
            "country": j.code,
            "basis": basis,
            "name": j.name,
            "adequacy": j.adequacy,
            "adequacy_scope": j.adequacy_scope,
            "adequacy_source": j.adequacy_source,
            "adequacy_as_of": j.adequacy_as_of,
            "government_access": [
                {"law": g.law, "summary": g.summary, "source": g.source, "as_of": g.as_of} for g in j.government_access
            ],
        }
    return out


def format_text(info: dict[str, Any]) -> list[str]:
    """``explain()`` as lines for a terminal."""
    lines = [f"{info['host']}  (registrable domain: {info['registrable_domain']})"]
    for f in info["facts"]:
        lines.append(f"  {f['fact']}: {f['value']}")
        if f["source"]:
            lines.append(f"      source: {f['source']}")
    j = info.get("jurisdiction")
    if j:
        lines.append(f"  jurisdiction: {j['name']} ({j['country']}, from the {j['basis']} country)")
        scope = f": {j['adequacy_scope']}" if j["adequacy"] == "partial" and j["adequacy_scope"] else ""
        lines.append(f"      EU transfers: {jurisdictions.adequacy_text(j['adequacy'])}{scope}")
        lines.append(f"      source: {j['adequacy_source']} (as of {j['adequacy_as_of']})")
        for g in j["government_access"]:
            lines.append(f"      law: {g['law']}: {g['summary']}")
            lines.append(f"          source: {g['source']} (as of {g['as_of']})")
    return lines
