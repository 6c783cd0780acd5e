"""Policy files for the CI gate: which findings a build must not contain.

A policy is a YAML file (``version: 1``) with a list of rules. A rule *denies* every finding of
the report document that matches all of its selectors, except those matching one of its
``allow`` entries. The selectors::

    categories  data categories (taxonomy ids: email, prompt, credential...)
    countries   ISO 3166-1 alpha-2 codes or the groups EU, EEA, adequacy, non-adequate, unknown
    party       first, third, unknown, platform (the browser's or OS's own traffic)
    cleartext   true: the request went over http:// or ws://
    hosts       glob patterns (fnmatch) on the destination host
    owners      owner or parent company names (case-insensitive, globs allowed)
    services    destination service categories (analytics, crash_reporting..., or unknown)
    undeclared  true: the finding's data type is not in the store labels given with --declared

A rule can also deny what a web page did (the ``page`` section of an ``auditor browse``
session): ``keylogging``, ``session_replay``, ``fingerprinting``, ``third_party_cookies`` and
``pixels`` (each ``true``), optionally narrowed by ``party``, ``countries``, ``hosts``, ``owners`` or
``services`` of the host involved. A rule with none of these keys only matches findings.

(``category``, ``country``, ``host``, ``owner`` and ``service`` are accepted as spellings too.)

Countries are the owner's country and the registry country of every server address. A deny
selector matches when *any* of them is listed; an allow entry only when *every* one is (so
``allow: [{countries: [EU]}]`` does not exempt a US owner with a server in Germany).

A top-level ``first_party:`` (a host, domain or owner name, or a list of them) names the app
itself, like ``--first-party`` (which wins when both are given).

Errors in a policy file raise :class:`PolicyError` with one line naming the file and the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import dpf, jurisdictions
from ..page import BEHAVIOURS
from ..spool import RecordSpool

if TYPE_CHECKING:
    from ..baseline import BaselineViolation
    from ..labels.judge import LabelsResult

POLICY_VERSION = 1
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
PARTIES: tuple[str, ...] = ("first", "third", "unknown", "platform")
SELECTOR_KEYS: tuple[str, ...] = ("categories", "countries", "party", "cleartext", "hosts", "owners", "services", "undeclared")
RULE_KEYS: tuple[str, ...] = ("id", "description", "severity", "deny", "allow")
BASELINE_KEYS: tuple[str, ...] = ("severity", "allow")
TOP_KEYS: tuple[str, ...] = ("version", "rules", "baseline", "labels", "first_party")
# ``labels:`` sets the severity of the built-in ``labels`` rule of ``check --declared``.
LABELS_SEVERITIES: dict[str, str] = {"error": "error", "warning": "warning", "warn": "warning", "info": "info"}
SELECTOR_ALIASES: dict[str, str] = {
    "category": "categories",
    "country": "countries",
    "host": "hosts",
    "owner": "owners",
    "service": "services",
}
COUNTRY_GROUPS: tuple[str, ...] = ("EU", "EEA", "adequacy", "non-adequate", "unknown")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")


class PolicyError(ValueError):
    """A policy file that cannot be used. ``str()`` is one line: ``FILE:LINE: message``."""


@cache
def known_categories() -> tuple[str, ...]:
    """The data category ids of ``data/taxonomy.json``."""
    with resources.files("auditor").joinpath("data/taxonomy.json").open("rb") as fh:
        return tuple(json.load(fh)["categories"])


@cache
def known_services() -> tuple[str, ...]:
    """The destination service categories of the report schema, plus ``unknown`` (no category)."""
    with resources.files("auditor").joinpath("schema/audit-v1.schema.json").open("rb") as fh:
        enum = json.load(fh)["$defs"]["destination"]["properties"]["category"]["enum"]
    return (*(s for s in enum if s), "unknown")


# --------------------------------------------------------------------------------------------
# The policy model


@dataclass(frozen=True)
class Selector:
    """Conditions on a finding and its destination; ``None`` means "not given"."""

    categories: frozenset[str] | None = None
    countries: tuple[str, ...] | None = None
    party: frozenset[str] | None = None
    cleartext: bool | None = None
    hosts: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None
    services: frozenset[str] | None = None
    behaviours: frozenset[str] | None = None  # what a web page did (BEHAVIOURS)
    undeclared: bool | None = None
    line: int = 0

    def is_empty(self) -> bool:
        return all(getattr(self, k) is None for k in SELECTOR_KEYS) and self.behaviours is None

    def matches(self, facts: Facts, *, every_country: bool = False) -> bool:
        """Whether every given selector matches ``facts``.

        ``every_country``: the countries selector needs all of the destination's countries listed
        (allow entries) instead of any one of them (deny selectors).
        """
        if self.categories is not None:
            if facts.category is not None:
                if facts.category not in self.categories:
                    return False
            elif facts.categories is None or not facts.categories <= self.categories:
                return False  # a destination matches when it receives nothing but these categories
        if self.behaviours is not None and facts.behaviour not in self.behaviours:
            return False
        if self.party is not None and facts.party not in self.party:
            return False
        if self.cleartext is not None and facts.cleartext != self.cleartext:
            return False
        if self.services is not None and (facts.service or "unknown") not in self.services:
            return False
        if self.hosts is not None and not any(fnmatchcase(facts.host, p) for p in self.hosts):
            return False
        if self.owners is not None and not any(fnmatchcase(n, p) for p in self.owners for n in facts.owner_names):
            return False
        if self.countries is not None and not _countries_match(
            self.countries, facts.countries, every_country, dpf.is_participant(facts.owner_names)
        ):
            return False
        if self.undeclared is not None and facts.undeclared != self.undeclared:
            return False
        return True

    def describe(self) -> str:
        """A compact one-line form: ``countries: CN; party: third``."""
        parts = []
        for key in SELECTOR_KEYS:
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool):
                parts.append(f"{key}: {'true' if value else 'false'}")
            else:
                items = sorted(value) if isinstance(value, frozenset) else list(value)
                parts.append(f"{key}: {', '.join(items)}")
        parts.extend(f"{b}: true" for b in sorted(self.behaviours or ()))
        return "; ".join(parts) or "(everything)"


@dataclass(frozen=True)
class Rule:
    id: str
    deny: Selector
    allow: tuple[Selector, ...] = ()
    severity: str = "error"
    description: str | None = None
    line: int = 0

    def denies(self, facts: Facts) -> bool:
        """Whether this rule reports ``facts`` as a violation."""
        if facts.behaviour is not None and self.deny.behaviours is None:
            return False  # a rule about findings says nothing of what the page did
        return self.deny.matches(facts) and not any(a.matches(facts, every_country=True) for a in self.allow)


@dataclass(frozen=True)
class BaselineSettings:
    """How baseline changes are judged: their severity and the changes allowed anyway."""

    severity: str = "error"
    allow: tuple[Selector, ...] = ()


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    baseline: BaselineSettings = field(default_factory=BaselineSettings)
    version: int = POLICY_VERSION
    path: str = "<policy>"
    labels: str = "error"  # severity of the built-in labels rule (check --declared)

    def rules_needing_declarations(self) -> list[str]:
        """Ids of the rules that select ``undeclared`` data (they need ``--declared``)."""
        return [r.id for r in self.rules if r.deny.undeclared is not None or any(a.undeclared is not None for a in r.allow)]
    first_party: tuple[str, ...] = ()  # the app itself, named in the policy file


# --------------------------------------------------------------------------------------------
# What a selector is matched against


@dataclass(frozen=True)
class Facts:
    """What is known of one finding (or destination, when ``category`` is None)."""

    host: str
    category: str | None = None
    countries: frozenset[str] = frozenset()
    party: str = "unknown"
    cleartext: bool = False
    owner_names: tuple[str, ...] = ()
    service: str | None = None
    categories: frozenset[str] | None = None  # a destination's data categories (baseline checks)
    behaviour: str | None = None  # for what a web page did: keylogging, fingerprinting...
    undeclared: bool = False  # the finding's data type is undeclared in a store label (--declared)


def destination_countries(dest: dict[str, Any] | None) -> frozenset[str]:
    """The owner's country and the registry country of each server address of a destination."""
    if not dest:
        return frozenset()
    out = set()
    owner = dest.get("owner") or {}
    if owner.get("country"):
        out.add(str(owner["country"]).upper())
    for c in dest.get("server_countries") or ():
        if c:
            out.add(str(c).upper())
    return frozenset(out)


