"""The TLS record layer of one TCP connection, decrypted with key log secrets.

:class:`TlsSession` takes each direction's reassembled TCP bytes, cuts them into records, reads
the cleartext handshake (ClientHello, ServerHello) for the client random, cipher suite and
version, looks the client random up in the key log, and from then on decrypts every record.
Application data goes to ``on_data(from_client, plaintext)``.

TLS 1.3: handshake records use the handshake traffic secrets; a direction moves to its
application secret after its Finished message, and KeyUpdate messages roll it forward. TLS 1.2:
records after ChangeCipherSpec use the keys expanded from the master secret (AES-GCM,
ChaCha20-Poly1305 and AES-CBC suites; for CBC, Encrypt-then-MAC when both hellos carry its
extension). A record whose tag, MAC or padding is wrong is counted in ``failed_records`` and
skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from auditor.io.tlsdecrypt.crypto import (
    SUITES,
    Aead,
    Cbc,
    Suite,
    hkdf_expand_label,
    tls12_cbc_key_block,
    tls12_key_block,
)
from auditor.io.tlsdecrypt.keylog import KeyLog

__all__ = ["TlsSession"]

MAX_RECORD = (1 << 14) + 2048
_HS_CLIENT_HELLO, _HS_SERVER_HELLO, _HS_ENC_EXT, _HS_FINISHED, _HS_KEY_UPDATE = 1, 2, 8, 20, 24
_TLS12, _TLS13 = 0x0303, 0x0304
_EXT_ENCRYPT_THEN_MAC = 22  # RFC 7366
_VERSIONS = {0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}


def _alpn(ext: bytes) -> str | None:
    """The first protocol of an ALPN extension body."""
    if len(ext) < 3:
        return None
    n = ext[2]
    return ext[3 : 3 + n].decode("ascii", "replace") or None


def _extensions(body: bytes, p: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    if p + 2 > len(body):
        return out
    end = min(len(body), p + 2 + struct.unpack_from("!H", body, p)[0])
    p += 2
    while p + 4 <= end:
        etype, elen = struct.unpack_from("!HH", body, p)
        out[etype] = body[p + 4 : p + 4 + elen]
        p += 4 + elen
    return out


class _Direction:
    __slots__ = (
        "aead",
        "buf",
        "cbc",
        "damaged",
        "encrypted",
        "failures",
        "grace",
        "hs",
        "next_secret",
        "opened",
        "secret",
        "seq",
    )

    def __init__(self) -> None:
        self.buf = bytearray()
        self.hs = bytearray()  # handshake bytes not yet parsed into messages
        self.aead: Aead | None = None
        self.cbc: Cbc | None = None  # TLS 1.2 AES-CBC suites, instead of aead
        self.seq = 0
        self.secret: bytes | None = None  # TLS 1.3: the current traffic secret
        self.next_secret: bytes | None = None  # TLS 1.3: the application secret, after Finished
        self.encrypted = False
        self.failures = 0
        self.grace = 2  # records that may fail before the first one decrypts, without giving up
        self.opened = 0  # records of this direction decrypted
        self.damaged = 0  # records that did not verify after one of this direction did


class TlsSession:
    """Decrypts one TLS-over-TCP connection with secrets from ``keylog``."""

    def __init__(self, keylog: KeyLog, on_data: Callable[[bool, bytes], None]) -> None:
        self.keylog = keylog
        self.on_data = on_data
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.sni: str | None = None
        self.alpn: str | None = None
        self.version: int | None = None
        self.suite: Suite | None = None
        self.suite_id: int | None = None
        self.secrets: dict[str, bytes] | None = None
        self.etm_offered = False  # the ClientHello carries the encrypt_then_mac extension
        self.encrypt_then_mac = False  # ... and the ServerHello accepted it (TLS 1.2 CBC suites)
        self.status = "handshake"  # then "keys", "no-keys", "unsupported", "broken"
        self.reason: str | None = None
        self.records = 0  # application data records decrypted
        self.opened = 0  # records of any type decrypted
        self.app_bytes = 0
        self.dirs = (_Direction(), _Direction())  # client, server

    @property
    def decrypted(self) -> bool:
        """Records decrypted with the logged secrets (a connection may carry no application data)."""
        return self.opened > 0

    @property
    def failed_records(self) -> int:
        """Records skipped because their tag, MAC or padding did not verify, although an earlier
        record of their direction did: damaged records. (Records that fail before any verifies,
        such as TLS 1.3 handshake records when the key log holds only the application secrets,
        are not counted; a connection none of whose records verify is not decrypted, with why.)"""
        return self.dirs[0].damaged + self.dirs[1].damaged

    @property
    def undecryptable(self) -> bool:
        """Records were seen that do not decrypt, and none that does."""
        return not self.opened and any(d.failures for d in self.dirs)

    @property
    def version_name(self) -> str | None:
        return _VERSIONS.get(self.version) if self.version else None

    def _stop(self, status: str, reason: str) -> None:
        if self.status in ("handshake", "keys"):
            self.status = status
            self.reason = reason
        for d in self.dirs:
            d.buf.clear()

    def gap(self, from_client: bool) -> None:
        """Bytes of this direction were not captured: the record stream cannot be followed."""
        if self.status in ("handshake", "keys"):
            self._stop("broken", "TCP data missing from the capture")

    def feed(self, from_client: bool, data: bytes) -> None:
        if self.status not in ("handshake", "keys"):
            return
        d = self.dirs[0 if from_client else 1]
        buf = d.buf
        buf += data
        p = 0
        n = len(buf)
        while n - p >= 5:
            ctype = buf[p]
            length = (buf[p + 3] << 8) | buf[p + 4]
            if ctype < 20 or ctype > 24 or buf[p + 1] != 3 or length > MAX_RECORD:
                self._stop("broken", "not a TLS record stream")
                return
            if n - p < 5 + length:
                break
            self._record(from_client, d, ctype, bytes(buf[p : p + 5]), bytes(buf[p + 5 : p + 5 + length]))
            p += 5 + length
            if self.status not in ("handshake", "keys"):
                return
        del buf[:p]

    # -- records -----------------------------------------------------------------------------

    def _record(self, from_client: bool, d: _Direction, ctype: int, header: bytes, body: bytes) -> None:
        if ctype == 20:  # ChangeCipherSpec
            if self.version != _TLS13 and self.status == "keys":
                d.encrypted = True
                d.seq = 0
            return
        if not d.encrypted:
            if ctype == 22:
                self._handshake(from_client, d, body)
            elif ctype == 23 and self.version == _TLS13 and self.status == "keys":
                d.encrypted = True  # the TLS 1.3 encrypted handshake starts
                self._encrypted(from_client, d, header, body)
            return
        self._encrypted(from_client, d, header, body)

    def _encrypted(self, from_client: bool, d: _Direction, header: bytes, body: bytes) -> None:
        if d.cbc is not None:
            plain = d.cbc.open(d.seq, header, body, self.encrypt_then_mac)
            d.seq += 1  # the peer counted the record, whether or not it verifies here
            if plain is None:
                self._fail(d)
                return
            self.opened += 1
            d.opened += 1
            ctype = header[0]
        elif d.aead is None:
            return
        elif self.version == _TLS13:
            plain = d.aead.open(d.aead.nonce(d.seq), body, header)
            if plain is None and d.next_secret is not None:
                # The Finished message was not seen: try the application keys.
                self._rekey(d, d.next_secret)
                plain = d.aead.open(d.aead.nonce(d.seq), body, header)
            if plain is None:
                self._fail(d)
                return
            d.seq += 1
            self.opened += 1
            d.opened += 1
            end = len(plain)
            while end and plain[end - 1] == 0:
                end -= 1
            if not end:
                return
            ctype = plain[end - 1]
            plain = plain[: end - 1]
        else:
            assert self.suite is not None
            if len(body) < (24 if self.suite.aead == "aes-gcm" else 16):
                d.seq += 1
                self._fail(d)
                return
            if self.suite.aead == "aes-gcm":
                nonce, body = d.aead.iv + body[:8], body[8:]
            else:
                nonce = d.aead.nonce(d.seq)
            ctype = header[0]
            aad = struct.pack("!QBH", d.seq, ctype, (header[1] << 8) | header[2]) + struct.pack("!H", len(body) - 16)
            plain = d.aead.open(nonce, body, aad)
            d.seq += 1  # as for CBC: a record that does not verify still took its sequence number
            if plain is None:
                self._fail(d)
                return
            self.opened += 1
            d.opened += 1
        if ctype == 23:
            self.records += 1
            self.app_bytes += len(plain)
            if plain:
                self.on_data(from_client, plain)
        elif ctype == 22:
            self._handshake(from_client, d, plain)
        elif ctype == 21 and len(plain) >= 2 and plain[1] == 0:  # close_notify
            pass

    def _fail(self, d: _Direction) -> None:
        d.failures += 1
        if d.opened:
            d.damaged += 1
        if d.failures > d.grace and not self.opened:
            self._stop("broken", "records do not decrypt with the logged secrets")

    def _rekey(self, d: _Direction, secret: bytes) -> None:
        assert self.suite is not None
        d.secret = secret
        d.next_secret = None
        d.aead = Aead.from_secret(self.suite, secret)
        d.seq = 0

    # -- handshake ---------------------------------------------------------------------------

    def _handshake(self, from_client: bool, d: _Direction, data: bytes) -> None:
        hs = d.hs
        hs += data
        p = 0
        while len(hs) - p >= 4:
            mtype = hs[p]
            mlen = int.from_bytes(hs[p + 1 : p + 4], "big")
            if len(hs) - p < 4 + mlen:
                if mlen > 1 << 18:
                    self._stop("broken", "handshake message too large")
                    return
                break
            body = bytes(hs[p + 4 : p + 4 + mlen])
            p += 4 + mlen
            try:
                self._message(from_client, d, mtype, body)
            except (IndexError, struct.error, ValueError):
                self._stop("broken", "malformed handshake message")
                return
        del hs[:p]

    def _message(self, from_client: bool, d: _Direction, mtype: int, body: bytes) -> None:
        if mtype == _HS_CLIENT_HELLO and from_client and self.client_random is None:
            self.client_random = body[2:34]
            p = 34
            p += 1 + body[p]
            p += 2 + struct.unpack_from("!H", body, p)[0]
            p += 1 + body[p]
            ext = _extensions(body, p)
            self.etm_offered = _EXT_ENCRYPT_THEN_MAC in ext
            if 0 in ext and len(ext[0]) > 5:
                n = struct.unpack_from("!H", ext[0], 3)[0]
                self.sni = ext[0][5 : 5 + n].decode("ascii", "replace").lower().rstrip(".") or None
        elif mtype == _HS_SERVER_HELLO and not from_client and self.server_random is None:
            self.server_random = body[2:34]
            version = struct.unpack_from("!H", body, 0)[0]
            p = 34
            p += 1 + body[p]
            self.suite_id = struct.unpack_from("!H", body, p)[0]
            p += 3
            ext = _extensions(body, p)
            if 43 in ext and len(ext[43]) >= 2:
                version = struct.unpack_from("!H", ext[43], 0)[0]
            if 16 in ext:
                self.alpn = _alpn(ext[16])
            self.encrypt_then_mac = self.etm_offered and _EXT_ENCRYPT_THEN_MAC in ext
            self.version = version
            self._keys()
        elif mtype == _HS_ENC_EXT and not from_client:
            ext = _extensions(body, 0)
            if 16 in ext:
                self.alpn = _alpn(ext[16])
        elif mtype == _HS_FINISHED and self.version == _TLS13 and d.next_secret is not None:
            self._rekey(d, d.next_secret)
        elif mtype == _HS_KEY_UPDATE and self.version == _TLS13 and d.secret is not None and self.suite:
            self._rekey(d, hkdf_expand_label(d.secret, b"traffic upd", len(d.secret), self.suite.hash))

    def _keys(self) -> None:
        suite = SUITES.get(self.suite_id or -1)
        if self.client_random is None:
            self._stop("unsupported", "the ClientHello was not captured")
            return
        secrets = self.keylog.lookup(self.client_random)
        if suite is None:
            self._stop("unsupported", f"cipher suite 0x{self.suite_id or 0:04x} is not supported")
            return
        if suite.aead == "aes-cbc" and self.version != _TLS12:
            name = self.version_name or f"version 0x{self.version or 0:04x}"
            self._stop("unsupported", f"{name} with a CBC suite is not supported (TLS 1.2 and 1.3 are)")
            return
        self.suite = suite
        if secrets is None:
            self._stop("no-keys", "no secret for this connection in the key log")
            return
        c, s = self.dirs
        if self.version == _TLS13:
            names = (
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0",
                "SERVER_TRAFFIC_SECRET_0",
            )
            if not all(k in secrets for k in names[2:]):
                self._stop("no-keys", "the key log lacks this connection's application traffic secrets")
                return
            for dr, hs_name, app_name in ((c, names[0], names[2]), (s, names[1], names[3])):
                if hs_name in secrets:
                    self._rekey(dr, secrets[hs_name])
                    dr.next_secret = secrets[app_name]
                else:
                    # Only the application secret: the encrypted handshake records (a server sends
                    # four or more) cannot be read, and do not mean the secrets are wrong.
                    self._rekey(dr, secrets[app_name])
                    dr.grace = 15
        else:
            master = secrets.get("CLIENT_RANDOM")
            if master is None or self.server_random is None:
                self._stop("no-keys", "the key log lacks this connection's master secret")
                return
            if suite.aead == "aes-cbc":
                c.cbc, s.cbc = tls12_cbc_key_block(master, self.client_random, self.server_random, suite)
            else:
                c.aead, s.aead = tls12_key_block(master, self.client_random, self.server_random, suite)
        self.secrets = secrets
        self.status = "keys"
