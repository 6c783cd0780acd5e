"""The store-label reference data (``data/store_labels.json``): vocabularies and the mapping
from auditor's taxonomy and service categories to each store's data types and purposes."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

STORES: tuple[str, ...] = ("play", "apple")

# A pseudo-category: requests to a crash-reporting service (see ``by_service`` in the data).
CRASH_REPORT = "crash_report"


@cache
def data() -> dict[str, Any]:
    with resources.files("auditor").joinpath("data/store_labels.json").open("rb") as fh:
        return json.load(fh)


@cache
def play_types() -> dict[str, dict[str, str]]:
    """Play data types by id: ``{"group": "PSL_DATA_TYPES_PERSONAL", "id": ..., "label": ...}``."""
    return {t["id"]: t for t in data()["play"]["data_types"]}


@cache
def play_purposes() -> dict[str, str]:
    """Play purpose ids and their labels, in the export's order."""
    return {p["id"]: p["label"] for p in data()["play"]["purposes"]}


@cache
def apple_categories() -> dict[str, dict[str, str]]:
    return {c["id"]: c for c in data()["apple"]["categories"]}


@cache
def apple_purposes() -> dict[str, dict[str, str]]:
    return {p["id"]: p for p in data()["apple"]["purposes"]}


def type_label(store: str, type_id: str) -> str:
    """``Personal info / Email address`` or ``Email Address``."""
    if store == "play":
        t = play_types().get(type_id)
        return t["label"] if t else type_id
    c = apple_categories().get(type_id)
    return c["page"] if c else type_id


def purpose_label(store: str, purpose: str) -> str:
    if store == "play":
        return play_purposes().get(purpose, purpose)
    p = apple_purposes().get(purpose)
    return p["page"] if p else purpose


def types_for(category: str, store: str) -> tuple[str, ...]:
    """The store types a taxonomy category (or ``crash_report``) may be declared as; empty when
    the category is not judged (credentials)."""
    if category == CRASH_REPORT:
        return tuple(data()["by_service"]["crash_reporting"][store])
    entry = data()["mapping"].get(category)
    return tuple(entry[store]) if entry else ()


def purposes_for(service: str | None, store: str) -> tuple[str, ...]:
    """The purposes any one of which a receiver's service category implies (empty: unknown)."""
    if not service:
        return ()
    entry = data()["purposes_by_service"].get(service)
    return tuple(entry[store]) if entry else ()


def tracking_services() -> frozenset[str]:
    return frozenset(data()["tracking_services"]["services"])


def shared_mismatch_services() -> frozenset[str]:
    return frozenset(data()["shared_mismatch_services"]["services"])


def linking_categories() -> frozenset[str]:
    return frozenset(data()["linking_categories"]["categories"])
