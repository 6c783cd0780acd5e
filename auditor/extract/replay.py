"""Session replay: what a person saw and typed, recovered from rrweb-style event streams.

Session replay SDKs record the page as a stream of rrweb events (``{"type", "data",
"timestamp"}``): a full snapshot of the DOM (type 2), incremental snapshots (type 3) with DOM
mutations (source 0: added nodes, changed texts and attributes) and input events (source 5: the
value of an input after each keystroke), meta (4), custom (5) and plugin (6) events. The
vendors ship it in different envelopes, all reaching this module as a parsed list of events:

* rrweb itself and the SDKs built on it: a JSON array of events, each possibly packed by
  ``@rrweb/packer`` (a latin-1 string of zlib bytes, inflated by the walker);
* PostHog: ``$snapshot`` events whose ``$snapshot_data`` / ``$snapshot_items`` hold events, the
  ``2024-10`` compressed form keeping a full snapshot's ``data`` and a mutation's ``texts``,
  ``adds``, ``attributes`` and ``removes`` as latin-1 gzip strings;
* Sentry: the ``replay_recording`` envelope item, a zlib stream of the event array;
* Datadog: the ``segment`` part of a multipart upload, a zlib stream of ``{"records": [...]}``;
* Amplitude's session replay and ``@rrweb/packer``: a list of events each kept as a string
  (JSON text, or latin-1 zlib), see :func:`unpack_events`.

:func:`reconstruct` replays the stream: it keeps, for each DOM node, its element and attributes,
and yields the page's text nodes (each time one was sent) and the values typed into inputs,
textareas and contenteditable elements (the last value of each), at the path of the event that
carried that value. Keystroke-by-keystroke input events therefore give one field per input, not
one per keystroke. Masked text (``***``, ``•••``) gives nothing. Input values carry a
``replay/input`` content type naming the element (``textarea``, ``input``, ``contenteditable``)
and its descriptive attributes, which the replay classifier reads (:func:`describe`,
:func:`element_of`). Meta, custom and plugin events are walked as ordinary JSON; mouse, scroll
and style events hold nothing personal and are skipped.

Everything is bounded: nodes are followed at most ``max_levels`` levels deep, and compressed
strings inflate within the walker's remaining budget.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from auditor.extract.sniff import inflate, latin1_compression

__all__ = [
    "Element",
    "Memory",
    "Page",
    "Text",
    "Walk",
    "describe",
    "element_of",
    "is_event_list",
    "is_masked",
    "reconstruct",
    "unpack_events",
]

INPUT_TYPE = "replay/input"
TEXT_TYPE = "replay/text"

_FULL_SNAPSHOT, _INCREMENTAL, _META, _CUSTOM, _PLUGIN = 2, 3, 4, 5, 6
_MUTATION, _INPUT = 0, 5
_ELEMENT_NODE, _TEXT_NODE = 2, 3
_SILENT_TAGS = frozenset({"script", "style", "noscript", "template"})
_INPUT_TAGS = frozenset({"input", "textarea", "select"})
# Attributes that say what an input is for.
_HINT_ATTRIBUTES = ("name", "id", "placeholder", "aria-label", "autocomplete", "title", "data-testid")
_MASKED = re.compile(r"[\s*•●·\u2217]+")
_NO_TEXT_INPUTS = frozenset(
    {"checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "hidden", "image"}
)


@dataclass(frozen=True, slots=True)
class Walk:
    """A JSON value to walk as usual (meta, custom and plugin events)."""

    path: str
    value: object
    depth: int


@dataclass(frozen=True, slots=True)
class Text:
    """A reconstructed text: a page text node or the value typed into an input."""

    path: str
    text: str
    content_type: str


@dataclass(frozen=True, slots=True)
class Element:
    """An input element as the replay classifier sees it."""

    tag: str  # "input", "textarea", "select", "contenteditable", or "" when not in the stream
    type: str  # the input's type attribute, lower-cased
    hints: dict[str, str]  # descriptive attributes (name, id, placeholder, aria-label...)


def is_masked(text: str) -> bool:
    """Text a replay SDK masked: only ``*``, ``•`` and white space."""
    return bool(_MASKED.fullmatch(text))


def is_event_list(obj: list) -> bool:
    """Whether a JSON array is an rrweb event stream (its first events are ``{type, data, timestamp}``)."""
    for event in obj[:3]:
        if type(event) is not dict:
            return False
        t = event.get("type")
        if type(t) is not int or not 0 <= t <= 6 or "data" not in event:
            return False
        ts = event.get("timestamp")
        if type(ts) is not int and type(ts) is not float:
            return False
    return True


def describe(element: Element) -> str:
    """The content type of an input value: ``replay/input?tag=textarea&type=&name=...``."""
    return f"{INPUT_TYPE}?" + urlencode({"tag": element.tag, "type": element.type, **element.hints})


def element_of(content_type: str | None) -> Element | None:
    """The element an input value came from (the inverse of :func:`describe`), else ``None``."""
    if not content_type or not content_type.startswith(INPUT_TYPE + "?"):
        return None
    params = dict(parse_qsl(content_type[len(INPUT_TYPE) + 1 :], keep_blank_values=True))
    tag = params.pop("tag", "")
    kind = params.pop("type", "")
    return Element(tag, kind, params)


@dataclass
class Page:
    """What a replay said of a page's elements: tag, descriptive attributes and parent of each
    node id. Kept between exchanges (:class:`Memory`), since a recording is sent in batches:
    the full snapshot in one request, the keystrokes in the next ones."""

    tags: dict[int, str] = field(default_factory=dict)
    attrs: dict[int, dict[str, str]] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)

    def clear(self) -> None:
        self.tags.clear()
        self.attrs.clear()
        self.parent.clear()


class Memory:
    """The pages of the replays seen so far, one per host, bounded: at most ``max_pages`` hosts
    (the least recently used is forgotten) of at most ``MAX_NODES`` nodes each. A full snapshot
    starts its host's page again."""

    def __init__(self, max_pages: int = 32) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[str, Page] = OrderedDict()

    def page(self, host: str) -> Page:
        page = self._pages.get(host)
        if page is None:
            page = self._pages[host] = Page()
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(host)
        return page


