"""Per-app summaries (the ``apps`` table) and the cross-app report, from the dataset via DuckDB."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.batch.dataset import Dataset
from auditor.batch.query import connect
from auditor.batch.tables import table
from auditor.destinations import jurisdictions

SHARED = ("prompt", "user_file")  # data whose arrival at a third party is a key finding


def version_key(version: str | None) -> tuple[Any, ...]:
    """Semantic order: ``1.10.0`` after ``1.9.2``; text parts after numbers of the same rank."""
    if version is None:
        return ((2, ""),)
    parts = re.split(r"[.\-+_]", version.lstrip("vV"))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _rows(con: Any, sql: str, *params: Any) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def app_summaries(dataset: Dataset, declarations: dict[str, list[str]]) -> int:
    """Rewrite ``apps/app=<app>/summary.parquet`` for every app; returns how many."""
    con = connect(dataset.root)
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    try:
        caps = _rows(con, "SELECT app, version, platform, error, exchanges, findings FROM captures")
        dests = _rows(con, "SELECT app, host, owner, country, party FROM destinations")
        shared = _rows(
            con,
            """
            SELECT f.app, count(*) AS n FROM findings f
            JOIN destinations d ON d.capture_sha256 = f.capture_sha256 AND d.host = f.host AND d.app = f.app
            WHERE d.party = 'third' AND f.category IN ('prompt', 'user_file') GROUP BY f.app""",
        )
    finally:
        con.close()
    by_app: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "versions": set(),
            "platforms": set(),
            "captures": 0,
            "failed": 0,
            "exchanges": 0,
            "findings": 0,
            "hosts": set(),
            "owners": set(),
            "countries": set(),
            "third": set(),
        }
    )
    for c in caps:
        a = by_app[c["app"]]
        if c["error"] is not None:
            a["failed"] += 1
            continue
        a["captures"] += 1
        a["exchanges"] += c["exchanges"] or 0
        a["findings"] += c["findings"] or 0
        if c["version"] is not None:
            a["versions"].add(c["version"])
        if c["platform"] is not None:
            a["platforms"].add(c["platform"])
    for d in dests:
        a = by_app[d["app"]]
        a["hosts"].add(d["host"])
        if d["owner"]:
            a["owners"].add(d["owner"])
            if d["party"] == "third":
                a["third"].add(d["owner"])
        if d["country"]:
            a["countries"].add(d["country"])
    shared_n = {r["app"]: r["n"] for r in shared}
    for app, a in by_app.items():
        decls = sorted(set(declarations.get(app, [])))
        dataset.write_app(
            app,
            table(
                "apps",
                [
                    {
                        "app": app,
                        "versions": sorted(a["versions"], key=version_key),
                        "platforms": sorted(a["platforms"]),
                        "captures": a["captures"],
                        "failed_captures": a["failed"],
                        "exchanges": a["exchanges"],
                        "findings": a["findings"],
                        "destinations": len(a["hosts"]),
                        "companies": sorted(a["owners"]),
                        "countries": sorted(a["countries"]),
                        "third_party_companies": sorted(a["third"]),
                        "prompts_to_third_parties": shared_n.get(app, 0),
                        "declarations": decls,
                        "labels": "not checked" if decls else None,
                        "updated_at": now,
                    }
                ],
            ),
        )
    return len(by_app)


@dataclass
class AppView:
    app: str
    versions: list[str]
    captures: int
    failed: int
    exchanges: int
    findings: int
    flows: list[dict[str, Any]] = field(default_factory=list)  # company, country, party, categories
    shared: list[dict[str, Any]] = field(default_factory=list)  # prompts and files to third parties
    score: dict[str, int] = field(default_factory=dict)
    changes: dict[str, Any] | None = None


def _adequate(country: str | None) -> bool | None:
    j = jurisdictions.lookup(country) if country else None
    return None if j is None else j.free_transfer


def build(dataset_dir: str | Path) -> dict[str, Any]:
    """Everything the cross-app report shows, computed with SQL over the dataset."""
    con = connect(dataset_dir)
    try:
        apps = _rows(con, "SELECT * FROM apps ORDER BY app")
        flows = _rows(
            con,
            """
            SELECT app, coalesce(owner, 'unknown owner') AS company, product, country, party,
                   list_sort(list_distinct(flatten(list(data_categories)))) AS categories, count(DISTINCT host) AS hosts
            FROM destinations GROUP BY ALL ORDER BY app, company""",
        )
        prevalence = _rows(
            con,
            """
            SELECT coalesce(owner, 'unknown owner') AS company, product, count(DISTINCT app) AS apps,
                   list_sort(list_distinct(list(country))) AS countries
            FROM destinations WHERE owner IS NOT NULL GROUP BY ALL ORDER BY apps DESC, company LIMIT 60""",
        )
        shared = _rows(
            con,
            """
            SELECT f.app, f.category, f.host, d.owner, d.country, count(*) AS n FROM findings f
            JOIN destinations d ON d.capture_sha256 = f.capture_sha256 AND d.host = f.host AND d.app = f.app
            WHERE d.party = 'third' AND f.category IN ('prompt', 'user_file') GROUP BY ALL ORDER BY f.app, n DESC""",
        )
        creds = _rows(
            con,
            """
            SELECT f.app, count(*) AS n FROM findings f
            JOIN destinations d ON d.capture_sha256 = f.capture_sha256 AND d.host = f.host AND d.app = f.app
            WHERE d.party = 'third' AND f.category = 'credential' GROUP BY f.app""",
        )
        cleartext = _rows(
            con,
            """
            SELECT app, count(DISTINCT host) AS n FROM destinations
            WHERE cleartext AND len(data_categories) > 0 GROUP BY app""",
        )
        per_version = _rows(
            con,
            """
            SELECT c.app, coalesce(c.version, regexp_extract(c.source, '[^/]+$')) AS version,
                   min(c.first_capture_at) AS t, d.host,
                   list_sort(list_distinct(flatten(list(d.data_categories)))) AS categories
            FROM captures c JOIN destinations d ON d.capture_sha256 = c.sha256 AND d.app = c.app
            WHERE c.error IS NULL GROUP BY ALL""",
        )
        failed = _rows(con, "SELECT app, source, error FROM captures WHERE error IS NOT NULL ORDER BY app, source")
    finally:
        con.close()
    views: dict[str, AppView] = {}
    for a in apps:
        views[a["app"]] = AppView(
            a["app"], list(a["versions"] or []), a["captures"], a["failed_captures"], a["exchanges"], a["findings"]
        )
    for f in flows:
        if f["app"] in views:
            views[f["app"]].flows.append(f)
    for s in shared:
        if s["app"] in views:
            views[s["app"]].shared.append(s)
    counts = {"creds": {r["app"]: r["n"] for r in creds}, "cleartext": {r["app"]: r["n"] for r in cleartext}}
    for v in views.values():
        risky = {f["company"] for f in v.flows if f["categories"] and _adequate(f["country"]) is False}
        v.score = {
            "prompts_or_files_to_third_parties": sum(s["n"] for s in v.shared),
            "credentials_to_third_parties": counts["creds"].get(v.app, 0),
            "cleartext_destinations": counts["cleartext"].get(v.app, 0),
            "companies_in_non_adequate_countries": len(risky),
        }
    # What changed since the previous version (manifest versions in semantic order, else capture time).
    hosts: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(lambda: defaultdict(dict))
    when: dict[str, dict[str, float]] = defaultdict(dict)
    for r in per_version:
        hosts[r["app"]][r["version"]][r["host"]] = list(r["categories"] or [])
        t = r["t"] if r["t"] is not None else 0.0
        when[r["app"]][r["version"]] = min(when[r["app"]].get(r["version"], t), t)
    for app, by_version in hosts.items():
        if app not in views or len(by_version) < 2:
            continue
        given = set(views[app].versions)
        order = sorted(by_version, key=(version_key if given >= set(by_version) else when[app].__getitem__))
        prev, last = order[-2], order[-1]
        before, after = by_version[prev], by_version[last]
        views[app].changes = {
            "previous": prev,
            "latest": last,
            "new_hosts": sorted(set(after) - set(before)),
            "gone_hosts": sorted(set(before) - set(after)),
            "new_data": sorted((h, c) for h in set(after) & set(before) for c in set(after[h]) - set(before[h])),
        }
    ranked = sorted(views.values(), key=lambda v: (*(-n for n in v.score.values()), v.app))
    return {
        "apps": ranked,
        "prevalence": prevalence,
        "failed": failed,
        "generated_by": __version__,
        "totals": {
            "apps": len(views),
            "captures": sum(v.captures for v in views.values()),
            "exchanges": sum(v.exchanges for v in views.values()),
            "findings": sum(v.findings for v in views.values()),
        },
    }


def render(dataset_dir: str | Path) -> str:
    """The cross-app report: one self-contained HTML file (no scripts, no external resources)."""
    from auditor.renderers.html import content_security_policy
    from auditor.renderers.view import asset, environment

    css = asset("report.css")
    data = build(dataset_dir)
    return environment().get_template("batch.html.j2").render(d=data, css=css, csp=content_security_policy(css))
