"""Labels for values the SDKs make up themselves (not planted): ids, event names, device facts.

Each rule names what it follows (the SDK's wire format, seen in the captures and in its
documentation). Labels of rules marked ``optional`` are judgement calls under the labeling
guide (``corpus/README.md``): acceptable either way. An id labelled by a rule is then labelled
wherever else its value travels in the same capture, as a planted value is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Label = tuple[str, str, bool, str]  # category, value, optional, source


@dataclass(frozen=True)
class Rule:
    groups: str  # regex on the capture's group (the SDK)
    part: str  # regex on the part
    path: str  # regex on the path (fullmatch)
    category: str
    optional: bool
    why: str
    track: bool = False  # an id: label its value wherever it appears in the capture


_ANALYTICS = r"(browser-)?(posthog|mixpanel|segment|amplitude)"
_ANY = r".*"

RULES: tuple[Rule, ...] = (
    # Stainless-generated clients (openai, anthropic, and SDKs built the same way) send the OS
    # and the CPU architecture in every request.
    Rule(_ANY, r"request\.header", r"x-stainless-os", "device_info", False, "Stainless client header: OS name"),
    Rule(_ANY, r"request\.header", r"x-stainless-arch", "device_info", False, "Stainless client header: CPU architecture"),
    # Fern-generated clients (cohere) send the OS name and kernel version.
    Rule(_ANY, r"request\.header", r"x-fern-platform", "device_info", False, "Fern client header: OS name and version"),
    # Analytics event names, the SDKs' own ones included ($identify, $pageview, ...): usage_event.
    Rule(r"(browser-)?posthog", r"request\.body", r".*batch\[\d+\]\.event|.*\bevent", "usage_event", False, "PostHog event name"),
    Rule(r"(browser-)?amplitude", r"request\.body", r"events\[\d+\]\.event_type", "usage_event", False, "Amplitude event_type"),
    Rule(r"(browser-)?mixpanel", r"request\.body", r"data(\[\d+\])?\.event", "usage_event", False, "Mixpanel event name"),
    Rule(r"(browser-)?segment", r"request\.body", r"(batch\[\d+\]\.)?event", "usage_event", False, "Segment track event name"),
    # Device facts the analytics SDKs add to every event: OS name and version.
    Rule(_ANALYTICS, r"request\.body", r'.*\["\$os"\]|.*\["\$os_version"\]|.*\.os_name|.*\.os_version|.*\.os\.(name|version)',
         "device_info", False, "OS name / version property"),
    Rule(_ANALYTICS, r"request\.body", r'.*\["\$os_distro"\]', "device_info", True, "Linux distribution name (an OS name, beside $os)"),
    # Sentry: the machine's host name (a device name, but the server's, not the user's).
    Rule(r"sentry", r"request\.body", r"(\[\d+\]\.)?server_name", "device_info", True, "Sentry server_name: host name of the machine"),
)

_COMPILED = [(r, re.compile(r.groups), re.compile(r.part), re.compile(r.path)) for r in RULES]


@dataclass
class State:
    group: str
    # SDK-made ids seen on the wire: value -> (category, optional, rule)
    values: dict[str, tuple[str, bool, str]] = field(default_factory=dict)


def _matching(group: str, leaf: Any) -> list[Rule]:
    return [r for r, g, part, path in _COMPILED if g.fullmatch(group) and part.fullmatch(leaf.part) and path.fullmatch(leaf.path)]


def collect(state: State, flow: Any, leaves: list[Any]) -> None:
    """Register the SDK-made ids of one exchange (rules with ``track``)."""
    for leaf in leaves:
        for rule in _matching(state.group, leaf):
            if rule.track and len(leaf.value) >= 8:
                state.values.setdefault(leaf.value, (rule.category, rule.optional, rule.why))


def labels(state: State, flow: Any, leaf: Any) -> list[Label]:
    """The labels of one leaf from the rules (planted values are matched elsewhere)."""
    out: list[Label] = [(r.category, leaf.value, r.optional, r.why) for r in _matching(state.group, leaf)]
    tracked = state.values.get(leaf.value)
    if tracked is not None:
        out.append((tracked[0], leaf.value, tracked[1], tracked[2]))
    return out
