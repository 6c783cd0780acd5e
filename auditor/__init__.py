"""auditor: which personal data does an AI chat app send, to whom, and under which jurisdiction.

The library behind the ``auditor`` command and the mitmproxy addons. Importing it never touches
the network: the public suffix list and the IP registry data ship with the installed packages.
Importing it changes nothing in the host process (no environment variables): the pytest plugin
imports it wherever auditor is installed.
"""

__version__ = "0.2.1"

__all__ = ["__version__"]
