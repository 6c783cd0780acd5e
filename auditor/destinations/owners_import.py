"""Convert AdGuard's companiesdb into an owners file for ``--owners``.

auditor ships only owner facts it gathered itself (``auditor/data/owners.json``). A user who
wants AdGuard's wider coverage of tracker domains downloads the ``dist/`` folder of
https://github.com/AdguardTeam/companiesdb (``companies.json`` and ``trackers.json``, CC BY-SA
4.0) and converts it with ``auditor import-owners DIR -o owners-companiesdb.json``; then
``auditor report --owners owners-companiesdb.json ...``.

companiesdb has no countries, so the converted entries have none: a destination they cover gets
an owner and a service category but no jurisdiction from it. Domains that auditor's own data
already covers are left out, so the file only adds to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.destinations import owners
from auditor.errors import AuditorError

SOURCE_URL = "https://github.com/AdguardTeam/companiesdb"

# AdGuard tracker categories -> auditor's owner categories.
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


class CompaniesdbError(AuditorError, ValueError):
    """The companiesdb files cannot be converted; the message is one line."""


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompaniesdbError(f"{path} not found (expected companiesdb's dist/ folder)") from None
    except OSError as e:
        raise CompaniesdbError(f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CompaniesdbError(f"{path} is not valid JSON: {e}") from None


def convert(source: Path, as_of: str | None = None) -> dict[str, Any]:
    """The owners document for the companiesdb ``dist/`` files in ``source``."""
    companies_doc = _load(source / "companies.json")
    trackers_doc = _load(source / "trackers.json")
    try:
        companies: Mapping[str, dict[str, Any]] = companies_doc["companies"]
        trackers: Mapping[str, dict[str, Any]] = trackers_doc["trackers"]
        categories: Mapping[str, str] = trackers_doc["categories"]
        tracker_domains: Mapping[str, str] = trackers_doc["trackerDomains"]
    except (KeyError, TypeError):
        raise CompaniesdbError(
            f"{source}: not companiesdb dist files (missing companies, trackers or trackerDomains)"
        ) from None
    date = as_of or datetime.now(UTC).date().isoformat()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    skipped = 0
    for domain, tracker_id in sorted(tracker_domains.items()):
        tracker = trackers.get(tracker_id)
        if not isinstance(tracker, dict):
            continue
        name = domain.strip().lower().rstrip(".")
        if not name or owners.lookup(name) is not None:
            skipped += 1
            continue
        category = CATEGORY_MAP.get(categories.get(str(tracker.get("categoryId")), "unknown"), "other")
        company_id = tracker.get("companyId")
        company = companies.get(company_id) if isinstance(company_id, str) else None
        if isinstance(company, dict):
            owner = company.get("name") or company_id
            website = company.get("websiteUrl")
        else:
            owner = tracker.get("name") or tracker_id
            website = tracker.get("url")
        key = (str(owner), category)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = {
                "domains": [],
                "hosts": [],
                "owner": str(owner),
                "parent": None,
                "country": None,
                "parent_country": None,
                "category": category,
                "source": f"{SOURCE_URL} (company {company_id or tracker_id}{', ' + website if website else ''})",
                "as_of": date,
            }
        entry["domains"].append(name)
    return {
        "schema": 1,
        "about": (
            f"Converted from AdGuard's companiesdb ({SOURCE_URL}, dist/companies.json and "
            "dist/trackers.json), licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); "
            "AdGuard categories mapped to auditor's, no countries. "
            f"{skipped} domains already covered by auditor's own data were left out."
        ),
        "entries": list(groups.values()),
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """Serialize with one entry per line, like ``auditor/data/owners.json``."""
    head = {k: v for k, v in doc.items() if k != "entries"}
    lines = [json.dumps(e, ensure_ascii=False) for e in doc["entries"]]
    body = json.dumps(head, ensure_ascii=False, indent=0)[:-1].rstrip()
    return body + ',\n"entries": [\n' + ",\n".join(lines) + "\n]}\n"
