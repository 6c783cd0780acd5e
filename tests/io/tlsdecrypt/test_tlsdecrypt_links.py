"""Key-log decryption reads every link type the capture reader reads: the two share one link-layer
decoder (``auditor.io.pcap.linklayer.network_offset``).

The same TLS 1.2 session (made in memory by OpenSSL) is written once per link type; each capture
must decrypt to the same exchange, and the reader must name the same destination from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support.packets import read
from support.tls_memory import LINKS, REQUEST, RESPONSE, Wire, capture_of, tls12_session

from auditor.io.pcap.linklayer import SUPPORTED
from auditor.io.tlsdecrypt import decrypt_capture
from auditor.io.tlsdecrypt.keylog import load_keylog


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Wire, Path]:
    wire, keys, _, _ = tls12_session(tmp_path_factory.mktemp("tls"), "ECDHE-ECDSA-AES128-SHA256", etm=True)
    return wire, keys


def test_every_link_type_of_the_reader_is_in_this_test() -> None:
    raw_aliases = {12, 14, 228, 229}  # raw IP under other numbers: the same branch as 101
    assert {linktype for linktype, _ in LINKS.values()} == SUPPORTED - raw_aliases


@pytest.mark.parametrize("link", sorted(LINKS))
def test_decryption_reads_every_link_type_the_reader_reads(
    tmp_path: Path, session: tuple[Wire, Path], link: str
) -> None:
    wire, keys = session
    pcap = capture_of(tmp_path / f"{link}.pcap", wire, link)
    res = decrypt_capture(pcap, load_keylog(keys))
    assert [(e.method, e.host, e.path) for e in res.exchanges] == [("POST", "api.openai.com", "/v1/chat")]
    assert res.exchanges[0].request_body == REQUEST.split(b"\r\n\r\n", 1)[1]
    assert res.exchanges[0].response_body == RESPONSE.split(b"\r\n\r\n", 1)[1]
    assert (res.connections, res.decrypted, res.decrypted_bytes) == (1, 1, res.bytes)
    result, warnings = read(pcap)
    assert [d.host for d in result.destinations] == ["api.openai.com"] and warnings == []


def test_decryption_uses_only_the_public_names_of_the_capture_reader() -> None:
    """``auditor.io.tlsdecrypt`` shares the capture reader's code (link layer, records, HTTP/1.x,
    QUIC helpers) through public names only: no ``from auditor.io.pcap... import _x``, no ``pcap._x``."""
    package = Path(__file__).resolve().parents[3] / "auditor" / "io" / "tlsdecrypt"
    private: list[str] = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        pcap_aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("auditor.io.pcap"):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.ImportFrom) and node.module == "auditor.io":
                pcap_aliases |= {a.asname or a.name for a in node.names if a.name == "pcap"}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in pcap_aliases
                    and node.attr.startswith("_")):
                private.append(f"{path.name}: pcap.{node.attr}")
    assert private == []
