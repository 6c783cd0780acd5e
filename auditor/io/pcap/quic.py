"""QUIC Initial packet decryption, for the ClientHello inside (parsed by :mod:`auditor.io.pcap.clienthello`).

QUIC Initial packets are encrypted with keys that anyone can derive from the Destination
Connection ID of the client's first Initial packet (RFC 9001 section 5.2), so a passive observer
can read the ClientHello, and with it the server name, of every QUIC connection. This module
derives those keys for every version with a published salt (IETF drafts 22 to 34, v1, v2,
Facebook's mvfst versions and Google's Q050, T050 and T051), removes header protection, decrypts
the payload with AES-128-GCM, walks the frames, reassembles CRYPTO data by offset across packets
and parses the ClientHello it carries (or, for Q050, the gQUIC CHLO: :mod:`auditor.io.pcap.gquic`).
Versions without a known salt are tried with each known salt (the AEAD tag tells which fits) and
are otherwise reported by :class:`QuicInitialTracker` as not decrypted.
:func:`build_client_initial` does the reverse, for tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from auditor.io.pcap import gquic
from auditor.io.pcap.clienthello import ClientHelloInfo as ClientHelloInfo
from auditor.io.pcap.clienthello import clean_name as clean_name
from auditor.io.pcap.clienthello import parse_client_hello

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
MVFST_DRAFT_22 = 0xFACEB001
MVFST_DRAFT_27 = 0xFACEB002
MVFST_EXPERIMENTAL = 0xFACEB00E
GQUIC_Q050 = 0x51303530
GQUIC_T050 = 0x54303530
GQUIC_T051 = 0x54303531


def draft(n: int) -> int:
    """The version number of IETF QUIC draft ``n`` (0xff0000nn)."""
    return 0xFF000000 | n


# Initial salts: RFC 9001 5.2, RFC 9369 3.3.1, the drafts' section 5.2, and the values that
# Wireshark's packet-quic.c and nDPI's quic.c use for mvfst and gQUIC.
_SALT_DRAFT_22 = bytes.fromhex("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a")  # drafts 22 (and mvfst's)
_SALT_DRAFT_23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")  # drafts 23-28
_SALT_DRAFT_29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")  # drafts 29-32
_SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")  # v1, drafts 33-34
_SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
_SALT_Q050 = bytes.fromhex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45")
_SALT_T050 = bytes.fromhex("7ff579e5acd072915580304c43a2367c60488310")
_SALT_T051 = bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d")

_SALTS: dict[int, bytes] = {
    QUIC_V1: _SALT_V1,
    QUIC_V2: _SALT_V2,
    MVFST_DRAFT_22: _SALT_DRAFT_22,
    MVFST_DRAFT_27: _SALT_DRAFT_23,
    MVFST_EXPERIMENTAL: _SALT_DRAFT_23,
    GQUIC_Q050: _SALT_Q050,
    GQUIC_T050: _SALT_T050,
    GQUIC_T051: _SALT_T051,
}
for _n in range(22, 35):
    _SALTS[draft(_n)] = (
        _SALT_DRAFT_22 if _n == 22 else _SALT_DRAFT_23 if _n <= 28 else _SALT_DRAFT_29 if _n <= 32 else _SALT_V1
    )
# Tried in this order on versions with no known salt (new mvfst or experimental versions).
_TRIAL_SALTS = (_SALT_V1, _SALT_DRAFT_29, _SALT_DRAFT_23, _SALT_DRAFT_22)
_LABEL_PREFIX = {QUIC_V2: b"quicv2"}  # every other version: b"quic"
# The long-header packet type bits that mean "Initial" (0 but in v2).
_INITIAL_TYPE = {QUIC_V2: 1}
# Versions whose Initials carry the handshake in frame type 0x08 (Google's own numbering).
_GQUIC_CRYPTO_08 = frozenset({GQUIC_Q050, GQUIC_T050, GQUIC_T051})
KNOWN_VERSIONS = frozenset(_SALTS)


def version_name(version: int) -> str:
    """A readable name for a QUIC version number: ``v1``, ``draft-29``, ``mvfst 0xfaceb002``, ``Q046``."""
    if version == QUIC_V1:
        return "v1"
    if version == QUIC_V2:
        return "v2"
    if version >> 8 == 0xFF0000:
        return f"draft-{version & 0xFF}"
    if version >> 8 == 0xFACEB0:
        return f"mvfst 0x{version:08x}"
    if version & 0x0F0F0F0F == 0x0A0A0A0A:
        return f"0x{version:08x} (reserved)"
    raw = version.to_bytes(4, "big")
    if raw[:1] in (b"Q", b"T") and raw[1:].isdigit():
        return raw.decode("ascii")
    return f"0x{version:08x}"


MAX_CLIENT_HELLO = 1 << 18  # refuse to buffer CRYPTO data beyond this
# --------------------------------------------------------------------------------------------
# Key derivation (RFC 9001 section 5, RFC 9369 for v2)


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand_label(secret: bytes, label: bytes, length: int, hash_name: str = "sha256") -> bytes:
    """HKDF-Expand-Label with an empty context (RFC 8446 section 7.1), for QUIC and TLS 1.3 keys."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([counter]), hash_name).digest()
        out += block
        counter += 1
    return out[:length]


