"""Known values: the test account's identity and planted canaries, from a YAML file.

``auditor report --known known.yaml`` registers these values for cross-flow tracing before the
first exchange, as the academic traffic-analysis tools do with planted values: wherever they
turn up (plain, URL-encoded, base64, hex, md5/sha1/sha256 of the normalized form) is a finding.

.. code-block:: yaml

    email: jane.doe@example.org
    phone: "+1 202 555 0143"
    name: Jane Doe
    device_id: [b7e3c1a2-5d4f-4e6a-9c8b-1f2e3d4c5b6a, a1b2c3d4e5f60718]
    advertising_id: 38400000-8cf0-11bd-b23e-10b96e40000d
    prompt:
      - "canary: purple elephant 7421 in my tax return"

Keys are taxonomy category ids (``email``, ``phone``, ``person_name``, ``device_id``...), their
plurals, or the aliases below; a value is a string, a number or a list of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from auditor.errors import AuditorError

ALIASES = {
    "name": "person_name",
    "names": "person_name",
    "first_name": "person_name",
    "last_name": "person_name",
    "full_name": "person_name",
    "canary": "prompt",
    "canaries": "prompt",
    "prompts": "prompt",
    "ip": "ip_address",
    "dob": "date_of_birth",
    "birthday": "date_of_birth",
    "address": "postal_address",
    "user_id": "account_id",
    "password": "credential",
    "token": "credential",
    "api_key": "credential",
    "idfa": "advertising_id",
    "gaid": "advertising_id",
    "oaid": "advertising_id",
    "imei": "device_id",
    "android_id": "device_id",
}


class KnownError(AuditorError, ValueError):
    """The known-values file cannot be used (message is one line)."""


@dataclass(frozen=True, slots=True)
class KnownValue:
    category: str
    value: str
    key: str  # the key it was listed under in the file


def _categories() -> frozenset[str]:
    with resources.files("auditor").joinpath("data/taxonomy.json").open("rb") as fh:
        return frozenset(json.load(fh)["categories"])


def category_for(key: str) -> str | None:
    """The taxonomy category a file key stands for, or None."""
    k = key.strip().lower().replace("-", "_")
    cats = _categories()
    if k in cats:
        return k
    if k in ALIASES:
        return ALIASES[k]
    if k.endswith("s") and k[:-1] in cats:
        return k[:-1]
    return None


def parse_known(doc: object, source: str = "known values") -> list[KnownValue]:
    """Known values from a parsed YAML document (a mapping of key -> value or list)."""
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise KnownError(f"{source}: expected a mapping of category -> values, not {type(doc).__name__}")
    out: list[KnownValue] = []
    for key, raw in doc.items():
        cat = category_for(str(key))
        if cat is None:
            raise KnownError(
                f"{source}: unknown key {key!r} (use a category such as email, phone, person_name, device_id, prompt)"
            )
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            if item is None:
                continue
            if isinstance(item, (dict, list)):
                raise KnownError(f"{source}: {key}: values must be strings or numbers")
            text = str(item).strip()
            if text:
                out.append(KnownValue(cat, text, str(key)))
    return out


def load_known(path: str | Path) -> list[KnownValue]:
    """Read a known-values YAML file. Raises :class:`KnownError` with a one-line message."""
    from auditor.io import InputError, read_text

    p = Path(path)
    try:
        text = read_text(path, "known-values file")
    except InputError as e:
        raise KnownError(str(e)) from None
    try:
        doc = YAML(typ="safe", pure=True).load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KnownError(f"{p}: not valid YAML{where}") from None
    return parse_known(doc, str(p))
