"""The policy model: rules, their selectors, and how a selector matches the facts of a finding."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources

from auditor.destinations import dpf, jurisdictions, owners
from auditor.errors import AuditorError
from auditor.gate.facts import Facts

POLICY_VERSION = 1
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
PARTIES: tuple[str, ...] = ("first", "third", "unknown", "platform")
SELECTOR_KEYS: tuple[str, ...] = (
    "categories",
    "countries",
    "party",
    "cleartext",
    "hosts",
    "owners",
    "services",
    "undeclared",
)
RULE_KEYS: tuple[str, ...] = ("id", "description", "severity", "deny", "allow")
BASELINE_KEYS: tuple[str, ...] = ("severity", "allow")
TOP_KEYS: tuple[str, ...] = ("version", "rules", "baseline", "labels", "first_party", "dpf_participants")
# ``labels:`` sets the severity of the built-in ``labels`` rule of ``check --declared``.
LABELS_SEVERITIES: dict[str, str] = {"error": "error", "warning": "warning", "warn": "warning", "info": "info"}
SELECTOR_ALIASES: dict[str, str] = {
    "category": "categories",
    "country": "countries",
    "host": "hosts",
    "owner": "owners",
    "service": "services",
}
COUNTRY_GROUPS: tuple[str, ...] = ("EU", "EEA", "adequacy", "non-adequate", "unknown")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")


class PolicyError(AuditorError, ValueError):
    """A policy file that cannot be used. ``str()`` is one line: ``FILE:LINE: message``."""


@cache
def known_categories() -> tuple[str, ...]:
    """The data category ids of ``data/taxonomy.json``."""
    with resources.files("auditor").joinpath("data/taxonomy.json").open("rb") as fh:
        return tuple(json.load(fh)["categories"])


#: Service categories renamed since: a policy may still use the old name.
RENAMED_SERVICES: dict[str, str] = owners.RENAMED_CATEGORIES


@cache
def known_services() -> tuple[str, ...]:
    """The destination service categories of the report schema, plus ``unknown`` (no category);
    renamed ones only under their new name."""
    with resources.files("auditor").joinpath("schema/audit-v1.schema.json").open("rb") as fh:
        enum = json.load(fh)["$defs"]["destination"]["properties"]["category"]["enum"]
    return (*(s for s in enum if s and s not in RENAMED_SERVICES), "unknown")


@dataclass(frozen=True)
class Selector:
    """Conditions on a finding and its destination; ``None`` means "not given"."""

    categories: frozenset[str] | None = None
    countries: tuple[str, ...] | None = None
    party: frozenset[str] | None = None
    cleartext: bool | None = None
    hosts: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None
    services: frozenset[str] | None = None
    behaviours: frozenset[str] | None = None  # what a web page did (BEHAVIOURS)
    undeclared: bool | None = None
    line: int = 0

    def is_empty(self) -> bool:
        return all(getattr(self, k) is None for k in SELECTOR_KEYS) and self.behaviours is None

    def matches(self, facts: Facts, *, every_country: bool = False) -> bool:
        """Whether every given selector matches ``facts``.

        ``every_country``: the countries selector needs all of the destination's countries listed
        (allow entries) instead of any one of them (deny selectors).
        """
        if self.categories is not None:
            if facts.category is not None:
                if facts.category not in self.categories:
                    return False
            elif facts.categories is None or not facts.categories <= self.categories:
                return False  # a destination matches when it receives nothing but these categories
        if self.behaviours is not None and facts.behaviour not in self.behaviours:
            return False
        if self.party is not None and facts.party not in self.party:
            return False
        if self.cleartext is not None and facts.cleartext != self.cleartext:
            return False
        if self.services is not None and (facts.service or "unknown") not in self.services:
            return False
        if self.hosts is not None and not any(fnmatchcase(facts.host, p) for p in self.hosts):
            return False
        if self.owners is not None and not any(fnmatchcase(n, p) for p in self.owners for n in facts.owner_names):
            return False
        if self.countries is not None and not _countries_match(
            self.countries, facts.countries, every_country, facts.dpf_participant
        ):
            return False
        return self.undeclared is None or facts.undeclared == self.undeclared

    def describe(self) -> str:
        """A compact one-line form: ``countries: CN; party: third``."""
        parts = []
        for key in SELECTOR_KEYS:
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool):
                parts.append(f"{key}: {'true' if value else 'false'}")
            else:
                items = sorted(value) if isinstance(value, frozenset) else list(value)
                parts.append(f"{key}: {', '.join(items)}")
        parts.extend(f"{b}: true" for b in sorted(self.behaviours or ()))
        return "; ".join(parts) or "(everything)"


@dataclass(frozen=True)
class Rule:
    id: str
    deny: Selector
    allow: tuple[Selector, ...] = ()
    severity: str = "error"
    description: str | None = None
    line: int = 0

    def denies(self, facts: Facts) -> bool:
        """Whether this rule reports ``facts`` as a violation."""
        if facts.behaviour is not None and self.deny.behaviours is None:
            return False  # a rule about findings says nothing of what the page did
        return self.deny.matches(facts) and not any(a.matches(facts, every_country=True) for a in self.allow)


@dataclass(frozen=True)
class BaselineSettings:
    """How baseline changes are judged: their severity and the changes allowed anyway."""

    severity: str = "error"
    allow: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    version: int = POLICY_VERSION
    path: str = "<policy>"
    labels: str = "error"  # severity of the built-in labels rule (check --declared)

    def rules_needing_declarations(self) -> list[str]:
        """Ids of the rules that select ``undeclared`` data (they need ``--declared``)."""
        return [
            r.id
            for r in self.rules
            if r.deny.undeclared is not None or any(a.undeclared is not None for a in r.allow)
        ]
    first_party: tuple[str, ...] = ()  # the app itself, named in the policy file
    dpf_participants: tuple[str, ...] = ()  # owners the policy's author checked on the DPF List


def _adequate(country: str, participant: bool) -> bool:
    """In the adequacy group; a US recipient only when its owner is a Data Privacy Framework
    participant recorded in ``auditor/data/dpf.json`` or named in the policy's ``dpf_participants:``."""
    return jurisdictions.in_group(country, "adequacy") and (participant or not dpf.needs_participation(country))


def _country_in(country: str, item: str, participant: bool = False) -> bool:
    if item in ("EU", "EEA"):
        return jurisdictions.in_group(country, item)
    if item == "adequacy":
        return _adequate(country, participant)
    if item == "non-adequate":
        return not (any(jurisdictions.in_group(country, g) for g in ("EU", "EEA")) or _adequate(country, participant))
    return country == item


def _countries_match(items: tuple[str, ...], countries: frozenset[str], every: bool, participant: bool = False) -> bool:
    if not countries:
        return "unknown" in items
    hits = (any(_country_in(c, i, participant) for i in items if i != "unknown") for c in countries)
    return all(hits) if every else any(hits)
