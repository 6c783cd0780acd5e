"""Judging a declaration against an audit's report document.

What the traffic shows, per store data type (see ``data/store_labels.json``):

- **collected**: the data left the device, to any destination;
- **shared** (Play): it reached a destination whose party is ``third``. Destinations of party
  ``platform`` (the OS's or browser's own background traffic) are neither the app's collection
  nor its sharing and are left out;
- **linked** (Apple): it left in the same request as an account id, a device id or an email;
- **tracking** (Apple): it is an advertising id, or it reached an advertising, attribution or
  data-broker company;
- **purposes**: inferred from each receiving third party's service category.

Each observed type becomes an item: ``undeclared`` (observed, not declared), ``mismatched``
(declared otherwise than observed), ``review`` (declared not shared but sent to a third party
that may be a service provider, which a capture cannot show) or ``consistent``; each declared
type the run did not show is ``not_observed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.labels import mapping
from auditor.labels.model import Declaration, DeclaredType

KINDS: tuple[str, ...] = ("undeclared", "mismatched", "review", "consistent", "not_observed")
FAILING: frozenset[str] = frozenset({"undeclared", "mismatched"})
REQUESTS_PER_RECEIVER = 5
IDENTIFYING: frozenset[str] = frozenset({"email", "account_id"})


@dataclass
class Receiver:
    """One destination that received an observed type, with the requests that show it."""

    host: str
    owner: str | None
    country: str | None
    party: str
    service: str | None
    requests: list[dict[str, Any]] = field(default_factory=list)
    flows: set[tuple[int, int]] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "owner": self.owner,
            "country": self.country,
            "party": self.party,
            "service": self.service,
            "requests": self.requests,
            "request_count": len(self.flows),
        }

    def name(self) -> str:
        """``Statsig, Inc. (events.statsigapi.net, feature_flags, US)``."""
        bits = [self.host] + [b for b in (self.service, self.country) if b]
        return f"{self.owner or 'unknown owner'} ({', '.join(bits)})"


@dataclass
class Observation:
    """What the traffic shows of one store type (or a set of alternatives) in one store."""

    store: str
    types: tuple[str, ...]
    categories: set[str] = field(default_factory=set)
    receivers: dict[str, Receiver] = field(default_factory=dict)
    linked: bool = False
    tracking: bool = False
    linked_refs: list[str] = field(default_factory=list)

    @property
    def third(self) -> list[Receiver]:
        return [r for r in self.receivers.values() if r.party == "third"]

    def required_purposes(self, receivers: list[Receiver]) -> dict[tuple[str, ...], list[Receiver]]:
        """Purposes implied by receivers that are not the first party: any one of each tuple."""
        out: dict[tuple[str, ...], list[Receiver]] = {}
        for r in receivers:
            if r.party == "first":
                continue
            req = mapping.purposes_for(r.service, self.store)
            if req:
                out.setdefault(req, []).append(r)
        return out


def observe(
    doc: dict[str, Any],
) -> tuple[dict[str, dict[str, Receiver]], dict[str, set[tuple[int, int]]], dict[tuple[int, int], set[str]]]:
    """Receivers and requests per taxonomy category (plus ``crash_report``), and the categories
    of each request, from the report document's findings and destinations."""
    dests = {d.get("host"): d for d in doc.get("destinations") or ()}
    by_cat: dict[str, dict[str, Receiver]] = {}
    flows: dict[str, set[tuple[int, int]]] = {}
    flow_cats: dict[tuple[int, int], set[str]] = {}
    host_flows: dict[str, set[tuple[int, int]]] = {}

    def receiver(cat: str, host: str) -> Receiver | None:
        d = dests.get(host) or {}
        party = d.get("party") or "unknown"
        if party == "platform":
            return None
        rs = by_cat.setdefault(cat, {})
        r = rs.get(host)
        if r is None:
            owner = d.get("owner") or {}
            country = owner.get("country") or (d.get("jurisdiction") or {}).get("country")
            r = rs[host] = Receiver(host, owner.get("name"), country, party, d.get("category"))
        return r

    for f in doc.get("findings") or ():
        cat, host = f.get("category"), f.get("host") or ""
        flow = f.get("flow") or {}
        key = (int(flow.get("capture") or 0), int(flow.get("index") or 0))
        flow_cats.setdefault(key, set()).add(cat)
        host_flows.setdefault(host, set()).add(key)
        r = receiver(cat, host)
        if r is None:
            continue
        flows.setdefault(cat, set()).add(key)
        if key not in r.flows:
            r.flows.add(key)
            if len(r.requests) < REQUESTS_PER_RECEIVER:
                req = f.get("request") or {}
                r.requests.append(
                    {"capture": key[0], "index": key[1], "method": req.get("method"), "url": req.get("url")}
                )
    for d in doc.get("destinations") or ():
        if d.get("category") == "crash_reporting" and (d.get("exchanges") or 0) > 0 and not d.get("opaque"):
            r = receiver(mapping.CRASH_REPORT, d["host"])
            if r is None:
                continue
            seen = host_flows.get(d["host"], set())
            flows.setdefault(mapping.CRASH_REPORT, set()).update(seen)
            for key in sorted(seen):
                if key not in r.flows:
                    r.flows.add(key)
                    if len(r.requests) < REQUESTS_PER_RECEIVER:
                        r.requests.append({"capture": key[0], "index": key[1], "method": None, "url": None})
    return by_cat, flows, flow_cats


