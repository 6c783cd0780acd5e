"""Jurisdiction data: adequacy status, government-access laws, groups."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT

from auditor.destinations import jurisdictions

DATA_FILE = ROOT / "auditor" / "data" / "jurisdictions.json"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}


def _doc() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def test_china() -> None:
    cn = jurisdictions.lookup("CN")
    assert cn is not None
    assert cn.name == "China"
    assert cn.adequacy == "none"
    assert not cn.free_transfer
    laws = " | ".join(g.law for g in cn.government_access)
    for needle in ("National Intelligence Law", "art. 7", "Data Security Law", "Personal Information Protection Law",
                   "Cybersecurity Law"):
        assert needle in laws


def test_united_states_is_partial() -> None:
    us = jurisdictions.lookup("us")
    assert us is not None
    assert us.adequacy == "partial"
    assert "Data Privacy Framework" in us.adequacy_scope
    laws = " | ".join(g.law for g in us.government_access)
    for needle in ("CLOUD Act", "702", "12333"):
        assert needle in laws


def test_adequacy_list() -> None:
    adequate = {"AD", "AR", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "UY", "GB", "BR"}
    for code in adequate:
        j = jurisdictions.lookup(code)
        assert j is not None and j.adequacy == "adequate", code
        assert jurisdictions.in_group(code, "adequacy"), code
    assert jurisdictions.lookup("CA").adequacy == "partial"  # type: ignore[union-attr]
    assert "PIPEDA" in jurisdictions.lookup("CA").adequacy_scope  # type: ignore[union-attr]
    assert "2031" in jurisdictions.lookup("GB").adequacy_scope  # type: ignore[union-attr]
    assert "2026" in jurisdictions.lookup("BR").adequacy_scope  # type: ignore[union-attr]
    assert set(_doc()["groups"]["adequacy"]) == adequate | {"CA", "US"}
    for code in ("CN", "RU", "IN", "SG", "AE", "HK"):
        assert jurisdictions.lookup(code).adequacy == "none", code  # type: ignore[union-attr]
        assert not jurisdictions.in_group(code, "adequacy"), code


def test_eu_and_eea() -> None:
    for code in EU:
        j = jurisdictions.lookup(code)
        assert j is not None and j.adequacy == "eu", code
        assert jurisdictions.in_group(code, "EU") and jurisdictions.in_group(code, "EEA")
    for code in ("IS", "LI", "NO"):
        j = jurisdictions.lookup(code)
        assert j is not None and j.adequacy == "eea", code
        assert jurisdictions.in_group(code, "EEA") and not jurisdictions.in_group(code, "EU")
    assert set(_doc()["groups"]["EU"]) == EU
    assert set(_doc()["groups"]["EEA"]) == EU | {"IS", "LI", "NO"}
    assert jurisdictions.in_group("de", "EU")


def test_group_edge_cases() -> None:
    assert not jurisdictions.in_group(None, "EU")
    assert not jurisdictions.in_group("", "EEA")
    assert not jurisdictions.in_group("US", "EU")
    with pytest.raises(ValueError):
        jurisdictions.in_group("DE", "Schengen")
    assert jurisdictions.lookup(None) is None
    assert jurisdictions.lookup("XX") is None


def test_government_access_required_countries() -> None:
    for code in ("CN", "US", "RU", "KR", "IN", "SG", "IL", "AE", "HK"):
        j = jurisdictions.lookup(code)
        assert j is not None and j.government_access, code
    ru = " | ".join(g.law for g in jurisdictions.lookup("RU").government_access)  # type: ignore[union-attr]
    assert "152-FZ" in ru and "Yarovaya" in ru


def test_every_entry_is_sourced_and_dated() -> None:
    doc = _doc()
    iso = set(doc["iso3166"])
    assert len(iso) == 249
    countries = {k: v for k, v in doc.items() if len(k) == 2 and k.isupper()}
    assert len(countries) >= 45
    for code, item in countries.items():
        assert code in iso, code
        assert item["name"], code
        adq = item["gdpr_adequacy"]
        assert adq["status"] in jurisdictions.ADEQUACY_STATUSES, code
        assert adq["scope"], code
        assert adq["source"].startswith("https://"), code
        assert DATE_RE.match(adq["as_of"]), code
        for g in item["government_access"]:
            assert g["law"] and g["summary"], code
            assert g["source"].startswith(("https://", "http://")), code
            assert DATE_RE.match(g["as_of"]), code
    for group, members in doc["groups"].items():
        assert group in jurisdictions.GROUPS
        for code in members:
            assert code in countries, (group, code)


def test_country_name() -> None:
    assert jurisdictions.country_name("kr") == "Republic of Korea"
    assert jurisdictions.country_name("BR") == "Brazil"
    assert jurisdictions.country_name("ZZ") is None
    assert jurisdictions.country_name(None) is None
