"""The TLS ClientHello at the start of a TCP stream, collected across records and segments."""

from __future__ import annotations

from auditor.io.pcap.clienthello import ClientHelloInfo, parse_client_hello


class _TlsHello:
    """Collects the first handshake message of a TLS stream, across records and segments."""

    __slots__ = ("buf", "failed", "hs", "info")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.hs = bytearray()
        self.info: ClientHelloInfo | None = None
        self.failed = False

    def feed(self, data: bytes) -> bool:
        """Add stream bytes; True once the ClientHello is parsed or cannot be."""
        buf = self.buf
        buf += data
        while len(buf) >= 5:
            if buf[0] != 0x16 or buf[1] != 3:
                self.failed = True
                return True
            rlen = (buf[3] << 8) | buf[4]
            if len(buf) < 5 + rlen:
                break
            self.hs += buf[5 : 5 + rlen]
            del buf[: 5 + rlen]
        hs = self.hs
        if len(hs) >= 4:
            need = 4 + int.from_bytes(hs[1:4], "big")
            if hs[0] != 1 or need > 1 << 18:
                self.failed = True
                return True
            if len(hs) >= need:
                try:
                    self.info = parse_client_hello(bytes(hs[:need]))
                except ValueError:
                    self.failed = True
                return True
        if len(buf) > 1 << 18:
            self.failed = True
            return True
        return False


