"""Layout of the "where your data goes" diagram: data categories -> companies -> countries.

Pure geometry: nodes with positions and links with thickness, rendered as inline SVG by the HTML
template (presentation attributes only, so the report's Content-Security-Policy holds).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from auditor.audit.document import Destination

WIDTH = 960
COLUMN_X = (150, 470, 790)  # left edge of each column's bars
BAR = 14
GAP = 10
MIN_BAR = 6
SCALE_HEIGHT = 360  # pixels shared by the bars of the tallest column
MAX_COMPANIES = 14
TOP = 24
SEVERITY_COLOURS = {3: "#d92d20", 2: "#dc6803", 1: "#667085"}


@dataclass
class Node:
    key: str
    label: str
    column: int
    weight: int
    colour: str = "#475467"
    y: float = 0.0
    height: float = 0.0
    out_used: float = 0.0
    in_used: float = 0.0

    @property
    def x(self) -> int:
        return COLUMN_X[self.column]


@dataclass
class Link:
    source: Node
    target: Node
    weight: int
    thickness: float = 0.0
    y0: float = 0.0
    y1: float = 0.0
    colour: str = "#98a2b3"

    @property
    def path(self) -> str:
        x0 = self.source.x + BAR
        x1 = self.target.x
        mid = (x0 + x1) / 2
        return f"M{x0:.1f},{self.y0:.1f} C{mid:.1f},{self.y0:.1f} {mid:.1f},{self.y1:.1f} {x1:.1f},{self.y1:.1f}"


@dataclass
class Chart:
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    height: int = 0
    width: int = WIDTH
    quiet_destinations: int = 0

    def rows(self) -> list[tuple[Node, list[Link], list[Link]]]:
        """The diagram as a list (for narrow screens and print): each company with the data
        categories it received and the countries they went to, heaviest first."""
        out = []
        for n in self.nodes:
            if n.column != 1:
                continue
            into = sorted((lk for lk in self.links if lk.target is n), key=lambda lk: (-lk.weight, lk.source.label))
            onto = sorted((lk for lk in self.links if lk.source is n), key=lambda lk: (-lk.weight, lk.target.label))
            out.append((n, into, onto))
        return out


def build_chart(
    doc: dict[str, Any], label: Any, severity: Any, country_name: Any, counts: dict[tuple[str, str], int]
) -> Chart | None:
    """The diagram for a report document; None when no personal data was found.

    ``counts``: findings per (host, category), counted in one pass over the findings.
    """
    destinations: list[Destination] = doc.get("destinations", [])
    dests = {d["host"]: d for d in destinations}
    cat_company: dict[tuple[str, str], int] = defaultdict(int)
    company_country: dict[tuple[str, str], int] = defaultdict(int)
    company_weight: dict[str, int] = defaultdict(int)
    for (host, category), found in counts.items():
        d = dests.get(host)
        if d is None:
            continue
        owner = d.get("owner")
        company = (owner.get("name") if owner else None) or f"unknown owner ({d['registrable_domain']})"
        jurisdiction = d.get("jurisdiction")
        country = (jurisdiction.get("country") if jurisdiction else None) or "??"
        cat_company[(category, company)] += found
        company_country[(company, country)] += found
        company_weight[company] += found
    if not company_weight:
        return None
    ranked = sorted(company_weight, key=lambda c: (-company_weight[c], c))
    kept = set(ranked[:MAX_COMPANIES])
    others = len(ranked) - len(kept)
    other_label = f"{others} other compan{'y' if others == 1 else 'ies'}"

    def company_key(c: str) -> str:
        return c if c in kept else other_label

    nodes: dict[tuple[int, str], Node] = {}

    def node(column: int, key: str, text: str, colour: str = "#475467") -> Node:
        n = nodes.get((column, key))
        if n is None:
            n = nodes[(column, key)] = Node(key=key, label=text, column=column, weight=0, colour=colour)
        return n

    links: dict[tuple[str, str, int], Link] = {}
    for (cat, company), w in cat_company.items():
        a = node(0, cat, label(cat), SEVERITY_COLOURS.get(severity(cat), "#667085"))
        b = node(1, company_key(company), company_key(company))
        a.weight += w
        link = links.setdefault((a.key, b.key, 0), Link(a, b, 0, colour=a.colour))
        link.weight += w
    for (company, country), w in company_country.items():
        a = node(1, company_key(company), company_key(company))
        b = node(2, country, f"{country_name(country)} ({country})" if country != "??" else "Unknown country")
        b.weight += w
        link = links.setdefault((a.key, b.key, 1), Link(a, b, 0))
        link.weight += w
    for (column, _key), n in nodes.items():
        if column == 1:
            n.weight = sum(lk.weight for lk in links.values() if lk.source is n)
    chart = Chart(links=list(links.values()))
    columns = [
        sorted((n for n in nodes.values() if n.column == c), key=lambda n: (-n.weight, n.label)) for c in range(3)
    ]
    total = max(sum(n.weight for n in col) for col in columns)
    unit = SCALE_HEIGHT / total if total else 1.0
    height = 0.0
    for col in columns:
        y = float(TOP)
        for n in col:
            n.y = y
            n.height = max(MIN_BAR, n.weight * unit)
            y += n.height + GAP
        height = max(height, y)
    for link in sorted(chart.links, key=lambda lk: (lk.source.column, lk.source.y, lk.target.y)):
        link.thickness = max(1.5, link.weight * unit)
        link.y0 = link.source.y + link.source.out_used + link.thickness / 2
        link.source.out_used += link.thickness
    for link in sorted(chart.links, key=lambda lk: (lk.target.column, lk.target.y, lk.source.y)):
        link.y1 = link.target.y + link.target.in_used + link.thickness / 2
        link.target.in_used += link.thickness
    chart.nodes = [n for col in columns for n in col]
    chart.height = int(height + 8)
    chart.quiet_destinations = sum(1 for d in dests.values() if not d.get("data_categories"))
    return chart
