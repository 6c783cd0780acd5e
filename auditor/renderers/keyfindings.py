"""The "Key findings" of a report: what a reader has to act on, in plain language.

Each key finding is one kind of problem (prompts or files sent to third parties, what a web
page did in an auditor browse session (keylogging, replay, fingerprinting...), values copied
or hashed into other services, credentials sent to third parties, personal data in cleartext,
transfers to countries without EU adequacy, an incomplete capture) with one item per company,
host or country, naming the company and the country; the renderer links each item to its
evidence. Everything is computed from the report document: its destinations, and counts taken
in one pass over its findings (:class:`FindingStats`), so a spooled findings list is never held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor.audit.document import Destination, Finding, JurisdictionRef

__all__ = ["ITEMS_SHOWN", "FindingStats", "KeyFinding", "KeyItem", "key_findings"]

ITEMS_SHOWN = 8  # items per key finding; the others are counted

_ENCODINGS = {
    "plain": "as is",
    "url": "URL-encoded",
    "base64": "base64-encoded",
    "hex": "hex-encoded",
    "md5": "hashed (MD5)",
    "sha1": "hashed (SHA-1)",
    "sha256": "hashed (SHA-256)",
    "prefix": "in part",
}


def encoding_text(encoding: str) -> str:
    """How a traced value was copied: ``"sha256"`` -> ``"hashed (SHA-256)"``."""
    return _ENCODINGS.get(encoding, encoding)


@dataclass
class Derived:
    """Traced values found at one host: how many, in which encodings, first seen as what."""

    count: int = 0
    encodings: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)  # categories of the values where first seen
    known: bool = False  # some came from --known


@dataclass
class FindingStats:
    """Counts of the findings, per host, taken in one pass."""

    per_host: dict[str, int] = field(default_factory=dict)
    host_categories: dict[tuple[str, str], int] = field(default_factory=dict)
    derived: dict[str, Derived] = field(default_factory=dict)

    @classmethod
    def collect(cls, findings: Iterable[Finding]) -> FindingStats:
        stats = cls()
        per_host, host_cats = stats.per_host, stats.host_categories
        for f in findings:
            host = f["host"]
            per_host[host] = per_host.get(host, 0) + 1
            key = (host, f["category"])
            host_cats[key] = host_cats.get(key, 0) + 1
            derived = f.get("derived")
            if derived:
                d = stats.derived.get(host)
                if d is None:
                    d = stats.derived[host] = Derived()
                d.count += 1
                d.encodings.add(str(derived.get("encoding")))
                source = derived.get("from") or {}
                d.sources.add(str(source.get("category") or f["category"]))
                d.known = d.known or "known" in source
        return stats


@dataclass
class KeyItem:
    """One line of a key finding. ``anchor``: the id of its evidence in the HTML report."""

    text: str
    host: str | None = None
    anchor: str | None = None


@dataclass
class KeyFinding:
    kind: str  # prompts, page, derived, credentials, cleartext, adequacy, incomplete
    title: str
    items: list[KeyItem]
    more: int = 0  # items not shown


def _who(d: Destination, country_name: Callable[[str | None], str]) -> str:
    """``"ByteDance Ltd. (China)"``, or ``"an unknown owner of example.com"``."""
    owner = _owner_name(d)
    code = _jurisdiction(d).get("country")
    where = country_name(code) if code else "country unknown"
    who = owner or f"an unknown owner of {d.get('registrable_domain') or d['host']}"
    return f"{who} ({where})"


def _owner_name(d: Destination) -> str | None:
    owner = d.get("owner")
    return owner.get("name") if owner else None


def _jurisdiction(d: Destination) -> JurisdictionRef:
    return d.get("jurisdiction") or {}


def _cap(kind: str, title: str, items: list[KeyItem]) -> KeyFinding:
    return KeyFinding(kind, title, items[:ITEMS_SHOWN], max(0, len(items) - ITEMS_SHOWN))


def _labels(categories: Iterable[str], label: Callable[[str], str], most: int = 4) -> str:
    """``"prompt text, email address and phone number"``: the most serious first, at most
    ``most`` of them named (``"... and 3 others"``)."""
    from auditor.renderers.view import count, severity

    names = [label(c).lower() for c in sorted(categories, key=lambda c: (-severity(c), c))]
    if len(names) > most:
        return ", ".join(names[:most]) + f" and {count(len(names) - most, 'other')}"
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def key_findings(doc: dict[str, Any], stats: FindingStats, label: Callable[[str], str]) -> list[KeyFinding]:
    """The key findings of a report document, most serious first; kinds with nothing are left out."""
    from auditor.renderers.view import count, country_name

    dests: list[Destination] = list(doc.get("destinations", []))
    third = [d for d in dests if d.get("party") == "third"]
    out: list[KeyFinding] = []

    items = []
    for d in third:
        cats = set(d.get("data_categories", ())) & {"prompt", "user_file"}
        if cats:
            what = {frozenset({"prompt"}): "Prompts", frozenset({"user_file"}): "Uploaded files"}.get(
                frozenset(cats), "Prompts and uploaded files"
            )
            items.append(KeyItem(f"{what} went to {_who(d, country_name)} at {d['host']}", d["host"]))
    if items:
        out.append(_cap("prompts", "Prompts or files sent to third parties", items))

    page = doc.get("page") or {}
    names = {
        "keylogging": "Keylogging",
        "session_replay": "Session replay",
        "fingerprinting": "Fingerprinting",
        "third_party_cookies": "Third-party cookies",
        "pixels": "Ad pixel",
    }
    items = []
    for det in page.get("detections") or ():
        if det.get("party") == "first":
            continue
        b = det.get("behaviour")
        where = f" ({country_name(det['country'])})" if det.get("country") else ""
        by = (
            f"by {det['owner']}{where} at {det.get('host')}"
            if det.get("owner")
            else f"at {det.get('host')} (owner unknown)"
        )
        items.append(KeyItem(f"{names.get(b, b)} {by}: {det.get('detail')}", anchor=f"page-{b}"))
    if items:
        out.append(_cap("page", "What the page does behind the user's back", items))

    by_host = {d["host"]: d for d in dests}
    items = []
    traced = sorted(
        stats.derived.items(),
        key=lambda kv: ((by_host[kv[0]].get("party") if kv[0] in by_host else None) != "third", -kv[1].count),
    )
    for host, t in traced:
        dest = by_host.get(host)
        who = _who(dest, country_name) if dest else f"an unknown owner of {host} (country unknown)"
        first = _labels(t.sources, label, 3)
        how = " or ".join(encoding_text(e) for e in sorted(t.encodings))
        party = "third party " if dest and dest.get("party") == "third" else ""
        items.append(
            KeyItem(
                f"{who}, {party}at {host}: {count(t.count, 'value')} copied {how} from elsewhere ({first})",
                host,
            )
        )
    if items:
        out.append(_cap("derived", "Values copied or hashed into other services", items))

    items = [
        KeyItem(f"Credentials went to {_who(d, country_name)} at {d['host']}", d["host"])
        for d in third
        if "credential" in d.get("data_categories", ())
    ]
    if items:
        out.append(_cap("credentials", "Credentials sent to third parties", items))

    items = [
        KeyItem(
            f"{_labels(d.get('data_categories', ()), label).capitalize()} "
            f"sent unencrypted to {_who(d, country_name)} at {d['host']}",
            d["host"],
        )
        for d in dests
        if d.get("cleartext_personal_data")
    ]
    if items:
        out.append(_cap("cleartext", "Personal data sent in cleartext", items))

    countries: dict[str, list[Destination]] = {}
    for d in dests:
        j = _jurisdiction(d)
        country = j.get("country")
        if d.get("data_categories") and j.get("adequacy") in ("none", "partial") and country:
            countries.setdefault(country, []).append(d)
    items = []
    for code, ds in sorted(countries.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        owners = sorted(
            {_owner_name(d) or f"an unknown owner of {d.get('registrable_domain') or d['host']}" for d in ds}
        )
        cats = {c for d in ds for c in d.get("data_categories", ())}
        regime = (
            "partial EU adequacy" if _jurisdiction(ds[0]).get("adequacy") == "partial" else "no EU adequacy decision"
        )
        who = ", ".join(owners[:4]) + (f" and {count(len(owners) - 4, 'other')}" if len(owners) > 4 else "")
        item = KeyItem(f"{country_name(code)} ({regime}): {who} received {_labels(cats, label)}", ds[0]["host"])
        items.append(item)
    if items:
        out.append(_cap("adequacy", "Transfers to countries without EU adequacy", items))

    items = []
    warnings = sum(len(c.get("warnings", ())) for c in doc.get("captures", ()))
    if warnings:
        items.append(
            KeyItem(
                f"{count(warnings, 'warning')}: part of the capture could not be read (see Warnings)", anchor="warnings"
            )
        )
    for d in dests:
        if d.get("opaque"):
            items.append(
                KeyItem(
                    f"Not inspected: the client refused the proxy's certificate for {d['host']} "
                    f"({_who(d, country_name)})",
                    d["host"],
                )
            )
        elif d.get("bypassed_proxy"):
            items.append(
                KeyItem(
                    f"{d['host']} ({_who(d, country_name)}) was reached around the proxy: its content was not seen",
                    d["host"],
                )
            )
    if items:
        out.append(_cap("incomplete", "Incomplete capture", items))
    return out
