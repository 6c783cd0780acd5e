"""NSS key log files (``SSLKEYLOGFILE``): the secrets that let a capture's TLS be decrypted.

Each line is ``LABEL <client_random hex> <secret hex>``; ``#`` starts a comment. The labels read
here are ``CLIENT_RANDOM`` (the TLS 1.2 master secret) and the TLS 1.3 / QUIC traffic secrets
``CLIENT_HANDSHAKE_TRAFFIC_SECRET``, ``SERVER_HANDSHAKE_TRAFFIC_SECRET``,
``CLIENT_TRAFFIC_SECRET_0`` and ``SERVER_TRAFFIC_SECRET_0``. Other well-formed labels (early
data, exporter secrets) are accepted and ignored; lines that are not of that shape are reported
with their line number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from auditor.errors import AuditorError

__all__ = ["KeyLog", "KeyLogError", "load_keylog"]

LABELS = frozenset(
    {
        "CLIENT_RANDOM",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    }
)
# Labels of the format that carry nothing this reader needs.
IGNORED = frozenset({"CLIENT_EARLY_TRAFFIC_SECRET", "EARLY_EXPORTER_SECRET", "EXPORTER_SECRET", "RSA"})
MAX_KEYLOG = 1 << 28  # a key log larger than this is not a key log
_LINE = re.compile(r"^([A-Z0-9_]+) ([0-9a-fA-F]{64}) ([0-9a-fA-F]{32,192})$")

Warn = Callable[[str], None]


class KeyLogError(AuditorError):
    """A key log cannot be read at all. ``str()`` is one line meant for the user."""


class KeyLog:
    """Secrets by client random, and which client randoms a connection asked for."""

    def __init__(self) -> None:
        self.secrets: dict[bytes, dict[str, bytes]] = {}
        self.used: set[bytes] = set()

    def __len__(self) -> int:
        return len(self.secrets)

    def add_text(self, text: str, source: str, warn: Warn | None = None) -> int:
        """Read key log lines; warn about malformed ones by line number. Returns lines read."""
        bad: list[int] = []
        n = 0
        for lineno, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = _LINE.match(line)
            if m is None or (m.group(1) not in LABELS and m.group(1) not in IGNORED):
                bad.append(lineno)
                continue
            label, random, secret = m.groups()
            if label in LABELS:
                self.secrets.setdefault(bytes.fromhex(random), {})[label] = bytes.fromhex(secret)
                n += 1
        if bad and warn is not None:
            shown = ", ".join(str(i) for i in bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            warn(f"{source}: {len(bad)} malformed key log line(s) ignored (line {shown})")
        return n

    def lookup(self, client_random: bytes) -> dict[str, bytes] | None:
        """The secrets logged for a connection, marking them used."""
        found = self.secrets.get(client_random)
        if found is not None:
            self.used.add(client_random)
        return found

    @property
    def unused(self) -> int:
        """Client randoms that had secrets but matched no connection."""
        return len(self.secrets.keys() - self.used)


def load_keylog(path: str | Path, keylog: KeyLog | None = None, warn: Warn | None = None) -> KeyLog:
    """Read a key log file. Raises :class:`KeyLogError` if it cannot be read or holds no secret."""
    keylog = keylog if keylog is not None else KeyLog()
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise KeyLogError(f"{name}: is a directory, not a key log")
        with open(p, "rb") as fh:
            raw = fh.read(MAX_KEYLOG + 1)
    except KeyLogError:
        raise
    except FileNotFoundError:
        raise KeyLogError(f"{name}: no such key log file") from None
    except PermissionError:
        raise KeyLogError(f"{name}: permission denied reading the key log") from None
    except OSError as e:
        raise KeyLogError(f"{name}: cannot read the key log ({e.strerror or e})") from None
    if len(raw) > MAX_KEYLOG:
        raise KeyLogError(f"{name}: larger than {MAX_KEYLOG >> 20} MiB, not a key log")
    if b"\x00" in raw[:4096]:
        raise KeyLogError(f"{name}: binary data, not an NSS key log (lines of LABEL CLIENT_RANDOM SECRET)")
    text = raw.decode("utf-8", "replace")
    held: list[str] = []
    if keylog.add_text(text, p.name, held.append) == 0:
        raise KeyLogError(
            f"{name}: no TLS secrets in it "
            "(expected NSS key log lines such as CLIENT_RANDOM ... or CLIENT_TRAFFIC_SECRET_0 ...)"
        )
    for message in held:
        if warn is not None:
            warn(message)
    return keylog
