"""Network captures in the audit: destinations seen on the wire, cleartext HTTP findings, and
correlation with a proxy capture of the same session (what bypassed the proxy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from scapy.layers.dns import DNS, DNSQR
from support.packets import CHAT_IP, CLIENT, udp, write

from auditor.audit.pipeline import audit_paths


def _by_host(doc: dict) -> dict[str, dict]:
    return {d["host"]: d for d in doc["destinations"]}


def test_pcap_alone(session_pcap: Path) -> None:
    doc = audit_paths([session_pcap])
    d = _by_host(doc)
    assert doc["captures"][0]["format"] == "pcap" and doc["captures"][0]["exchanges"] == 1
    assert d["chat.deepseek.com"]["seen"] == ["dns", "sni"] and d["chat.deepseek.com"]["server_ips"] == [CHAT_IP]
    assert d["log.byteoversea.com"]["seen"] == ["sni"]
    assert d["www.googleapis.com"]["seen"] == ["quic"]
    umeng = d["alog.umeng.com"]
    assert umeng["seen"] == ["http"]
    assert umeng["cleartext"] is True and umeng["data_categories"] == ["device_info", "email"]
    assert umeng["bytes_out"] > 0 and umeng["bytes_in"] > 0
    assert not any(x["bypassed_proxy"] for x in doc["destinations"])  # no proxy capture to compare with
    assert sorted((f["host"], f["category"], f["location"]["part"], f["location"]["path"]) for f in doc["findings"]) == [
        ("alog.umeng.com", "device_info", "request.body", "device_model"),
        ("alog.umeng.com", "email", "request.body", "email"),
    ]


def test_correlation_with_the_proxy_capture(session_pcap: Path) -> None:
    doc = audit_paths([FIXTURES / "ai-chat-session.flows", session_pcap])
    d = _by_host(doc)
    assert d["chat.deepseek.com"]["seen"] == ["proxy", "dns", "sni"] and not d["chat.deepseek.com"]["bypassed_proxy"]
    assert d["alog.umeng.com"]["seen"] == ["proxy", "http"] and not d["alog.umeng.com"]["bypassed_proxy"]
    assert d["log.byteoversea.com"]["bypassed_proxy"] is True
    assert d["www.googleapis.com"]["bypassed_proxy"] is True
    assert d["192.0.2.53"]["seen"] == ["ip"] and d["192.0.2.53"]["bypassed_proxy"] is False  # the DNS resolver
    assert {h for h, x in d.items() if x["bypassed_proxy"]} == {"log.byteoversea.com", "www.googleapis.com"}
    assert doc["summary"]["bypassed_proxy_destinations"] == 2


@pytest.mark.e2e
def test_report_command_shows_the_bypass(session_pcap: Path, tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(FIXTURES / "ai-chat-session.flows"), str(session_pcap),
                        "-o", str(tmp_path / "r"), "-f", "html,json,md"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    html = (tmp_path / "r.html").read_text()
    assert "bypassed the proxy" in html and "seen: sni" in html
    assert "bypassed the proxy" in (tmp_path / "r.md").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["bypassed_proxy_destinations"] >= 2


def test_gzipped_pcap(session_pcap: Path, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "s.pcap.gz"
    gz.write_bytes(gzip.compress(session_pcap.read_bytes()))
    doc = audit_paths([gz])
    assert doc["captures"][0]["format"] == "pcap" and "alog.umeng.com" in _by_host(doc)


@pytest.mark.e2e
def test_lookup_without_an_answer_is_listed(session_pcap: Path, tmp_path: Path) -> None:
    """A blocked lookup (NXDOMAIN) and one that got no response are destinations 'looked up, not
    answered', in the JSON (valid against the schema) and the HTML."""
    import jsonschema
    from scapy.utils import rdpcap

    packets = [*list(rdpcap(str(session_pcap))), udp(CLIENT, "192.0.2.53", 53002, 53, DNS(id=2, rd=1, qd=DNSQR(qname="tracker.blocked.example"))), udp("192.0.2.53", CLIENT, 53, 53002, DNS(id=2, qr=1, rcode=3, qd=DNSQR(qname="tracker.blocked.example"))), udp(CLIENT, "192.0.2.53", 53003, 53, DNS(id=3, rd=1, qd=DNSQR(qname="silent.example", qtype="AAAA"))), udp(CLIENT, "192.0.2.53", 53004, 53, DNS(id=4, rd=1, qd=DNSQR(qname="10.2.0.192.in-addr.arpa", qtype="PTR")))]
    path = write(tmp_path / "blocked.pcap", packets)
    doc = audit_paths([path])
    schema = json.loads((ROOT / "auditor" / "schema" / "audit-v1.schema.json").read_text())
    jsonschema.validate(doc, schema)
    d = _by_host(doc)
    assert {h: x["dns_lookup"] for h, x in d.items() if x["dns_lookup"]} == {
        "chat.deepseek.com": "answered",
        "tracker.blocked.example": "unanswered",
        "silent.example": "unanswered",
    }
    assert d["tracker.blocked.example"]["seen"] == ["dns"] and d["tracker.blocked.example"]["server_ips"] == []
    p = subprocess.run([sys.executable, "-m", "auditor", "report", str(path), "-o", str(tmp_path / "r"), "-f", "html"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "seen: dns · looked up, not answered" in (tmp_path / "r.html").read_text()
