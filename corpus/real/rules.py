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
    soften: bool = False  # make any label of this category here optional (planted ones too)


_ANALYTICS = r"(browser-)?(posthog|mixpanel|segment|amplitude)"
_BROWSER = r"browser-.*"
_ANY = r".*"
_KEY = r'(?:.*[.\]])?'  # any path prefix ending at a key


def _key(*names: str) -> str:
    """A path ending at one of these keys (plain ``.name`` or quoted ``["$name"]``)."""
    alts = "|".join(re.escape(n) for n in names)
    return rf'(?:.*\["(?:{alts})"\]|(?:.*[.\]])?(?:{alts}))'


RULES: tuple[Rule, ...] = (
    # Stainless-generated clients (openai, anthropic, and SDKs built the same way) send the OS
    # and the CPU architecture in every request.
    Rule(_ANY, r"request\.header", r"x-stainless-os", "device_info", False, "Stainless client header: OS name"),
    Rule(_ANY, r"request\.header", r"x-stainless-arch", "device_info", False, "Stainless client header: CPU architecture"),
    # Fern-generated clients (cohere) send the OS name and kernel version.
    Rule(_ANY, r"request\.header", r"x-fern-platform", "device_info", False, "Fern client header: OS name and version"),
    # Analytics event names, the SDKs' own ones included ($identify, $pageview, ...): usage_event.
    Rule(r"(browser-)?posthog", r"request\.body", _key("event"), "usage_event", False, "PostHog event name"),
    Rule(r"(browser-)?amplitude", r"request\.body", r"events\[\d+\]\.event_type", "usage_event", False, "Amplitude event_type"),
    Rule(r"(browser-)?mixpanel", r"request\.body", r"data(\[\d+\])?\.event", "usage_event", False, "Mixpanel event name"),
    Rule(r"(browser-)?segment", r"request\.body", r"(batch\[\d+\]\.)?event", "usage_event", False, "Segment track event name"),
    # Device facts: OS name and version, screen and viewport size, time zone, device model.
    Rule(_ANY, r"request\.body", _key("$os", "$os_version", "os_name", "os_version", "osName", "osVersion") + "|" + _KEY + r"os\.(name|version)",
         "device_info", False, "OS name / version"),
    Rule(_ANY, r"request\.body", _key("$os_distro"), "device_info", True, "Linux distribution name (an OS name, beside $os)"),
    Rule(_ANY, r"request\.body", _key("$screen_height", "$screen_width", "$viewport_height", "$viewport_width", "$screen_dpr"),
         "device_info", False, "screen and viewport size"),
    Rule(_ANY, r"request\.body", _key("$timezone", "timezone", "time_zone", "timeZone"), "device_info", False, "time zone"),
    Rule(_ANY, r"request\.body", _key("device_model", "device_manufacturer", "device_brand", "$device_model"), "device_info", False, "device model"),
    Rule(_ANY, r"request\.body", _key("$browser", "$browser_version", "browser_name", "browser_version") + "|" + _KEY + r"browser\.(name|version)",
         "device_info", True, "browser name / version (from the User-Agent)"),
    Rule(_ANALYTICS, r"request\.body", _key("$device_type", "platform", "$timezone_offset", "device_type", "mobile"), "device_info", True,
         "device type, platform, time zone offset"),
    Rule(r"browser-segment", r"request\.body", r"context\.userAgentData\..*", "device_info", True, "User-Agent client hints (brands, platform)"),
    # Chromium's component updater (update.googleapis.com) reports the OS, CPU and memory.
    Rule(_BROWSER, r"request\.body", r'request\.(arch|os\.(arch|platform|version)|\["@os"\]|hw\.physmemory)', "device_info", False,
         "Chromium update check: OS, CPU architecture, memory"),
    Rule(_BROWSER, r"request\.body", r"request\.(hw\.\w+|prodchannel|updaterchannel)", "device_info", True,
         "Chromium update check: CPU features, build channel naming the OS"),
    # Anonymous ids the SDKs make up: device_id wherever they travel (cookies, local copies).
    Rule(_BROWSER, r"request\.(body|cookie)", _key("$device_id", "device_id", "deviceId", "anonymousId", "$anon_distinct_id", "anonymous_id"),
         "device_id", False, "SDK-made anonymous / device id", track=True),
    Rule(_BROWSER, r"request\.cookie", r"ajs_anonymous_id", "device_id", False, "Segment anonymous id cookie", track=True),
    # A distinct id is the analytics id of the person, even while anonymous: account_id is a
    # judgement call there (the planted user id, once identified, is labelled account_id).
    Rule(_ANALYTICS, r"request\.(body|cookie)", _key("distinct_id", "$distinct_id", "$user_id", "user_id", "userId"), "account_id", True,
         "analytics distinct id before identify"),
    # Sentry sessions: did is "a device or user id" (Sentry's session payload documentation).
    Rule(r"(browser-)?sentry", r"request\.body", r"(\[\d+\]\.)?did", "device_id", True, "Sentry session did"),
    Rule(r"(browser-)?sentry", r"request\.body", r"(\[\d+\]\.)?did", "account_id", True, "Sentry session did", soften=True),
    # Sentry: the machine's host name (a device name, but the server's, not the user's).
    Rule(r"sentry", r"request\.body", r"(\[\d+\]\.)?server_name", "device_info", True, "Sentry server_name: host name of the machine"),
)

# Chromium's own background traffic is grouped apart from the SDK whose page was open.
CHROMIUM_HOSTS = re.compile(r"(clients\d*\.google\.com|update\.googleapis\.com|.*\.gvt1\.com|accounts\.google\.com|"
                            r"[a-z-]+-pa\.googleapis\.com|safebrowsing\.googleapis\.com|content-autofill\.googleapis\.com)")


def group_of(capture_group: str, host: str) -> str:
    """The group of an exchange: its capture's SDK, or ``chromium`` for the browser's own hosts."""
    return "chromium" if capture_group.startswith("browser-") and CHROMIUM_HOSTS.fullmatch(host) else capture_group


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
            if rule.track and len(leaf.value) >= 8 and not leaf.value.startswith("$device:"):
                state.values.setdefault(leaf.value, (rule.category, rule.optional, rule.why))


def softened(state: State, leaf: Any) -> set[str]:
    """Categories whose labels at this leaf are judgement calls whatever found them."""
    return {r.category for r in _matching(state.group, leaf) if r.soften}


def labels(state: State, flow: Any, leaf: Any) -> list[Label]:
    """The labels of one leaf from the rules (planted values are matched elsewhere)."""
    if leaf.value.strip().lower() in ("unknown", "undefined", "null", ""):
        return []
    out: list[Label] = [(r.category, leaf.value, r.optional, r.why) for r in _matching(state.group, leaf) if not r.soften]
    for value, (category, optional, why) in state.values.items():
        if value in leaf.value:  # also inside a longer value ("$device:<id>", a cookie's JSON)
            out.append((category, value, optional, why))
    return out
