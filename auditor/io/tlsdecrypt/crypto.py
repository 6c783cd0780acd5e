"""Key derivation and record protection for TLS 1.2, TLS 1.3 and QUIC.

Keys come from the key log's secrets: the TLS 1.2 master secret (expanded with the PRF of RFC
5246) or the TLS 1.3 traffic secrets (HKDF-Expand-Label, RFC 8446 section 7). AEAD is done by
``cryptography``; the nonce is the static IV XOR the record sequence number (TLS 1.3,
ChaCha20-Poly1305, QUIC) or the static salt plus the explicit nonce carried in the record (TLS 1.2
AES-GCM). TLS 1.2 AES-CBC suites (:class:`Cbc`) carry an explicit IV in each record and an HMAC,
either over the plaintext before padding and encryption (MAC-then-encrypt, RFC 5246 6.2.3.2) or
over the ciphertext (Encrypt-then-MAC, RFC 7366).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from auditor.io.pcap.quic import hkdf_expand_label  # one HKDF-Expand-Label for QUIC Initials and TLS 1.3

__all__ = [
    "SUITES",
    "Aead",
    "Cbc",
    "Suite",
    "header_protection",
    "hkdf_expand_label",
    "tls12_cbc_key_block",
    "tls12_key_block",
]


@dataclass(frozen=True, slots=True)
class Suite:
    """What a cipher suite needs for decryption."""

    name: str
    aead: str  # "aes-gcm", "chacha20", or "aes-cbc" (not an AEAD: AES-CBC with an HMAC)
    key_len: int
    hash: str  # the PRF's or HKDF's hash: "sha256" or "sha384"
    tls13: bool
    mac: str = ""  # AES-CBC suites: the HMAC's hash, "sha1", "sha256" or "sha384"


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
    # TLS 1.2 AES-CBC with HMAC: the PRF is SHA-256 except for the SHA-384 suites (RFC 5246 5, RFC 5289).
    0x002F: Suite("TLS_RSA_WITH_AES_128_CBC_SHA", "aes-cbc", 16, "sha256", False, "sha1"),
    0x0035: Suite("TLS_RSA_WITH_AES_256_CBC_SHA", "aes-cbc", 32, "sha256", False, "sha1"),
    0x003C: Suite("TLS_RSA_WITH_AES_128_CBC_SHA256", "aes-cbc", 16, "sha256", False, "sha256"),
    0x003D: Suite("TLS_RSA_WITH_AES_256_CBC_SHA256", "aes-cbc", 32, "sha256", False, "sha256"),
    0x0033: Suite("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "aes-cbc", 16, "sha256", False, "sha1"),
    0x0039: Suite("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "aes-cbc", 32, "sha256", False, "sha1"),
    0x0067: Suite("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "aes-cbc", 16, "sha256", False, "sha256"),
    0x006B: Suite("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "aes-cbc", 32, "sha256", False, "sha256"),
    0xC009: Suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "aes-cbc", 16, "sha256", False, "sha1"),
    0xC00A: Suite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "aes-cbc", 32, "sha256", False, "sha1"),
    0xC013: Suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "aes-cbc", 16, "sha256", False, "sha1"),
    0xC014: Suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "aes-cbc", 32, "sha256", False, "sha1"),
    0xC023: Suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "aes-cbc", 16, "sha256", False, "sha256"),
    0xC024: Suite("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "aes-cbc", 32, "sha384", False, "sha384"),
    0xC027: Suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "aes-cbc", 16, "sha256", False, "sha256"),
    0xC028: Suite("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "aes-cbc", 32, "sha384", False, "sha384"),
}
_MAC_LEN = {"sha1": 20, "sha256": 32, "sha384": 48}

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
    k = suite.key_len
    block = _p_hash(master, b"key expansion" + server_random + client_random, 2 * (k + iv_len), suite.hash)
    ck, sk = block[:k], block[k : 2 * k]
    civ, siv = block[2 * k : 2 * k + iv_len], block[2 * k + iv_len : 2 * k + 2 * iv_len]
    return Aead(suite.aead, ck, civ), Aead(suite.aead, sk, siv)


def tls12_cbc_key_block(master: bytes, client_random: bytes, server_random: bytes, suite: Suite) -> tuple[Cbc, Cbc]:
    """The (client, server) write protections of a TLS 1.2 AES-CBC suite (RFC 5246 6.3).

    The key block starts with the two MAC keys, then the two encryption keys; no IVs are taken
    from it (TLS 1.1 and later carry each record's IV in the record).
    """
    m, k = _MAC_LEN[suite.mac], suite.key_len
    block = _p_hash(master, b"key expansion" + server_random + client_random, 2 * (m + k), suite.hash)
    cm, sm = block[:m], block[m : 2 * m]
    ck, sk = block[2 * m : 2 * m + k], block[2 * m + k : 2 * m + 2 * k]
    return Cbc(ck, cm, suite.mac), Cbc(sk, sm, suite.mac)


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


class Cbc:
    """One direction's TLS 1.2 AES-CBC key and HMAC key.

    :meth:`open` checks the MAC and the padding of a record and returns its plaintext, or None
    when either is wrong (a damaged record, or the wrong keys): never an exception. The checks are
    not constant-time; they only read a capture, they do not answer a peer.
    """

    __slots__ = ("algorithm", "mac_hash", "mac_key", "mac_len")

    def __init__(self, key: bytes, mac_key: bytes, mac_hash: str) -> None:
        self.algorithm = algorithms.AES(key)
        self.mac_key = mac_key
        self.mac_hash = mac_hash
        self.mac_len = _MAC_LEN[mac_hash]

    def _mac(self, seq: int, header: bytes, data: bytes) -> bytes:
        # seq_num, type, version, length (RFC 5246 6.2.3.1), then the MACed bytes
        pseudo = struct.pack("!QB2sH", seq, header[0], header[1:3], len(data))
        return hmac.digest(self.mac_key, pseudo + data, self.mac_hash)

    def _decrypt(self, iv_and_ciphertext: bytes) -> bytes | None:
        """CBC-decrypt (the first block is the explicit IV) and strip the TLS padding."""
        dec = Cipher(self.algorithm, modes.CBC(iv_and_ciphertext[:16])).decryptor()
        padded = dec.update(iv_and_ciphertext[16:]) + dec.finalize()
        pad = padded[-1]
        if pad >= len(padded) or padded[-1 - pad :] != bytes((pad,)) * (pad + 1):
            return None
        return padded[: -1 - pad]

    def open(self, seq: int, header: bytes, body: bytes, encrypt_then_mac: bool) -> bytes | None:
        """The plaintext of a record (``header``: its 5 bytes), or None if MAC or padding is wrong."""
        m = self.mac_len
        if encrypt_then_mac:
            ciphertext = body[:-m]
            if len(ciphertext) < 32 or len(ciphertext) % 16:
                return None
            if not hmac.compare_digest(body[-m:], self._mac(seq, header, ciphertext)):
                return None
            return self._decrypt(ciphertext)
        if len(body) < 32 or len(body) % 16:
            return None
        content = self._decrypt(body)
        if content is None or len(content) < m:
            return None
        plain = content[:-m]
        if not hmac.compare_digest(content[-m:], self._mac(seq, header, plain)):
            return None
        return plain


def header_protection(suite: Suite, hp_key: bytes, sample: bytes) -> bytes:
    """The 5-byte QUIC header-protection mask (RFC 9001 5.4)."""
    if suite.aead == "aes-gcm":
        enc = Cipher(algorithms.AES(hp_key), modes.ECB()).encryptor()
        return enc.update(sample)[:5]
    counter, nonce = sample[:4], sample[4:16]
    enc = Cipher(algorithms.ChaCha20(hp_key, counter + nonce), mode=None).encryptor()
    return enc.update(b"\x00" * 5)
