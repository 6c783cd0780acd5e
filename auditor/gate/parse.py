"""Reading policy files: YAML text to a checked :class:`~auditor.gate.model.Policy`.

Every key and type is checked; an error is one :class:`~auditor.gate.model.PolicyError` line
naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.destinations import jurisdictions
from auditor.gate.model import (
    _RULE_ID,
    BASELINE_KEYS,
    COUNTRY_GROUPS,
    LABELS_SEVERITIES,
    PARTIES,
    POLICY_VERSION,
    RENAMED_SERVICES,
    RULE_KEYS,
    SELECTOR_ALIASES,
    SELECTOR_KEYS,
    SEVERITIES,
    TOP_KEYS,
    BaselineSettings,
    Policy,
    PolicyError,
    Rule,
    Selector,
    known_categories,
    known_services,
)
from auditor.page import BEHAVIOURS


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file. Raises :class:`PolicyError`."""
    from auditor.io import InputError, read_text

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

    def choice(
        self, node: Any, where: str, allowed: tuple[str, ...], fold: bool = True, aliases: dict[str, str] | None = None
    ) -> frozenset[str]:
        """The values of a string or list node, each one of ``allowed`` (or an old name in ``aliases``)."""
        out = set()
        lookup = {a.lower(): a for a in allowed} if fold else {a: a for a in allowed}
        lookup.update({old: new for old, new in (aliases or {}).items() if new in allowed})
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
                values[key] = self.choice(v, at, known_services(), aliases=RENAMED_SERVICES)
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
        first_party: tuple[str, ...] = ()
        if "first_party" in keys:
            first_party = tuple(v for v, _ in self.strings(keys["first_party"][1], "first_party"))
        dpf_participants: tuple[str, ...] = ()
        if "dpf_participants" in keys:
            dpf_participants = tuple(v for v, _ in self.strings(keys["dpf_participants"][1], "dpf_participants"))
        return Policy(
            rules=rules,
            baseline=baseline,
            version=POLICY_VERSION,
            path=self.name,
            labels=labels,
            first_party=first_party,
            dpf_participants=dpf_participants,
        )


def _closest(word: str, options: tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word.lower(), [o.lower() for o in options], n=1, cutoff=0.75)
    if not match:
        return None
    return next(o for o in options if o.lower() == match[0])
