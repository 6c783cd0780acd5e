"""Report documents built by hand for the gate tests: destinations, findings and the document
holding them, in the shape of ``audit-v1.schema.json``."""

from __future__ import annotations

from typing import Any


def dest(host: str, owner: str | None, country: str | None, *, parent: str | None = None, service: str | None = None,
         party: str = "third", servers: list[str] | None = None, cleartext: bool = False, cats: list[str] | None = None) -> dict[str, Any]:
    return {
        "host": host,
        "registrable_domain": host,
        "server_ips": [],
        "server_countries": servers or [],
        "tld_country": None,
        "owner": None if owner is None else {"name": owner, "parent": parent, "country": country, "parent_country": None, "source": None},
        "category": service,
        "party": party,
        "exchanges": 1,
        "cleartext": cleartext,
        "data_categories": cats or [],
    }


def finding(host: str, category: str, index: int, *, scheme: str = "https", path: str = "field") -> dict[str, Any]:
    return {
        "flow": {"capture": 0, "index": index, "id": f"id{index}"},
        "host": host,
        "category": category,
        "location": {"part": "request.body", "path": path},
        "value": "ma***",
        "value_sha256": f"{index:064x}",
        "detector": "test",
        "confidence": 0.9,
        "derived": None,
        "request": {"method": "POST", "url": f"{scheme}://{host}/api"},
    }


def report(*dests: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "generator": {"name": "auditor", "version": "test"},
        "captures": [],
        "summary": {},
        "findings": [],
        "destinations": list(dests),
    }
