"""Label the real-SDK corpus: find where the planted values are on the wire.

An independent decoder (it does not import auditor): it reads each recorded capture with
mitmproxy's own reader, undoes the encodings itself (Content-Encoding, gzip/zlib/deflate by
their magic bytes, base64, latin-1 strings holding compressed bytes, lz-string, JWTs, JSON
inside strings, form and query strings, Sentry envelopes) and walks every part of each request
and response with auditor's path conventions (``messages[0].content``, ``authorization.bearer``,
``data.@base64.properties.token``). Every leaf holding a planted value (``planted.py``) gets a
label of that value's category. Values the SDKs make up themselves (anonymous and device ids,
event names, device attributes) are labelled by the rules in ``rules.py``, each citing what it
follows; rules for judgement calls mark their labels ``optional`` (acceptable either way).

``python label.py [--corpus DIR]`` rewrites ``DIR/labels.json`` from ``DIR/captures/*.flows``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import gzip
import json
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import planted  # noqa: E402
import rules  # noqa: E402

MAX_DEPTH = 40


@dataclass(frozen=True)
class Leaf:
    part: str
    path: str
    value: str
    key: str  # the last key name on the path ("" for list items and raw bodies)
    parents: tuple[str, ...]  # the key names on the path, outermost first
    code: bool = False  # part of a script, style sheet or HTML page


# ------------------------------------------------------------------------------------------
# decoders (written here, not borrowed from auditor)


def key_path(prefix: str, key: str) -> str:
    if key and key.isascii() and key[0] != "-" and key.replace("-", "_").isidentifier():
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key, ensure_ascii=False)}]"


def sub(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def b64(text: str) -> bytes | None:
    if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", text):
        return None
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def inflate(data: bytes) -> tuple[str, bytes] | None:
    """(step name, bytes) for gzip, zlib or zstd data recognised by its magic bytes."""
    try:
        if data[:2] == b"\x1f\x8b":
            return "@gzip", gzip.decompress(data)
        if len(data) > 2 and data[0] == 0x78 and (data[0] << 8 | data[1]) % 31 == 0:
            return "@zlib", zlib.decompress(data)
        if data[:4] == b"\x28\xb5\x2f\xfd":
            import zstandard

            return "@zstd", zstandard.ZstdDecompressor().decompress(data, max_output_size=64 << 20)
    except Exception:  # noqa: BLE001  (any decoder's error: the bytes are not in that format)
        return None
    return None


def stream_end(data: bytes, pos: int) -> tuple[str, bytes, int] | None:
    """A gzip or zlib stream starting at ``pos``: (step name, inflated bytes, end offset)."""
    head = data[pos:pos + 2]
    if head == b"\x1f\x8b":
        step, d = "@gzip", zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif len(head) == 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        step, d = "@zlib", zlib.decompressobj()
    else:
        return None
    try:
        out = d.decompress(data[pos:], 64 << 20)
    except zlib.error:
        return None
    if not d.eof:
        return None
    return step, out, len(data) - len(d.unused_data)


_LZ_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def lz_decompress_base64(text: str) -> str | None:
    """lz-string's ``decompressFromBase64`` (the reference algorithm, transcribed)."""
    if not text or not re.fullmatch(r"[A-Za-z0-9+/=]+", text):
        return None
    index = {c: i for i, c in enumerate(_LZ_KEYS)}
    length, reset = len(text), 32
    data_val, data_pos, data_idx = index[text[0]], reset, 1
    dictionary: dict[int, str] = {0: "0", 1: "1", 2: "2"}
    enlarge, dict_size, num_bits = 4, 4, 3

    def bits(n: int) -> int:
        nonlocal data_val, data_pos, data_idx
        out, power, maxpower = 0, 1, 1 << n
        while power != maxpower:
            resb = data_val & data_pos
            data_pos >>= 1
            if data_pos == 0:
                data_pos = reset
                if data_idx >= length:
                    raise ValueError("end")
                data_val = index[text[data_idx]]
                data_idx += 1
            out |= (1 if resb > 0 else 0) * power
            power <<= 1
        return out

    try:
        kind = bits(2)
        if kind == 2:
            return ""
        c = chr(bits(8 if kind == 0 else 16))
        dictionary[3] = c
        w, result = c, [c]
        while True:
            if data_idx > length:
                return None
            cc = bits(num_bits)
            if cc in (0, 1):
                dictionary[dict_size] = chr(bits(8 if cc == 0 else 16))
                dict_size += 1
                cc = dict_size - 1
                enlarge -= 1
            elif cc == 2:
                return "".join(result)
            if enlarge == 0:
                enlarge = 1 << num_bits
                num_bits += 1
            if cc in dictionary:
                entry = dictionary[cc]
            elif cc == dict_size:
                entry = w + w[0]
            else:
                return None
            result.append(entry)
            dictionary[dict_size] = w + entry[0]
            dict_size += 1
            enlarge -= 1
            w = entry
            if enlarge == 0:
                enlarge = 1 << num_bits
                num_bits += 1
    except (ValueError, KeyError):
        return None


