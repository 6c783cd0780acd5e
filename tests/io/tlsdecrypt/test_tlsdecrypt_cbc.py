"""TLS 1.2 AES-CBC suites: MAC-then-encrypt and Encrypt-then-MAC (RFC 7366), without a network.

Real records come from TLS 1.2 sessions between two in-memory OpenSSL objects (Python's ``ssl``
with ``MemoryBIO``), their master secrets logged through ``SSLContext.keylog_filename``; the
record-level checks use records built by hand with known keys.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from support.tls_memory import REQUEST, RESPONSE, Wire, capture_of, tls12_session

from auditor.io.tlsdecrypt import decrypt_capture
from auditor.io.tlsdecrypt.crypto import SUITES, Cbc, tls12_cbc_key_block
from auditor.io.tlsdecrypt.keylog import load_keylog
from auditor.io.tlsdecrypt.tls import TlsSession


def _decrypt(wire: Wire, keys: Path) -> tuple[TlsSession, Wire]:
    got: Wire = []
    s = TlsSession(load_keylog(keys), lambda c, d: got.append((c, d)))
    for from_client, data in wire:
        s.feed(from_client, data)
    return s, got


@pytest.mark.parametrize("etm", [True, False], ids=["encrypt-then-mac", "mac-then-encrypt"])
@pytest.mark.parametrize(
    ("openssl_name", "suite", "rsa_key"),
    [
        ("ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", False),
        ("ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", False),
        ("ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", False),
        ("ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", False),
        ("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", True),
        ("ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", True),
        ("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", True),
        ("AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256", True),
    ],
)
def test_openssl_tls12_cbc_session_decrypts(
    tmp_path: Path, openssl_name: str, suite: str, rsa_key: bool, etm: bool
) -> None:
    wire, keys, negotiated, _ = tls12_session(tmp_path, openssl_name, etm, rsa_key)
    assert negotiated == openssl_name
    s, got = _decrypt(wire, keys)
    assert s.suite is not None and s.suite.name == suite and s.version_name == "TLSv1.2"
    assert s.encrypt_then_mac is etm and s.etm_offered is etm
    assert s.status == "keys" and s.failed_records == 0
    assert got == [(True, REQUEST), (False, RESPONSE)]


@pytest.mark.parametrize("etm", [True, False], ids=["encrypt-then-mac", "mac-then-encrypt"])
def test_a_damaged_record_is_counted_and_the_next_ones_still_decrypt(tmp_path: Path, etm: bool) -> None:
    """A record whose MAC (or padding) does not verify is skipped and counted, never raised; it
    keeps its sequence number, so the records after it (whose MACs cover their sequence numbers)
    still decrypt."""
    more = b"GET /v1/me HTTP/1.1\r\nHost: api.openai.com\r\n\r\n"
    wire, keys, _, at = tls12_session(tmp_path, "ECDHE-ECDSA-AES128-SHA", etm, more=more)
    s, got = _decrypt(wire, keys)
    assert got == [(True, REQUEST), (False, RESPONSE), (True, more)] and s.failed_records == 0
    record = wire[at][1]
    for position in (-1, 5 + 16, len(record) // 2):  # the MAC (or padding), the first block, the middle
        damaged = bytearray(record)
        damaged[position] ^= 0x01
        s, got = _decrypt([*wire[:at], (True, bytes(damaged)), *wire[at + 1 :]], keys)
        assert got == [(False, RESPONSE), (True, more)], position
        assert s.failed_records == 1 and s.decrypted and s.status == "keys"


def test_a_damaged_record_is_counted_in_the_coverage_and_warned_about(tmp_path: Path) -> None:
    wire, keys, _, at = tls12_session(tmp_path, "ECDHE-ECDSA-AES256-SHA384", etm=False)
    record = bytearray(wire[at][1])
    record[-1] ^= 0x01
    pcap = capture_of(tmp_path / "damaged.pcap", [*wire[:at], (True, bytes(record)), *wire[at + 1 :]])
    warnings: list[str] = []
    res = decrypt_capture(pcap, load_keylog(keys), warn=warnings.append)
    cov = res.coverage()
    assert (cov["connections"], cov["decrypted_connections"], cov["failed_records"]) == (1, 1, 1)
    assert res.exchanges == []  # the request is lost, and a response alone makes no exchange
    assert warnings == [
        "damaged.pcap: 1 TLS record(s) failed authentication (tag, MAC or padding) with the logged secrets and were skipped"
    ]
    intact = decrypt_capture(capture_of(tmp_path / "intact.pcap", wire), load_keylog(keys))
    assert intact.coverage()["failed_records"] == 0
    assert [(e.method, e.path, e.response_body) for e in intact.exchanges] == [("POST", "/v1/chat", b"ok")]


# --------------------------------------------------------------------------------------------
# Hand-built records with known keys


KEY, MAC_KEY = bytes(range(16)), bytes(range(100, 132))
IV = bytes(range(200, 216))
HEADER = b"\x17\x03\x03"  # application data, TLS 1.2 (the length is added per record)
PLAIN = b"GET /v1/me HTTP/1.1\r\nHost: api.openai.com\r\n\r\n"


def _mac(seq: int, ctype_version: bytes, data: bytes) -> bytes:
    return hmac.new(MAC_KEY, struct.pack("!Q", seq) + ctype_version + struct.pack("!H", len(data)) + data, hashlib.sha256).digest()


def _cbc(data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(KEY), modes.CBC(IV)).encryptor()
    return IV + enc.update(data) + enc.finalize()


def _padding(n: int, pad: int) -> bytes:
    """TLS padding for ``n`` bytes, with ``pad`` extra blocks of it (TLS allows up to 255 bytes)."""
    length = (-(n + 1)) % 16 + 16 * pad
    return bytes([length]) * (length + 1)


def _mte(seq: int, plain: bytes, *, pad_blocks: int = 0, bad_mac: bool = False, bad_pad: bool = False) -> bytes:
    mac = _mac(seq, HEADER, plain)
    if bad_mac:
        mac = mac[:-1] + bytes([mac[-1] ^ 0x80])
    padding = bytearray(_padding(len(plain) + len(mac), pad_blocks))
    if bad_pad:
        padding[0] ^= 1  # one padding byte differs from the length byte
    return _cbc(plain + mac + bytes(padding))


def _etm(seq: int, plain: bytes, *, pad_blocks: int = 0, bad_mac: bool = False, bad_pad: bool = False) -> bytes:
    padding = bytearray(_padding(len(plain), pad_blocks))
    if bad_pad:
        padding[0] ^= 1
    body = _cbc(plain + bytes(padding))
    mac = _mac(seq, HEADER, body)  # over the IV and the ciphertext: valid whatever the padding
    if bad_mac:
        mac = mac[:-1] + bytes([mac[-1] ^ 0x80])
    return body + mac


def _open(body: bytes, seq: int, etm: bool) -> bytes | None:
    header = HEADER + struct.pack("!H", len(body))
    return Cbc(KEY, MAC_KEY, "sha256").open(seq, header, body, etm)


@pytest.mark.parametrize("etm", [True, False], ids=["encrypt-then-mac", "mac-then-encrypt"])
def test_hand_built_cbc_record_checks_mac_and_padding(etm: bool) -> None:
    build = _etm if etm else _mte
    for pad_blocks in (0, 1, 15):
        assert _open(build(7, PLAIN, pad_blocks=pad_blocks), 7, etm) == PLAIN
    assert _open(build(7, b""), 7, etm) == b""  # an empty record (OpenSSL sends them before data)
    assert _open(build(7, PLAIN), 8, etm) is None  # the MAC covers the sequence number
    assert _open(build(7, PLAIN, bad_mac=True), 7, etm) is None
    assert _open(build(7, PLAIN, bad_pad=True), 7, etm) is None
    assert _open(build(7, PLAIN, pad_blocks=1, bad_pad=True), 7, etm) is None
    assert _open(build(7, PLAIN), 7, not etm) is None  # the other construction does not verify
    good = build(7, PLAIN)
    for cut in (good[:-1], good[:16], b"", good[:-16] if etm else good[:-32]):
        assert _open(cut, 7, etm) is None  # truncated: never an exception


def test_cbc_key_block_order_mac_keys_first() -> None:
    """RFC 5246 6.3: client MAC key, server MAC key, client key, server key, from the PRF."""
    suite = SUITES[0xC023]  # AES-128-CBC, HMAC-SHA256, PRF SHA-256
    master, cr, sr = bytes(48), bytes(range(32)), bytes(range(32, 64))
    seed = b"key expansion" + sr + cr
    block, a = b"", seed
    while len(block) < 2 * (32 + 16):
        a = hmac.new(master, a, hashlib.sha256).digest()
        block += hmac.new(master, a + seed, hashlib.sha256).digest()
    client, server = tls12_cbc_key_block(master, cr, sr, suite)
    assert (client.mac_key, server.mac_key) == (block[:32], block[32:64])
    enc = Cipher(algorithms.AES(block[64:80]), modes.CBC(IV)).encryptor()
    body = IV + enc.update(bytes([15]) * 16) + enc.finalize()  # an empty record, padding only
    header = HEADER + struct.pack("!H", len(body) + 32)
    mac = hmac.new(block[:32], struct.pack("!Q", 0) + header[:3] + struct.pack("!H", len(body)) + body, hashlib.sha256).digest()
    assert client.open(0, header, body + mac, True) == b""
    assert server.open(0, header, body + mac, True) is None


def test_a_wrong_master_secret_leaves_the_connection_not_decrypted_with_why(tmp_path: Path) -> None:
    wire, keys, _, _ = tls12_session(tmp_path, "ECDHE-ECDSA-AES128-SHA", etm=True)
    [client_random] = {line.split()[1] for line in keys.read_text().splitlines() if line.startswith("CLIENT_RANDOM")}
    wrong = tmp_path / "wrong.log"
    wrong.write_text(f"CLIENT_RANDOM {client_random} {'00' * 48}\n")
    warnings: list[str] = []
    res = decrypt_capture(capture_of(tmp_path / "c.pcap", wire), load_keylog(wrong), warn=warnings.append)
    assert (res.exchanges, res.decrypted, res.failed_records, warnings) == ([], 0, 0, [])
    [missing] = res.not_decrypted
    assert missing["reason"] == "records do not decrypt with the logged secrets"
