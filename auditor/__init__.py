"""auditor: which personal data does an AI chat app send, to whom, and under which jurisdiction.

The library behind the ``auditor`` command and the mitmproxy addons. Importing it never touches
the network: the public suffix list and the IP registry data ship with the installed packages.
"""

import os as _os

# tldextract must never try to download the public suffix list; this has to be set before any
# module imports tldextract.
_os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

__version__ = "0.1.0"

__all__ = ["__version__"]