def json_container(text: str) -> Any:
    t = text.strip()
    if not t or t[0] not in "{[":
        return None
    try:
        obj = json.loads(t)
    except ValueError:
        return None
    return obj if isinstance(obj, dict | list) else None


def jwt_claims(value: str) -> Any:
    if not value.startswith("eyJ") or value.count(".") != 2:
        return None
    head, payload, _sig = value.split(".")
    h, p = b64(head), b64(payload)
    if h is None or p is None:
        return None
    try:
        header = json.loads(h)
        return json.loads(p) if isinstance(header, dict) and "alg" in header else None
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------
# walking


class Walker:
    def __init__(self, part: str) -> None:
        self.part = part
        self.leaves: list[Leaf] = []

    def leaf(self, path: str, value: str, keys: tuple[str, ...]) -> None:
        self.leaves.append(Leaf(self.part, path, value, keys[-1] if keys else "", keys))

    def json(self, obj: Any, path: str, keys: tuple[str, ...], depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                self.json(v, key_path(path, str(k)), (*keys, str(k)), depth + 1)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.json(v, f"{path}[{i}]", keys, depth + 1)
        elif isinstance(obj, str):
            if obj:
                self.string(path, obj, keys, depth)
        elif obj is None:
            return
        elif obj is True or obj is False:
            self.leaf(path, "true" if obj else "false", keys)
        else:
            self.leaf(path, repr(obj) if isinstance(obj, float) else str(obj), keys)

    def string(self, path: str, value: str, keys: tuple[str, ...], depth: int = 0, inline_json: bool = True) -> None:
        if inline_json:
            obj = json_container(value)
            if obj is not None:
                self.json(obj, path, keys, depth + 1)
                return
        # latin-1 strings holding compressed bytes (session replay payloads)
        if value[:2] in ("\x1f\x8b", "x\x9c", "x\x01", "x\xda", "x^") and all(ord(c) < 256 for c in value[:64]):
            raw = inflate(value.encode("latin-1", "replace"))
            if raw is not None:
                self.bytes_(sub(path, raw[0]), raw[1], keys, depth + 1)
                return
        self.leaf(path, value, keys)
        if len(value) < 16:
            return
        claims = jwt_claims(value)
        if claims is not None:
            self.json(claims, sub(path, "@jwt"), keys, depth + 1)
            return
        raw_b64 = b64(value)
        if raw_b64 is not None:
            obj = None
            with contextlib.suppress(UnicodeDecodeError):
                obj = json_container(raw_b64.decode("utf-8"))
            if obj is not None:
                self.json(obj, sub(path, "@base64"), keys, depth + 1)
                return
            raw = inflate(raw_b64)
            if raw is not None:
                self.bytes_(sub(sub(path, "@base64"), raw[0]), raw[1], keys, depth + 1)
                return
        lz = lz_decompress_base64(value) if len(value) >= 24 else None
        if lz:
            obj = json_container(lz)
            if obj is not None:
                self.json(obj, sub(path, "@lzstring"), keys, depth + 1)

    def bytes_(self, path: str, data: bytes, keys: tuple[str, ...], depth: int = 0, ctype: str = "") -> None:
        if not data or depth > MAX_DEPTH:
            return
        raw = inflate(data)
        if raw is not None:
            self.bytes_(sub(path, raw[0]), raw[1], keys, depth + 1)
            return
        mime = ctype.split(";")[0].strip().lower()
        if mime.startswith("multipart/"):
            m = re.search(r'boundary="?([^";]+)', ctype)
            if m:
                self.multipart(data, m.group(1), path, keys)
                return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if b"\n" in data and data.lstrip()[:1] == b"{":
                self.envelope(data, path, keys)
            return
        stripped = text.strip()
        if not stripped:
            return
        if mime == "text/event-stream" or stripped.startswith(("data:", "event:")):
            self.sse(text, path, keys)
            return
        obj = json_container(stripped)
        if obj is not None:
            self.json(obj, path, keys, depth)
            return
        if stripped[0] in "{[" and "\n" in stripped:
            self.envelope(data, path, keys)
            return
        if (mime == "application/x-www-form-urlencoded" or re.fullmatch(r"[^\s=&]+=[^\s&]*(&[^\s=&]+=[^\s&]*)*&?", stripped)) and "=" in stripped:
            for name, value in parse_qsl(stripped, keep_blank_values=True):
                if value:
                    self.string(sub(path, name), value, (*keys, name), depth + 1)
            return
        self.string(path, text, keys, depth, inline_json=False)

    def envelope(self, data: bytes, path: str, keys: tuple[str, ...]) -> None:
        """NDJSON and Sentry envelopes: the line starting at byte ``pos`` is ``[n]``, ``n`` being
        the number of newlines before ``pos``. A compressed item (a replay recording) runs to
        the end of its stream, newlines and all, and is inflated under ``[n].@zlib``."""
        pos, end = 0, len(data)
        while pos < end:
            p = f"{path}[{data.count(b'\n', 0, pos)}]"
            stream = stream_end(data, pos)
            if stream is not None:
                step, inflated, stop = stream
                self.bytes_(sub(p, step), inflated, keys, 1)
                pos = stop + 1 if stop < end and data[stop:stop + 1] == b"\n" else stop
                continue
            newline = data.find(b"\n", pos)
            stop = end if newline < 0 else newline
            raw = data[pos:stop].strip(b" \t\r\x1e")
            pos = stop + 1
            if not raw:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            obj = json_container(line)
            if obj is not None:
                self.json(obj, p, keys, 1)
            else:
                self.string(p, line, keys, 1, inline_json=False)

    def sse(self, text: str, path: str, keys: tuple[str, ...]) -> None:
        base, index, lines = sub(path, "sse"), 0, None
        for line in [*text.split("\n"), ""]:
            line = line.rstrip("\r")
            if not line:
                if lines is not None:
                    data = "\n".join(lines)
                    if data.strip() and data.strip() != "[DONE]":
                        self.string(f"{base}[{index}]", data, keys, 1)
                    index += 1
                    lines = None
                continue
            name, _sep, value = line.partition(":")
            if name == "data":
                value = value[1:] if value[:1] == " " else value
                lines = [value] if lines is None else [*lines, value]

    def multipart(self, data: bytes, boundary: str, path: str, keys: tuple[str, ...]) -> None:
        for i, chunk in enumerate(data.split(b"--" + boundary.encode())[1:]):
            if chunk.startswith(b"--"):
                break
            head, _, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
            content = content.removesuffix(b"\r\n")
            m = re.search(rb'name="([^"]*)"', head)
            name = m.group(1).decode() if m else None
            p = sub(path, name) if name is not None else f"{path}[{i}]"
            if b"filename=" in head:
                continue
            with contextlib.suppress(UnicodeDecodeError):
                self.string(p, content.decode("utf-8"), (*keys, name or ""), 1)

    def headers(self, fields: list[tuple[str, str]]) -> None:
        for raw_name, value in fields:
            name = raw_name.lower()
            if name == "cookie" or not value:
                continue
            if name == "set-cookie":
                cname, sep, cvalue = value.split(";", 1)[0].partition("=")
                if sep and cname.strip() and cvalue.strip():
                    self.string(f"set-cookie.{cname.strip()}", cvalue.strip().strip('"'), (name,), inline_json=False)
                continue
            self.string(name, value, (name,), inline_json=False)
            if name in ("authorization", "proxy-authorization"):
                scheme, _, cred = value.strip().partition(" ")
                cred = cred.strip()
                if not cred:
                    continue
                if scheme.lower() == "basic":
                    raw = b64(cred) if len(cred) >= 16 else base64.b64decode(cred + "==")
                    if raw is not None:
                        user, _, password = raw.decode("utf-8", "replace").partition(":")
                        if user:
                            self.leaf(f"{name}.basic.username", user, (name, "username"))
                        if password:
                            self.leaf(f"{name}.basic.password", password, (name, "password"))
                        continue
                self.string(f"{name}.{scheme.lower()}", cred, (name, scheme.lower()), inline_json=False)

    def cookies(self, header: str) -> None:
        for pair in header.split(";"):
            name, sep, value = pair.strip().partition("=")
            if sep and value:
                if value[:3].upper() in ("%7B", "%5B"):
                    obj = json_container(unquote(value))
                    if obj is not None:
                        self.json(obj, name, (name,))
                        continue
                self.string(name, value, (name,))

    def query(self, query: str) -> None:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if value:
                self.string(name, value, (name,))

    def path_segments(self, path: str) -> None:
        index = 0
        for segment in path.split("?", 1)[0].split("/"):
            if segment:
                decoded = unquote(segment)
                if decoded:
                    self.string(f"path[{index}]", decoded, ("path",))
                    index += 1


def walk_flow(flow: Any) -> Iterator[Leaf]:
    """Every leaf of a recorded HTTP flow, request and response."""
    req = flow.request
    for part, fill in (
        ("request.url", lambda w: w.path_segments(req.path)),
        ("request.query", lambda w: w.query(req.path.partition("?")[2])),
        ("request.header", lambda w: w.headers(list(req.headers.items(multi=True)))),
        ("request.cookie", lambda w: [w.cookies(v) for v in req.headers.get_all("cookie")]),
        ("request.body", lambda w: w.bytes_("", req.get_content(strict=False) or b"", (), 0, req.headers.get("content-type", ""))),
    ):
        w = Walker(part)
        fill(w)
        yield from w.leaves
    if flow.response is not None:
        resp = flow.response
        code = any(t in resp.headers.get("content-type", "") for t in ("javascript", "text/html", "text/css"))
        for part, fill in (
            ("response.header", lambda w: w.headers(list(resp.headers.items(multi=True)))),
            ("response.body", lambda w: w.bytes_("", resp.get_content(strict=False) or b"", (), 0, resp.headers.get("content-type", ""))),
        ):
            w = Walker(part)
            fill(w)
            for leaf in w.leaves:
                yield Leaf(leaf.part, leaf.path, leaf.value, leaf.key, leaf.parents, code and part == "response.body")


# ------------------------------------------------------------------------------------------
# matching


def _contains(leaf: str, value: str, words: bool) -> bool:
    if not words:
        return value in leaf
    return re.search(rf"(?<![\w.@-]){re.escape(value)}(?![\w@-]|\.\w)", leaf) is not None


# Planted values that are typed key by key (a session replay records every intermediate state).
_TYPED = (planted.EMAIL, planted.FULL_NAME, *planted.PROMPTS.values())


def planted_labels(leaf: Leaf) -> list[tuple[str, str, bool]]:
    """(category, value, optional) of the planted values this leaf holds."""
    if leaf.path in ("authorization", "proxy-authorization") and leaf.part.endswith("header"):
        return []  # labeled at authorization.bearer / .basic.* like the synthetic corpus
    if leaf.code:
        return []  # a script or page served to the browser: code, not data sent about anyone
    text = leaf.value.strip()
    for typed in _TYPED:  # half-typed: a judgement call, acceptable either way
        if len(text) >= 3 and typed != text and typed.startswith(text):
            category = "email" if typed == planted.EMAIL else "person_name" if typed == planted.FULL_NAME else "prompt"
            return [(category, text, True)]
    out: list[tuple[str, str, bool]] = []
    for category, values in planted.IDENTITY.items():
        for value in values:
            if _contains(leaf.value, value, category in ("person_name", "coarse_location", "usage_event", "precise_location")):
                if category == "coarse_location" and "address" in leaf.parents:
                    category = "postal_address"  # a city in an address object (labeling guide)
                # a name or a city inside other text (page text, a sentence): a judgement call
                loose = category in ("person_name", "coarse_location") and text not in values
                out.append((category, value, loose))
                break
    for prompt in planted.PROMPTS.values():
        if prompt in leaf.value:
            out.append(("prompt", prompt, False))
            break
    for name, key in planted.KEYS.items():
        if name != "sentry" and key in leaf.value:
            # a key inside a longer text (a script URL in a page snapshot) is a judgement call
            out.append(("credential", key, text != key))
            break
    return out


def label_capture(path: Path, group: str) -> list[dict[str, Any]]:
    from mitmproxy import http, io

    exchanges = []
    with path.open("rb") as fh:
        flows = [f for f in io.FlowReader(fh).stream() if isinstance(f, http.HTTPFlow)]
    state = rules.State(group)
    leaves_per_flow = [list(walk_flow(f)) for f in flows]
    for f, leaves in zip(flows, leaves_per_flow, strict=True):
        rules.collect(state, f, leaves)  # SDK-generated values seen anywhere in the capture
    for f, leaves in zip(flows, leaves_per_flow, strict=True):
        labels: dict[tuple[str, str, str], dict[str, Any]] = {}
        for leaf in leaves:
            found = [(c, v, o, "planted") for c, v, o in planted_labels(leaf)]
            found += rules.labels(state, f, leaf)
            soft = rules.softened(state, leaf)
            found = [(c, v, o or c in soft, src) for c, v, o, src in found]
            for category, value, optional, source in found:
                unit = (category, leaf.part, leaf.path)
                prev = labels.get(unit)
                if prev is not None and (prev.get("optional") is not True or optional):
                    continue
                lab: dict[str, Any] = {"category": category, "part": leaf.part, "path": leaf.path, "value": value, "source": source}
                if optional:
                    lab["optional"] = True
                labels[unit] = lab
        exchanges.append({
            "group": rules.group_of(group, f.request.host),
            "url": f.request.pretty_url[:300],
            "method": f.request.method,
            "labels": sorted(labels.values(), key=lambda d: (d["part"], d["path"], d["category"])),
        })
    return exchanges


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=HERE)
    args = ap.parse_args()
    captures = sorted((args.corpus / "captures").glob("*.flows"))
    if not captures:
        print(f"{args.corpus}/captures: no .flows captures", file=sys.stderr)
        return 2
    exchanges: list[dict[str, Any]] = []
    for cap in captures:
        for ex in label_capture(cap, cap.stem):
            ex["index"] = len(exchanges)
            exchanges.append({"index": ex.pop("index"), **ex})
    doc = {
        "about": "Labels of the real-SDK captures, written by corpus/real/label.py (see README.md).",
        "units": "(exchange index, category, part, path); exchanges are numbered across the captures in order",
        "captures": [str(c.relative_to(args.corpus)) for c in captures],
        "exchanges": exchanges,
    }
    (args.corpus / "labels.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    n = sum(len(e["labels"]) for e in exchanges)
    print(f"{len(captures)} captures, {len(exchanges)} exchanges, {n} labels -> {args.corpus / 'labels.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
