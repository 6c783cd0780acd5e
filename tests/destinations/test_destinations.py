"""Destinations: lookups of every kind of host, the report's "where your data goes" view, explain."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from auditor.audit.pipeline import AuditOptions, Auditor, audit_paths
from auditor.destinations import owners
from auditor.destinations.explain import explain
from auditor.models import Exchange
from auditor.renderers import render


@pytest.mark.parametrize(
    "host, domain, owner, country",
    [
        ("a.b.chat.deepseek.com", "deepseek.com", "Hangzhou DeepSeek Artificial Intelligence Basic Technology Research Co., Ltd.", "CN"),
        ("beacon.sina.com.cn", "sina.com.cn", "Sina Corporation", "CN"),  # multi-level public suffix
        ("fake-sina.com.cn", "fake-sina.com.cn", None, None),  # a suffix match must be on a label boundary
        ("203.0.113.7", "203.0.113.7", None, None),
        ("2001:db8::1", "2001:db8::1", None, None),
        ("xn--bcher-kva.example.de", "example.de", None, None),  # punycode
        ("example.xn--fiqs8s", "example.xn--fiqs8s", None, None),  # an internationalized ccTLD
    ],
)
def test_lookups(host: str, domain: str, owner: str | None, country: str | None) -> None:
    assert owners.registrable_domain(host) == domain
    m = owners.lookup(host)
    assert (m.owner.name if m else None) == owner
    assert (m.owner.country if m else None) == country


def _ex(host: str, index: int, scheme: str = "https", body: bytes = b"", ip: str | None = None) -> Exchange:
    return Exchange(capture=0, index=index, id=str(index), method="POST", scheme=scheme, host=host, port=443 if scheme == "https" else 80,
                    path="/", request_headers=[("content-type", "application/json")], request_body=body, server_ip=ip)


def test_jurisdiction_and_transport_in_the_json() -> None:
    a = Auditor()
    a.add_exchange(_ex("chat.deepseek.com", 0, body=b'{"prompt": "How do I renew my passport?"}', ip="8.8.8.8"))
    a.add_exchange(_ex("alog.umeng.com", 1, scheme="http", body=b'{"email": "jane.doe@example.org"}'))
    a.add_exchange(_ex("tracker.unknown-vendor.cn", 2, body=b'{"email": "jane.doe@example.org"}'))
    a.add_exchange(_ex("static.unknown-vendor.example", 3, scheme="http"))
    doc = a.document()
    d = {x["host"]: x for x in doc["destinations"]}
    assert d["chat.deepseek.com"]["jurisdiction"] == {"country": "CN", "basis": "owner", "adequacy": "none"}
    assert d["chat.deepseek.com"]["ip_countries"] == [{"ip": "8.8.8.8", "country": "US"}]
    assert d["tracker.unknown-vendor.cn"]["owner"] is None
    assert d["tracker.unknown-vendor.cn"]["jurisdiction"] == {"country": "CN", "basis": "tld", "adequacy": "none"}
    assert d["static.unknown-vendor.example"]["jurisdiction"] is None
    assert d["alog.umeng.com"]["cleartext_personal_data"] is True
    assert d["static.unknown-vendor.example"]["cleartext"] is True and d["static.unknown-vendor.example"]["cleartext_personal_data"] is False
    assert doc["summary"]["cleartext_personal_data_destinations"] == 1
    assert set(doc["jurisdictions"]) == {"CN", "US"}
    cn = doc["jurisdictions"]["CN"]
    assert cn["adequacy"] == "none" and any("Intelligence Law" in g["law"] for g in cn["government_access"])
    assert all(g["source"].startswith("https://") and g["as_of"] for g in cn["government_access"])
    us = doc["jurisdictions"]["US"]
    assert us["adequacy"] == "partial" and "Data Privacy Framework" in us["adequacy_scope"]


def test_first_party_is_inferred_and_said() -> None:
    doc = audit_paths([FIXTURES / "ai-chat-session.flows"])
    fp = doc["first_party"]
    # the fixture's requests carry the chat page's Origin and Referer: a browser session
    assert fp["inferred"] is True and fp["method"] == "browser" and "Origin / Referer" in fp["basis"]
    assert "chat.deepseek.com" in fp["hosts"] and "mcs.volceapplog.com" not in fp["hosts"]
    named = audit_paths([FIXTURES / "ai-chat-session.flows"], AuditOptions(first_party=("deepseek.com",)))["first_party"]
    assert named["inferred"] is False and named["hosts"] == ["api.deepseek.com", "chat.deepseek.com"]
    empty = Auditor().document()["first_party"]
    assert empty["hosts"] == [] and empty["basis"].startswith("unknown")


def test_html_opens_on_where_the_data_goes() -> None:
    html = render(audit_paths([FIXTURES / "ai-chat-session.flows"]), "html")
    sections = re.findall(r'<section id="([a-z]+)"', html)
    assert sections[:5] == ["answer", "where", "countries", "companies", "destinations"]
    svg = re.search(r"<svg class=\"flow\".*?</svg>", html, re.S).group()
    labels = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
    assert any(label.startswith("Prompt text (") for label in labels)
    assert any(label.startswith("Volcano Engine") for label in labels)
    assert "China (CN)" in labels and "United States (US)" in labels
    assert "style=" not in svg and "<script" not in svg  # presentation attributes only (CSP)
    country = re.search(r'<section id="countries".*?</section>', html, re.S).group()
    assert "no EU adequacy decision" in country and "National Intelligence Law" in country
    assert "partial EU adequacy" in country and "CLOUD Act" in country
    companies = re.search(r'<section id="companies".*?</section>', html, re.S).group()
    assert "Volcano Engine (Volcengine)" in companies and "part of ByteDance Ltd." in companies


def test_explain_names_its_sources() -> None:
    info = explain("mcs.volceapplog.com")
    assert info["owner"]["name"] == "Volcano Engine (Volcengine)" and info["owner"]["parent"] == "ByteDance Ltd."
    assert info["jurisdiction"]["country"] == "CN" and info["jurisdiction"]["basis"] == "owner"
    assert all(f["source"] for f in info["facts"])
    unknown = explain("tracker.unknown-vendor.example")
    assert unknown["owner"] is None and unknown["jurisdiction"] is None
    assert unknown["facts"] == [{"fact": "owner", "value": "unknown (not in auditor's data; never guessed)", "source": None}]
    ip = explain("[2001:db8::1]")
    assert ip["host"] == "2001:db8::1" and ip["ip_country"] is None


@pytest.mark.e2e
def test_explain_command_offline(tmp_path: Path) -> None:
    """auditor explain with every socket connection refused: lookups never touch the network."""
    guard = tmp_path / "sitecustomize.py"
    guard.write_text(
        "import socket\n"
        "def _refuse(*a, **k):\n    raise OSError('network access attempted')\n"
        "socket.socket.connect = _refuse\nsocket.create_connection = _refuse\nsocket.getaddrinfo = _refuse\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "auditor", "explain", "api.openai.com", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["owner"]["country"] == "US"
    p = subprocess.run([sys.executable, "-m", "auditor", "explain", "mcs.volceapplog.com"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0 and "National Intelligence Law" in p.stdout and "source:" in p.stdout
