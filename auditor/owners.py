"""Who owns a host: curated owner database first, then AdGuard's companiesdb.

Reference data lives in ``auditor/data``: ``owners.json`` (curated, every entry with a source and
a date), ``companiesdb.json`` (derived from AdGuard's companiesdb, CC BY-SA 4.0, see
``LICENSE-companiesdb``) and ``company_countries.json`` (curated countries for companiesdb ids).

Precedence for :func:`lookup`: exact curated host > longest curated ``*.suffix`` pattern >
curated domain (the longest one the host falls under) > companiesdb host or domain (longest
suffix). Unknown hosts give ``None``: nothing is guessed. Everything runs offline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# tldextract must never try to download the Public Suffix List: set this before importing it.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

import tldextract  # noqa: E402

from auditor.geo import is_ip  # noqa: E402
from auditor.models import Owner  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"

CATEGORIES: frozenset[str] = frozenset(
    {
        "ai_provider",
        "analytics",
        "advertising",
        "attribution",
        "crash_reporting",
        "session_replay",
        "customer_support",
        "feature_flags",
        "payments",
        "auth",
        "captcha_antibot",
        "device_fingerprint",
        "push",
        "cdn",
        "cloud",
        "social",
        "platform",  # the OS's or browser's own background services (added in auditor 0.2.0)
        "other",
    }
)

ORIGIN_CURATED = "curated"
ORIGIN_COMPANIESDB = "companiesdb"


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    """The owner found for a host, the rule that matched and where the rule comes from.

    ``matched`` is the curated host, the ``*.suffix`` pattern or the domain that matched;
    ``origin`` is ``"curated"`` or ``"companiesdb"``. For companiesdb owners,
    ``country_source`` names where the country comes from (``None`` when it is unknown).
    """

    owner: Owner
    matched: str
    origin: str
    country_source: str | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    """One owner record shared by every domain or host it covers."""

    name: str
    parent: str | None
    country: str | None
    parent_country: str | None
    category: str | None
    source: str | None
    as_of: str | None
    origin: str
    country_source: str | None = None

    def owner(self) -> Owner:
        return Owner(
            name=self.name,
            parent=self.parent,
            country=self.country,
            parent_country=self.parent_country,
            category=self.category,
            source=self.source,
            as_of=self.as_of,
        )


@dataclass(frozen=True, slots=True)
class _Index:
    hosts: dict[str, _Rule]
    patterns: dict[str, _Rule]  # key: the suffix after "*."
    domains: dict[str, _Rule]
    companiesdb: dict[str, _Rule]
    api_hosts: frozenset[str]  # hosts of public AI APIs; "*.suffix" patterns kept as ".suffix"


def _read_json(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(
        suffix_list_urls=(),
        cache_dir=None,
        fallback_to_snapshot=True,
        include_psl_private_domains=True,
    )


def normalize_host(host: str) -> str:
    """Lower-case ``host``, drop a trailing dot, IPv6 brackets and a ``:port``."""
    h = host.strip().lower()
    if h.startswith("["):
        end = h.find("]")
        return h[1:end] if end > 0 else h[1:]
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")




def registrable_domain(host: str) -> str:
    """The registrable domain of ``host`` (PSL with private suffixes), computed offline.

    IP addresses, single-label hosts and hosts that are themselves a public suffix are
    returned as they are (normalized).
    """
    h = normalize_host(host)
    if not h or "." not in h or is_ip(h):
        return h
    ext = _extractor()(h)
    top = getattr(ext, "top_domain_under_public_suffix", None)
    if top is None:  # tldextract < 5.3
        top = ext.registered_domain
    return top or h


@cache
def _index() -> _Index:
    """Load the data files once and build the dictionaries used by :func:`lookup`."""
    hosts: dict[str, _Rule] = {}
    patterns: dict[str, _Rule] = {}
    domains: dict[str, _Rule] = {}
    api_hosts: set[str] = set()
    for entry in _read_json("owners.json")["entries"]:
        api_hosts.update(h.lower().removeprefix("*") for h in (entry.get("public_api") or {}).get("hosts", ()))
        rule = _Rule(
            name=entry["owner"],
            parent=entry.get("parent"),
            country=entry.get("country"),
            parent_country=entry.get("parent_country"),
            category=entry.get("category"),
            source=entry.get("source"),
            as_of=entry.get("as_of"),
            origin=ORIGIN_CURATED,
        )
        for d in entry.get("domains", ()):
            domains[d.lower()] = rule
        for h in entry.get("hosts", ()):
            h = h.lower()
            if h.startswith("*."):
                patterns[h[2:]] = rule
            else:
                hosts[h] = rule

    cdb = _read_json("companiesdb.json")
    countries = _read_json("company_countries.json")["companies"]
    attribution = cdb.get("attribution", {})
    cdb_source = attribution.get("source")
    cdb_date = attribution.get("date")
    company_rules: dict[tuple[str, str], _Rule] = {}
    companiesdb: dict[str, _Rule] = {}
    for domain, (company_id, category) in cdb["domains"].items():
        key = (company_id, category)
        rule = company_rules.get(key)
        if rule is None:
            company = cdb["companies"].get(company_id, {})
            known = countries.get(company_id)
            rule = _Rule(
                name=company.get("name") or company_id,
                parent=None,
                country=known["country"] if known else None,
                parent_country=None,
                category=category,
                source=cdb_source,
                as_of=cdb_date,
                origin=ORIGIN_COMPANIESDB,
                country_source=known["source"] if known else None,
            )
            company_rules[key] = rule
        companiesdb[domain.lower()] = rule
    return _Index(hosts=hosts, patterns=patterns, domains=domains, companiesdb=companiesdb, api_hosts=frozenset(api_hosts))


def _suffixes(host: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "b.c", "c"]`` (longest first)."""
    out = [host]
    i = host.find(".")
    while i != -1:
        out.append(host[i + 1 :])
        i = host.find(".", i + 1)
    return out


