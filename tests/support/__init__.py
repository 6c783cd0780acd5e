"""Helpers shared by the tests and the benchmarks.

- :mod:`support.ports`: free loopback ports (TCP, or TCP and UDP at once);
- :mod:`support.certs`: test certificates (a CA and a server certificate, or a self-signed one);
- :mod:`support.backends`: the loopback backends as module-scoped ``backend`` fixtures (the fake AI-chat
  backend of ``fixtures/record.py``, the load backend of ``tests/loadgen.py``, the hypercorn
  backend of ``tests/tls_backend.py``);
- :mod:`support.memory`: peak memory of a process from its own ``VmHWM``;
- :mod:`support.work`: the lines of auditor's code a call runs (work counted, not timed).

The tests directory is on ``sys.path`` under pytest; a benchmark adds it first
(``sys.path.insert(0, str(ROOT / "tests"))``).
"""