MAX_NODES = 100_000
_KEPT_ATTRIBUTES = frozenset({*_HINT_ATTRIBUTES, "type", "contenteditable"})


class _Replayer:
    """The state of one replay: nodes seen so far and the last text of each."""

    def __init__(self, budget: int, max_levels: int, page: Page | None = None) -> None:
        self.budget = budget
        self.max_levels = max(1, max_levels)
        self.inflated = 0
        self.page = page if page is not None else Page()
        self.tags = self.page.tags
        self.attrs = self.page.attrs
        self.parent = self.page.parent
        self.texts: list[tuple[str, str]] = []  # (path, text) of page text, as often as it was sent
        self.inputs: dict[int, tuple[str, str]] = {}  # node id -> (path, value), typed text
        self.walks: list[Walk] = []

    # -- helpers ------------------------------------------------------------------------------

    def unpack(self, value: object, path: str) -> tuple[object, str]:
        """A value PostHog or rrweb's packer compressed into a latin-1 string, parsed."""
        if type(value) is not str:
            return value, path
        kind = latin1_compression(value)
        if kind is None:
            return value, path
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            return value, path
        got = inflate(raw, kind, self.budget - self.inflated)
        if got is None:
            return value, path
        self.inflated += len(got[0])
        try:
            return json.loads(got[0].decode("utf-8", "replace")), f"{path}.@{kind}"
        except (ValueError, RecursionError):
            return value, path

    def editable(self, node_id: int | None) -> int | None:
        """The input, textarea or contenteditable element holding ``node_id``, if any."""
        seen = 0
        while node_id is not None and seen < self.max_levels:
            tag = self.tags.get(node_id)
            if tag in _INPUT_TAGS:
                return node_id
            attrs = self.attrs.get(node_id)
            if attrs is not None and str(attrs.get("contenteditable", "false")).lower() not in ("false", "none"):
                return node_id
            node_id = self.parent.get(node_id)
            seen += 1
        return None

    def silent(self, node_id: int | None) -> bool:
        return node_id is not None and self.tags.get(node_id) in _SILENT_TAGS

    def set_text(self, node_id: int, parent: int | None, path: str, text: object) -> None:
        if parent is not None:
            self.parent.setdefault(node_id, parent)
        owner = self.editable(self.parent.get(node_id))
        if owner is not None:  # text typed into a contenteditable element: its last value
            self.set_input(node_id, path, text)
        elif type(text) is str and text.strip() and not is_masked(text) and not self.silent(self.parent.get(node_id)):
            self.texts.append((path, text))

    def set_input(self, node_id: int, path: str, value: object) -> None:
        if type(value) is not str:
            return
        if not value.strip() or is_masked(value):
            self.inputs.pop(node_id, None)
            return
        self.inputs[node_id] = (path, value)

    # -- the DOM ------------------------------------------------------------------------------

    def node(self, node: object, path: str, parent: int | None) -> None:
        """Register a serialized node and its subtree (iteratively, at most ``max_levels`` deep)."""
        stack: list[tuple[object, str, int | None, int]] = [(node, path, parent, 0)]
        while stack:
            current, where, up, level = stack.pop()
            if type(current) is not dict:
                continue
            node_id = current.get("id")
            if type(node_id) is not int:
                node_id = None
            kind = current.get("type")
            if node_id is not None and len(self.tags) >= MAX_NODES:
                node_id = None  # past the bound: texts are still read, nodes not remembered
            if node_id is not None and up is not None:
                self.parent[node_id] = up
            if kind == _TEXT_NODE:
                if node_id is not None and not current.get("isStyle"):
                    self.set_text(node_id, up, f"{where}.textContent", current.get("textContent"))
                continue
            if kind == _ELEMENT_NODE and node_id is not None:
                tag = current.get("tagName")
                self.tags[node_id] = tag.lower() if type(tag) is str else ""
                attrs = current.get("attributes")
                if type(attrs) is dict:
                    kept = {k: v[:200] for k, v in attrs.items() if k in _KEPT_ATTRIBUTES and type(v) is str}
                    if kept:
                        self.attrs[node_id] = kept
                    if self.tags[node_id] in _INPUT_TAGS and "value" in attrs:
                        self.set_input(node_id, f"{where}.attributes.value", attrs["value"])
            children = current.get("childNodes")
            if type(children) is list and level < self.max_levels:
                for i in range(len(children) - 1, -1, -1):
                    stack.append((children[i], f"{where}.childNodes[{i}]", node_id, level + 1))

    def mutation(self, data: dict, path: str) -> None:
        adds, adds_path = self.unpack(data.get("adds"), f"{path}.adds")
        if type(adds) is list:
            for i, add in enumerate(adds):
                if type(add) is dict:
                    parent = add.get("parentId")
                    self.node(add.get("node"), f"{adds_path}[{i}].node", parent if type(parent) is int else None)
        texts, texts_path = self.unpack(data.get("texts"), f"{path}.texts")
        if type(texts) is list:
            for i, change in enumerate(texts):
                if type(change) is dict and type(change.get("id")) is int:
                    self.set_text(change["id"], None, f"{texts_path}[{i}].value", change.get("value"))
        attributes, attributes_path = self.unpack(data.get("attributes"), f"{path}.attributes")
        if type(attributes) is list:
            for i, change in enumerate(attributes):
                if type(change) is not dict or type(change.get("id")) is not int:
                    continue
                node_id = change["id"]
                attrs = change.get("attributes")
                if type(attrs) is not dict:
                    continue
                kept = {k: v[:200] for k, v in attrs.items() if k in _KEPT_ATTRIBUTES and type(v) is str}
                if kept and (node_id in self.attrs or len(self.attrs) < MAX_NODES):
                    self.attrs.setdefault(node_id, {}).update(kept)
                if self.tags.get(node_id) in _INPUT_TAGS and "value" in attrs:
                    self.set_input(node_id, f"{attributes_path}[{i}].attributes.value", attrs["value"])

    # -- events -------------------------------------------------------------------------------

    def event(self, event: dict, path: str) -> None:
        kind = event.get("type")
        data = event.get("data")
        if kind == _FULL_SNAPSHOT:
            data, data_path = self.unpack(data, f"{path}.data")
            if type(data) is dict:
                self.page.clear()  # the page again, or a new page whose ids start over
                self.node(data.get("node"), f"{data_path}.node", None)
        elif kind == _INCREMENTAL and type(data) is dict:
            source = data.get("source")
            if source == _MUTATION:
                self.mutation(data, f"{path}.data")
            elif source == _INPUT and type(data.get("id")) is int and "text" in data:
                self.set_input(data["id"], f"{path}.data.text", data["text"])
        elif kind in (_META, _CUSTOM, _PLUGIN) and data is not None:
            self.walks.append(Walk(f"{path}.data", data, 1))

    def element(self, node_id: int) -> Element:
        owner = self.editable(node_id)
        if owner is None:
            owner = self.editable(self.parent.get(node_id))
        if owner is None:
            return Element("", "", {})
        attrs = self.attrs.get(owner, {})
        tag = self.tags.get(owner, "")
        if tag not in _INPUT_TAGS:
            tag = "contenteditable"
        hints = {a: str(attrs[a])[:200] for a in _HINT_ATTRIBUTES if isinstance(attrs.get(a), str) and attrs[a]}
        return Element(tag, str(attrs.get("type", "")).lower()[:40], hints)


