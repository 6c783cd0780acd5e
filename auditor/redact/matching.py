"""Finding many values at once in text or bytes: the longest registered key at each position.

A :class:`Matcher` compiles its keys into one regex over their first characters (factored as
a trie), then checks the candidates of each prefix exactly, longest first (one set lookup per
key length). Keys shorter than
:data:`SHORT` only match between non-alphanumeric characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["MIN_LENGTH", "SHORT", "Matcher"]

MIN_LENGTH = 3  # shorter values are not replaced (too likely to hit unrelated text)
SHORT = 6  # values shorter than this are only replaced between non-alphanumeric characters


class Matcher:
    """Finds the longest registered key at each position: a prefix regex, then exact checks."""

    PREFIX = 12

    def __init__(self, pairs: dict[Any, Any], kind: type) -> None:
        self.kind = kind
        self.pairs = pairs
        # prefix -> the keys that start with it, by length, longest first: (length, keys)
        self.by_prefix: dict[Any, list[tuple[int, set[Any]]]] = {}
        groups: dict[Any, dict[int, set[Any]]] = {}
        for k in pairs:
            groups.setdefault(k[: self.PREFIX], {}).setdefault(len(k), set()).add(k)
        for prefix, by_length in groups.items():
            self.by_prefix[prefix] = sorted(by_length.items(), reverse=True)
        self.prefix_lengths = sorted({len(p) for p in self.by_prefix}, reverse=True)
        self.regex = re.compile(_trie_regex(list(self.by_prefix), kind)) if pairs else None
        self.count = 0

    def _alnum(self, text: Any, i: int) -> bool:
        if i < 0 or i >= len(text):
            return False
        c = text[i]
        if self.kind is bytes:
            return bool((48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122))
        return bool(c.isalnum())

    def finditer(self, text: Any, max_len: int | None = None, overlapping: bool = False) -> Iterable[tuple[int, Any]]:
        """``(start, key)`` of the longest key at each place, left to right (not overlapping
        unless ``overlapping``)."""
        if self.regex is None or not text:
            return
        search_at = 0
        n = len(text)
        while search_at < n:
            m = self.regex.search(text, search_at)
            if m is None:
                return
            start = m.start()
            hit = None
            for plen in self.prefix_lengths:
                if plen > m.end() - start:
                    continue
                for length, keys in self.by_prefix.get(text[start : start + plen], ()):
                    if max_len is not None and length > max_len:
                        continue
                    piece = text[start : start + length]
                    if piece in keys and (
                        length >= SHORT or not (self._alnum(text, start - 1) or self._alnum(text, start + length))
                    ):
                        hit = piece
                        break
                if hit is not None:
                    break
            if hit is None:
                search_at = start + 1
                continue
            yield start, hit
            search_at = start + 1 if overlapping else start + len(hit)

    def sub(self, text: Any) -> Any:
        """``text`` with every key replaced by its value."""
        out = []
        pos = 0
        for start, key in self.finditer(text):
            out.append(text[pos:start])
            out.append(self.pairs[key])
            self.count += 1
            pos = start + len(key)
        if not out:
            return text
        out.append(text[pos:])
        return self.kind().join(out)


def _trie_regex(words: list[Any], kind: type) -> Any:
    """A regex matching any of ``words``, longest first, factored as a trie."""
    end = object()
    root: dict[Any, Any] = {}
    for w in words:
        node = root
        for i in range(len(w)):
            node = node.setdefault(w[i : i + 1], {})
        node[end] = True

    def build(node: dict[Any, Any]) -> Any:
        alts = []
        for ch in sorted(k for k in node if k is not end):
            lit = ch
            sub = node[ch]
            while len(sub) == 1 and end not in sub:
                ((c2, s2),) = sub.items()
                lit += c2
                sub = s2
            alts.append(re.escape(lit) + build(sub))
        if not alts:
            return kind()
        syntax: tuple[Any, Any, Any, Any] = (b"|", b"(?:", b")", b"?") if kind is bytes else ("|", "(?:", ")", "?")
        sep, op, cl, q = syntax
        body = alts[0] if len(alts) == 1 and end not in node else op + sep.join(alts) + cl
        return body + q if end in node else body

    return build(root)