def destination_facts(dest: dict[str, Any] | None, host: str) -> Facts:
    """The facts of a destination of the report document (``dest`` may be missing)."""
    if not dest:
        return Facts(host=host.lower())
    owner = dest.get("owner") or {}
    names = tuple(n.lower() for n in (owner.get("name"), owner.get("parent")) if n)
    return Facts(
        host=str(dest.get("host") or host).lower(),
        countries=destination_countries(dest),
        party=dest.get("party") or "unknown",
        cleartext=bool(dest.get("cleartext")),
        owner_names=names,
        service=dest.get("category"),
        categories=frozenset(dest.get("data_categories") or ()),
    )


def finding_cleartext(finding: dict[str, Any], dest: dict[str, Any] | None) -> bool:
    """Whether the request that carried a finding went unencrypted (http:// or ws://)."""
    url = (finding.get("request") or {}).get("url")
    if isinstance(url, str) and "://" in url:
        return url.split("://", 1)[0].lower() in ("http", "ws")
    return bool(dest and dest.get("cleartext"))


def finding_facts(finding: dict[str, Any], dest: dict[str, Any] | None, undeclared: bool = False) -> Facts:
    base = destination_facts(dest, finding.get("host", ""))
    return Facts(
        undeclared=undeclared,
        host=base.host,
        category=finding.get("category"),
        countries=base.countries,
        party=base.party,
        cleartext=finding_cleartext(finding, dest),
        owner_names=base.owner_names,
        service=base.service,
    )


