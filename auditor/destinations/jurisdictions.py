"""Jurisdiction facts per country: GDPR transfer status and government-access laws.

Data: ``auditor/data/jurisdictions.json`` (every item with a source and a date). Countries are
ISO 3166-1 alpha-2 codes; lookups are case-insensitive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "jurisdictions.json"

ADEQUACY_STATUSES: frozenset[str] = frozenset({"none", "adequate", "partial", "eu", "eea"})
GROUPS: tuple[str, ...] = ("EU", "EEA", "adequacy")


@dataclass(frozen=True, slots=True)
class GovernmentAccess:
    """One law that lets public authorities obtain data held by companies in the country."""

    law: str
    summary: str
    source: str
    as_of: str


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """What is known of one country; ``adequacy`` is one of :data:`ADEQUACY_STATUSES`."""

    code: str
    name: str
    adequacy: str
    adequacy_scope: str
    adequacy_source: str
    adequacy_as_of: str
    government_access: tuple[GovernmentAccess, ...] = field(default_factory=tuple)
    regions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def free_transfer(self) -> bool:
        """True when personal data may flow from the EEA without further safeguards."""
        return self.adequacy in ("eu", "eea", "adequate")


@cache
def _data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _countries() -> dict[str, Jurisdiction]:
    out: dict[str, Jurisdiction] = {}
    for code, item in _data().items():
        if len(code) != 2 or not code.isupper():
            continue
        adq = item["gdpr_adequacy"]
        out[code] = Jurisdiction(
            code=code,
            name=item["name"],
            adequacy=adq["status"],
            adequacy_scope=adq.get("scope", ""),
            adequacy_source=adq.get("source", ""),
            adequacy_as_of=adq.get("as_of", ""),
            government_access=tuple(
                GovernmentAccess(g["law"], g["summary"], g["source"], g["as_of"])
                for g in item.get("government_access", ())
            ),
            regions=tuple(item.get("regions", ())),
        )
    return out


@cache
def _groups() -> dict[str, frozenset[str]]:
    return {name: frozenset(codes) for name, codes in _data()["groups"].items()}


def lookup(country: str | None) -> Jurisdiction | None:
    """The jurisdiction record for an ISO 3166-1 alpha-2 code, or ``None`` if unknown."""
    if not country:
        return None
    return _countries().get(country.strip().upper())


def in_group(country: str | None, group: str) -> bool:
    """Whether ``country`` belongs to ``group`` (``"EU"``, ``"EEA"`` or ``"adequacy"``)."""
    if not country:
        return False
    members = _groups().get(group)
    if members is None:
        raise ValueError(f"unknown group {group!r}; expected one of {', '.join(GROUPS)}")
    return country.strip().upper() in members


def country_name(country: str | None) -> str | None:
    """The English short name of an ISO 3166-1 alpha-2 code, or ``None``."""
    if not country:
        return None
    code = country.strip().upper()
    j = _countries().get(code)
    if j is not None:
        return j.name
    return _data()["iso3166"].get(code)


def iso_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code."""
    return frozenset(_data()["iso3166"])


# What each adequacy status means for a transfer from the EU, in words for the reports.
ADEQUACY_TEXT = {
    "eu": "EU member state: the GDPR applies",
    "eea": "EEA member: the GDPR applies",
    "adequate": "EU adequacy decision: data may flow from the EU without further safeguards",
    "partial": "partial EU adequacy",
    "none": "no EU adequacy decision: transfers from the EU need safeguards "
    "(standard contractual clauses, binding corporate rules)",
}


def adequacy_text(status: str | None) -> str:
    """An adequacy status (or None) in words."""
    return ADEQUACY_TEXT.get(status or "", "adequacy status unknown")
