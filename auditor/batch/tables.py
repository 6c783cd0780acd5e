"""The dataset's tables, their Arrow schemas, and the rows of one audited capture.

Rows are built from the very document ``auditor report`` writes for the capture (findings,
destinations), plus exchange metadata read from the same capture (never bodies). Values stay
masked as in the report unless ``reveal``; every finding keeps its ``value_sha256``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from auditor.audit.masking import mask_url
from auditor.destinations import owners
from auditor.io.capture import open_capture

_str = pa.string()
_strs = pa.list_(pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "captures": pa.schema(
        [
            ("app", _str),
            ("version", _str),
            ("platform", _str),
            ("source", _str),
            ("sha256", _str),
            ("bytes", pa.int64()),
            ("format", _str),
            ("exchanges", pa.int64()),
            ("findings", pa.int64()),
            ("destinations", pa.int64()),
            ("third_party_destinations", pa.int64()),
            ("first_capture_at", pa.float64()),
            ("warnings", _strs),
            ("error", _str),
            ("key", _str),
            ("auditor_version", _str),
            ("data_version", _str),
            ("audited_at", _str),
            ("batch_schema", pa.int32()),
        ]
    ),
    "exchanges": pa.schema(
        [
            ("app", _str),
            ("version", _str),
            ("capture_sha256", _str),
            ("index", pa.int64()),
            ("timestamp", pa.float64()),
            ("method", _str),
            ("scheme", _str),
            ("host", _str),
            ("url", _str),
            ("status", pa.int32()),
            ("request_bytes", pa.int64()),
            ("response_bytes", pa.int64()),
            ("websocket_messages", pa.int64()),
        ]
    ),
    "findings": pa.schema(
        [
            ("app", _str),
            ("version", _str),
            ("capture_sha256", _str),
            ("index", pa.int64()),
            ("host", _str),
            ("category", _str),
            ("part", _str),
            ("path", _str),
            ("value", _str),
            ("value_sha256", _str),
            ("detector", _str),
            ("confidence", pa.float64()),
            ("derived", _str),
            ("method", _str),
            ("url", _str),
        ]
    ),
    "destinations": pa.schema(
        [
            ("app", _str),
            ("version", _str),
            ("capture_sha256", _str),
            ("host", _str),
            ("registrable_domain", _str),
            ("owner", _str),
            ("parent", _str),
            ("country", _str),
            ("party", _str),
            ("service", _str),
            ("product", _str),
            ("data_categories", _strs),
            ("exchanges", pa.int64()),
            ("cleartext", pa.bool_()),
        ]
    ),
    "apps": pa.schema(
        [
            ("app", _str),
            ("versions", _strs),
            ("platforms", _strs),
            ("captures", pa.int64()),
            ("failed_captures", pa.int64()),
            ("exchanges", pa.int64()),
            ("findings", pa.int64()),
            ("destinations", pa.int64()),
            ("companies", _strs),
            ("countries", _strs),
            ("third_party_companies", _strs),
            ("prompts_to_third_parties", pa.int64()),
            ("declarations", _strs),
            ("labels", _str),
            ("updated_at", _str),
        ]
    ),
}


def table(name: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    schema = SCHEMAS[name]
    rows = list(rows)
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema}, schema=schema)


def exchange_rows(path: str, doc: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Metadata of every exchange of the capture at ``path`` (URLs masked as the report does)."""
    masked = {f["flow"]["index"]: f["request"]["url"] for f in doc["findings"]}
    rows = []
    for ex in open_capture(path).exchanges:
        url = masked.get(ex.index) or mask_url(ex.url, [])
        rows.append(
            {
                **base,
                "index": ex.index,
                "timestamp": ex.timestamp,
                "method": ex.method,
                "scheme": ex.scheme,
                "host": ex.host,
                "url": url,
                "status": ex.status,
                "request_bytes": len(ex.request_body),
                "response_bytes": len(ex.response_body),
                "websocket_messages": len(ex.websocket),
            }
        )
    return rows


def finding_rows(doc: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **base,
            "index": f["flow"]["index"],
            "host": f["host"],
            "category": f["category"],
            "part": f["location"]["part"],
            "path": f["location"]["path"],
            "value": f["value"],
            "value_sha256": f["value_sha256"],
            "detector": f["detector"],
            "confidence": f["confidence"],
            "derived": json.dumps(f["derived"], sort_keys=True) if f.get("derived") else None,
            "method": f["request"]["method"],
            "url": f["request"]["url"],
        }
        for f in doc["findings"]
    ]


def destination_rows(doc: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for d in doc["destinations"]:
        owner = d.get("owner") or {}
        match = owners.lookup(d["host"])
        rows.append(
            {
                **base,
                "host": d["host"],
                "registrable_domain": d.get("registrable_domain"),
                "owner": owner.get("name"),
                "parent": owner.get("parent"),
                "country": (d.get("jurisdiction") or {}).get("country") or owner.get("country"),
                "party": d.get("party"),
                "service": d.get("category"),
                "product": match.owner.product if match is not None else None,
                "data_categories": list(d.get("data_categories") or []),
                "exchanges": d.get("exchanges"),
                "cleartext": bool(d.get("cleartext")),
            }
        )
    return rows