def observations(doc: dict[str, Any], store: str) -> list[Observation]:
    """The observed store types of a report document, merged where categories map alike."""
    by_cat, flows, flow_cats = observe(doc)
    linking = mapping.linking_categories()
    tracking_services = mapping.tracking_services()
    out: dict[tuple[str, ...], Observation] = {}
    for cat in sorted(by_cat):
        types = mapping.types_for(cat, store)
        if not types or not by_cat[cat]:
            continue
        ob = out.setdefault(types, Observation(store, types))
        ob.categories.add(cat)
        for host, r in by_cat[cat].items():
            mine = ob.receivers.get(host)
            if mine is None:
                ob.receivers[host] = Receiver(
                    r.host, r.owner, r.country, r.party, r.service, list(r.requests), set(r.flows)
                )
            else:
                for req in r.requests:
                    if (req["capture"], req["index"]) not in mine.flows and len(mine.requests) < REQUESTS_PER_RECEIVER:
                        mine.requests.append(req)
                mine.flows |= r.flows
        # A device id is linked when something else identifies the user in the same request; an
        # email or an account id identifies the user by itself.
        others = linking - ({cat} - IDENTIFYING)
        for key in sorted(flows.get(cat, ())):
            if flow_cats.get(key, set()) & others:
                ob.linked = True
                if len(ob.linked_refs) < 3:
                    ob.linked_refs.append(f"#{key[1]}" if key[0] == 0 else f"{key[0]}#{key[1]}")
        if cat == "advertising_id" or any(r.service in tracking_services for r in by_cat[cat].values()):
            ob.tracking = True
    return sorted(out.values(), key=lambda o: o.types)


@dataclass
class Problem:
    kind: str  # undeclared, mismatched, review
    text: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


@dataclass
class Item:
    """One store type's verdict for one declaration."""

    kind: str
    store: str
    type: str  # the declared type that matched, or the one a draft proposes
    types: tuple[str, ...]
    categories: list[str]
    problems: list[Problem] = field(default_factory=list)
    declared: DeclaredType | None = None
    observation: Observation | None = None

    @property
    def label(self) -> str:
        return mapping.type_label(self.store, self.type)

    def to_json(self) -> dict[str, Any]:
        ob = self.observation
        d = self.declared
        return {
            "kind": self.kind,
            "type": self.type,
            "type_label": self.label,
            "alternatives": list(self.types),
            "categories": self.categories,
            "problems": [p.to_json() for p in self.problems],
            "declared": None
            if d is None
            else {
                "collected": d.collected,
                "shared": d.shared,
                "collection_purposes": sorted(d.collection_purposes),
                "sharing_purposes": sorted(d.sharing_purposes),
                "linked": d.linked,
                "tracking": d.tracking,
                "line": d.line,
            },
            "observed": None
            if ob is None
            else {
                "collected": True,
                "shared_with": sorted(r.host for r in ob.third),
                "linked": ob.linked,
                "tracking": ob.tracking,
                "inferred_purposes": sorted(list(p) for p in ob.required_purposes(list(ob.receivers.values()))),
            },
            "evidence": []
            if ob is None
            else [r.to_json() for r in sorted(ob.receivers.values(), key=lambda r: r.host)],
        }