def lookup(host: str) -> OwnerMatch | None:
    """The owner of ``host``, or ``None`` when no data covers it (IP addresses included)."""
    h = normalize_host(host)
    if not h:
        return None
    idx = _index()
    rule = idx.hosts.get(h)
    if rule is not None:
        return OwnerMatch(rule.owner(), h, rule.origin, rule.country_source)
    if ":" in h or (h[-1].isdigit() and is_ip(h)):
        return None
    suffixes = _suffixes(h)
    for s in suffixes[1:]:
        rule = idx.patterns.get(s)
        if rule is not None:
            return OwnerMatch(rule.owner(), "*." + s, rule.origin, rule.country_source)
    for s in suffixes:
        rule = idx.domains.get(s)
        if rule is not None:
            return OwnerMatch(rule.owner(), s, rule.origin, rule.country_source)
    for s in suffixes:
        rule = idx.companiesdb.get(s)
        if rule is not None:
            return OwnerMatch(rule.owner(), s, rule.origin, rule.country_source)
    return None


def public_ai_api(host: str) -> bool:
    """Whether ``host`` serves a public AI API (``public_api`` in ``owners.json``): what other
    companies' apps call, so never the app's own backend."""
    h = normalize_host(host)
    api = _index().api_hosts
    return h in api or any(s in api for s in ("." + x for x in _suffixes(h)[1:]))


def known_country_domains() -> set[str]:
    """Registrable domains whose owner country is known (curated or companiesdb with a country)."""
    idx = _index()
    out: set[str] = set()
    for table in (idx.domains, idx.companiesdb):
        for d, rule in table.items():
            if rule.country:
                out.add(registrable_domain(d))
    for table in (idx.hosts, idx.patterns):
        for h, rule in table.items():
            if rule.country:
                out.add(registrable_domain(h))
    return out