def _adequate(country: str, participant: bool) -> bool:
    """In the adequacy group; a US recipient only when its owner is a Data Privacy Framework
    participant recorded in ``auditor/data/dpf.json``."""
    return jurisdictions.in_group(country, "adequacy") and (participant or not dpf.needs_participation(country))


def _country_in(country: str, item: str, participant: bool = False) -> bool:
    if item in ("EU", "EEA"):
        return jurisdictions.in_group(country, item)
    if item == "adequacy":
        return _adequate(country, participant)
    if item == "non-adequate":
        return not (any(jurisdictions.in_group(country, g) for g in ("EU", "EEA")) or _adequate(country, participant))
    return country == item


def _countries_match(items: tuple[str, ...], countries: frozenset[str], every: bool, participant: bool = False) -> bool:
    if not countries:
        return "unknown" in items
    hits = (any(_country_in(c, i, participant) for i in items if i != "unknown") for c in countries)
    return all(hits) if every else any(hits)


# --------------------------------------------------------------------------------------------
# Loading


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file. Raises :class:`PolicyError`."""
    from ..io import InputError, read_text

    name = str(path)
    try:
        text = read_text(path, "policy file")
    except InputError as e:
        raise PolicyError(str(e)) from None
    return parse_policy(text, name)


def parse_policy(text: str, name: str = "<policy>") -> Policy:
    """Parse and validate policy YAML text. Raises :class:`PolicyError`."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        root = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(str(e.problem or e.context or "syntax error").split())
        raise PolicyError(f"{name}:{line}: invalid YAML: {problem}") from None
    except YAMLError as e:
        raise PolicyError(f"{name}: invalid YAML: {' '.join(str(e).split())}") from None
    return _Parser(name).policy(root)


def _tag(node: Any) -> str:
    """A YAML node's resolved tag (``tag:yaml.org,2002:int``...), or ``""``."""
    return str(getattr(node, "tag", "") or "")


def _bare(node: Any, *kinds: str) -> bool:
    """Whether ``node`` is an unquoted scalar resolved to one of ``kinds`` (``bool``, ``int``...)."""
    return _tag(node).endswith(tuple(f":{k}" for k in kinds)) and not getattr(node, "style", None)


