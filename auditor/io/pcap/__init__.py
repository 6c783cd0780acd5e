"""Network captures (pcap and pcapng): who the device talked to, and what went in clear.

:func:`read_pcap` streams a capture once and returns

* the network destinations, named from DNS answers, TLS ClientHello SNI (reassembled across
  TCP segments), QUIC Initial SNI (every version with a known salt, decrypted, CRYPTO frames
  reassembled across packets; gQUIC CHLOs) and HTTP ``Host`` headers, with payload bytes each
  way, and the names looked up in DNS without an answer;
* the DNS queries and answers (also multicast DNS, LLMNR and DNS over HTTPS in cleartext HTTP);
* every cleartext HTTP/1.x exchange and HTTP/2 (h2c) stream, as :class:`~auditor.models.Exchange`.

Records are read with ``struct`` from a buffered file (pcap in either byte order, micro- or
nanosecond; pcapng; either of them gzip-compressed) and filtered on raw bytes; only DNS, TLS
handshakes, QUIC Initials and HTTP are dissected. Memory stays flat whatever the file size: no
packet is kept, and per-connection state is bounded and dropped when a connection ends or idles.

The package, from the file to the result:

* :mod:`.records`: pcap and pcapng records, gzip, damage and resynchronisation;
* :mod:`.analyzer`: the packet loop and the connection table;
* :mod:`.flows`: per-connection and per-destination state;
* :mod:`.dns`, :mod:`.tls`, :mod:`.http1`: the dissectors;
* :mod:`.results`: the returned types; :mod:`.reader`: :func:`read_pcap`.

Link types are decoded in :mod:`auditor.io.pcap.linklayer`, QUIC in :mod:`auditor.io.pcap.quic` and
:mod:`auditor.io.pcap.gquic`, HTTP/2 framing in :mod:`auditor.io.pcap.h2c`, DoH in :mod:`auditor.io.pcap.doh`.

Limits: HTTP/3 and WebSocket frames are not parsed (an HTTP/1.1 upgrade, also to h2c, ends
parsing of that connection); IP fragments after the first are not reassembled; a connection
whose handshake was not captured starts at the first segment seen, so data before it is not
reassembled; only the first QUIC connection of a UDP port pair is named.
"""

from __future__ import annotations

from auditor.io.pcap.analyzer import QUIC_IDLE as QUIC_IDLE
from auditor.io.pcap.analyzer import SWEEP_EVERY as SWEEP_EVERY
from auditor.io.pcap.analyzer import TCP_CLOSED_IDLE as TCP_CLOSED_IDLE
from auditor.io.pcap.analyzer import TCP_IDLE as TCP_IDLE
from auditor.io.pcap.analyzer import UDP_IDLE as UDP_IDLE
from auditor.io.pcap.analyzer import _Analyzer as _Analyzer
from auditor.io.pcap.http1 import MAX_BODY as MAX_BODY
from auditor.io.pcap.http1 import MAX_HEAD as MAX_HEAD
from auditor.io.pcap.http1 import MAX_WAITING as MAX_WAITING
from auditor.io.pcap.http1 import HttpConnection, decoded_body, http_exchange, strip_port
from auditor.io.pcap.reader import read_pcap
from auditor.io.pcap.records import _PCAP_MAGICS as _PCAP_MAGICS
from auditor.io.pcap.records import _PCAPNG_SHB as _PCAPNG_SHB
from auditor.io.pcap.records import CHUNK as CHUNK
from auditor.io.pcap.records import MAX_BLOCK as MAX_BLOCK
from auditor.io.pcap.records import MAX_RECORD as MAX_RECORD
from auditor.io.pcap.records import PCAPNG_MAGIC, is_pcap, records_of
from auditor.io.pcap.records import RESYNC_WINDOW as RESYNC_WINDOW
from auditor.io.pcap.records import Record as Record
from auditor.io.pcap.records import _Buffer as _Buffer
from auditor.io.pcap.records import _Damage as _Damage
from auditor.io.pcap.records import _pcap_records as _pcap_records
from auditor.io.pcap.records import _pcapng_records as _pcapng_records
from auditor.io.pcap.results import DnsRecord, NetworkDestination, PcapResult, PcapStats

# Beyond ``__all__``, the names imported ``as`` themselves above are those that the tests and the
# benchmarks used from the single module this package replaced; they stay importable from
# ``auditor.io.pcap``. Key-log decryption (:mod:`auditor.io.tlsdecrypt`) uses public names only.

__all__ = [
    "PCAPNG_MAGIC",
    "DnsRecord",
    "HttpConnection",
    "NetworkDestination",
    "PcapResult",
    "PcapStats",
    "decoded_body",
    "http_exchange",
    "is_pcap",
    "read_pcap",
    "records_of",
    "strip_port",
]
