"""Citation keys for formats that have none (RIS, PubMed, CSL-JSON without an id).

The key is the one Zotero's BibTeX export and Better BibTeX's Zotero-compatible format
make: the first author's family name without its suffix ("King, Jr." gives `king`; an
organisation's whole name), the year and the first word of the title that is not an
article or a preposition, lower case, ASCII and without punctuation —
`parker2019emotional`, `vangennep1960rites`. A key already taken gets a letter:
`parker2019emotionala`, then `…b`, as pandoc and Better BibTeX disambiguate.
"""

from __future__ import annotations

import re
from typing import Any

from references.models import family_and_suffix

from .normalize import ascii_fold
from .richtext import rich_text_plain

# Zotero's citeKeyTitleBanned words.
_SKIPPED_TITLE_WORDS = frozenset((
    "a", "an", "the", "some", "from", "on", "in", "to", "of", "do", "with", "der", "die",
    "das", "ein", "eine", "einer", "eines", "einem", "einen", "un", "une", "la", "le", "l",
    "el", "las", "los", "al", "uno", "una", "unos", "unas", "de", "des", "del", "d",
))  # fmt: skip
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def base_key(fields: dict[str, Any]) -> str:
    """The key before disambiguation, from converted `Reference` fields."""
    people = fields.get("authors") or fields.get("editors") or []
    who = ""
    if people:
        # Zotero and Better BibTeX key on the family name without its suffix: king2020,
        # not kingjr2020.
        family = family_and_suffix(people[0].get("family") or "")[0]
        who = family or people[0].get("literal") or ""
    who = _NOT_KEY.sub("", ascii_fold(who).lower()) or "anon"
    year = str(fields.get("issued_year") or "")
    title = ascii_fold(rich_text_plain(fields.get("title", ""))).lower()
    words = (_NOT_KEY.sub("", word) for word in title.split())
    word = next((w for w in words if w and w not in _SKIPPED_TITLE_WORDS), "")
    return f"{who}{year}{word}"[:100]


def unique_key(base: str, taken: set[str]) -> str:
    """`base`, or `base` with the first free letter suffix (a … z, then aa, ab, …)."""
    if base not in taken:
        return base
    for suffix in _suffixes():
        candidate = f"{base}{suffix}"
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def _suffixes():
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second
    number = 1
    while True:
        yield str(number)
        number += 1