class _Parser:
    """Turns the composed YAML node tree into a :class:`Policy`, checking every key and type."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, node: Any, msg: str) -> PolicyError:
        line = node.start_mark.line + 1 if node is not None and getattr(node, "start_mark", None) else 1
        return PolicyError(f"{self.name}:{line}: {msg}")

    @staticmethod
    def kind(node: Any) -> str:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return "a mapping"
        if isinstance(node, SequenceNode):
            return "a list"
        tag = _tag(node)
        if tag.endswith(":null"):
            return "nothing (null)"
        if tag.endswith(":bool"):
            return f"the boolean {node.value}"
        if tag.endswith(":int") or tag.endswith(":float"):
            return f"the number {node.value}"
        return f"the string {node.value!r}"

    def mapping(
        self, node: Any, where: str, allowed: tuple[str, ...], aliases: tuple[str, ...] = ()
    ) -> dict[str, tuple[Any, Any]]:
        """``{key: (key_node, value_node)}``; unknown and repeated keys are errors (``aliases``
        are accepted too, but not suggested)."""
        from ruamel.yaml.nodes import MappingNode, ScalarNode

        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{where}: expected a mapping, got {self.kind(node)}")
        out: dict[str, tuple[Any, Any]] = {}
        for k, v in node.value:
            if not isinstance(k, ScalarNode):
                raise self.fail(k, f"{where}: keys must be plain names")
            key = str(k.value)
            if key == "<<":
                raise self.fail(k, f"{where}: merge keys (<<) are not supported")
            if key in out:
                raise self.fail(k, f"{where}: key {key!r} given twice")
            if key not in allowed and key not in aliases:
                hint = _closest(key, allowed)
                raise self.fail(
                    k,
                    f"{where}: unknown key {key!r}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; expected one of: {', '.join(allowed)}",
                )
            out[key] = (k, v)
        return out

    def string(self, node: Any, where: str) -> str:
        from ruamel.yaml.nodes import ScalarNode

        if not isinstance(node, ScalarNode) or _tag(node).endswith(":null") or _bare(node, "bool", "int", "float"):
            raise self.fail(node, f"{where}: expected a string, got {self.kind(node)}")
        return str(node.value)

    def strings(self, node: Any, where: str) -> list[tuple[str, Any]]:
        """A list of strings (a single string is a list of one), with each item's node."""
        from ruamel.yaml.nodes import ScalarNode, SequenceNode

        items = node.value if isinstance(node, SequenceNode) else [node]
        if isinstance(node, SequenceNode) and not items:
            raise self.fail(node, f"{where}: empty list (leave the key out instead)")
        out = []
        for i, item in enumerate(items):
            label = f"{where}[{i}]" if isinstance(node, SequenceNode) else where
            if not isinstance(item, ScalarNode) or _tag(item).endswith(":null") or _bare(item, "bool", "int", "float"):
                raise self.fail(item, f"{label}: expected a string, got {self.kind(item)}")
            value = str(item.value).strip()
            if not value:
                raise self.fail(item, f"{label}: empty string")
            out.append((value, item))
        return out

    def choice(self, node: Any, where: str, allowed: tuple[str, ...], fold: bool = True) -> frozenset[str]:
        out = set()
        lookup = {a.lower(): a for a in allowed} if fold else {a: a for a in allowed}
        for value, item in self.strings(node, where):
            key = value.lower() if fold else value
            if key not in lookup:
                hint = _closest(value, allowed)
                raise self.fail(
                    item,
                    f"{where}: unknown value {value!r}"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                    + f"; expected one of: {', '.join(allowed)}",
                )
            out.add(lookup[key])
        return frozenset(out)

    def boolean(self, node: Any, where: str) -> bool:
        from ruamel.yaml.nodes import ScalarNode

        if isinstance(node, ScalarNode) and _bare(node, "bool"):
            return str(node.value).lower() == "true"
        raise self.fail(node, f"{where}: expected true or false, got {self.kind(node)}")

    def countries(self, node: Any, where: str) -> tuple[str, ...]:
        groups = {g.lower(): g for g in COUNTRY_GROUPS}
        codes = jurisdictions.iso_codes()
        out: list[str] = []
        for value, item in self.strings(node, where):
            if value.lower() in groups:
                v = groups[value.lower()]
            elif value.upper() in codes:
                v = value.upper()
            else:
                raise self.fail(
                    item,
                    f"{where}: unknown country {value!r}; expected ISO 3166-1 alpha-2 codes (CN, US...) "
                    f"or a group: {', '.join(COUNTRY_GROUPS)}",
                )
            if v not in out:
                out.append(v)
        return tuple(out)

    def globs(self, node: Any, where: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.lower() for v, _ in self.strings(node, where)))

    def selector(self, node: Any, where: str, require: bool) -> Selector:
        given = self.mapping(node, where, SELECTOR_KEYS + BEHAVIOURS, tuple(SELECTOR_ALIASES))
        keys: dict[str, tuple[Any, Any]] = {}
        spelt: dict[str, str] = {}
        for name, (knode, vnode) in given.items():
            key = SELECTOR_ALIASES.get(name, name)
            if key in keys:
                raise self.fail(knode, f"{where}: {key!r} given twice (as {spelt[key]!r} and {name!r})")
            keys[key] = (knode, vnode)
            spelt[key] = name
        if require and not keys:
            raise self.fail(node, f"{where}: needs at least one selector ({', '.join(SELECTOR_KEYS)})")
        values: dict[str, Any] = {}
        for key, (_, v) in keys.items():
            at = f"{where}.{key}"
            if key == "categories":
                values[key] = self.choice(v, at, known_categories())
            elif key == "countries":
                values[key] = self.countries(v, at)
            elif key == "party":
                values[key] = self.choice(v, at, PARTIES)
            elif key == "cleartext":
                values[key] = self.boolean(v, at)
            elif key in ("hosts", "owners"):
                values[key] = self.globs(v, at)
            elif key == "services":
                values[key] = self.choice(v, at, known_services())
            elif key in BEHAVIOURS:
                if not self.boolean(v, at):
                    raise self.fail(v, f"{at}: only 'true' means something here (leave the key out otherwise)")
                values["behaviours"] = values.get("behaviours", frozenset()) | {key}
            elif key == "undeclared":
                values[key] = self.boolean(v, at)
        return Selector(line=node.start_mark.line + 1, **values)

    def allow(self, node: Any, where: str) -> tuple[Selector, ...]:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return (self.selector(node, where, require=True),)
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{where}: expected a list of selector mappings, got {self.kind(node)}")
        return tuple(self.selector(item, f"{where}[{i}]", require=True) for i, item in enumerate(node.value))

    def severity(self, node: Any, where: str) -> str:
        value = self.string(node, where).strip().lower()
        if value not in SEVERITIES:
            raise self.fail(node, f"{where}: unknown severity {value!r}; expected one of: {', '.join(SEVERITIES)}")
        return value

    def rule(self, node: Any, where: str, seen: dict[str, int]) -> Rule:
        keys = self.mapping(node, where, RULE_KEYS)
        if "id" not in keys:
            raise self.fail(node, f"{where}: missing 'id' (a short name for the rule)")
        rule_id = self.string(keys["id"][1], f"{where}.id").strip()
        if not _RULE_ID.match(rule_id):
            raise self.fail(
                keys["id"][1],
                f"{where}.id: {rule_id!r} is not a valid rule id (letters, digits and . _ : / -, at most 100)",
            )
        if rule_id in seen:
            raise self.fail(keys["id"][1], f"{where}.id: rule id {rule_id!r} already used on line {seen[rule_id]}")
        seen[rule_id] = node.start_mark.line + 1
        where = f"rule {rule_id!r}"
        if "deny" not in keys:
            raise self.fail(node, f"{where}: missing 'deny' (the selectors of the findings it forbids)")
        deny = self.selector(keys["deny"][1], f"{where}: deny", require=True)
        allow = self.allow(keys["allow"][1], f"{where}: allow") if "allow" in keys else ()
        severity = self.severity(keys["severity"][1], f"{where}: severity") if "severity" in keys else "error"
        description = self.string(keys["description"][1], f"{where}: description") if "description" in keys else None
        return Rule(
            id=rule_id,
            deny=deny,
            allow=allow,
            severity=severity,
            description=description,
            line=node.start_mark.line + 1,
        )

    def policy(self, root: Any) -> Policy:
        from ruamel.yaml.nodes import SequenceNode

        if root is None:
            raise PolicyError(f"{self.name}:1: empty policy file (expected 'version: 1' and 'rules:')")
        keys = self.mapping(root, "policy", TOP_KEYS)
        if "version" not in keys:
            raise self.fail(root, "policy: missing 'version' (write 'version: 1')")
        vnode = keys["version"][1]
        if not (_bare(vnode, "int") and str(vnode.value).strip() == str(POLICY_VERSION)):
            raise self.fail(vnode, f"version: expected {POLICY_VERSION}, got {self.kind(vnode)}")
        if "rules" not in keys:
            raise self.fail(root, "policy: missing 'rules' (a list of rules, each with an 'id' and a 'deny')")
        rnode = keys["rules"][1]
        if not isinstance(rnode, SequenceNode):
            raise self.fail(rnode, f"rules: expected a list of rules, got {self.kind(rnode)}")
        seen: dict[str, int] = {}
        rules = tuple(self.rule(item, f"rules[{i}]", seen) for i, item in enumerate(rnode.value))
        baseline = BaselineSettings()
        if "baseline" in keys:
            bkeys = self.mapping(keys["baseline"][1], "baseline", BASELINE_KEYS)
            baseline = BaselineSettings(
                severity=self.severity(bkeys["severity"][1], "baseline.severity") if "severity" in bkeys else "error",
                allow=self.allow(bkeys["allow"][1], "baseline.allow") if "allow" in bkeys else (),
            )
        labels = "error"
        if "labels" in keys:
            lnode = keys["labels"][1]
            value = self.string(lnode, "labels").strip().lower()
            if value not in LABELS_SEVERITIES:
                raise self.fail(lnode, f"labels: unknown severity {value!r}; expected one of: error, warn, info")
            labels = LABELS_SEVERITIES[value]
        first_party = tuple(v for v, _ in self.strings(keys["first_party"][1], "first_party")) if "first_party" in keys else ()
        return Policy(rules=rules, baseline=baseline, version=POLICY_VERSION, path=self.name, labels=labels, first_party=first_party)


