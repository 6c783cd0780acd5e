"""Parties: which destinations are the app's operator (``first``), which are not (``third``),
which are the browser's or OS's own background traffic (``platform``), and why.

``first`` is decided per host, in this order:

1. named: ``--first-party`` or ``first_party:`` in the policy file (a host, a domain, or an owner
   name matched case-insensitively on word boundaries, so ``Microsoft`` matches "Microsoft
   Corporation"). A name that matches nothing in the capture is an error
   (:class:`FirstPartyError`) naming the closest owners;
2. in a browser capture, the top-level site: the first top-level navigation (``Sec-Fetch-Dest:
   document``) and the sites then navigated to from it, else the pages of a HAR (``log.pages``),
   else the page that the first ``Origin`` or ``Referer`` names;
3. otherwise the app's own backend, guessed: the destinations that receive prompts, unless they
   are a public AI API (``public_api`` in ``data/owners.json``) or a service of one of the
   :data:`NEVER_INFERRED` categories.

From these seeds, a host is first when it is on a seed's registrable domain and not run by
another company (the owner of the host wins over the domain: ``ab.chatgpt.com`` is Statsig's,
"on the app's domain, run by Statsig, Inc."), or when the seed's owner runs it and it is not
itself one of the :data:`NEVER_INFERRED` services. A parent company never makes a host first.
Cloud and CDN owners (the app's hosting) never extend the first party to their other hosts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from auditor.destinations import owners
from auditor.errors import AuditorError
from auditor.models import Exchange

if TYPE_CHECKING:
    from auditor.destinations.resolve import Destination

PARTIES: tuple[str, ...] = ("first", "third", "platform", "unknown")
#: Services that are never guessed to be the app itself, nor made first through their owner.
NEVER_INFERRED = frozenset(
    {"analytics", "advertising", "attribution", "session_replay", "crash_reporting", "feature_flags",
     "push", "cdn", "platform", "identity"}
)  # fmt: skip
#: Owners that host the app (its cloud or CDN) are not the app: they never extend the first party.
_HOSTING = frozenset({"cloud", "cdn"})
#: How the first party was decided (the report's ``first_party.method``).
METHODS: tuple[str, ...] = ("option", "policy", "browser", "backend", "none")
_MAX_SIGNALS = 1000  # navigations and page origins kept (the first ones decide)


class FirstPartyError(AuditorError, ValueError):
    """A ``--first-party`` (or ``first_party:``) value that matches nothing in the capture."""


def _host_of(url: str | None) -> str | None:
    if not url or url == "null":
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return owners.normalize_host(host) if host else None


@dataclass
class Browsing:
    """What the requests say of the pages that made them (collected exchange by exchange)."""

    navigations: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # host, referer, fetch-site
    pages: list[str] = field(default_factory=list)  # HAR page hosts, in order
    initiators: list[str] = field(default_factory=list)  # hosts named by Origin / Referer, in order
    page_context: dict[str, int] = field(default_factory=dict)  # host -> exchanges a page made

    @property
    def seen(self) -> bool:
        """Whether this is a browser capture (top-level documents, HAR pages or page origins)."""
        return bool(self.navigations or self.pages or self.initiators)

    def add(self, ex: Exchange) -> None:
        headers = ex.request_headers
        dest = site = origin = referer = None
        if headers:
            for k, v in headers:
                lk = k.lower()
                if lk == "sec-fetch-dest":
                    dest = v.strip().lower()
                elif lk == "sec-fetch-site":
                    site = v.strip().lower()
                elif lk == "origin":
                    origin = v
                elif lk == "referer":
                    referer = v
        page = _host_of(ex.page)
        ref_host = _host_of(referer)
        if dest == "document" and len(self.navigations) < _MAX_SIGNALS:
            self.navigations.append((ex.host, ref_host, site))
        from_page = page is not None or dest == "document" or (site is not None and site != "none")
        initiator = _host_of(origin) or ref_host
        if initiator is not None:
            from_page = True
            if initiator not in self.initiators and len(self.initiators) < _MAX_SIGNALS:
                self.initiators.append(initiator)
        if page is not None and page not in self.pages and len(self.pages) < _MAX_SIGNALS:
            self.pages.append(page)
        if from_page:
            self.page_context[ex.host] = self.page_context.get(ex.host, 0) + 1


def _word_match(name: str, value: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", name, re.IGNORECASE) is not None


def _service(d: Destination) -> str | None:
    return d.owner.category if d.owner else None


def _never_inferred(d: Destination) -> bool:
    return _service(d) in NEVER_INFERRED or owners.public_ai_api(d.host)


def _domain_owner(domain: str) -> str | None:
    match = owners.lookup(domain)
    return match.owner.name if match else None


@dataclass
class Decision:
    method: str
    basis: str
    seeds: list[Destination]  # the hosts named, the top-level pages, or the guessed backend
    sites: list[str] = field(default_factory=list)
    owners: set[str] = field(default_factory=set)  # owner names named with --first-party


def _named(dests: list[Destination], named: tuple[str, ...], origin: str) -> Decision:
    seeds: list[Destination] = []
    owner_names: set[str] = set()
    unmatched: list[str] = []
    for value in named:
        v = value.strip()
        h = owners.normalize_host(v)
        hits = [d for d in dests if d.host == h or d.registrable_domain == h or d.host.endswith("." + h)]
        by_owner = {d.owner.name for d in dests if d.owner is not None and _word_match(d.owner.name, v)}
        if not hits and not by_owner:
            unmatched.append(value)
        seeds += [d for d in hits if d not in seeds]
        owner_names |= by_owner
    if unmatched:
        raise FirstPartyError(_unmatched_message(unmatched, dests, origin))
    how = "--first-party" if origin == "option" else "first_party: in the policy file"
    return Decision(origin, f"named with {how}: {', '.join(named)}", seeds, owners=owner_names)


def _unmatched_message(unmatched: list[str], dests: list[Destination], origin: str) -> str:
    names = sorted({d.owner.name for d in dests if d.owner})
    value = unmatched[0]
    close = difflib.get_close_matches(value.lower(), [n.lower() for n in names], n=3, cutoff=0.3)
    closest = [n for c in close for n in names if n.lower() == c] or names[:3]
    option = "--first-party" if origin == "option" else "first_party:"
    hint = f"; closest owners: {', '.join(closest)}" if closest else "; no destination in the capture has a known owner"
    return f"{option} {value!r} matches no host, domain or owner in the capture{hint}"


def _browser(dests: dict[str, Destination], b: Browsing) -> Decision | None:
    """The top-level sites of a browser capture, or None when no page can be told."""

    def eligible(host: str) -> bool:  # a page of the app: not a sign-in, ad, analytics... service
        d = dests.get(host)
        return not owners.public_ai_api(host) and (d is None or _service(d) not in NEVER_INFERRED - {"cdn"})

    sites: list[str] = []
    pages: list[str] = []
    evidence = ""
    if b.navigations:
        evidence = "top-level navigations (Sec-Fetch-Dest: document)"
        for host, referer, fetch_site in b.navigations:
            site = owners.registrable_domain(host)
            if not eligible(host):
                continue
            if not sites or site in sites:
                pass  # the first navigation's site, or another page of a first-party site
            elif not (fetch_site == "none" or (referer is not None and owners.registrable_domain(referer) in sites)):
                continue  # not navigated to by the user or from a first-party page
            if site not in sites:
                sites.append(site)
            pages.append(host)
    if not sites and b.pages:
        evidence = "the pages of the HAR file (log.pages)"
        for host in b.pages:
            if eligible(host):
                pages.append(host)
                if owners.registrable_domain(host) not in sites:
                    sites.append(owners.registrable_domain(host))
    if not sites and b.initiators:
        evidence = "the page that the first Origin / Referer header names"
        for host in b.initiators:
            if eligible(host):
                pages.append(host)
                sites.append(owners.registrable_domain(host))
                break
    if not sites:
        return None
    seeds = [dests[h] for h in dict.fromkeys(pages) if h in dests]
    return Decision(
        "browser", f"the top-level site of the browser session, from {evidence}: {', '.join(sites)}", seeds, sites
    )


def _backend(dests: list[Destination]) -> Decision:
    seeds = [d for d in dests if d.prompt_endpoint and not _never_inferred(d)]
    if seeds:
        return Decision(
            "backend",
            "guessed: the app's own backend (the destinations that receive prompts and are neither a public AI API "
            "nor an analytics, advertising or other third-party service)",
            seeds,
        )
    return Decision("none", "unknown: no browser page, and no prompt sent to an app's own backend", [])


def decide(
    by_host: dict[str, Destination], browsing: Browsing, named: Iterable[str] = (), origin: str = "option"
) -> dict[str, Any]:
    """Set ``party`` and ``party_note`` on every destination; return the report's ``first_party``.

    Raises :class:`FirstPartyError` when a named value matches nothing."""
    names = tuple(n for n in named if n.strip())
    dests = list(by_host.values())
    if names:
        decision = _named(dests, names, origin)
    else:
        decision = (_browser(by_host, browsing) if browsing.seen else None) or _backend(dests)
    seeds = decision.seeds
    domains = {d.registrable_domain for d in seeds} | set(decision.sites)
    first_owners = set(decision.owners) | {
        d.owner.name
        for d in seeds
        if d.owner and _service(d) not in _HOSTING and not _never_inferred(d)
        and _domain_owner(d.registrable_domain) == d.owner.name  # not a vendor's host on the app's domain
    }  # fmt: skip
    domain_owner: dict[str, str | None] = {}
    for d in dests:
        d.party_note = None
        if _is_platform(d, browsing):
            d.party = "platform"
            continue
        never = _service(d) in NEVER_INFERRED
        first = False
        if d.registrable_domain in domains:
            if d.registrable_domain not in domain_owner:
                domain_owner[d.registrable_domain] = _domain_owner(d.registrable_domain)
            if d.owner is None or d.owner.name == domain_owner[d.registrable_domain] or d.owner.name in first_owners:
                first = d in seeds or not never
            else:
                d.party_note = f"on the app's domain, run by {d.owner.name}"
        elif d in seeds:
            first = True  # a host named with --first-party
        if not first and d.party_note is None and d.owner is not None and d.owner.name in first_owners and not never:
            first = True
        if first:
            d.party = "first"
        elif decision.method == "browser" or d.party_note is not None:
            d.party = "third"  # in a browser session, every other site is a third party
        elif d.owner is not None and (seeds or _service(d) not in ("cloud", "other") or owners.public_ai_api(d.host)):
            d.party = "third"
        else:
            d.party = "unknown"
    first_dests = [d for d in dests if d.party == "first"]
    return {
        "inferred": not names,
        "guessed": decision.method == "backend",
        "method": decision.method,
        "basis": decision.basis,
        "sites": decision.sites,
        "hosts": sorted(d.host for d in first_dests),
        "owners": sorted({d.owner.name for d in first_dests if d.owner and _service(d) not in _HOSTING}),
    }


def _is_platform(d: Destination, browsing: Browsing) -> bool:
    """The OS's or browser's own traffic: a ``platform`` service, or, in a browser capture, a
    sign-in host that no page contacted (the browser's background account checks)."""
    service = _service(d)
    if service == "platform":
        return True
    return service == "identity" and browsing.seen and d.exchanges > 0 and browsing.page_context.get(d.host, 0) == 0
