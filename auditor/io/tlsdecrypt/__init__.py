"""TLS and QUIC decryption of network captures with a key log (NSS ``SSLKEYLOGFILE`` format).

:func:`decrypt_capture` reads a pcap/pcapng capture once and returns the HTTP/1.1, HTTP/2 and
HTTP/3 exchanges inside the TLS 1.2/1.3 and QUIC connections whose secrets the key log (given,
or embedded in the pcapng file) holds, with the share of connections and bytes decrypted.
"""

from __future__ import annotations

from auditor.io.tlsdecrypt.decrypt import DecryptResult, decrypt_capture
from auditor.io.tlsdecrypt.keylog import KeyLog, KeyLogError, load_keylog
from auditor.io.tlsdecrypt.packets import has_embedded_secrets

__all__ = ["DecryptResult", "KeyLog", "KeyLogError", "decrypt_capture", "has_embedded_secrets", "load_keylog"]
