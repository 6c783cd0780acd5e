"""What the HTML and Markdown reports show, computed once from the report document."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from auditor.audit.document import Destination, Finding, FirstParty
from auditor.destinations.jurisdictions import adequacy_text
from auditor.renderers.flowchart import Chart, build_chart
from auditor.renderers.keyfindings import encoding_text

# Caps of what the HTML and Markdown reports show (the JSON report has everything); past each,
# the report says how many more there are. They bound both the memory of the one pass over the
# findings and the size of the HTML: a capture of 100,000 exchanges gives a report under 2 MB.
EVIDENCE_HOSTS = 24  # destinations with an evidence table
EVIDENCE_PER_HOST = 12  # evidence rows (a value at a place) per destination
REQUESTS_PER_EVIDENCE = 3  # requests listed per evidence row (the others are counted)
DESTINATION_ROWS = 60
COMPANY_ROWS = 40
OWNERS_PER_COUNTRY = 12
WARNINGS_SHOWN = 20


@cache
def taxonomy() -> dict[str, dict[str, Any]]:
    with resources.files("auditor").joinpath("data/taxonomy.json").open("rb") as fh:
        return json.load(fh)["categories"]


def label(category: str) -> str:
    return taxonomy().get(category, {}).get("label", category)


def severity(category: str) -> int:
    return int(taxonomy().get(category, {}).get("severity", 1))


def country_name(code: str | None) -> str:
    if not code:
        return "Unknown"
    try:
        from auditor.destinations import jurisdictions

        j = jurisdictions.lookup(code)
        if j is not None:
            return j.name
    except (ImportError, OSError, ValueError):
        pass
    return code


def number(n: Any) -> str:
    """``2345`` -> ``"2,345"``."""
    return f"{n:,}" if isinstance(n, int) else str(n)


_IRREGULAR = {"company": "companies", "country": "countries", "entry": "entries", "this": "these"}


def plural(n: int, word: str) -> str:
    """The word for ``n`` of it: ``plural(1, "request")`` -> ``"request"``, else ``"requests"``."""
    if n == 1:
        return word
    head, _, last = word.rpartition(" ")  # "more company" -> "more companies"
    last = _IRREGULAR.get(last) or last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{head} {last}" if head else last


def count(n: int, word: str) -> str:
    """``count(1, "request")`` -> ``"1 request"``; ``count(2345, "request")`` -> ``"2,345 requests"``."""
    return f"{number(n)} {plural(n, word)}"


def source_url(value: Any) -> str | None:
    """A source from auditor's data as a link target: http(s) URLs only, else None."""
    if isinstance(value, str) and value.startswith(("https://", "http://")) and not any(c.isspace() for c in value):
        return value
    return None


@dataclass
class CountryRow:
    code: str | None
    name: str
    owners: set[str] = field(default_factory=set)
    hosts: int = 0
    categories: set[str] = field(default_factory=set)
    exchanges: int = 0


@dataclass
class Evidence:
    """One value found at one place: the first requests that carried it, and how many did."""

    finding: dict[str, Any]  # the finding's category, location, value, detector, confidence, derived
    requests: list[dict[str, Any]]
    count: int = 1
    rank: tuple[int, int, int] = (0, 0, 0)


@dataclass
class EvidenceTable:
    """The evidence shown for one destination, and how many of its findings are not shown."""

    dest: Destination
    anchor: str
    groups: list[Evidence]
    more: int  # findings of this host in no shown row


@dataclass
class CompanyRow:
    name: str
    parent: str | None
    country: str | None
    services: set[str] = field(default_factory=set)
    parties: set[str] = field(default_factory=set)
    hosts: list[str] = field(default_factory=list)
    more_hosts: int = 0
    categories: set[str] = field(default_factory=set)
    exchanges: int = 0


