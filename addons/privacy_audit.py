"""mitmproxy addon: audit an AI chat app's traffic as it passes through the proxy.

    mitmdump -s addons/privacy_audit.py --set audit_dir=out
    mitmweb  -s addons/privacy_audit.py --set audit_dir=out --set audit_formats=html,json,md

Flows carrying personal data are marked and commented (categories, destination country) in
mitmweb and mitmproxy's console. When the proxy stops, ``out/capture.flows``, ``out/report.html``
and ``out/report.json`` are written. Options: see ``auditor.live`` (``audit_*``).
Needs the ``auditor`` package installed in the Python environment that runs mitmproxy.
"""

from auditor.live import LiveAuditor

addons = [LiveAuditor()]
