"""What a web page does beside what it sends: fingerprinting, keylogging, session replay,
third-party cookies and ad pixels, from the page's own events (``page-events.jsonl``, written
by ``auditor browse``) and the exchanges of its capture."""

# The behaviours a page section reports, also the policy keys that deny them (``keylogging: true``).
BEHAVIOURS: tuple[str, ...] = ("keylogging", "session_replay", "fingerprinting", "third_party_cookies", "pixels")