@dataclass
class View:
    doc: dict[str, Any]
    countries: list[CountryRow]
    evidence: list[EvidenceTable]
    categories: list[tuple[str, int]]
    companies: list[CompanyRow] = field(default_factory=list)
    more_companies: int = 0
    destinations: list[tuple[str, Destination]] = field(default_factory=list)  # (anchor, destination)
    more_destinations: int = 0
    more_evidence_hosts: int = 0
    chart: Chart | None = None
    key_findings: list[Any] = field(default_factory=list)  # keyfindings.KeyFinding
    warnings: list[str] = field(default_factory=list)
    more_warnings: int = 0
    # Optional sections: template names included after the evidence (HTML) or the destinations
    # (Markdown), each rendered with this view; a section adds itself when it has data.
    sections: list[str] = field(default_factory=list)
    md_sections: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        return self.doc.get("summary", {})

    @property
    def first_party_basis(self) -> str | None:
        """How the first party was decided, when the document says."""
        fp: FirstParty | None = self.doc.get("first_party")
        return fp.get("basis") if fp else None

    @property
    def first_party_line(self) -> str:
        """Who the app is and how that was decided, in one line."""
        fp: FirstParty | None = self.doc.get("first_party")
        who = ", ".join((fp.get("owners") or fp.get("hosts") or ()) if fp else ()) or "unknown"
        basis = fp.get("basis") if fp else None
        return f"First party (the app itself): {who} ({basis or 'not decided'})"


def rank(category: str, derived: bool = False) -> tuple[int, int, int]:
    """Sort key of an evidence row: severity first, then traced values, then taxonomy order."""
    order = _order()
    return (-severity(category), 0 if derived else 1, order.get(category, 99))


@cache
def _order() -> dict[str, int]:
    return {c: i for i, c in enumerate(taxonomy())}


def _request(f: Finding) -> dict[str, Any]:
    """What an evidence row keeps of a finding's request (not the whole finding); ``target``
    is the URL without its scheme and host (the evidence table is the host's)."""
    flow = f.get("flow")
    req = f.get("request")
    url = str(req.get("url") or "") if req else ""
    rest = url.split("://", 1)[-1]
    target = "/" + rest.split("/", 1)[1] if "/" in rest else url
    return {
        "capture": flow.get("capture", 0) if flow else 0,
        "index": flow.get("index") if flow else None,
        "method": req.get("method") if req else None,
        "url": url,
        "target": target,
    }


def _collect_evidence(findings: Iterable[Finding], hosts: dict[str, int]) -> dict[str, list[Evidence]]:
    """One pass over the findings holding at most EVIDENCE_PER_HOST groups for each host of
    ``hosts``: the best-ranked ones (a better group evicts the worst held; equal ranks keep the
    first seen). A group never held is never counted, so the counts of held groups are exact."""
    held: dict[str, dict[tuple[str, str, str, str], Evidence]] = {h: {} for h in hosts}
    for f in findings:
        groups = held.get(f["host"])
        if groups is None:
            continue
        key = (f["category"], f["location"]["part"], f["location"]["path"], f["value_sha256"])
        group = groups.get(key)
        if group is not None:
            group.count += 1
            if len(group.requests) < REQUESTS_PER_EVIDENCE:
                group.requests.append(_request(f))
            continue
        r = rank(f["category"], f.get("derived") is not None)
        if len(groups) >= EVIDENCE_PER_HOST:
            worst_key = max(reversed(groups), key=lambda k: groups[k].rank)  # the last held of equal ranks
            if not r < groups[worst_key].rank:
                continue
            del groups[worst_key]
        kept = {k: f.get(k) for k in ("category", "location", "value", "detector", "confidence", "derived")}
        groups[key] = Evidence(finding=kept, requests=[_request(f)], rank=r)
    return {h: sorted(g.values(), key=lambda e: e.rank) for h, g in held.items()}