def _closest(word: str, options: tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word.lower(), [o.lower() for o in options], n=1, cutoff=0.75)
    if not match:
        return None
    return next(o for o in options if o.lower() == match[0])


# --------------------------------------------------------------------------------------------
# Evaluation


@dataclass(frozen=True)
class Violation:
    """One finding a rule denies."""

    rule: str
    severity: str
    finding: dict[str, Any]
    destination: dict[str, Any] | None
    capture: str

    @property
    def request_ref(self) -> str:
        """``capture.flows#7``: the capture's file name and the request's index in it."""
        flow = self.finding.get("flow") or {}
        return f"{Path(self.capture).name}#{flow.get('index', '?')}"

    def short_ref(self, first: Violation) -> str:
        """``#7`` when in the same capture as ``first``, else the full reference."""
        if self.capture == first.capture:
            return f"#{(self.finding.get('flow') or {}).get('index', '?')}"
        return self.request_ref

    @property
    def group_key(self) -> tuple[str, str, str, str, str]:
        loc = self.finding.get("location") or {}
        return (
            self.finding.get("host", ""),
            self.finding.get("category", ""),
            loc.get("part", ""),
            loc.get("path", ""),
            self.finding.get("value_sha256", ""),
        )

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        flow = f.get("flow") or {}
        req = f.get("request") or {}
        d = self.destination or {}
        owner = d.get("owner") or {}
        return {
            "rule": self.rule,
            "severity": self.severity,
            "host": f.get("host"),
            "category": f.get("category"),
            "location": f.get("location"),
            "value": f.get("value"),
            "value_sha256": f.get("value_sha256"),
            "request": {
                "capture": self.capture,
                "capture_index": flow.get("capture"),
                "index": flow.get("index"),
                "id": flow.get("id"),
                "method": req.get("method"),
                "url": req.get("url"),
            },
            "owner": owner.get("name"),
            "countries": sorted(destination_countries(self.destination)),
            "party": d.get("party"),
            "cleartext": finding_cleartext(f, self.destination),
        }


