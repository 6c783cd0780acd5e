"""``auditor browse URL``: audit a web AI chat in one command.

Starts the auditing proxy and a Chromium that trusts its CA, opens the page with the page
instrumentation in every frame (:mod:`auditor.page`), types a canary that is never submitted,
then each prompt with real key events, submits it, waits for the answer to settle, and writes
``capture.flows``, ``page-events.jsonl`` and the reports, like ``auditor run``.
"""
