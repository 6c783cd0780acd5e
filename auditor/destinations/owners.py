"""Who owns a host: the project's curated owner data, and an optional owners file of the user's.

Reference data lives in ``auditor/data/owners.json``: curated facts, every entry with a source and
a date. A user may add an owners file in the same format (``--owners FILE``, or
:func:`use_owners_file`), for example the app's own backend, or a file converted from AdGuard's
companiesdb by ``auditor import-owners`` (:mod:`auditor.destinations.owners_import`). Its entries win
over the bundled ones.

Precedence for :func:`lookup`, in the user's file first and then in the bundled data: exact host >
longest ``*.suffix`` pattern > domain (the longest one the host falls under). Unknown hosts give
``None``: nothing is guessed. Everything runs offline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tldextract

from auditor.destinations.geo import is_ip
from auditor.errors import AuditorError
from auditor.models import Owner

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MAX_OWNERS_FILE = 64 << 20  # bytes of a user's owners file read at most

#: Categories renamed since (an owners file written for an earlier version may use the old name).
RENAMED_CATEGORIES: dict[str, str] = {"auth": "identity"}
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
        "identity",
        "data_broker",
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
ORIGIN_USER = "user"  # from an owners file the user gave (``--owners``)


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    """The owner found for a host, the rule that matched and where the rule comes from.

    ``matched`` is the host, the ``*.suffix`` pattern or the domain that matched; ``origin`` is
    ``"curated"`` (the bundled data) or ``"user"`` (the user's owners file); ``source_file`` is
    the file the entry comes from.
    """

    owner: Owner
    matched: str
    origin: str
    source_file: str = "auditor/data/owners.json"


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
    source_file: str
    product: str | None = None

    def owner(self) -> Owner:
        return Owner(
            product=self.product,
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
    api_hosts: frozenset[str] = frozenset()  # hosts of public AI APIs; "*.suffix" patterns kept as ".suffix"


def _read_json(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _extractor() -> tldextract.TLDExtract:
    # No suffix list URLs: tldextract never downloads the Public Suffix List and uses the snapshot
    # it ships (checked by tests/destinations/test_owners.py with every connection refused).
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


class OwnersFileError(AuditorError, ValueError):
    """An owners file that cannot be used; the message names the file and the entry."""


def _text(entry: dict[str, Any], key: str, where: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise OwnersFileError(f"{where}: {key!r} must be a non-empty string")
    return value


def _names(entry: dict[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise OwnersFileError(f"{where}: {key!r} must be a list of host names")
    return [v.strip().lower().rstrip(".") for v in value]


def _build_index(doc: Any, origin: str, source_file: str) -> _Index:
    """Index the entries of an owners document (``{"entries": [...]}``), checking each one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise OwnersFileError(f"{source_file}: expected a JSON object with an 'entries' list")
    hosts: dict[str, _Rule] = {}
    patterns: dict[str, _Rule] = {}
    domains: dict[str, _Rule] = {}
    api_hosts: set[str] = set()
    for n, entry in enumerate(doc["entries"], 1):
        where = f"{source_file}: entry {n}"
        if not isinstance(entry, dict):
            raise OwnersFileError(f"{where}: expected an object")
        api = entry.get("public_api") or {}
        if not isinstance(api, dict) or not all(isinstance(h, str) for h in api.get("hosts", ())):
            raise OwnersFileError(f"{where}: 'public_api' must be an object with a 'hosts' list")
        api_hosts.update(h.lower().removeprefix("*") for h in api.get("hosts", ()))
        category = _text(entry, "category", where)
        category = RENAMED_CATEGORIES.get(category, category) if category else category
        if category is not None and category not in CATEGORIES:
            raise OwnersFileError(f"{where}: unknown category {category!r} (one of: {', '.join(sorted(CATEGORIES))})")
        country, parent_country = (_text(entry, k, where) for k in ("country", "parent_country"))
        for code in (country, parent_country):
            if code is not None and not (len(code) == 2 and code.isascii() and code.isupper()):
                raise OwnersFileError(f"{where}: {code!r} is not an ISO 3166-1 alpha-2 country code")
        rule = _Rule(
            name=_text(entry, "owner", where, required=True) or "",
            parent=_text(entry, "parent", where),
            country=country,
            parent_country=parent_country,
            category=category,
            source=_text(entry, "source", where),
            as_of=_text(entry, "as_of", where),
            origin=origin,
            source_file=source_file,
            product=_text(entry, "product", where),
        )
        names = _names(entry, "domains", where), _names(entry, "hosts", where)
        if not names[0] and not names[1]:
            raise OwnersFileError(f"{where}: no 'domains' or 'hosts'")
        for d in names[0]:
            domains[d] = rule
        for h in names[1]:
            if h.startswith("*."):
                patterns[h[2:]] = rule
            else:
                hosts[h] = rule
    return _Index(hosts=hosts, patterns=patterns, domains=domains, api_hosts=frozenset(api_hosts))


@cache
def _index() -> _Index:
    """The bundled, curated owner data, loaded once."""
    return _build_index(_read_json("owners.json"), ORIGIN_CURATED, "auditor/data/owners.json")


# The user's owners file (``--owners``), consulted before the bundled data; None when none is used.
_user_index: _Index | None = None


def load_owners_file(path: str | os.PathLike[str]) -> _Index:
    """Read and check an owners file in the format of ``auditor/data/owners.json``.

    Raises :class:`OwnersFileError` with a one-line message naming the file (and the entry).
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read(MAX_OWNERS_FILE + 1)
    except OSError as e:
        raise OwnersFileError(f"cannot read owners file {name}: {e.strerror or e}") from None
    if len(raw) > MAX_OWNERS_FILE:
        raise OwnersFileError(f"owners file {name} is larger than {MAX_OWNERS_FILE >> 20} MiB")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise OwnersFileError(f"owners file {name} is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise OwnersFileError(f"owners file {name}: invalid JSON at line {e.lineno}: {e.msg}") from None
    except RecursionError:
        raise OwnersFileError(f"owners file {name}: nested too deeply") from None
    return _build_index(doc, ORIGIN_USER, name)


def use_owners_file(path: str | os.PathLike[str] | None) -> None:
    """Consult the owners file at ``path`` before the bundled data from now on (None: stop)."""
    global _user_index
    _user_index = None if path is None else load_owners_file(path)


def _suffixes(host: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "b.c", "c"]`` (longest first)."""
    out = [host]
    i = host.find(".")
    while i != -1:
        out.append(host[i + 1 :])
        i = host.find(".", i + 1)
    return out


def _match(idx: _Index, h: str, suffixes: list[str] | None) -> OwnerMatch | None:
    rule = idx.hosts.get(h)
    if rule is not None:
        return OwnerMatch(rule.owner(), h, rule.origin, rule.source_file)
    if suffixes is None:  # an IP address: exact entries only
        return None
    for s in suffixes[1:]:
        rule = idx.patterns.get(s)
        if rule is not None:
            return OwnerMatch(rule.owner(), "*." + s, rule.origin, rule.source_file)
    for s in suffixes:
        rule = idx.domains.get(s)
        if rule is not None:
            return OwnerMatch(rule.owner(), s, rule.origin, rule.source_file)
    return None


def lookup(host: str) -> OwnerMatch | None:
    """The owner of ``host``, or ``None`` when no data covers it (IP addresses included)."""
    h = normalize_host(host)
    if not h:
        return None
    ip = ":" in h or (h[-1].isdigit() and is_ip(h))
    suffixes = None if ip else _suffixes(h)
    if _user_index is not None:
        found = _match(_user_index, h, suffixes)
        if found is not None:
            return found
    return _match(_index(), h, suffixes)


def public_ai_api(host: str) -> bool:
    """Whether ``host`` serves a public AI API (``public_api`` in ``owners.json``): what other
    companies' apps call, so never the app's own backend."""
    h = normalize_host(host)
    for idx in (_user_index, _index()):
        if idx is not None and (
            h in idx.api_hosts or any(s in idx.api_hosts for s in ("." + x for x in _suffixes(h)[1:]))
        ):
            return True
    return False


def known_country_domains() -> set[str]:
    """Registrable domains whose owner country is known (in the bundled data or the user's file)."""
    out: set[str] = set()
    for idx in (_index(), _user_index):
        if idx is None:
            continue
        for table in (idx.domains, idx.hosts, idx.patterns):
            for name, rule in table.items():
                if rule.country:
                    out.add(registrable_domain(name))
    return out