# Violations kept per rule for the text, Markdown and JUnit outputs (each with its finding); the
# others are counted, and every violation goes to the JSON output through a spool on disk.
MAX_KEPT_VIOLATIONS = 1000


@dataclass
class RuleResult:
    rule: Rule
    violations: list[Violation] = field(default_factory=list)  # the first MAX_KEPT_VIOLATIONS
    count: int = 0  # every violation, kept or not
    records: RecordSpool = field(default_factory=RecordSpool)  # every violation's JSON

    def add(self, v: Violation) -> None:
        self.count += 1
        self.records.append(v.to_json())
        if len(self.violations) < MAX_KEPT_VIOLATIONS:
            self.violations.append(v)

    @property
    def unlisted(self) -> int:
        """Violations counted but not kept (they are in the JSON output)."""
        return self.count - len(self.violations)

    @property
    def failed(self) -> bool:
        """True when the rule has violations and its severity fails the build."""
        return bool(self.count) and self.rule.severity == "error"

    @property
    def status(self) -> str:
        if not self.count:
            return "passed"
        return "failed" if self.rule.severity == "error" else self.rule.severity


def evaluate(policy: Policy, doc: dict[str, Any], undeclared: frozenset[tuple[str, str]] = frozenset()) -> list[RuleResult]:
    """Match every finding of the report document against every rule. ``undeclared``: the
    (host, category) pairs whose data type no store label given declares."""
    dests = {d.get("host"): d for d in doc.get("destinations") or ()}
    captures = [c.get("path", "") for c in doc.get("captures") or ()]
    results = [RuleResult(rule) for rule in policy.rules]
    if not results:
        return results
    for f in doc.get("findings") or ():
        dest = dests.get(f.get("host"))
        facts = finding_facts(f, dest, (f.get("host"), f.get("category")) in undeclared)
        ci = (f.get("flow") or {}).get("capture", 0)
        capture = captures[ci] if isinstance(ci, int) and 0 <= ci < len(captures) else "capture"
        for r in results:
            if r.rule.denies(facts):
                r.add(Violation(r.rule.id, r.rule.severity, f, dest, capture))
    for det in (doc.get("page") or {}).get("detections") or ():
        host = str(det.get("host") or "")
        dest = dests.get(host)
        base = destination_facts(dest, host)
        facts = Facts(
            host=base.host,
            countries=base.countries,
            party=str(det.get("party") or base.party),
            owner_names=base.owner_names,
            service=base.service,
            behaviour=det.get("behaviour"),
        )
        for r in results:
            if r.rule.denies(facts):
                r.add(Violation(r.rule.id, r.rule.severity, page_finding(det), dest, captures[0] if captures else "capture"))
    return results


def page_finding(det: dict[str, Any]) -> dict[str, Any]:
    """A page detection in the shape of a finding, for violations and their renderers."""
    return {
        "host": det.get("host"),
        "category": f"page:{det.get('behaviour')}",
        "location": {"part": "page", "path": det.get("kind")},
        "value": det.get("detail"),
        "value_sha256": None,
        "flow": det.get("flow") or {},
        "request": det.get("request") or {"method": None, "url": det.get("script")},
    }


