"""Key derivation and AEAD record protection for TLS 1.2, TLS 1.3 and QUIC.

Keys come from the key log's secrets: the TLS 1.2 master secret (expanded with the PRF of RFC
5246) or the TLS 1.3 traffic secrets (HKDF-Expand-Label, RFC 8446 section 7). AEAD is done by
``cryptography``; the nonce is the static IV XOR the record sequence number (TLS 1.3,
ChaCha20-Poly1305, QUIC) or the static salt plus the explicit nonce carried in the record (TLS 1.2
AES-GCM).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from auditor.io.pcap.quic import hkdf_expand_label  # one HKDF-Expand-Label for QUIC Initials and TLS 1.3

__all__ = ["SUITES", "Aead", "Suite", "header_protection", "hkdf_expand_label", "tls12_key_block"]


@dataclass(frozen=True, slots=True)
class Suite:
    """What a cipher suite needs for decryption."""

    name: str
    aead: str  # "aes-gcm" or "chacha20"
    key_len: int
    hash: str  # "sha256" or "sha384"
    tls13: bool


SUITES: dict[int, Suite] = {
    0x1301: Suite("TLS_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", True),
    0x1302: Suite("TLS_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", True),
    0x1303: Suite("TLS_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256", True),
    0xC02B: Suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", False),
    0xC02C: Suite("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", False),
    0xC02F: Suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", False),
    0xC030: Suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", False),
    0xCCA8: Suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256", False),
    0xCCA9: Suite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256", False),
    0x009C: Suite("TLS_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", False),
    0x009D: Suite("TLS_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", False),
    0x009E: Suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", False),
    0x009F: Suite("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", False),
    0xCCAA: Suite("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256", False),
}

_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}


def _p_hash(secret: bytes, seed: bytes, length: int, hash_name: str) -> bytes:
    h = _HASHES[hash_name]
    out = b""
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, h).digest()
        out += hmac.new(secret, a + seed, h).digest()
    return out[:length]


def tls12_key_block(master: bytes, client_random: bytes, server_random: bytes, suite: Suite) -> tuple[Aead, Aead]:
    """The (client, server) write protections of a TLS 1.2 AEAD suite (RFC 5246 6.3)."""
    iv_len = 4 if suite.aead == "aes-gcm" else 12
    need = 2 * (suite.key_len + iv_len)
    block = _p_hash(master, b"key expansion" + server_random + client_random, need, suite.hash)
    k = suite.key_len
    ck, sk = block[:k], block[k : 2 * k]
    civ, siv = block[2 * k : 2 * k + iv_len], block[2 * k + iv_len : 2 * k + 2 * iv_len]
    return Aead(suite.aead, ck, civ), Aead(suite.aead, sk, siv)


class Aead:
    """One direction's AEAD key and IV."""

    __slots__ = ("cipher", "iv", "iv_int", "kind")

    def __init__(self, kind: str, key: bytes, iv: bytes) -> None:
        self.kind = kind
        self.cipher = AESGCM(key) if kind == "aes-gcm" else ChaCha20Poly1305(key)
        self.iv = iv
        self.iv_int = int.from_bytes(iv, "big") if len(iv) == 12 else 0

    @classmethod
    def from_secret(cls, suite: Suite, secret: bytes, prefix: bytes = b"") -> Aead:
        """TLS 1.3 (``prefix`` empty) or QUIC (``prefix`` ``b"quic "``) keys from a traffic secret."""
        key = hkdf_expand_label(secret, prefix + b"key", suite.key_len, suite.hash)
        iv = hkdf_expand_label(secret, prefix + b"iv", 12, suite.hash)
        return cls(suite.aead, key, iv)

    def nonce(self, seq: int) -> bytes:
        return (self.iv_int ^ seq).to_bytes(12, "big")

    def open(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes | None:
        """The plaintext, or None if the tag does not verify."""
        try:
            return self.cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            return None


def header_protection(suite: Suite, hp_key: bytes, sample: bytes) -> bytes:
    """The 5-byte QUIC header-protection mask (RFC 9001 5.4)."""
    if suite.aead == "aes-gcm":
        enc = Cipher(algorithms.AES(hp_key), modes.ECB()).encryptor()
        return enc.update(sample)[:5]
    counter, nonce = sample[:4], sample[4:16]
    enc = Cipher(algorithms.ChaCha20(hp_key, counter + nonce), mode=None).encryptor()
    return enc.update(b"\x00" * 5)
