"""Helpers shared by the tests and the benchmarks.

- :mod:`support.ports`: free loopback ports (TCP, or TCP and UDP at once);
- :mod:`support.certs`: test certificates (a CA and a server certificate, or a self-signed one);
- :mod:`support.backends`: the loopback backends as module-scoped ``backend`` fixtures (the fake AI-chat
  backend of ``fixtures/record.py``, the load backend of ``tests/loadgen.py``, the hypercorn
  backend of ``tests/tls_backend.py``);
- :mod:`support.memory`: peak memory of a process from its own ``VmHWM``;
- :mod:`support.work`: the lines of auditor's code a call runs (work counted, not timed).
- :mod:`support.processes`: ``auditor`` in a child process, its peak memory measured;
- :mod:`support.packets`: network captures built with scapy or struct (TLS and QUIC hellos, TCP
  connections, pcap and pcapng files, a phone's session);
- :mod:`support.documents`: report documents built by hand (destinations, findings);
- :mod:`support.policies`, :mod:`support.junit`: gate policies and the shape of a JUnit report;
- :mod:`support.redaction`: the values a redacted capture must no longer hold, looked for in every form;
- :mod:`support.flows`: a live capture read with mitmproxy's own reader.

The tests directory is on ``sys.path`` under pytest; a benchmark adds it first
(``sys.path.insert(0, str(ROOT / "tests"))``).
"""
