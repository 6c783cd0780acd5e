"""TLS 1.2 AES-CBC suites: MAC-then-encrypt and Encrypt-then-MAC (RFC 7366), without a network.

Real records come from TLS 1.2 sessions between two in-memory OpenSSL objects (Python's ``ssl``
with ``MemoryBIO``), their master secrets logged through ``SSLContext.keylog_filename``; the
record-level checks use records built by hand with known keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ssl
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from support.certs import make_certs

from auditor.io.tlsdecrypt.crypto import SUITES, Cbc, tls12_cbc_key_block
from auditor.io.tlsdecrypt.keylog import load_keylog
from auditor.io.tlsdecrypt.tls import TlsSession

# OpenSSL's SSL_OP_NO_ENCRYPT_THEN_MAC (Python's ssl has no name for it; the option bits pass through).
OP_NO_ENCRYPT_THEN_MAC = 1 << 19
REQUEST = b"POST /v1/chat HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 40\r\n\r\n" + b'{"email": "jane.doe@example.org", "a": 1}'[:40]
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


Wire = list[tuple[bool, bytes]]


def _session(tmp: Path, cipher: str, etm: bool, rsa_key: bool = False, more: bytes = b"") -> tuple[Wire, Path, str, int]:
    """The records of one in-memory TLS 1.2 exchange with ``cipher``, its key log, the suite, and
    the index in the records of the client's request; ``more``: a second client message after
    the response."""
    ca, cert, key = make_certs(tmp, ["api.openai.com"], rsa_key=rsa_key)
    keys = tmp / "keys.log"
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    sctx.set_ciphers("ALL")
    cctx = ssl.create_default_context(cafile=str(ca))
    cctx.keylog_filename = str(keys)
    cctx.maximum_version = ssl.TLSVersion.TLSv1_2
    cctx.set_ciphers(cipher)
    if not etm:
        cctx.options |= OP_NO_ENCRYPT_THEN_MAC
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cctx.wrap_bio(c_in, c_out, server_hostname="api.openai.com")
    server = sctx.wrap_bio(s_in, s_out, server_side=True)
    wire: Wire = []

    def pump() -> None:
        for _ in range(10):
            moved = False
            if data := c_out.read():
                wire.append((True, data))
                s_in.write(data)
                moved = True
            if data := s_out.read():
                wire.append((False, data))
                c_in.write(data)
                moved = True
            if not moved:
                return

    for _ in range(6):
        for side in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        pump()
    request_at = len(wire)
    client.write(REQUEST)
    pump()
    assert server.read(4096) == REQUEST
    server.write(RESPONSE)
    pump()
    if more:
        client.write(more)
        pump()
    info = client.cipher()
    assert info is not None and client.version() == "TLSv1.2"
    return wire, keys, info[0], request_at


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
    wire, keys, negotiated, _ = _session(tmp_path, openssl_name, etm, rsa_key)
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
    wire, keys, _, at = _session(tmp_path, "ECDHE-ECDSA-AES128-SHA", etm, more=more)
    s, got = _decrypt(wire, keys)
    assert got == [(True, REQUEST), (False, RESPONSE), (True, more)] and s.failed_records == 0
    record = wire[at][1]
    for position in (-1, 5 + 16, len(record) // 2):  # the MAC (or padding), the first block, the middle
        damaged = bytearray(record)
        damaged[position] ^= 0x01
        s, got = _decrypt([*wire[:at], (True, bytes(damaged)), *wire[at + 1 :]], keys)
        assert got == [(False, RESPONSE), (True, more)], position
        assert s.failed_records == 1 and s.decrypted and s.status == "keys"


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
