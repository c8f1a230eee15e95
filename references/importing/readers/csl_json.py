"""CSL-JSON, as Zotero and Better BibTeX export it: a JSON array of CSL items.

The items are already what the engine takes; this reader finds where each one starts (for
messages), takes `id` as the citation key, and tidies what the exporters add:

- an `id` that is not a citation key (Zotero's "http://zotero.org/users/…/items/ABCD")
  makes the engine generate one, with a warning; Better BibTeX's `citation-key` is used
  when the id is not a key;
- titles keep CSL rich-text italics, bold, super- and subscripts; `<span class="nocase">`
  and small-caps spans (Better BibTeX's case protection) are taken off, their text kept;
- Zotero writes the PMID into `note` ("PMID: 31234567"): it becomes the PMID.

Invalid JSON is refused as a whole (nothing in a broken file can be trusted), naming the
item and line where the parser stopped; so are NaN and Infinity, numbers Python will not
read and nesting too deep to decode. An item whose text holds an escaped control
character or half a character ("\u0000", "\ud800") fails on its own, naming its line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...models import KEY_RE
from ..base import PROGRESS_EVERY, BlockProblem, Progress, Reader, ReadResult, SourceItem
from ..text import InputError, line_of

_WHITESPACE = re.compile(r"[ \t\n\r]+")


class CslJsonReader(Reader):
    name = "csl-json"
    label = "CSL-JSON"
    unit = "item"
    units = "items"
    extensions = (".json", ".csljson")
    priority = 30

    def detect(self, text: str) -> int:
        head = text.lstrip("\ufeff \t\n")[:200]
        if head.startswith("["):
            return 90 if head[1:].lstrip()[:1] in ("{", "]") else 40
        if head.startswith("{"):
            return 60
        return 0

    def read(self, text: str, *, progress: Progress | None = None) -> ReadResult:
        return read_csl_json(text, progress=progress)


READER = CslJsonReader()


def _skip_space(text: str, position: int) -> int:
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _split_items(text: str) -> list[tuple[Any, int, int]]:
    """Each top-level item with its start and end offsets; InputError for invalid JSON."""
    position = _skip_space(text, 0)
    if text.startswith("\ufeff", position):
        position = _skip_space(text, position + 1)
    if position == len(text):
        return []  # nothing but white space: no items, as for "[]"
    if text.startswith("{", position):
        # One item on its own, or {"items": [...]}.
        value, end = _decode(text, position, 1)
        rest = _skip_space(text, end)
        if rest != len(text):
            raise InputError(_error_text(text, rest, 1, "unexpected text after the JSON object"))
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            return [(item, position, end) for item in value["items"]]
        return [(value, position, end)]
    if not text.startswith("[", position):
        raise InputError(
            "The text is not CSL-JSON: it should be a JSON array of items, “[{…}, {…}]”, "
            f"but line {line_of(text, position)} starts with “{text[position : position + 20]}”."
        )
    items: list[tuple[Any, int, int]] = []
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        return items
    while True:
        number = len(items) + 1
        value, end = _decode(text, position, number)
        items.append((value, position, end))
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            continue
        if text.startswith("]", position):
            rest = _skip_space(text, position + 1)
            if rest != len(text):
                raise InputError(
                    _error_text(text, rest, number, "unexpected text after the closing “]”")
                )
            return items
        raise InputError(_error_text(text, position, number, "expected “,” or “]” after this item"))


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


class _NotJson(ValueError):
    """Something Python's decoder reads but JSON does not allow."""


# NaN and Infinity are not JSON; Python's decoder reads them unless told not to, and they
# would reach the library as the text "nan" and "inf".
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _decode(text: str, position: int, number: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, position)
    except json.JSONDecodeError as error:
        raise InputError(_error_text(text, error.pos, number, error.msg, start=position)) from None
    except RecursionError:
        # The decoder recurses once per level: [[[[…]]]] 100,000 deep would be a 500.
        reason = "arrays or objects nested too deeply"
    except _NotJson as error:
        reason = str(error)
    except ValueError as error:
        # Python refuses integers of more than 4,300 digits (a guard against slow parsing).
        reason = f"a value Python cannot read ({str(error).split(';')[0].lower()})"
    raise InputError(_error_text(text, position, number, reason, start=position, near=False))


