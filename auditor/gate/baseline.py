"""Compare two audits: what changed between a baseline report and a new one.

Both sides are report documents (the JSON ``auditor report`` writes, or the ``--json`` output of
``auditor check``, which is the same document with a ``check`` section). Destinations are
matched by host. :func:`diff_reports` lists added, removed and changed destinations, data
categories and countries; :func:`baseline_violations` turns what is *new* (destinations, data
categories for a destination, countries) into violations for ``auditor check --baseline``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from auditor.audit.document import Destination
from auditor.errors import AuditorError
from auditor.gate.facts import Facts, destination_countries, destination_facts
from auditor.gate.model import Selector


class ReportError(AuditorError, ValueError):
    """A file that is not a usable report document. ``str()`` is one line meant for the user."""


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a JSON report document (schema version 1). Raises :class:`ReportError`."""
    from auditor.io import InputError, read_small

    name = str(path)
    try:
        data = read_small(path, "JSON report", 1 << 30)  # (a report of a big capture is big)
    except InputError as e:
        raise ReportError(str(e)) from None
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ReportError(f"{name}: not a JSON report: not UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise ReportError(f"{name}: not a JSON report: invalid JSON at {where}: {e.msg}") from None
    except RecursionError:
        raise ReportError(f"{name}: not a JSON report: nested too deep") from None
    return check_report(doc, name)


def check_report(doc: Any, name: str) -> dict[str, Any]:
    """Check the outer structure of a report document; return it."""
    if not isinstance(doc, dict) or "destinations" not in doc or "schema_version" not in doc:
        raise ReportError(f"{name}: not an auditor JSON report (no schema_version and destinations)")
    if str(doc.get("schema_version")) != "1":
        raise ReportError(f"{name}: unsupported report schema version {doc.get('schema_version')!r} (expected 1)")
    dests = doc.get("destinations")
    if not isinstance(dests, list) or not all(isinstance(d, dict) and isinstance(d.get("host"), str) for d in dests):
        raise ReportError(f"{name}: not an auditor JSON report (destinations must be a list of objects with a host)")
    for d in dests:
        if not isinstance(d.get("data_categories", []), list) or not isinstance(d.get("owner") or {}, dict):
            raise ReportError(f"{name}: destination {d['host']!r} is malformed")
    return doc


# --------------------------------------------------------------------------------------------
# Differences


def _owner_label(d: Destination) -> str:
    owner = d.get("owner")
    return (owner.get("name") if owner else None) or "unknown owner"


def all_countries(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Every country of the document (owner or server registry) and the hosts behind it."""
    out: dict[str, list[str]] = {}
    for d in doc.get("destinations") or ():
        for c in sorted(destination_countries(d)):
            out.setdefault(c, []).append(d["host"])
    return out


@dataclass
class DestinationChange:
    """What changed for one host present in both reports."""

    host: str
    categories_added: list[str] = field(default_factory=list)
    categories_removed: list[str] = field(default_factory=list)
    countries_added: list[str] = field(default_factory=list)
    countries_removed: list[str] = field(default_factory=list)
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (what, old, new)

    def __bool__(self) -> bool:
        return bool(
            self.categories_added
            or self.categories_removed
            or self.countries_added
            or self.countries_removed
            or self.changes
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "categories_added": self.categories_added,
            "categories_removed": self.categories_removed,
            "countries_added": self.countries_added,
            "countries_removed": self.countries_removed,
            "changes": [{"field": w, "old": o, "new": n} for w, o, n in self.changes],
        }


@dataclass
class ReportDiff:
    """Differences between two report documents."""

    added: list[Destination] = field(default_factory=list)
    removed: list[Destination] = field(default_factory=list)
    changed: list[DestinationChange] = field(default_factory=list)
    countries_added: dict[str, list[str]] = field(default_factory=dict)
    countries_removed: dict[str, list[str]] = field(default_factory=dict)
    categories_added: list[str] = field(default_factory=list)
    categories_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.countries_added
            or self.countries_removed
            or self.categories_added
            or self.categories_removed
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "destinations_added": [d["host"] for d in self.added],
            "destinations_removed": [d["host"] for d in self.removed],
            "destinations_changed": [c.to_json() for c in self.changed],
            "countries_added": self.countries_added,
            "countries_removed": self.countries_removed,
            "categories_added": self.categories_added,
            "categories_removed": self.categories_removed,
        }


def _categories(doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for d in doc.get("destinations") or ():
        out.update(d.get("data_categories") or ())
    return out


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> ReportDiff:
    """Compare two report documents destination by destination (matched by host)."""
    old_d = {d["host"]: d for d in old.get("destinations") or ()}
    new_d = {d["host"]: d for d in new.get("destinations") or ()}
    diff = ReportDiff()
    diff.added = [new_d[h] for h in sorted(new_d.keys() - old_d.keys())]
    diff.removed = [old_d[h] for h in sorted(old_d.keys() - new_d.keys())]
    for host in sorted(old_d.keys() & new_d.keys()):
        a, b = old_d[host], new_d[host]
        ch = DestinationChange(host)
        ca, cb = set(a.get("data_categories") or ()), set(b.get("data_categories") or ())
        ch.categories_added, ch.categories_removed = sorted(cb - ca), sorted(ca - cb)
        na, nb = destination_countries(a), destination_countries(b)
        ch.countries_added, ch.countries_removed = sorted(nb - na), sorted(na - nb)
        for what, get in (
            ("owner", _owner_label),
            ("party", lambda d: d.get("party")),
            ("service", lambda d: d.get("category")),
            ("cleartext", lambda d: bool(d.get("cleartext"))),
        ):
            va, vb = get(a), get(b)
            if va != vb:
                ch.changes.append((what, va, vb))
        if ch:
            diff.changed.append(ch)
    ca_all, cb_all = all_countries(old), all_countries(new)
    diff.countries_added = {c: cb_all[c] for c in sorted(cb_all.keys() - ca_all.keys())}
    diff.countries_removed = {c: ca_all[c] for c in sorted(ca_all.keys() - cb_all.keys())}
    cat_a, cat_b = _categories(old), _categories(new)
    diff.categories_added, diff.categories_removed = sorted(cat_b - cat_a), sorted(cat_a - cat_b)
    return diff


def _dest_summary(d: Destination) -> str:
    bits = [_owner_label(d)]
    countries = sorted(destination_countries(d))
    bits.append(", ".join(countries) if countries else "country unknown")
    if d.get("category"):
        bits.append(str(d["category"]))
    bits.append(f"{d.get('party', 'unknown')} party")
    if d.get("cleartext"):
        bits.append("cleartext")
    cats = d.get("data_categories") or []
    data = ", ".join(cats) if cats else "no personal data found"
    return f"{d['host']} ({'; '.join(bits)}): {data}"


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "none" if v is None else str(v)


def _change_text(c: DestinationChange) -> str:
    bits = []
    if c.categories_added or c.categories_removed:
        bits.append("data " + " ".join([f"+{x}" for x in c.categories_added] + [f"-{x}" for x in c.categories_removed]))
    if c.countries_added or c.countries_removed:
        signed = [f"+{x}" for x in c.countries_added] + [f"-{x}" for x in c.countries_removed]
        bits.append("countries " + " ".join(signed))
    for what, old, new in c.changes:
        bits.append(f"{what} {_fmt(old)} -> {_fmt(new)}")
    return f"{c.host}: {'; '.join(bits)}"


def _clean(s: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in s)


def render_diff_text(diff: ReportDiff, old_name: str = "old", new_name: str = "new") -> str:
    """The differences as plain text, one line per item."""
    lines = [f"auditor diff {old_name} -> {new_name}"]
    if diff.empty:
        lines.append("no differences in destinations, data categories or countries")
        return "\n".join(lines) + "\n"
    if diff.added:
        lines.append(f"destinations added ({len(diff.added)}):")
        lines += [f"  + {_clean(_dest_summary(d))}" for d in diff.added]
    if diff.removed:
        lines.append(f"destinations removed ({len(diff.removed)}):")
        lines += [f"  - {_clean(_dest_summary(d))}" for d in diff.removed]
    if diff.changed:
        lines.append(f"destinations changed ({len(diff.changed)}):")
        lines += [f"  ~ {_clean(_change_text(c))}" for c in diff.changed]
    if diff.countries_added:
        lines.append(
            "countries added: " + ", ".join(f"{c} ({', '.join(h)})" for c, h in diff.countries_added.items())
        )
    if diff.countries_removed:
        lines.append("countries removed: " + ", ".join(diff.countries_removed))
    if diff.categories_added:
        lines.append("data categories added: " + ", ".join(diff.categories_added))
    if diff.categories_removed:
        lines.append("data categories removed: " + ", ".join(diff.categories_removed))
    return "\n".join(_clean(x) for x in lines) + "\n"


def render_diff_markdown(diff: ReportDiff, old_name: str = "old", new_name: str = "new") -> str:
    """The differences as Markdown, for a pull-request comment or a CI step summary."""
    from auditor.renderers.markdown import md_code, md_escape

    out = [f"## auditor diff: {md_code(old_name)} → {md_code(new_name)}", ""]
    if diff.empty:
        out += ["No differences in destinations, data categories or countries.", ""]
        return "\n".join(out)
    if diff.added or diff.removed or diff.changed:
        out += ["| | Host | Owner | Countries | Party | Personal data / change |", "|---|---|---|---|---|---|"]
        for sign, items in (("\N{HEAVY PLUS SIGN} added", diff.added), ("\N{HEAVY MINUS SIGN} removed", diff.removed)):
            for d in items:
                countries = ", ".join(sorted(destination_countries(d))) or "unknown"
                data = ", ".join(d.get("data_categories") or []) or "none found"
                out.append(
                    f"| {sign} | {md_code(d['host'])} | {md_escape(_owner_label(d))} | {countries} | "
                    f"{md_escape(d.get('party', 'unknown'))} | {md_escape(data)} |"
                )
        for c in diff.changed:
            text = _change_text(c).split(": ", 1)[1]
            out.append(f"| ✏️ changed | {md_code(c.host)} | | | | {md_escape(text)} |")
        out.append("")
    if diff.countries_added:
        out.append(
            "**Countries added:** "
            + ", ".join(
                f"{md_escape(c)} ({', '.join(md_code(h) for h in hosts)})" for c, hosts in diff.countries_added.items()
            )
        )
    if diff.countries_removed:
        out.append("**Countries removed:** " + ", ".join(md_escape(c) for c in diff.countries_removed))
    if diff.categories_added:
        out.append("**Data categories added:** " + ", ".join(md_escape(c) for c in diff.categories_added))
    if diff.categories_removed:
        out.append("**Data categories removed:** " + ", ".join(md_escape(c) for c in diff.categories_removed))
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Baseline violations


@dataclass(frozen=True)
class BaselineViolation:
    """Something the new audit has and the baseline has not."""

    kind: str  # "new_destination", "new_category" or "new_country"
    host: str | None
    category: str | None
    country: str | None
    detail: str

    def text(self) -> str:
        if self.kind == "new_destination":
            return f"new destination {self.detail}"
        if self.kind == "new_category":
            return f"new data category for {self.host}: {self.category}"
        return f"new country {self.country}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "host": self.host,
            "category": self.category,
            "country": self.country,
            "detail": self.detail,
        }


def _allowed(allow: tuple[Selector, ...], facts: Facts) -> bool:
    return any(a.matches(facts, every_country=True) for a in allow)


def baseline_violations(
    old: dict[str, Any], new: dict[str, Any], allow: tuple[Selector, ...] = (), dpf_also: tuple[str, ...] = ()
) -> list[BaselineViolation]:
    """New destinations, new data categories for a destination, and new countries.

    A country is new for an existing destination that did not have it (owner or server
    country), or new to the whole audit when a new destination brings it. An ``allow`` entry
    exempts a change when all its selectors match the destination concerned (``countries``: the
    new country; ``categories``: the new category, or for a new destination everything it
    receives).
    """
    diff = diff_reports(old, new)
    out: list[BaselineViolation] = []
    new_by_host = {d["host"]: d for d in new.get("destinations") or ()}
    for d in diff.added:
        if not _allowed(allow, destination_facts(d, d["host"], dpf_also)):
            out.append(BaselineViolation("new_destination", d["host"], None, None, _dest_summary(d)))
    for c in diff.changed:
        base = destination_facts(new_by_host[c.host], c.host, dpf_also)
        for cat in c.categories_added:
            facts = replace(base, category=cat, categories=None)
            if not _allowed(allow, facts):
                out.append(BaselineViolation("new_category", c.host, cat, None, f"{c.host} now receives {cat}"))
    for c in diff.changed:
        base = destination_facts(new_by_host[c.host], c.host, dpf_also)
        for country in c.countries_added:
            facts = replace(base, countries=frozenset({country}))
            if not _allowed(allow, facts):
                was = ", ".join(c.countries_removed) or "no other"
                detail = f"{c.host} now {country} (was {was})"
                out.append(BaselineViolation("new_country", c.host, None, country, detail))
    added = {d["host"] for d in diff.added}
    for country, hosts in diff.countries_added.items():
        blocking = []
        for h in hosts:
            if h not in added:
                continue  # reported above, as a country change of an existing destination
            base = destination_facts(new_by_host[h], h, dpf_also)
            facts = replace(base, countries=frozenset({country}))
            if not _allowed(allow, facts):
                blocking.append(h)
        if blocking:
            out.append(BaselineViolation("new_country", None, None, country, f"{country} via {', '.join(blocking)}"))
    return out