@dataclass
class Verdict:
    """Everything decided for one declaration."""

    declaration: Declaration
    items: list[Item]

    def count(self, kind: str) -> int:
        return sum(1 for i in self.items if i.kind == kind)

    @property
    def failed(self) -> bool:
        return any(i.kind in FAILING for i in self.items)

    def to_json(self) -> dict[str, Any]:
        d = self.declaration
        return {
            "path": d.path,
            "store": d.store,
            "format": d.format,
            "not_collected": d.not_collected,
            "passed": not self.failed,
            "summary": {k: self.count(k) for k in KINDS},
            "items": [i.to_json() for i in self.items],
        }


def _hosts(rs: list[Receiver], limit: int = 4) -> str:
    names = [r.name() for r in sorted(rs, key=lambda r: r.host)]
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def _purposes(store: str, ps: tuple[str, ...]) -> str:
    return " or ".join(mapping.purpose_label(store, p) for p in ps)


def _merge(decl: Declaration, types: tuple[str, ...]) -> DeclaredType | None:
    """The declared entries among ``types`` taken together, or None if none is declared."""
    found = [decl.types[t] for t in types if t in decl.types]
    if not found:
        return None
    m = DeclaredType(id=found[0].id, collected=False, line=found[0].line)
    for d in found:
        m.collected |= d.collected
        m.shared |= d.shared
        m.collection_purposes |= d.collection_purposes
        m.sharing_purposes |= d.sharing_purposes
        m.tracking |= d.tracking
        if d.linked is not None:
            m.linked = bool(m.linked) or d.linked
    return m


def _check(ob: Observation, d: DeclaredType) -> list[Problem]:
    store = ob.store
    out: list[Problem] = []
    third = ob.third
    if store == "play":
        if not d.collected:
            out.append(
                Problem("mismatched", "declared shared only, but it leaves the device: Play counts that as collected")
            )
        if third and not d.shared:
            ads = [r for r in third if r.service in mapping.shared_mismatch_services()]
            others = [r for r in third if r not in ads]
            if ads:
                out.append(
                    Problem(
                        "mismatched",
                        f"declared not shared, but sent to {_hosts(ads)}: advertising, attribution and "
                        "data-broker companies are not service providers",
                    )
                )
            if others:
                out.append(
                    Problem(
                        "review",
                        f"declared not shared, but sent to {_hosts(others)}: "
                        "shared, unless each is your service provider",
                    )
                )
    else:
        if ob.linked and d.linked is False:
            out.append(
                Problem(
                    "mismatched",
                    "declared not linked to you, but it left in the same request as an account id, "
                    f"a device id or an email ({', '.join(ob.linked_refs)})",
                )
            )
        if ob.tracking and not d.tracking:
            why = [r for r in ob.receivers.values() if r.service in mapping.tracking_services()]
            reason = f"sent to {_hosts(why)}" if why else "an advertising id"
            out.append(Problem("mismatched", f"declared not used to track you, but {reason}"))
    for req, rs in ob.required_purposes(list(ob.receivers.values())).items():
        if not set(req) & d.collection_purposes:
            out.append(
                Problem("mismatched", f"purpose not declared: {_purposes(store, req)} (inferred from {_hosts(rs)})")
            )
    if store == "play" and d.shared:
        for req, rs in ob.required_purposes(third).items():
            if not set(req) & d.sharing_purposes:
                out.append(
                    Problem(
                        "mismatched",
                        f"sharing purpose not declared: {_purposes(store, req)} (inferred from {_hosts(rs)})",
                    )
                )
    return out