def _error_text(
    text: str,
    offset: int,
    number: int,
    reason: str,
    start: int | None = None,
    *,
    near: bool = True,
) -> str:
    """`near=False` when the decoder does not say where it stopped: the item is named."""
    line = line_of(text, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    where = f"item {number}"
    if start is not None:
        where += f" (which starts at line {line_of(text, start)})"
    at = f" at line {line}, column {column}," if near else ""
    return (
        f"The CSL-JSON is not valid JSON: {reason}{at} in {where}. "
        "Nothing was imported; export the file again or fix it there."
    )


_NOT_A_KEY = "is not a citation key"  # nor is a Zotero item address ("http://zotero.org/…")
_PMID_NOTE = re.compile(r"^\s*PMID\s*:\s*(\d{1,9})\s*$", re.I | re.M)
_PMCID_NOTE = re.compile(r"^\s*PMCID\s*:\s*\S+\s*$", re.I | re.M)
_SPAN = re.compile(r"<span\b[^>]*>|</span>")
_PROTECTING_SPAN = re.compile(
    r'<span\s+(?:class="nocase"|style="font-variant:\s*small-caps;?")\s*>'
)
_TAG = re.compile(r"</?(?:i|b|sup|sub|sc)>")
_PLAIN_VARIABLES = ("container-title", "collection-title", "publisher", "publisher-place")


def _without_case_spans(value: str) -> str:
    """Better BibTeX's `<span class="nocase">…</span>` off, the text kept."""
    if "<span" not in value:
        return value
    out: list[str] = []
    dropped: list[bool] = []
    position = 0
    for match in _SPAN.finditer(value):
        out.append(value[position : match.start()])
        position = match.end()
        tag = match.group()
        if tag == "</span>":
            if dropped and dropped.pop():
                continue
            out.append(tag)
        else:
            protecting = bool(_PROTECTING_SPAN.fullmatch(tag))
            dropped.append(protecting)
            if not protecting:
                out.append(tag)
    out.append(value[position:])
    return "".join(out)


def read_csl_json(text: str, *, progress: Progress | None = None) -> ReadResult:
    result = ReadResult(format="csl-json")
    items = _split_items(text)
    total = len(items)
    for number, (value, start, end) in enumerate(items, start=1):
        if progress and (number % PROGRESS_EVERY == 0 or number == total):
            progress("reading items", number, total)
        line = line_of(text, start)
        if not isinstance(value, dict):
            result.failures.append(
                BlockProblem(
                    line,
                    "",
                    "is not a CSL-JSON item (an object with “type” and “title”)",
                    record=number,
                )  # fmt: skip
            )
            continue
        source = text[start:end]
        item = _item(value, source, line, number)
        # Only a "\u" escape can smuggle in what the check on the raw text refused.
        unsafe = _unsafe_character(value) if "\\u" in source else None
        if unsafe is not None:
            character, where = unsafe
            if _UNSAFE.search(item.csl["id"]):
                item.csl["id"] = ""  # the message names the record instead
            item.problem = (
                f"has the character U+{ord(character):04X} (written “\\u{ord(character):04x}”) "
                f"in {where}, which cannot be stored or shown: a control character or half "
                "of a character. Fix it where the file was made and export it again"
            )
        result.items.append(item)
    return result


# What the raw text may not hold (text.check_text), plus lone surrogates, which only a JSON
# escape can make: a page with one cannot even be encoded, and databases refuse NUL.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ud800-\udfff]")


def _unsafe_character(value: Any) -> tuple[str, str] | None:
    """The first unsafe character in an item's field names or text, and which field has it.

    Iterative, so a legally deep item cannot overflow the stack."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        current, field_name = pending.pop()
        if isinstance(current, str):
            found = _UNSAFE.search(current)
            if found:
                return found.group(), f"“{_UNSAFE.sub('?', field_name)}”" if field_name else "it"
        elif isinstance(current, dict):
            for key, inner in current.items():
                name = field_name or key
                pending.append((key, name))
                pending.append((inner, name))
        elif isinstance(current, list):
            pending.extend((inner, field_name) for inner in current)
    return None


def _item(value: dict[str, Any], source: str, line: int, number: int) -> SourceItem:
    csl = dict(value)
    item = SourceItem(csl=csl, line=line, record=number, source_type=str(csl.get("type", "")))
    # Lines of the variables, to point messages at them.
    for match in re.finditer(r'"([A-Za-z-]+)"\s*:', source):
        item.lines.setdefault(match.group(1), line + source.count("\n", 0, match.start()))

    raw_id = csl.get("id")
    # bool is an int to Python, but `true` is no key.
    key = str(raw_id).strip() if isinstance(raw_id, (str, int)) and type(raw_id) is not bool else ""
    citation_key = str(csl.pop("citation-key", "") or "").strip()
    if not KEY_RE.fullmatch(key) or "://" in key:
        if KEY_RE.fullmatch(citation_key):
            key = citation_key
        else:
            if key:
                kind = "is an item's address, not a citation key" if "://" in key else _NOT_A_KEY
                item.warnings.append(
                    f"has the id “{key[:80]}”, which {kind}; a key was made for it"
                )
            key = ""
    csl["id"] = key

    if isinstance(csl.get("title"), str):
        csl["title"] = _without_case_spans(csl["title"])
    for variable in _PLAIN_VARIABLES:
        if isinstance(csl.get(variable), str):
            csl[variable] = _TAG.sub("", _without_case_spans(csl[variable]))
    note = csl.get("note")
    if isinstance(note, str) and ("PMID" in note.upper()):
        found = _PMID_NOTE.search(note)
        if found and not csl.get("PMID"):
            csl["PMID"] = found.group(1)
        note = _PMCID_NOTE.sub("", _PMID_NOTE.sub("", note)).strip()
        if note:
            csl["note"] = note
        else:
            del csl["note"]
    if not csl.get("issued"):
        item.warnings.append("has no year; it will be cited as “n.d.”")
    return item
