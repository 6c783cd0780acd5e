"""The bytes of ``capture.flows``: mitmproxy's tnetstring encoding of flow states, faster."""

from __future__ import annotations

from typing import Any

from mitmproxy.io import tnetstring


def tnetstring_dumps(value: Any) -> bytes:
    """``mitmproxy.io.tnetstring.dumps`` with the same bytes, about twice as fast (flow states
    are written on the proxy's process, so this is part of what the addon costs)."""
    out: list[bytes] = []
    _tn(value, out)
    return out[0]


def _tn(value: Any, out: list[bytes]) -> None:
    t = type(value)
    if t is bytes:
        out.append(b"%d:%s," % (len(value), value))
    elif t is str:
        data = value.encode()
        out.append(b"%d:%s;" % (len(data), data))
    elif t is dict:
        parts: list[bytes] = []
        for k, v in reversed(value.items()):  # mitmproxy writes dict items last first
            _tn(k, parts)
            _tn(v, parts)
        body = b"".join(parts)
        out.append(b"%d:%s}" % (len(body), body))
    elif t is list or t is tuple:
        parts = []
        for item in value:
            _tn(item, parts)
        body = b"".join(parts)
        out.append(b"%d:%s]" % (len(body), body))
    elif value is None:
        out.append(b"0:~")
    elif value is True:
        out.append(b"4:true!")
    elif value is False:
        out.append(b"5:false!")
    elif t is int:
        data = b"%d" % value
        out.append(b"%d:%s#" % (len(data), data))
    elif t is float:
        data = repr(value).encode()
        out.append(b"%d:%s^" % (len(data), data))
    else:  # subclasses and anything else: mitmproxy's own encoder
        out.append(tnetstring.dumps(value))
