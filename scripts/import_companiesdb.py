#!/usr/bin/env python3
"""Build ``auditor/data/companiesdb.json`` from AdGuard's companiesdb.

Reads ``companies.json`` and ``trackers.json`` (the ``dist/`` files of
https://github.com/AdguardTeam/companiesdb) from ``../shared/data/companiesdb`` relative to the
repository root, or from the directory given as the first argument, and writes a compact mapping
``domain -> [company_id, category]`` plus ``company_id -> {name, website}``. The data stays under
CC BY-SA 4.0: the licence is copied next to the output as ``LICENSE-companiesdb``.

Usage: ``python scripts/import_companiesdb.py [SOURCE_DIR]``
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "companiesdb"
OUT = REPO / "auditor" / "data" / "companiesdb.json"
LICENSE_OUT = REPO / "auditor" / "data" / "LICENSE-companiesdb"

SOURCE_URL = "https://github.com/AdguardTeam/companiesdb"
COMMIT = "94ac1779"
DATE = "2026-07-20"

# AdGuard tracker categories -> the auditor's owner categories.
CATEGORY_MAP: dict[str, str] = {
    "audio_video_player": "other",
    "comments": "social",
    "customer_interaction": "customer_support",
    "pornvertising": "advertising",
    "advertising": "advertising",
    "essential": "other",
    "site_analytics": "analytics",
    "social_media": "social",
    "misc": "other",
    "cdn": "cdn",
    "hosting": "cloud",
    "unknown": "other",
    "extensions": "other",
    "email": "other",
    "consent": "other",
    "telemetry": "analytics",
    "mobile_analytics": "analytics",
}

# Trackers without a company get a synthetic company id with this prefix (named after the tracker).
ORPHAN_PREFIX = "tracker:"


def build(source: Path) -> dict:
    """Return the derived document for the companiesdb files in ``source``."""
    companies_doc = json.loads((source / "companies.json").read_text(encoding="utf-8"))
    trackers_doc = json.loads((source / "trackers.json").read_text(encoding="utf-8"))
    companies: dict[str, dict] = companies_doc["companies"]
    trackers: dict[str, dict] = trackers_doc["trackers"]
    categories: dict[str, str] = trackers_doc["categories"]

    out_companies: dict[str, dict[str, str | None]] = {}
    domains: dict[str, list[str]] = {}
    for domain, tracker_id in sorted(trackers_doc["trackerDomains"].items()):
        tracker = trackers.get(tracker_id)
        if tracker is None:
            continue
        adguard_cat = categories.get(str(tracker.get("categoryId")), "unknown")
        category = CATEGORY_MAP.get(adguard_cat, "other")
        company_id = tracker.get("companyId")
        if company_id and company_id in companies:
            company = companies[company_id]
            if company_id not in out_companies:
                out_companies[company_id] = {
                    "name": company.get("name") or company_id,
                    "website": company.get("websiteUrl") or None,
                }
        else:
            company_id = ORPHAN_PREFIX + tracker_id
            if company_id not in out_companies:
                out_companies[company_id] = {
                    "name": tracker.get("name") or tracker_id,
                    "website": tracker.get("url") or None,
                }
        domains[domain.strip().lower().rstrip(".")] = [company_id, category]

    return {
        "schema": 1,
        "attribution": {
            "title": "AdGuard companiesdb",
            "source": SOURCE_URL,
            "commit": COMMIT,
            "date": DATE,
            "licence": "CC BY-SA 4.0",
            "licence_url": "https://creativecommons.org/licenses/by-sa/4.0/",
            "licence_file": LICENSE_OUT.name,
            "changes": (
                "Derived from dist/companies.json and dist/trackers.json: kept tracker domains, "
                "company ids, names and websites; mapped AdGuard categories to the auditor's "
                f"categories; trackers without a company use the id '{ORPHAN_PREFIX}<tracker id>' "
                "and the tracker's name."
            ),
        },
        "category_map": CATEGORY_MAP,
        "domains": domains,
        "companies": dict(sorted(out_companies.items())),
    }


def dumps(doc: dict) -> str:
    """Serialize with one domain or company per line, so diffs stay readable."""
    lines = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        value = doc[key]
        end = "," if i < len(keys) - 1 else ""
        if key in ("domains", "companies"):
            items = [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
                     for k, v in value.items()]
            lines.append(f"{json.dumps(key)}: {{")
            lines.append(",\n".join(items))
            lines.append("}" + end)
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False, indent=1)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Write the derived file and copy the licence beside it."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not (source / "trackers.json").is_file():
        print(f"error: no trackers.json in {source}", file=sys.stderr)
        return 1
    doc = build(source)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(dumps(doc), encoding="utf-8")
    shutil.copyfile(source / "LICENSE", LICENSE_OUT)
    print(f"wrote {OUT.relative_to(REPO)}: {len(doc['domains'])} domains, "
          f"{len(doc['companies'])} companies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
