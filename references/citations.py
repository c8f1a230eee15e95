"""Pandoc citation syntax in Markdown: `[@key]`, `[@key, p. 5]`, `[@a; @b]`, `[-@key]`, `@key`.

Text written for Pandoc, Quarto or Zotero pastes in unchanged. Code spans and code blocks
are never parsed, and e-mail addresses are not citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import CITATION_KEY_PATTERN


@dataclass(frozen=True)
class CitedItem:
    key: str
    prefix: str = ""
    locator: str = ""
    label: str = "page"
    suffix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class CitationCluster:
    """One citation as written: a bracketed group of items, or one narrative `@key`."""

    items: tuple[CitedItem, ...]
    narrative: bool
    start: int
    end: int
    line: int


# Fenced code blocks (``` or ~~~, closed by a fence at least as long) and code spans.
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\2[`~]*[ \t]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_INDENTED = re.compile(r"^(?: {4}|\t)")

# Not followed by ( or [ (a link), nor by : at the start of a line (a link definition).
_BRACKETED = re.compile(
    r"(?:^ {0,3}\[(?P<defn>[^\[\]]*?-?@[^\[\]]*?)\](?=:))|"
    r"\[(?P<inner>[^\[\]]*?-?@[^\[\]]*?)\](?![(\[])",
    re.M,
)
_ITEM = re.compile(
    rf"^(?P<prefix>(?:.*?\s)?)(?P<suppress>-)?@(?P<key>{CITATION_KEY_PATTERN})(?P<rest>.*)$", re.S
)
# A narrative citation stands at the start of the text or after a space or opening mark,
# never after a letter (that would be an e-mail address) or a slash (a URL).
_NARRATIVE = re.compile(rf"(?:(?<=^)|(?<=[\s(\"'“‘—–]))@(?P<key>{CITATION_KEY_PATTERN})", re.M)

_LOCATOR_LABELS = {
    "p": "page",
    "pp": "page",
    "page": "page",
    "pages": "page",
    "ch": "chapter",
    "chap": "chapter",
    "chapter": "chapter",
    "chapters": "chapter",
    "sec": "section",
    "section": "section",
    "sections": "section",
    "§": "section",
    "§§": "section",
    "fig": "figure",
    "figure": "figure",
    "figs": "figure",
    "para": "paragraph",
    "paragraph": "paragraph",
    "¶": "paragraph",
    "vol": "volume",
    "volume": "volume",
    "vols": "volume",
    "l": "line",
    "line": "line",
    "ll": "line",
    "n": "note",
    "note": "note",
    "nn": "note",
    "t": "table",
    "tab": "table",
    "table": "table",
}
_LOCATOR = re.compile(
    r"^\s*,?\s*(?:(?P<label>[A-Za-z]+|§§?|¶)\.?\s*)?"
    r"(?P<value>[0-9IVXLCivxlc](?:[\w\-–,\s]|\.(?=\w))*?)"
    r"(?P<suffix>(?:,\s.*)?)$",
    re.S,
)


def normalize_newlines(text: str) -> str:
    """Browsers submit textareas with CRLF; parse and hash one form of the text."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def _mask_indented_code(text: str) -> str:
    """Blank indented code blocks: indented lines after a blank line, outside lists.

    Inside a list, indentation continues the list item (a second paragraph, a nested
    list), so citations there are prose and must be parsed.
    """
    lines = text.split("\n")
    in_list = in_code = False
    previous_blank = True
    for index, line in enumerate(lines):
        blank = not line.strip()
        if blank:
            previous_blank = True
            continue
        if _INDENTED.match(line):
            if in_code or (previous_blank and not in_list):
                in_code = True
                lines[index] = " " * len(line)
        else:
            in_code = False
            in_list = bool(_LIST_ITEM.match(line)) or (in_list and not previous_blank)
        previous_blank = False
    return "\n".join(lines)


def mask_code(markdown: str) -> str:
    """The text with every code block and code span blanked out, positions unchanged."""
    masked = _FENCE.sub(_blank, markdown)
    masked = _mask_indented_code(masked)
    return _CODE_SPAN.sub(_blank, masked)


def _parse_locator(rest: str) -> tuple[str, str, str]:
    """Split what follows a key (`, p. 550, emphasis added`) into label, locator, suffix."""
    text = rest.strip()
    if not text:
        return "page", "", ""
    if not text.startswith(","):
        return "page", "", text
    match = _LOCATOR.match(text)
    if match is None:
        return "page", "", text.lstrip(", ").strip()
    label_word = (match.group("label") or "").lower()
    if label_word and label_word not in _LOCATOR_LABELS:
        return "page", "", text.lstrip(", ").strip()
    label = _LOCATOR_LABELS.get(label_word, "page")
    suffix = match.group("suffix").lstrip(", ").strip()
    return label, match.group("value").strip().rstrip(","), suffix


def _parse_item(text: str) -> CitedItem | None:
    match = _ITEM.match(text.strip())
    if match is None:
        return None
    label, locator, suffix = _parse_locator(match.group("rest"))
    return CitedItem(
        key=match.group("key"),
        prefix=match.group("prefix").strip(),
        locator=locator,
        label=label,
        suffix=suffix,
        suppress_author=bool(match.group("suppress")),
    )


def find_citations(markdown: str) -> list[CitationCluster]:
    """Every citation in the Markdown, in order of appearance, with its 1-based line.

    Positions refer to `normalize_newlines(markdown)`.
    """
    masked = mask_code(normalize_newlines(markdown))
    clusters: list[CitationCluster] = []
    taken: list[tuple[int, int]] = []
    for match in _BRACKETED.finditer(masked):
        if match.group("inner") is None:
            continue  # a link reference definition, "[label]: url"
        parts = match.group("inner").split(";")
        items = [_parse_item(part) for part in parts]
        if not items or any(item is None for item in items):
            continue  # a bracket with an @ that is not a citation, e.g. an e-mail in brackets
        clusters.append(
            CitationCluster(
                items=tuple(items),
                narrative=False,
                start=match.start(),
                end=match.end(),
                line=masked.count("\n", 0, match.start()) + 1,
            )
        )
        taken.append((match.start(), match.end()))
    for match in _NARRATIVE.finditer(masked):
        if any(start <= match.start() < end for start, end in taken):
            continue
        if _inside_link_target(masked, match.start()):
            continue
        clusters.append(
            CitationCluster(
                items=(CitedItem(key=match.group("key")),),
                narrative=True,
                start=match.start(),
                end=match.end(),
                line=masked.count("\n", 0, match.start()) + 1,
            )
        )
    clusters.sort(key=lambda cluster: cluster.start)
    return clusters


def _inside_link_target(text: str, position: int) -> bool:
    """True inside the `(…)` of a Markdown link or image, where @ belongs to a URL."""
    opening = text.rfind("](", 0, position)
    return (
        opening != -1 and text.find(")", opening) >= position and "\n" not in text[opening:position]
    )


def cited_keys(markdown: str) -> list[str]:
    """Distinct keys in order of first citation."""
    seen: dict[str, None] = {}
    for cluster in find_citations(markdown):
        for item in cluster.items:
            seen.setdefault(item.key, None)
    return list(seen)