@dataclass(frozen=True, slots=True)
class InitialKeys:
    """AEAD key, IV and header-protection key for one side's Initial packets."""

    key: bytes
    iv: bytes
    hp: bytes


def initial_keys(dcid: bytes, version: int = QUIC_V1, *, client: bool = True, salt: bytes | None = None) -> InitialKeys:
    """Derive the Initial keys for ``dcid`` (the client's first Destination Connection ID).

    ``salt`` overrides the version's own (for versions whose salt is not known)."""
    if salt is None:
        salt = _SALTS.get(version)
        if salt is None:
            raise ValueError(f"unsupported QUIC version 0x{version:08x}")
    initial = _hkdf_extract(salt, dcid)
    secret = hkdf_expand_label(initial, b"client in" if client else b"server in", 32)
    prefix = _LABEL_PREFIX.get(version, b"quic")
    return InitialKeys(
        key=hkdf_expand_label(secret, prefix + b" key", 16),
        iv=hkdf_expand_label(secret, prefix + b" iv", 12),
        hp=hkdf_expand_label(secret, prefix + b" hp", 16),
    )


def _hp_mask(hp: bytes, sample: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    return encryptor.update(sample) + encryptor.finalize()


# --------------------------------------------------------------------------------------------
# Packet parsing


def varint(buf: bytes, p: int) -> tuple[int, int]:
    """Read a QUIC variable-length integer at ``p``; return (value, next position)."""
    first = buf[p]
    size = 1 << (first >> 6)
    if p + size > len(buf):
        raise IndexError("varint overruns the buffer")
    value = first & 0x3F
    for i in range(1, size):
        value = (value << 8) | buf[p + i]
    return value, p + size


def encode_varint(value: int) -> bytes:
    if value < 0x40:
        return bytes([value])
    if value < 0x4000:
        return struct.pack("!H", 0x4000 | value)
    if value < 0x40000000:
        return struct.pack("!I", 0x80000000 | value)
    return struct.pack("!Q", 0xC000000000000000 | value)


@dataclass(slots=True)
class LongHeader:
    """The cleartext part of a long-header packet inside a datagram."""

    start: int  # where the packet starts in the datagram
    version: int
    is_initial: bool
    dcid: bytes
    scid: bytes
    pn_offset: int  # where the protected packet number starts, relative to the datagram
    end: int  # where this packet ends in the datagram


def parse_long_header(datagram: bytes, start: int = 0) -> LongHeader | None:
    """Parse the long header at ``start``; None if it is not a QUIC long header (of version 1's
    layout, which every version since draft 22 shares) or is a Version Negotiation packet."""
    try:
        first = datagram[start]
        if first & 0xC0 != 0xC0:
            return None
        version = int.from_bytes(datagram[start + 1 : start + 5], "big")
        if version == 0:
            return None
        p = start + 5
        dlen = datagram[p]
        if dlen > 20:
            return None
        dcid = datagram[p + 1 : p + 1 + dlen]
        p += 1 + dlen
        slen = datagram[p]
        if slen > 20:
            return None
        scid = datagram[p + 1 : p + 1 + slen]
        p += 1 + slen
        ptype = (first >> 4) & 0x03
        is_initial = ptype == _INITIAL_TYPE.get(version, 0)
        retry = ptype == (0 if version == QUIC_V2 else 3)
        if retry:
            return LongHeader(start, version, False, dcid, scid, p, len(datagram))
        if is_initial:
            token_len, p = varint(datagram, p)
            p += token_len
        length, p = varint(datagram, p)
        end = p + length
        if end > len(datagram) or length < 20:
            return None
        return LongHeader(start, version, is_initial, dcid, scid, p, end)
    except IndexError:
        return None


def decrypt_packet(datagram: bytes, header: LongHeader, keys: InitialKeys, largest_pn: int = -1) -> tuple[int, bytes]:
    """Remove header protection and decrypt one protected packet; return (packet number, payload).

    Raises ``ValueError`` if the keys do not fit (authentication fails).
    """
    p = header.pn_offset
    sample = datagram[p + 4 : p + 20]
    if len(sample) < 16:
        raise ValueError("packet too short for a header-protection sample")
    mask = _hp_mask(keys.hp, sample)
    first = datagram[header.start] ^ (mask[0] & 0x0F)
    pn_len = (first & 0x03) + 1
    pn_bytes = bytearray(datagram[p : p + pn_len])
    truncated = 0
    for i in range(pn_len):
        pn_bytes[i] ^= mask[1 + i]
        truncated = (truncated << 8) | pn_bytes[i]
    pn = decode_packet_number(truncated, pn_len * 8, largest_pn)
    aad = bytes([first]) + bytes(datagram[header.start + 1 : p]) + bytes(pn_bytes)
    nonce = bytes(a ^ b for a, b in zip(keys.iv, pn.to_bytes(12, "big"), strict=True))
    try:
        payload = AESGCM(keys.key).decrypt(nonce, bytes(datagram[p + pn_len : header.end]), aad)
    except InvalidTag as exc:
        raise ValueError("Initial packet does not decrypt with these keys") from exc
    return pn, payload


def decode_packet_number(truncated: int, bits: int, largest: int) -> int:
    """RFC 9000 appendix A.3."""
    expected = largest + 1
    win = 1 << bits
    hwin = win // 2
    candidate = (expected & ~(win - 1)) | truncated
    if candidate <= expected - hwin and candidate < (1 << 62) - win:
        return candidate + win
    if candidate > expected + hwin and candidate >= win:
        return candidate - win
    return candidate


def crypto_frames(payload: bytes, version: int = QUIC_V1) -> list[tuple[int, bytes]]:
    """The (offset, data) of every CRYPTO frame in a decrypted Initial payload.

    PADDING, PING, ACK and CONNECTION_CLOSE frames are skipped; any other frame type is not
    allowed in an Initial packet and ends the walk. Q050, T050 and T051 number their CRYPTO
    frame 0x08.
    """
    crypto_type = 0x08 if version in _GQUIC_CRYPTO_08 else 0x06
    out: list[tuple[int, bytes]] = []
    p = 0
    n = len(payload)
    try:
        while p < n:
            ftype = payload[p]
            if ftype == 0x00:  # PADDING: skip the run
                while p < n and payload[p] == 0:
                    p += 1
                continue
            ftype, p = varint(payload, p)
            if ftype == 0x01:  # PING
                continue
            if ftype in (0x02, 0x03):  # ACK
                _, p = varint(payload, p)  # largest acknowledged
                _, p = varint(payload, p)  # ack delay
                count, p = varint(payload, p)
                _, p = varint(payload, p)  # first range
                for _ in range(count):
                    _, p = varint(payload, p)
                    _, p = varint(payload, p)
                if ftype == 0x03:
                    for _ in range(3):
                        _, p = varint(payload, p)
            elif ftype == crypto_type:  # CRYPTO
                offset, p = varint(payload, p)
                length, p = varint(payload, p)
                if p + length > n:
                    break
                out.append((offset, payload[p : p + length]))
                p += length
            elif ftype == 0x1C:  # CONNECTION_CLOSE (transport)
                _, p = varint(payload, p)
                _, p = varint(payload, p)
                rlen, p = varint(payload, p)
                p += rlen
            else:
                break
    except IndexError:
        pass
    return out


class CryptoReassembler:
    """Reassembles CRYPTO stream data by offset, in any order, with overlaps."""

    __slots__ = ("_buf", "_have", "contiguous")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._have: list[tuple[int, int]] = []  # merged, sorted [start, end) ranges
        self.contiguous = 0

    def add(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        if not data or end > MAX_CLIENT_HELLO:
            return
        if len(self._buf) < end:
            self._buf.extend(bytes(end - len(self._buf)))
        self._buf[offset:end] = data
        ranges = sorted([*self._have, (offset, end)])
        merged: list[tuple[int, int]] = []
        for s, e in ranges:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self._have = merged
        self.contiguous = merged[0][1] if merged and merged[0][0] == 0 else 0

    def data(self) -> bytes:
        """The contiguous bytes from offset 0."""
        return bytes(self._buf[: self.contiguous])


class QuicInitialTracker:
    """Follows one UDP flow's client packets until their ClientHello (or gQUIC CHLO) is read.

    It follows version negotiation and Retry: when the client starts again with another version
    or connection id, the new Initials are decrypted with their own keys. ``versions`` lists the
    versions of the client's long-header packets; ``opened`` says whether any of them could be
    read (decrypted, or a gQUIC CHLO in clear).
    """

    __slots__ = (
        "_keys",
        "_salts",
        "crypto",
        "datagrams",
        "failed",
        "hello",
        "largest_pn",
        "opened",
        "original_dcid",
        "version",
        "versions",
    )

    def __init__(self) -> None:
        self.original_dcid: bytes | None = None
        self.version = QUIC_V1
        self.crypto = CryptoReassembler()
        self.largest_pn = -1
        self._keys: dict[tuple[bytes, int], InitialKeys | None] = {}
        self._salts: dict[int, bytes] = {}  # salts found by trial for versions without a known one
        self.hello: ClientHelloInfo | None = None
        self.failed = False
        self.datagrams = 0
        self.versions: list[int] = []
        self.opened = False

    def feed(self, datagram: bytes) -> bool:
        """Process one datagram; True if it held a client Initial that decrypted (or a CHLO)."""
        self.datagrams += 1
        version = gquic.public_header_version(datagram)
        if version is not None:
            self._saw(version)
            info = gquic.cleartext_chlo(datagram)
            if info is None:
                return False
            self.opened = True
            self.version = version
            if self.hello is None:
                self.hello = info
            return True
        decrypted = False
        start = 0
        while start < len(datagram):
            header = parse_long_header(datagram, start)
            if header is None:
                break
            if header.is_initial:
                self._saw(header.version)
                payload = self._decrypt(datagram, header)
                if payload is not None:
                    decrypted = True
                    for offset, data in crypto_frames(payload, header.version):
                        self.crypto.add(offset, data)
            start = header.end
        if decrypted:
            self.opened = True
            if self.hello is None:
                self._try_parse()
        return decrypted

    def _saw(self, version: int) -> None:
        if version not in self.versions and len(self.versions) < 8:
            self.versions.append(version)

    def _keys_for(self, dcid: bytes, version: int, salt: bytes | None = None) -> InitialKeys:
        k = self._keys.get((dcid, version)) if salt is None else None
        if k is None:
            k = initial_keys(dcid, version, salt=salt or self._salts.get(version))
            if salt is None:
                self._keys[(dcid, version)] = k
        return k

    def _decrypt(self, datagram: bytes, header: LongHeader) -> bytes | None:
        version = header.version
        if self.original_dcid is not None and version != self.version and self.hello is None:
            # Version negotiation: the client starts again with another version.
            self.original_dcid = None
            self.crypto = CryptoReassembler()
            self.largest_pn = -1
        candidates = [header.dcid]
        if self.original_dcid is not None and self.original_dcid != header.dcid:
            candidates.append(self.original_dcid)
        salts: tuple[bytes | None, ...] = (None,)
        if version not in _SALTS and version not in self._salts:
            # Unknown or reserved (0x?a?a?a?a, sent to make the server list its versions):
            # clients still protect these with the salt of a version they speak.
            salts = _TRIAL_SALTS
        for dcid in candidates:
            for salt in salts:
                keys = self._keys_for(dcid, version, salt)
                try:
                    pn, payload = decrypt_packet(datagram, header, keys, self.largest_pn)
                except ValueError:
                    continue
                if salt is not None:
                    self._salts[version] = salt
                if self.original_dcid is None:
                    self.original_dcid = dcid
                    self.version = version
                self.largest_pn = max(self.largest_pn, pn)
                return payload
        return None

    def _try_parse(self) -> None:
        have = self.crypto.contiguous
        if have < 4:
            return
        data = self.crypto.data()
        if data[:4] == gquic.CHLO:  # Q050
            need = gquic.chlo_length(data)
            if need is not None and (need < 0 or need > MAX_CLIENT_HELLO):
                self.failed = True
            elif need is not None and have >= need:
                self.hello = gquic.parse_chlo(data[:need])
                self.failed = self.hello is None
            return
        if data[0] != 1:
            self.failed = True
            return
        need = 4 + int.from_bytes(data[1:4], "big")
        if need > MAX_CLIENT_HELLO:
            self.failed = True
            return
        if have >= need:
            try:
                self.hello = parse_client_hello(data[:need])
            except ValueError:
                self.failed = True


def sni_from_initials(datagrams: list[bytes]) -> ClientHelloInfo | None:
    """The ClientHello carried by a client's Initial datagrams (any order), or None."""
    tracker = QuicInitialTracker()
    for d in datagrams:
        tracker.feed(d)
        if tracker.hello is not None:
            return tracker.hello
    return None


# --------------------------------------------------------------------------------------------
# Building Initial packets (tests and benchmarks)


def build_client_initial(
    dcid: bytes,
    scid: bytes,
    crypto: list[tuple[int, bytes]],
    *,
    packet_number: int = 0,
    version: int = QUIC_V1,
    key_dcid: bytes | None = None,
    min_size: int = 1200,
    salt: bytes | None = None,
) -> bytes:
    """Build one protected client Initial packet holding the given CRYPTO frames.

    ``key_dcid`` is the connection id the keys come from (the client's first DCID; defaults to
    ``dcid``). The packet is padded to ``min_size`` bytes, as clients must. ``salt`` protects
    it with another salt than the version's (as clients do for reserved versions).
    """
    keys = initial_keys(key_dcid if key_dcid is not None else dcid, version, salt=salt)
    frames = b"".join(
        bytes([0x08 if version in _GQUIC_CRYPTO_08 else 0x06]) + encode_varint(off) + encode_varint(len(data)) + data
        for off, data in crypto
    )
    pn_len = 2
    ptype = _INITIAL_TYPE.get(version, 0)
    first = 0xC0 | (ptype << 4) | (pn_len - 1)
    prefix = (
        bytes([first])
        + version.to_bytes(4, "big")
        + bytes([len(dcid)])
        + dcid
        + bytes([len(scid)])
        + scid
        + b"\x00"  # token length
    )
    overhead = len(prefix) + 2 + pn_len + 16  # 2-byte length varint, tag
    pad = max(0, min_size - overhead - len(frames))
    plaintext = frames + bytes(pad)
    length = pn_len + len(plaintext) + 16
    pn_bytes = (packet_number & 0xFFFF).to_bytes(pn_len, "big")
    header = prefix + struct.pack("!H", 0x4000 | length) + pn_bytes
    nonce = bytes(a ^ b for a, b in zip(keys.iv, packet_number.to_bytes(12, "big"), strict=True))
    ciphertext = AESGCM(keys.key).encrypt(nonce, plaintext, header)
    sample = ciphertext[4 - pn_len : 20 - pn_len]
    mask = _hp_mask(keys.hp, sample)
    protected = bytearray(header)
    protected[0] ^= mask[0] & 0x0F
    pn_at = len(header) - pn_len
    for i in range(pn_len):
        protected[pn_at + i] ^= mask[1 + i]
    return bytes(protected) + ciphertext

