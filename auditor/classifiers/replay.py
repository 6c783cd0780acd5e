"""Text typed into a page, recovered from a session replay (:mod:`auditor.extract.replay`).

The walker turns a replay's event stream into fields: the page's text nodes and the last value
of each input, textarea and contenteditable element, each input value carrying the element it
was typed into. This detector reads the input values:

* an element named for personal data (its ``autocomplete``, ``name`` or ``id`` is a key of the
  lexicons: ``tel``, ``first_name``, ``address``...) gives that category, checked by the same
  validator as the key rule (detector ``<category>.replay``);
* free text typed into a chat box (a textarea, a contenteditable element, or an input whose
  name, placeholder or label speaks of a message, prompt, question or chat), or three words or
  more typed anywhere, is a prompt (``prompt.replay``).

Masked input (``***``) never reaches here: the reconstruction drops it. Page text and the values
themselves are also seen by every other detector (an email typed into a field is an email).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.classifiers import Context, lexicons
from auditor.classifiers.prompt import is_free_text
from auditor.classifiers.validators import VALIDATORS
from auditor.extract.replay import Element, element_of
from auditor.models import Finding

_CHAT_HINT = re.compile(
    r"prompt|messag|chat|ask|question|query|search|compose|reply|send|talk|conversation|input", re.I
)
_KEY_ATTRIBUTES = ("autocomplete", "name", "id")
_BOXES = frozenset({"textarea", "contenteditable"})
_REPLAY_PART = "replay.input"  # the "part" of lexicon groups meant for input names only


def _by_key(element: Element, value: str) -> tuple[str, str] | None:
    """``(category, group)`` when the element's name says what it holds and the value fits."""
    _pair, single = lexicons.key_rules()
    for attr in _KEY_ATTRIBUTES:
        name = element.hints.get(attr)
        if not name:
            continue
        for token in (name, name.rsplit(" ", 1)[-1]):  # autocomplete="shipping street-address"
            for rule in single.get(lexicons.normalize_key(token), ()):
                if (
                    (rule.parts is not None and _REPLAY_PART not in rule.parts)
                    or rule.hosts is not None
                    or rule.requires
                    or rule.requires_any
                ):
                    continue
                if VALIDATORS[rule.validator](value):
                    return rule.category, rule.group
    return None


def _is_prompt(element: Element, value: str) -> bool:
    if not is_free_text(value) or element.type in ("email", "tel", "password", "url", "number", "date"):
        return False
    words = len(value.split())
    if element.tag in _BOXES:
        return True
    if element.tag in ("input", "") and _CHAT_HINT.search(" ".join(element.hints.values())):
        return True
    return words >= 3


def detect(ctx: Context) -> Iterator[Finding]:
    for i in ctx.others:
        f = ctx.sent[i]
        if f.kind != "value":
            continue
        element = element_of(f.content_type)
        if element is None:
            continue
        keyed = _by_key(element, f.value)
        if keyed is not None:
            yield Finding(keyed[0], f.part, f.path, f.value, f"{keyed[0]}.replay", 0.85)
        elif _is_prompt(element, f.value):
            yield Finding("prompt", f.part, f.path, f.value, "prompt.replay", 0.8)
