"""The on-disk index of values to replace finds and replaces exactly what the in-memory matcher does."""

from __future__ import annotations

import os
import stat

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.redact.index import SpooledIndex
from auditor.redact.leftovers import LeftoverScanner, find_leftovers
from auditor.redact.matching import Matcher
from auditor.redact.substitution import Substituter, form_pairs

# Few letters, so keys overlap, share prefixes, and sit next to letters (the whole-token rule);
# non-ASCII letters and digits, and a lone surrogate, so text and its UTF-8 bytes differ.
ALPHABET = "ab1 .-éÄ٣\ud800"
keys_st = st.lists(st.text(ALPHABET, min_size=3, max_size=16), min_size=1, max_size=12, unique=True)


def texts_of(keys: list[str]) -> st.SearchStrategy[list[str]]:
    """Texts made of the keys, pieces of them and other characters."""
    piece = st.one_of(st.sampled_from(keys), st.sampled_from(keys).map(lambda k: k[1:]), st.text(ALPHABET, max_size=3))
    return st.lists(st.lists(piece, max_size=12).map("".join), min_size=1, max_size=4)


def _index(pairs: dict[str, str]) -> SpooledIndex:
    index = SpooledIndex()
    for k, v in pairs.items():
        index.add(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"), len(k))
    return index


@settings(max_examples=300, deadline=None)
@given(keys=keys_st, data=st.data())
def test_text_matches_the_in_memory_matcher(keys: list[str], data: st.DataObject) -> None:
    texts = data.draw(texts_of(keys))
    pairs = {k: f"<{i}>" for i, k in enumerate(keys)}
    matcher, index = Matcher(pairs, str), _index(pairs)
    try:
        for text in texts:
            got = index.sub(text.encode("utf-8", "surrogatepass"), text=True).decode("utf-8", "surrogatepass")
            assert got == matcher.sub(text)
        assert index.count == matcher.count
    finally:
        index.close()


@settings(max_examples=300, deadline=None)
@given(keys=keys_st, data=st.data())
def test_bytes_match_the_in_memory_matcher(keys: list[str], data: st.DataObject) -> None:
    texts = data.draw(texts_of(keys))
    pairs = {k.encode("utf-8", "surrogatepass"): b"<%d>" % i for i, k in enumerate(keys)}
    matcher = Matcher(pairs, bytes)
    index = SpooledIndex()
    for k, v in pairs.items():
        index.add(k, v)
    try:
        for text in texts:
            raw = text.encode("utf-8", "surrogatepass")
            assert index.sub(raw) == matcher.sub(raw)
            found = [(start, raw[start:end]) for start, end, _ in index.finditer(raw, overlapping=True)]
            assert found == list(matcher.finditer(raw, overlapping=True))
    finally:
        index.close()


def test_first_value_of_a_key_stays() -> None:
    index = SpooledIndex()
    try:
        assert index.add(b"secret-value", b"first")
        assert not index.add(b"secret-value", b"second")
        assert index.add(b"secret-value-2", b"longer")
        assert len(index) == 2 and index.longest == len(b"secret-value-2")
        assert index.sub(b"[secret-value] [secret-value-2]") == b"[first] [longer]"
        assert index.count == 2
    finally:
        index.close()


def test_forms_are_the_in_memory_pairs() -> None:
    """The Substituter's index holds every form of :func:`form_pairs`, each with its placeholder."""
    mapping = {"jane.doe@example.org": "kxqz.abc@abcdefghij.invalid", "Jane Doe": "Qmzx Abc", "a/b c": "x/y z"}
    sub = Substituter(mapping)
    try:
        pairs = form_pairs(mapping)
        assert sub.index.size == len(pairs)
        for form, repl in pairs.items():
            assert sub.text(f"<{form}>", depth=99) == f"<{repl}>"
    finally:
        sub.close()


def test_index_file_is_owner_only_and_removed() -> None:
    index = SpooledIndex()
    index.add(b"jane.doe@example.org", b"x")
    mode = os.fstat(index._fd).st_mode
    assert stat.S_IMODE(mode) & 0o077 == 0
    assert os.fstat(index._fd).st_nlink == 0  # unlinked: nothing is left behind
    index.close()
    assert index._file.closed


def test_leftover_scanner_finds_every_value() -> None:
    values = ["jane.doe@example.org", "Jane", "+4915112345678"]
    data = b"x Jane y amFuZS5kb2VAZXhhbXBsZS5vcmc z"  # a name, and the e-mail in base64
    scanner = LeftoverScanner(values)
    try:
        assert scanner.scan(data) == {"Jane", "jane.doe@example.org"}
    finally:
        scanner.close()
    assert find_leftovers(data, values) == ["jane.doe@example.org", "Jane"]
    assert find_leftovers(b"Janet", ["Jane"]) == []  # short values: whole tokens only
