"""Words a form's texts take from the reporting unit's kind.

One school form serves schools and centres: its labels say `{unit}` where the office writes
"nhà trường" in a school's report and "trung tâm" in a centre's, and `{plan_no}` where the
example plan number differs ("45/KH-THCS", "45/KH-TTHTCĐ"). The words are data in the form's
`wording` block, a default and, per unit kind, the words that kind says differently; copying
the form per kind would let the copies drift apart. `{Unit}` is the word with a capital.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.unit_kinds import resolve_kind

__all__ = ["DEFAULT", "Wording", "WordingError", "fill", "parse_wording"]

DEFAULT = "default"
_PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

Words = tuple[tuple[str, str, str], ...]  # (name, vi, en)


class WordingError(ValueError):
    """A wording block or a placeholder that does not follow the format."""


@dataclass(frozen=True)
class Wording:
    """The default words and, per unit kind, the ones that kind says differently."""

    default: Words = ()
    kinds: tuple[tuple[str, Words], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.default)

    def has_own_words(self, kind: str) -> bool:
        return any(k == kind for k, _ in self.kinds)

    def words(self, kind: str, language: str) -> dict[str, str]:
        """Each word as a unit of `kind` reads it, in `language` ("vi" or "en")."""
        chosen = {name: (vi, en) for name, vi, en in self.default}
        for k, own in self.kinds:
            if k == kind:
                chosen.update({name: (vi, en) for name, vi, en in own})
        return {name: (en if language == "en" else vi) for name, (vi, en) in chosen.items()}

    def as_dict(self) -> dict[str, Any]:
        def block(words: Words) -> dict[str, Any]:
            return {name: {"vi": vi, "en": en} for name, vi, en in words}

        return {DEFAULT: block(self.default), **{k: block(w) for k, w in self.kinds}}


def _words(raw: Any, where: str) -> Words:
    if not isinstance(raw, Mapping) or not raw:
        raise WordingError(f"{where}: expected words, e.g. unit: {{vi: trung tâm, en: centre}}")
    out = []
    for name, value in raw.items():
        name = str(name)
        if not _NAME.match(name):
            raise WordingError(f"{where}: a word's name is lower-case letters, digits and _ "
                               f"(“{name}”); write {{Unit}} in a text for a capital")
        if isinstance(value, str):
            vi = en = value.strip()
        elif isinstance(value, Mapping) and isinstance(value.get("vi"), str):
            vi = value["vi"].strip()
            en = str(value.get("en") or value["vi"]).strip()
        else:
            raise WordingError(f"{where} ({name}): expected a text with 'vi' (and 'en')")
        out.append((name, vi, en))
    return tuple(out)


def parse_wording(raw: Any, where: str) -> Wording:
    """The `wording` block: `default:` words, then a block per unit kind (its id, or a word
    for it such as TTHTCĐ) giving only words the default has."""
    if raw is None:
        return Wording()
    if not isinstance(raw, Mapping) or DEFAULT not in raw:
        raise WordingError(f"{where}: wording needs a '{DEFAULT}' block of words")
    default = _words(raw[DEFAULT], f"{where} {DEFAULT}")
    names = {name for name, _, _ in default}
    kinds = []
    for key, block in raw.items():
        if key == DEFAULT:
            continue
        kind = resolve_kind(str(key)) or str(key)
        words = _words(block, f"{where} {key}")
        for name, _, _ in words:
            if name not in names:
                raise WordingError(f"{where} {key}: the word “{name}” is not in the "
                                   f"'{DEFAULT}' block; a kind only changes words it has")
        if any(k == kind for k, _ in kinds):
            raise WordingError(f"{where}: the unit kind {kind} has two blocks")
        kinds.append((kind, words))
    return Wording(default, tuple(kinds))


def fill(text: str, words: Mapping[str, str], where: str) -> str:
    """`text` with each {name} replaced by its word ({Name}: with a capital); a name the
    words do not have is refused, so no brace ever reaches a reporter."""
    def word(match: re.Match[str]) -> str:
        name = match.group(1)
        key = name[:1].lower() + name[1:]
        if key not in words:
            raise WordingError(f"{where}: “{{{name}}}” is not a word of the form's wording "
                               f"({', '.join(sorted(words))})")
        value = words[key]
        return value[:1].upper() + value[1:] if name[:1].isupper() else value

    return _PLACEHOLDER.sub(word, text)
