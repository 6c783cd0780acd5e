from __future__ import annotations

import pytest

from auditor.audit.masking import mask, mask_url, sha256


@pytest.mark.parametrize(
    "category, value, masked",
    [
        ("email", "leo@example.org", "le***@ex***.org"),
        ("email", "a@b.io", "***@***.io"),
        ("phone", "+44 7700 900123", "+** **** ****23"),
        ("payment_card", "4111 1111 1111 1234", "**** **** **** 1234"),
        ("credential", "sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-proj-***"),
        ("credential", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.sig", "eyJ***"),
        ("credential", "hunter2", "***"),
        ("credential", "averylongsessionvalue", "av***"),
        ("prompt", "My landlord is evicting me", "My ***(26 chars)".replace("***(", "*** (")),
        ("prompt", "hi", "h*** (2 chars)"),
        ("device_id", "abcd", "***"),
        ("device_id", "a1b2c3d4e5f6", "a1***"),
    ],
)
def test_mask(category: str, value: str, masked: str) -> None:
    assert mask(category, value) == masked


def test_masks_never_contain_the_value() -> None:
    for cat in ("email", "phone", "credential", "prompt", "device_id", "account_id"):
        v = "jane.doe+secret-9876543210@example.org"
        assert v not in mask(cat, v)


def test_mask_url() -> None:
    url = "https://api.example.com/u/jane%40example.org/profile?email=jane%40example.org&debug"
    assert mask_url(url, ["jane@example.org"]) == "https://api.example.com/u/***/profile?email=***&debug"


def test_sha256() -> None:
    assert sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