@dataclass
class CheckResult:
    """Everything ``auditor check`` decided: rule results and baseline changes."""

    policy: Policy
    doc: dict[str, Any]
    rules: list[RuleResult]
    baseline_path: str | None = None
    baseline: list[BaselineViolation] | None = None
    labels: LabelsResult | None = None  # the built-in labels rule (check --declared)

    @property
    def baseline_failed(self) -> bool:
        return bool(self.baseline) and self.policy.baseline.severity == "error"

    @property
    def labels_failed(self) -> bool:
        return self.labels is not None and self.labels.failed and self.policy.labels == "error"

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.rules) and not self.baseline_failed and not self.labels_failed

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_json(self) -> dict[str, Any]:
        baseline = None
        if self.baseline is not None:
            baseline = {
                "path": self.baseline_path,
                "severity": self.policy.baseline.severity,
                "passed": not self.baseline_failed,
                "violations": [b.to_json() for b in self.baseline],
            }
        return {
            "policy": self.policy.path,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "summary": {
                "rules": len(self.rules),
                "failed_rules": sum(1 for r in self.rules if r.failed),
                "violations": sum(r.count for r in self.rules),
                "baseline_violations": len(self.baseline or ()),
            },
            "rules": [
                {
                    "id": r.rule.id,
                    "description": r.rule.description,
                    "severity": r.rule.severity,
                    "deny": r.rule.deny.describe(),
                    "allow": [a.describe() for a in r.rule.allow],
                    "status": r.status,
                    "violations": r.records.value(),
                }
                for r in self.rules
            ],
            "baseline": baseline,
            "labels": None
            if self.labels is None
            else {"severity": self.policy.labels, "passed": not self.labels_failed, "summary": self.labels.to_json()["summary"]},
            "first_party": {k: (self.doc.get("first_party") or {}).get(k) for k in ("method", "guessed", "basis", "hosts")},
        }

    @property
    def first_party_text(self) -> str:
        """How the first party was decided, in one line (with a warning when it was guessed)."""
        fp = self.doc.get("first_party") or {}
        who = ", ".join(fp.get("owners") or fp.get("hosts") or ()) or "none"
        line = f"first party: {who} ({fp.get('basis') or 'not decided'})"
        if fp.get("guessed"):
            line += "\nwarning: the first party was guessed; name it with --first-party or first_party: in the policy"
        return line


def run_check(
    policy: Policy,
    doc: dict[str, Any],
    baseline_doc: dict[str, Any] | None = None,
    baseline_path: str | None = None,
    labels: LabelsResult | None = None,
) -> CheckResult:
    """Evaluate the policy's rules and, with a baseline report, the changes since it; with
    ``labels`` (the verdicts of ``--declared``), the built-in labels rule too."""
    undeclared: frozenset[tuple[str, str]] = frozenset()
    if labels is not None:
        from ..labels.judge import undeclared_pairs

        undeclared = undeclared_pairs(labels)
    result = CheckResult(policy=policy, doc=doc, rules=evaluate(policy, doc, undeclared), labels=labels)
    if baseline_doc is not None:
        from ..baseline import baseline_violations

        result.baseline_path = baseline_path
        result.baseline = baseline_violations(baseline_doc, doc, policy.baseline.allow)
    return result


# --------------------------------------------------------------------------------------------
# Text and Markdown output


def group_violations(violations: list[Violation]) -> list[list[Violation]]:
    """Violations grouped by value and place (host, category, part, path, value), in order."""
    groups: dict[tuple[str, str, str, str, str], list[Violation]] = {}
    for v in violations:
        groups.setdefault(v.group_key, []).append(v)
    return list(groups.values())


def _oneline(value: Any) -> str:
    s = "" if value is None else str(value)
    return "".join(c if c.isprintable() else " " for c in s)


def request_text(v: Violation) -> str:
    req = v.finding.get("request") or {}
    method = _oneline(req.get("method") or "")
    url = _oneline(req.get("url") or v.finding.get("host", ""))
    return f"{v.request_ref} {method} {url}".strip()


MAX_REFS = 8


def unlisted_text(n: int) -> str:
    """``"1,234 more violations (every one is in the --json output)"``."""
    return f"{n:,} more violation{'s' if n != 1 else ''} (every one is in the --json output)"


def render_text(result: CheckResult) -> str:
    """The console report: every violation with its rule, host, category, place and request."""
    from ..renderers.view import count

    s = result.doc.get("summary") or {}
    lines = [
        f"auditor check: policy {result.policy.path}: {count(s.get('exchanges', 0), 'request')}, "
        f"{count(s.get('destinations', 0), 'destination')}, {count(s.get('findings', 0), 'finding')}",
        result.first_party_text,
    ]
    for r in result.rules:
        n = r.count
        tag = {"passed": "PASS", "failed": "FAIL", "warning": "WARN", "info": "INFO"}[r.status]
        head = f"{tag} {r.rule.id} [{r.rule.severity}] deny {r.rule.deny.describe()}"
        lines.append(head + (f": {n} violation{'s' if n != 1 else ''}" if n else ""))
        for group in group_violations(r.violations):
            v = group[0]
            f = v.finding
            loc = f.get("location") or {}
            refs = ", ".join(x.short_ref(v) for x in group[1 : 1 + MAX_REFS])
            more = len(group) - 1 - MAX_REFS
            also = ""
            if len(group) > 1:
                also = f" (also {refs}{f' and {more} more' if more > 0 else ''})"
            lines.append(
                f"  - {_oneline(f.get('host'))}: {f.get('category')} at {loc.get('part')} "
                f"{_oneline(loc.get('path')) or '-'} = {_oneline(f.get('value'))!s} in {request_text(v)}{also}"
            )
        if r.unlisted:
            lines.append(f"  - and {unlisted_text(r.unlisted)}")
    if result.baseline is not None:
        n = len(result.baseline)
        status = "PASS" if not n else ("FAIL" if result.baseline_failed else result.policy.baseline.severity.upper()[:4])
        lines.append(
            f"{status} baseline {result.baseline_path}"
            + (f": {n} change{'s' if n != 1 else ''} not in the baseline" if n else ": nothing new")
        )
        for b in result.baseline:
            lines.append(f"  - {b.text()}")
    if result.labels is not None:
        from ..labels.render import labels_rule_lines

        lines += labels_rule_lines(result.labels, result.policy.labels)
    failed = [r for r in result.rules if r.failed]
    if result.passed:
        verdict = "passed"
    else:
        bits = []
        if failed:
            nv = sum(r.count for r in failed)
            bits.append(f"{len(failed)} rule{'s' if len(failed) != 1 else ''} violated ({nv} finding{'s' if nv != 1 else ''})")
        if result.baseline_failed:
            bits.append(f"{len(result.baseline or ())} new since the baseline")
        if result.labels_failed and result.labels is not None:
            bits.append(f"store labels: {result.labels.count('undeclared')} undeclared, {result.labels.count('mismatched')} mismatched")
        verdict = "FAILED: " + ", ".join(bits)
    lines.append(f"result: {verdict}")
    return "\n".join(lines) + "\n"