def _worst(problems: list[Problem]) -> str:
    kinds = {p.kind for p in problems}
    for k in ("undeclared", "mismatched", "review"):
        if k in kinds:
            return k
    return "consistent"


def _domain_covered(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def judge(decl: Declaration, doc: dict[str, Any]) -> Verdict:
    """Compare a declaration with a report document."""
    obs = observations(doc, decl.store)
    items: list[Item] = []
    seen: set[str] = set()
    for ob in obs:
        declared = [t for t in ob.types if t in decl.types]
        seen.update(declared)
        cats = sorted(ob.categories)
        if not declared:
            alts = " or ".join(mapping.type_label(decl.store, t) for t in ob.types)
            where = "declared: no data collected; " if decl.not_collected else ""
            n = len(ob.receivers)
            text = (
                f"{where}not declared: {alts}; observed as {', '.join(cats)}, "
                f"sent to {n} destination{'s' if n != 1 else ''}"
            )
            items.append(
                Item("undeclared", decl.store, ob.types[0], ob.types, cats, [Problem("undeclared", text)], None, ob)
            )
            continue
        merged = _merge(decl, tuple(declared))
        assert merged is not None
        problems = _check(ob, merged)
        items.append(Item(_worst(problems), decl.store, declared[0], ob.types, cats, problems, merged, ob))
    tracked = [
        r for ob in obs if ob.tracking for r in ob.receivers.values() if r.service in mapping.tracking_services()
    ]
    if decl.format == "xcprivacy":
        if decl.tracking is False and any(ob.tracking for ob in obs):
            why = f"sent to {_hosts(tracked)}" if tracked else "advertising ids were sent"
            items.append(
                Item(
                    "mismatched",
                    decl.store,
                    "NSPrivacyTracking",
                    (),
                    [],
                    [Problem("mismatched", f"NSPrivacyTracking is false, but data is used to track: {why}")],
                )
            )
        domains = decl.tracking_domains or []
        missing = {r.host: r for r in tracked if not _domain_covered(r.host, domains)}
        if missing:
            items.append(
                Item(
                    "mismatched",
                    decl.store,
                    "NSPrivacyTrackingDomains",
                    (),
                    [],
                    [
                        Problem(
                            "mismatched",
                            f"tracking domains not in NSPrivacyTrackingDomains: {_hosts(list(missing.values()), 8)}",
                        )
                    ],
                )
            )
    for t in sorted(set(decl.types) - seen):
        d = decl.types[t]
        items.append(
            Item(
                "not_observed",
                decl.store,
                t,
                (t,),
                [],
                [
                    Problem(
                        "not_observed", "declared, not seen in the captures (the test run may not have exercised it)"
                    )
                ],
                d,
            )
        )
    order = {k: i for i, k in enumerate(KINDS)}
    items.sort(key=lambda i: (order[i.kind], i.type))
    return Verdict(decl, items)


@dataclass
class LabelsResult:
    """The verdicts of every declaration given, for the reports and the exit status."""

    verdicts: list[Verdict]

    @property
    def failed(self) -> bool:
        return any(v.failed for v in self.verdicts)

    def count(self, kind: str) -> int:
        return sum(v.count(kind) for v in self.verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": not self.failed,
            "summary": {k: self.count(k) for k in KINDS},
            "declarations": [v.to_json() for v in self.verdicts],
            "limits": (
                "A capture shows what the test run sent, not every path of the app; it cannot show a "
                "service-provider contract, and purposes are inferred from each third party's service category."
            ),
        }


def judge_all(decls: list[Declaration], doc: dict[str, Any]) -> LabelsResult:
    return LabelsResult([judge(d, doc) for d in decls])


def undeclared_pairs(result: LabelsResult) -> frozenset[tuple[str, str]]:
    """(host, taxonomy category) of every undeclared item's evidence, for policy selectors."""
    out: set[tuple[str, str]] = set()
    for v in result.verdicts:
        for item in v.items:
            if item.kind == "undeclared" and item.observation is not None:
                for host in item.observation.receivers:
                    out.update((host, c) for c in item.categories)
    return frozenset(out)