def unpack_events(items: list, budget: int) -> tuple[list, list[str], int] | None:
    """An event stream whose events are each a string: JSON text (Amplitude's session replay)
    or packed by ``@rrweb/packer`` (latin-1 zlib). Returns the events, the path step of each
    (``""`` or ``".@zlib"``) and the bytes inflated, or ``None`` when it is not such a stream."""
    events: list = []
    steps: list[str] = []
    spent = 0
    for i, item in enumerate(items):
        if type(item) is not str:
            return None
        step = ""
        text: str | None = item
        kind = latin1_compression(item) if item[:1] != "{" else None
        if kind is not None:
            try:
                got = inflate(item.encode("latin-1"), kind, budget - spent)
            except UnicodeEncodeError:
                got = None
            if got is None:
                return None
            spent += len(got[0])
            text, step = got[0].decode("utf-8", "replace"), f".@{kind}"
        if not text or text[0] != "{":
            return None
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            return None
        events.append(event)
        steps.append(step)
        if i == 2 and not is_event_list(events):
            return None
    return (events, steps, spent) if events and is_event_list(events) else None


def reconstruct(
    events: list,
    path: str,
    budget: int,
    max_levels: int,
    steps: list[str] | None = None,
    page: Page | None = None,
) -> tuple[int, list[Walk | Text]]:
    """Replay ``events`` (found at ``path``): how many bytes packed events inflated to (at most
    ``budget``), and what to walk: the typed values of inputs (``replay/input`` fields), the
    page's text nodes (``replay/text``), then the meta, custom and plugin events. ``steps``
    names a decoding step of each event (events that were packed strings); ``page`` holds the
    elements known from earlier batches of the same recording, and is updated."""
    r = _Replayer(budget, max_levels, page)
    for i, event in enumerate(events):
        if type(event) is dict:
            r.event(event, f"{path}[{i}]{steps[i] if steps else ''}")
    out: list[Walk | Text] = []
    for node_id, (where, value) in r.inputs.items():
        element = r.element(node_id)
        if element.tag == "input" and element.type in _NO_TEXT_INPUTS:
            continue
        out.append(Text(where, value, describe(element)))
    out.extend(Text(where, value, TEXT_TYPE) for where, value in r.texts)
    out.extend(r.walks)
    return r.inflated, out