MARKDOWN_ROWS = 50


def render_markdown(result: CheckResult) -> str:
    """A Markdown summary for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""
    from ..renderers.markdown import md_code, md_escape
    from ..renderers.view import count

    s = result.doc.get("summary") or {}
    out = [
        f"## auditor check: {'✅ passed' if result.passed else '❌ failed'}",
        "",
        f"Policy {md_code(result.policy.path)} · {count(s.get('exchanges', 0), 'request')} · "
        f"{count(s.get('destinations', 0), 'destination')} · {count(s.get('findings', 0), 'personal-data finding')}",
        "",
        md_escape(result.first_party_text.replace("\n", " · ")),
        "",
    ]
    if result.rules:
        out += ["| Rule | Denies | Severity | Result | Violations |", "|---|---|---|---|---:|"]
        for r in result.rules:
            icon = {"passed": "✅ passed", "failed": "❌ failed", "warning": "⚠️ warning", "info": "ℹ️ info"}[r.status]
            out.append(
                f"| {md_code(r.rule.id)} | {md_escape(r.rule.deny.describe())} | {r.rule.severity} | {icon} | {r.count:,} |"
            )
        out.append("")
    for r in result.rules:
        if not r.violations:
            continue
        groups = group_violations(r.violations)
        out += [
            f"### {md_escape(r.rule.id)}: {r.count:,} violation{'s' if r.count != 1 else ''}",
            "",
        ]
        if r.rule.description:
            out += [md_escape(r.rule.description), ""]
        out += ["| Host | Category | Where | Value | Requests |", "|---|---|---|---|---|"]
        for group in groups[:MARKDOWN_ROWS]:
            v = group[0]
            f = v.finding
            loc = f.get("location") or {}
            req = f.get("request") or {}
            first = f"{v.request_ref} {req.get('method') or ''} {req.get('url') or ''}".strip()
            extra = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
            out.append(
                f"| {md_code(f.get('host'))} | {md_escape(f.get('category'))} | "
                f"{md_code(str(loc.get('part')) + ' ' + str(loc.get('path') or ''))} | {md_code(f.get('value'))} | "
                f"{md_code(first)}{extra} |"
            )
        if len(groups) > MARKDOWN_ROWS:
            out.append(f"\n…and {len(groups) - MARKDOWN_ROWS:,} more (see the JSON output).")
        if r.unlisted:
            out.append(f"\n…and {md_escape(unlisted_text(r.unlisted))}.")
        out.append("")
    if result.baseline is not None:
        out += [f"### Baseline {md_code(result.baseline_path)}", ""]
        if not result.baseline:
            out += ["Nothing new since the baseline.", ""]
        else:
            out += ["| Change | Host | Category | Country | Detail |", "|---|---|---|---|---|"]
            for b in result.baseline[:MARKDOWN_ROWS]:
                out.append(
                    f"| {b.kind.replace('_', ' ')} | {md_code(b.host or '')} | {md_escape(b.category or '')} | "
                    f"{md_escape(b.country or '')} | {md_escape(b.detail)} |"
                )
            if len(result.baseline) > MARKDOWN_ROWS:
                out.append(f"\n…and {len(result.baseline) - MARKDOWN_ROWS} more (see the JSON output).")
            out.append("")
    if result.labels is not None:
        from ..labels.render import render_markdown as labels_markdown

        out += [labels_markdown(result.labels.to_json()).strip(), ""]
    out.append(f"<sub>auditor {md_escape((result.doc.get('generator') or {}).get('version', ''))} · values masked</sub>")
    return "\n".join(out) + "\n"
