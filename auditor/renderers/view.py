"""What the HTML and Markdown reports show, computed once from the report document."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .flowchart import Chart, build_chart

# Evidence rows (a value at a place) shown per destination; the JSON report has every finding.
EVIDENCE_PER_HOST = 100
# Requests listed per evidence row (the others are counted).
REQUESTS_PER_EVIDENCE = 5


@cache
def taxonomy() -> dict[str, dict[str, Any]]:
    with resources.files("auditor").joinpath("data/taxonomy.json").open("rb") as fh:
        return json.load(fh)["categories"]


def label(category: str) -> str:
    return taxonomy().get(category, {}).get("label", category)


def severity(category: str) -> int:
    return int(taxonomy().get(category, {}).get("severity", 1))


ADEQUACY_TEXT = {
    "eu": "EU member state: the GDPR applies",
    "eea": "EEA member: the GDPR applies",
    "adequate": "EU adequacy decision: data may flow from the EU without further safeguards",
    "partial": "partial EU adequacy",
    "none": "no EU adequacy decision: transfers from the EU need safeguards (standard contractual clauses, binding corporate rules)",
}


def adequacy_text(status: str | None) -> str:
    return ADEQUACY_TEXT.get(status or "", "adequacy status unknown")


def country_name(code: str | None) -> str:
    if not code:
        return "Unknown"
    try:
        from .. import jurisdictions

        j = jurisdictions.lookup(code)
        if j is not None:
            return j.name
    except (ImportError, OSError, ValueError):
        pass
    return code


@dataclass
class CountryRow:
    code: str | None
    name: str
    owners: set[str] = field(default_factory=set)
    hosts: list[str] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    exchanges: int = 0


@dataclass
class Evidence:
    """One value found at one place: the first requests that carried it, and how many did."""

    finding: dict[str, Any]
    requests: list[dict[str, Any]]
    count: int = 1


@dataclass
class CompanyRow:
    name: str
    parent: str | None
    country: str | None
    services: set[str] = field(default_factory=set)
    parties: set[str] = field(default_factory=set)
    hosts: list[str] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    exchanges: int = 0


@dataclass
class View:
    doc: dict[str, Any]
    countries: list[CountryRow]
    evidence: list[tuple[dict[str, Any], list[Evidence], int]]
    categories: list[tuple[str, int]]
    companies: list[CompanyRow] = field(default_factory=list)
    chart: Chart | None = None

    @property
    def summary(self) -> dict[str, Any]:
        return self.doc.get("summary", {})

    @property
    def first_party_line(self) -> str:
        """Who the app is and how that was decided, in one line."""
        fp = self.doc.get("first_party") or {}
        who = ", ".join(fp.get("owners") or fp.get("hosts") or ()) or "unknown"
        return f"First party (the app itself): {who} ({fp.get('basis') or 'not decided'})"


def build(doc: dict[str, Any]) -> View:
    rows: dict[str | None, CountryRow] = {}
    for d in doc.get("destinations", []):
        owner = d.get("owner") or {}
        code = (d.get("jurisdiction") or {}).get("country")
        row = rows.get(code)
        if row is None:
            row = rows[code] = CountryRow(code=code, name=country_name(code))
        row.owners.add(owner.get("name") or "unknown owner")
        row.hosts.append(d["host"])
        row.categories.update(d.get("data_categories", []))
        row.exchanges += d.get("exchanges", 0)
    countries = sorted(
        rows.values(),
        key=lambda r: (r.code is None, -max((severity(c) for c in r.categories), default=0), -len(r.categories), r.name),
    )
    order = {c: i for i, c in enumerate(taxonomy())}

    def rank(category: str) -> tuple[int, int]:
        return (-severity(category), order.get(category, 99))

    # One pass over the findings, holding at most EVIDENCE_PER_HOST groups per host and rank
    # (the ones shown are among them) and REQUESTS_PER_EVIDENCE findings per group, so a
    # spooled findings list is never all in memory. Groups past that are only counted.
    by_host: dict[str, dict[tuple[str, str, str, str], Evidence]] = defaultdict(dict)
    kept: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    unshown: dict[str, set[int]] = defaultdict(set)
    for f in doc.get("findings", []):
        key = (f["category"], f["location"]["part"], f["location"]["path"], f["value_sha256"])
        host = f["host"]
        group = by_host[host].get(key)
        if group is not None:
            group.count += 1
            if len(group.requests) < REQUESTS_PER_EVIDENCE:
                group.requests.append(f)
            continue
        slot = (host, rank(f["category"]))
        if kept[slot] < EVIDENCE_PER_HOST:
            kept[slot] += 1
            by_host[host][key] = Evidence(finding=f, requests=[f])
        else:
            unshown[host].add(hash(key))
    evidence = []
    for d in doc.get("destinations", []):
        groups = list(by_host.get(d["host"], {}).values())
        if groups:
            groups.sort(key=lambda g: rank(g.finding["category"]))
            total = len(groups) + len(unshown.get(d["host"], ()))
            evidence.append((d, groups[:EVIDENCE_PER_HOST], max(0, total - EVIDENCE_PER_HOST)))
    cats = sorted(doc.get("summary", {}).get("categories", {}).items(), key=lambda kv: (-severity(kv[0]), kv[0]))
    companies: dict[str, CompanyRow] = {}
    for d in doc.get("destinations", []):
        owner = d.get("owner")
        if not owner:
            continue
        row = companies.get(owner["name"])
        if row is None:
            row = companies[owner["name"]] = CompanyRow(owner["name"], owner.get("parent"), owner.get("country"))
        if d.get("category"):
            row.services.add(d["category"])
        row.parties.add(d["party"])
        row.hosts.append(d["host"])
        row.categories.update(d.get("data_categories", []))
        row.exchanges += d.get("exchanges", 0)
    company_rows = sorted(
        companies.values(),
        key=lambda r: (-max((severity(c) for c in r.categories), default=0), -len(r.categories), r.name),
    )
    chart = build_chart(doc, label, severity, country_name)
    return View(doc=doc, countries=countries, evidence=evidence, categories=cats, companies=company_rows, chart=chart)


# Characters that are invisible or reorder text (controls, bidirectional overrides), and lone
# surrogates (not encodable): a captured host, path or value holding them is shown with them
# escaped, never as they would act.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


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
    return env


def asset(name: str) -> str:
    return resources.files("auditor.reports").joinpath(name).read_text("utf-8")