def build(doc: dict[str, Any]) -> View:
    """The view of a report document: two passes over its findings (statistics, then the
    evidence of the destinations shown), holding a bounded part of them."""
    from auditor.renderers.keyfindings import FindingStats, key_findings

    dests: list[Destination] = list(doc.get("destinations", []))
    rows: dict[str | None, CountryRow] = {}
    for d in dests:
        owner = d.get("owner")
        jurisdiction = d.get("jurisdiction")
        code = jurisdiction.get("country") if jurisdiction else None
        row = rows.get(code)
        if row is None:
            row = rows[code] = CountryRow(code=code, name=country_name(code))
        row.owners.add((owner.get("name") if owner else None) or "unknown owner")
        row.hosts += 1
        row.categories.update(d.get("data_categories", []))
        row.exchanges += d.get("exchanges", 0)
    countries = sorted(
        rows.values(),
        key=lambda r: (
            r.code is None,
            -max((severity(c) for c in r.categories), default=0),
            -len(r.categories),
            r.name,
        ),
    )
    stats = FindingStats.collect(doc.get("findings", []))
    anchors = {d["host"]: f"dest-{i + 1}" for i, d in enumerate(dests)}
    keys = key_findings(doc, stats, label)

    # Evidence for the destinations the key findings name first, then the others with
    # personal data, in the report's order (most requests first).
    by_host = {d["host"]: d for d in dests}
    chosen: dict[str, int] = {}
    for k in keys:
        for item in k.items:
            host = item.host
            if host is not None and host in by_host and stats.per_host.get(host) and len(chosen) < EVIDENCE_HOSTS:
                chosen.setdefault(host, len(chosen))
    with_data = [d["host"] for d in dests if stats.per_host.get(d["host"])]
    for host in with_data:
        if len(chosen) >= EVIDENCE_HOSTS:
            break
        chosen.setdefault(host, len(chosen))
    held = _collect_evidence(doc.get("findings", []), chosen)
    evidence = []
    for host in chosen:
        groups = held[host]
        shown = sum(g.count for g in groups)
        evidence.append(EvidenceTable(by_host[host], "ev-" + anchors[host][5:], groups, stats.per_host[host] - shown))

    cats = sorted(doc.get("summary", {}).get("categories", {}).items(), key=lambda kv: (-severity(kv[0]), kv[0]))
    companies: dict[str, CompanyRow] = {}
    for d in dests:
        owner = d.get("owner")
        if not owner:
            continue
        company = companies.get(owner["name"])
        if company is None:
            company = companies[owner["name"]] = CompanyRow(owner["name"], owner.get("parent"), owner.get("country"))
        if service := d.get("category"):
            company.services.add(service)
        company.parties.add(d["party"])
        if len(company.hosts) < OWNERS_PER_COUNTRY:
            company.hosts.append(d["host"])
        else:
            company.more_hosts += 1
        company.categories.update(d.get("data_categories", []))
        company.exchanges += d.get("exchanges", 0)
    company_rows = sorted(
        companies.values(),
        key=lambda r: (-max((severity(c) for c in r.categories), default=0), -len(r.categories), r.name),
    )
    # Destinations with personal data first, then the others; each keeps its anchor.
    ordered = [d for d in dests if d.get("data_categories")] + [d for d in dests if not d.get("data_categories")]
    shown_dests = [(anchors[d["host"]], d) for d in ordered[:DESTINATION_ROWS]]
    # Each key finding links to its evidence table, else to its destination row.
    linked = {d["host"]: a for a, d in shown_dests} | {t.dest["host"]: t.anchor for t in evidence}
    for k in keys:
        for item in k.items:
            if item.host:
                item.anchor = linked.get(item.host)
    warnings = [w for c in doc.get("captures", []) for w in c.get("warnings", [])]
    chart = build_chart(doc, label, severity, country_name, stats.host_categories)
    return View(
        doc=doc,
        countries=countries,
        evidence=evidence,
        categories=cats,
        companies=company_rows[:COMPANY_ROWS],
        more_companies=max(0, len(company_rows) - COMPANY_ROWS),
        destinations=shown_dests,
        more_destinations=max(0, len(dests) - DESTINATION_ROWS),
        more_evidence_hosts=max(0, len(with_data) - len(evidence)),
        chart=chart,
        key_findings=keys,
        warnings=warnings[:WARNINGS_SHOWN],
        more_warnings=max(0, len(warnings) - WARNINGS_SHOWN),
        sections=["labels.html.j2"] if doc.get("labels") else [],
        md_sections=(["page.md.j2"] if doc.get("page") else []) + (["labels.md.j2"] if doc.get("labels") else []),
    )


# Characters that are invisible or reorder text (controls, bidirectional overrides), and lone
# surrogates (not encodable): a captured host, path or value holding them is shown with them
# escaped, never as they would act.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape_char(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(value: Any) -> Any:
    """Every template output: invisible and text-reordering characters as ``\\xNN``/``\\uNNNN``."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _INVISIBLE.sub(_escape_char, value)
    return value


@cache
def environment() -> Environment:
    """The Jinja environment over the shipped templates, autoescaping HTML."""
    root = resources.files("auditor.reports")
    env = Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=visible,
    )
    env.filters["label"] = label
    env.filters["severity"] = severity
    env.filters["country_name"] = country_name
    env.filters["adequacy"] = adequacy_text
    env.filters["num"] = number
    env.filters["count"] = lambda n, word: count(n, word)
    env.filters["plural"] = lambda word, n: plural(n, word)
    env.filters["source_url"] = source_url
    env.filters["encoding"] = encoding_text
    return env


def asset(name: str) -> str:
    return resources.files("auditor.reports").joinpath(name).read_text("utf-8")
