"""BibTeX and biblatex import: read a file, plan it against the library, apply it.

Three steps, so that nothing is written before a person has seen what will happen:

1. `parse_bibtex` turns the text into unsaved `Reference` field dicts (CSL-shaped) plus
   the blocks it could not read, each with its 1-based line and the reason in plain words.
   It needs no database.
2. `plan_import` classifies every entry against the library: new, changed (with a
   per-field diff), unchanged, duplicate or failed.
3. `apply_import` writes the plan in one transaction: all of it or, if anything turns
   out invalid at that moment, none of it.

Merge rule: the fields an entry provides win; fields it leaves empty keep the library's
value. A PMID added by hand in the admin therefore survives a re-import of the same file.

Decisions worth knowing:
- An entry without a title fails ("entry KEY (line N) has no title"); the model requires
  one and a key is not a title. An entry without a year imports with a warning.
- `@set` and `@xdata` blocks group or feed other entries and are not works: they are
  skipped (reported, never written). `@xdata` and `crossref` parents still lend fields.
- `and others` sets `authors_et_al` instead of adding an author called "others".
- The admin refuses inputs over `MAX_UPLOAD_BYTES` (5 MB); the management command reads
  files of any size.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from pylatexenc import latex2text, latexwalker
from pylatexenc.macrospec import MacroSpec

from .identifiers import normalize_doi, normalize_pmid
from .models import Reference, ReferenceType, citation_key_validator

# The splitter logs every malformed block at WARNING level. We report those blocks to the
# person importing, with line numbers; the log lines would only duplicate them.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Largest input the admin accepts (upload or paste); larger files go through
`manage.py import_bibtex`, which has no limit of its own."""

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`, called now and then during long imports."""

_PROGRESS_EVERY = 200

# The validator's message contains a bare "%", which Django's %-formatting of
# ValidationError messages (with a `value` param) cannot handle; we quote it as is.
KEY_RULE = str(citation_key_validator.message)
_KEY_MAX_LENGTH = Reference._meta.get_field("key").max_length


class BibtexInputError(ValueError):
    """The input cannot be read as BibTeX at all (wrong encoding, binary data)."""


# --- Reading bytes --------------------------------------------------------------------------

_UTF8_BOM = b"\xef\xbb\xbf"


def decode_bibtex_bytes(data: bytes) -> str:
    """Decode a .bib file. UTF-8 only (a BOM is allowed); anything else is refused.

    We never guess Latin-1: a wrong guess silently turns "Müller" into "MÃ¼ller" in the
    library, and from there into every article that cites it.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BibtexInputError(
            "The file is UTF-16, not UTF-8. Save it as UTF-8 (in JabRef: File → "
            "Properties → Encoding; in a text editor: Save with encoding UTF-8) and try again."
        )
    skipped = 0
    if data.startswith(_UTF8_BOM):
        skipped = len(_UTF8_BOM)
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise BibtexInputError(
            f"The file is not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} "
            f"(line {line}) is not valid UTF-8. It was probably saved as Latin-1 or "
            "Windows-1252; save it as UTF-8 and try again."
        ) from error
    check_text(text)
    return normalize_newlines(text)


# C0 control characters other than tab, line breaks and form feed: binary data or a
# corrupted file. They are invalid in XML, so one in a title would break the site's feeds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def check_text(text: str) -> None:
    """Refuse text with control characters, naming the first one and where it is."""
    match = _CONTROL.search(text)
    if match:
        offset = match.start()
        raise BibtexInputError(
            f"The text contains the control character U+{ord(match.group()):04X} at character "
            f"offset {offset} (line {text.count(chr(10), 0, offset) + 1}); it looks like a "
            "binary or damaged file, not BibTeX."
        )


def normalize_newlines(text: str) -> str:
    """CRLF and CR become LF, so line numbers and content hashes do not depend on them.

    Browsers send form values with CRLF line breaks; the admin's confirm step hashes the
    text it previewed and the text it got back, which must agree.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalize_newlines(text).encode("utf-8")).hexdigest()


# --- Results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockProblem:
    """A block that will not be imported: a failure, or a block skipped on purpose."""

    line: int
    key: str
    reason: str

    @property
    def message(self) -> str:
        where = f"entry {self.key} (line {self.line})" if self.key else f"line {self.line}"
        # "entry KEY (line N) has no title" reads as a sentence; other reasons follow a colon.
        joiner = " " if self.key and self.reason.startswith("has ") else ": "
        return f"{where}{joiner}{self.reason}"


@dataclass
class ParsedEntry:
    """One entry, converted to `Reference` field values (unsaved)."""

    key: str
    line: int
    bibtex_type: str
    # Only the fields this entry provides (always key, type and title); see the merge rule.
    fields: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    duplicate_of_line: int | None = None


@dataclass
class ParsedBibtex:
    entries: list[ParsedEntry] = field(default_factory=list)
    failures: list[BlockProblem] = field(default_factory=list)
    skipped: list[BlockProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Status(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass
class PlanItem:
    status: Status
    key: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    changes: list[FieldChange] = field(default_factory=list)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    cited_by: int = 0

    @property
    def message(self) -> str:
        return BlockProblem(self.line, self.key, self.reason).message

    @property
    def type_label(self) -> str:
        return display_value("type", self.fields.get("type"))

    @property
    def summary(self) -> str:
        """Who, year, title: enough to recognise the work in a preview table."""
        if not self.fields:
            return ""
        names = [n.get("family") or n.get("literal", "") for n in self.fields.get("authors", [])]
        if len(names) > 2 or self.fields.get("authors_et_al"):
            who = f"{names[0]} et al." if names else ""
        else:
            who = " & ".join(names)
        year = self.fields.get("issued_year") or "n.d."
        return f"{who} ({year}). {self.fields.get('title', '')}".strip()


@dataclass
class ImportPlan:
    items: list[PlanItem] = field(default_factory=list)
    skipped: list[BlockProblem] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)

    def with_status(self, status: Status) -> list[PlanItem]:
        return [item for item in self.items if item.status == status]

    @property
    def new(self) -> list[PlanItem]:
        return self.with_status(Status.NEW)

    @property
    def changed(self) -> list[PlanItem]:
        return self.with_status(Status.CHANGED)

    @property
    def unchanged(self) -> list[PlanItem]:
        return self.with_status(Status.UNCHANGED)

    @property
    def duplicates(self) -> list[PlanItem]:
        return self.with_status(Status.DUPLICATE)

    @property
    def failed(self) -> list[PlanItem]:
        return self.with_status(Status.FAILED)

    @property
    def counts(self) -> dict[str, int]:
        return {status.value: len(self.with_status(status)) for status in Status}

    @property
    def warnings(self) -> list[str]:
        return self.file_warnings + [w for item in self.items for w in item.warnings]

    def fingerprint(self) -> str:
        """A hash of what the plan would do, to notice the library changing under a preview."""
        summary = [
            [item.status, item.key, item.line, item.reason]
            + [[c.field, c.old, c.new] for c in item.changes]
            for item in self.items
        ]
        return hashlib.sha256(json.dumps(summary).encode("utf-8")).hexdigest()


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # Changed in the file, but left as they are because updating was not asked for.
    not_updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: int = 0
    failed: list[PlanItem] = field(default_factory=list)
    # Problems found while writing; when there are any, nothing was written.
    errors: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return not self.errors


# --- LaTeX to Unicode -----------------------------------------------------------------------

_BIB_MACROS_WITH_ARGUMENT = (
    "mkbibquote",
    "mkbibemph",
    "mkbibitalic",
    "mkbibbold",
    "mkbibacro",
    "url",
    "path",
)
_WALKER_CONTEXT = latexwalker.get_default_latex_context_db()
_WALKER_CONTEXT.add_context_category(
    "clinic-bibtex",
    prepend=True,
    macros=[MacroSpec(name, "{") for name in _BIB_MACROS_WITH_ARGUMENT]
    + [MacroSpec("enquote", "*{")],
)
_TEXT_CONTEXT = latex2text.get_default_latex_context_db()
_TEXT_CONTEXT.add_context_category(
    "clinic-bibtex",
    prepend=True,
    macros=[
        latex2text.MacroTextSpec("url", simplify_repl="%s"),
        latex2text.MacroTextSpec("path", simplify_repl="%s"),
        latex2text.MacroTextSpec("mkbibquote", simplify_repl="“%s”"),
        latex2text.MacroTextSpec("enquote", simplify_repl="“%(2)s”"),
        latex2text.MacroTextSpec("mkbibemph", simplify_repl="%s"),
        latex2text.MacroTextSpec("mkbibitalic", simplify_repl="%s"),
        latex2text.MacroTextSpec("mkbibbold", simplify_repl="%s"),
        latex2text.MacroTextSpec("mkbibacro", simplify_repl="%s"),
        # pylatexenc drops these logos entirely; "The {\TeX book}" must not lose a word.
        latex2text.MacroTextSpec("TeX", simplify_repl="TeX"),
        latex2text.MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
        latex2text.MacroTextSpec("LaTeXe", simplify_repl="LaTeX2e"),
        latex2text.MacroTextSpec("BibTeX", simplify_repl="BibTeX"),
        latex2text.MacroTextSpec("XeTeX", simplify_repl="XeTeX"),
        latex2text.MacroTextSpec("hyphen", simplify_repl="-"),
        latex2text.MacroTextSpec("slash", simplify_repl="/"),
    ],
)
# Maths become text ($\alpha$-synuclein → α-synuclein): readers of a clinic site see words.
_DECODER = latex2text.LatexNodes2Text(
    latex_context=_TEXT_CONTEXT, math_mode="text", keep_braced_groups=False
)
# Only these make pylatexenc change anything; most values skip the (slow) decoder.
_NEEDS_DECODING = re.compile(r"[\\{}~$`]|--|''")
# Many exporters leave & % # unescaped. To LaTeX they would be an alignment tab, a comment
# (swallowing the rest of the value) and a parameter; in a title they mean themselves.
_BARE_SPECIAL = re.compile(r"(?<!\\)([&%#])")
_SPACES = re.compile(r"\s+")


# A fast path for what nearly every real value contains: accented letters, escaped
# specials, braces and dashes. pylatexenc takes about a millisecond per value, which a
# 10 MB file pays tens of thousands of times; values with anything more go to it.
_COMBINING = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
    "H": "\u030b", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_LETTERS = {
    "i": "ı", "j": "ȷ", "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "ss": "ß",
    "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
}  # fmt: skip
_SYMBOL_ACCENT = re.compile(
    r"""\\(?P<accent>["'`^~=.])\s*(?:\{\s*(?P<braced>\\[ij]|[A-Za-z])\s*\}|(?P<bare>[A-Za-z]))"""
)
_LETTER_ACCENT = re.compile(
    r"\\(?P<accent>[cvuHkrdb])(?:\s*\{\s*(?P<braced>\\[ij]|[A-Za-z])\s*\}|\s+(?P<bare>[A-Za-z]))"
)
_LETTER_MACRO = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|[ijlLoO])(?![A-Za-z])[ \t]*")
_ESCAPED_SPECIAL = re.compile(r"\\([&%#_])")


def _accented(match: re.Match[str]) -> str:
    letter = match.group("braced") or match.group("bare")
    base = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    return unicodedata.normalize("NFC", base + _COMBINING[match.group("accent")])


def _fast_latex(value: str) -> str | None:
    """`value` decoded without pylatexenc, or None when it needs the real decoder."""
    value = _SYMBOL_ACCENT.sub(_accented, value)
    value = _LETTER_ACCENT.sub(_accented, value)
    value = _LETTER_MACRO.sub(lambda m: _LETTERS[m.group(1)], value)
    value = _ESCAPED_SPECIAL.sub(r"\1", value)
    if "\\" in value or "$" in value or re.search(r"(?<!`)`(?!`)", value):
        return None
    value = value.replace("{", "").replace("}", "").replace("~", " ")
    value = value.replace("---", "—").replace("--", "–")
    return value.replace("``", "“").replace("''", "”")


def latex_to_unicode(value: str) -> str:
    """`{\\"o}` → ö, `\\&` → &, braces removed, `--` → –, whitespace collapsed.

    Anything that is not LaTeX, such as `<script>`, passes through untouched: it is text,
    and templates escape it when they render it.
    """
    if _NEEDS_DECODING.search(value):
        fast = _fast_latex(value)
        if fast is not None:
            value = fast
        else:
            try:
                value = _DECODER.latex_to_text(
                    _BARE_SPECIAL.sub(r"\\\1", value),
                    latex_context=_WALKER_CONTEXT,
                    tolerant_parsing=True,
                )
            except Exception:  # noqa: BLE001 - a value pylatexenc cannot read is kept as typed
                value = value.replace("{", "").replace("}", "")
    # \s also matches the no-break space `~` becomes: stored text is searched and edited.
    return _SPACES.sub(" ", value).strip()


def _slow_latex_to_unicode(value: str) -> str:
    """pylatexenc only; the tests compare the fast path against it."""
    value = _DECODER.latex_to_text(
        _BARE_SPECIAL.sub(r"\\\1", value), latex_context=_WALKER_CONTEXT, tolerant_parsing=True
    )
    return _SPACES.sub(" ", value).strip()


_URL_MACRO = re.compile(r"^\\(?:url|href)\s*\{(?P<url>[^{}]*)\}", re.S)
_VERBATIM_ESCAPE = re.compile(r"\\([_%&#$~{}])")


def _verbatim(value: str) -> str:
    """URLs, DOIs and e-prints are verbatim in biblatex: no LaTeX, only escapes undone."""
    value = value.strip()
    match = _URL_MACRO.match(value)
    if match:
        value = match.group("url")
    while _fully_braced(value):
        value = value[1:-1].strip()
    return _SPACES.sub("", _VERBATIM_ESCAPE.sub(r"\1", value))


_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.S)


def _fully_braced(value: str) -> bool:
    """True for `{…}` whose first brace closes at the very end (not `{a} and {b}`)."""
    if len(value) < 2 or value[0] != "{" or value[-1] != "}":
        return False
    depth = 0
    for match in _BRACE_OR_ESCAPE.finditer(value):
        char = match.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return match.start() == len(value) - 1
    return False


# --- Names ----------------------------------------------------------------------------------


def format_name(name: dict[str, str]) -> str:
    """A CSL name as one line: "Family, Given", "Family," (no given name) or a literal."""
    if "literal" in name:
        literal = name["literal"]
        return f"{{{literal}}}" if "," in literal else literal
    family = name.get("family", "")
    given = name.get("given", "")
    return f"{family}, {given}" if given else f"{family},"


def _names(value: str) -> tuple[list[dict[str, str]], bool]:
    """A BibTeX name list as CSL names, and whether it ended in `and others`."""
    names: list[dict[str, str]] = []
    et_al = False
    for raw_name in split_multiple_persons_names(value):
        raw_name = raw_name.strip()
        if raw_name == "others":
            et_al = True
            continue
        if _fully_braced(raw_name):
            # {World Health Organization}: braces protect an organisation's name from
            # being split into given and family names.
            literal = latex_to_unicode(raw_name[1:-1])
            if literal:
                names.append({"literal": literal})
            continue
        parts = parse_single_name_into_parts(raw_name)
        family = latex_to_unicode(" ".join(parts.von + parts.last))
        if parts.jr:
            family = f"{family}, {latex_to_unicode(' '.join(parts.jr))}"
        given = latex_to_unicode(" ".join(parts.first))
        if not family and not given:
            continue
        name = {"family": family}
        if given:
            name["given"] = given
        names.append(name)
    return names, et_al


# --- Dates ----------------------------------------------------------------------------------

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# BibTeX's predefined month macros: `month = jan` needs no @string.
_MONTH_MACROS = {name[:3]: name.capitalize() for name in _MONTHS}
_ISO_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _parse_month(value: str) -> int | None:
    text = latex_to_unicode(value).lower().strip().rstrip(".")
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    match = re.match(r"[a-z]{3}", text)
    if match:
        for index, name in enumerate(_MONTHS, start=1):
            if name.startswith(match.group(0)):
                return index
    return None


def _parse_date(value: str) -> tuple[int, int | None, int | None] | None:
    """A biblatex date (`2019`, `2019-05`, `2019-05-03`, ranges `1984/1986`, `../2000`)."""
    start, _, end = value.strip().partition("/")
    for part in (start, end):
        # EDTF qualifiers: ? uncertain, ~ approximate, % both.
        part = part.strip().strip("?~%")
        match = _ISO_DATE.match(part)
        if not match:
            continue
        year = int(match.group("year"))
        month = int(match.group("month")) if match.group("month") else None
        day = int(match.group("day")) if match.group("day") else None
        if month is not None and not 1 <= month <= 12:
            month = day = None  # EDTF seasons (21-24) are not months
        if day is not None:
            try:
                datetime.date(year, month or 1, day)
            except ValueError:
                day = None
        return year, month, day
    return None


# --- Types ----------------------------------------------------------------------------------

_T = ReferenceType
_TYPE_MAP: dict[str, str] = {
    "article": _T.ARTICLE_JOURNAL,
    "suppperiodical": _T.ARTICLE_MAGAZINE,
    "book": _T.BOOK,
    "mvbook": _T.BOOK,
    "collection": _T.BOOK,
    "mvcollection": _T.BOOK,
    "proceedings": _T.BOOK,
    "mvproceedings": _T.BOOK,
    "reference": _T.BOOK,
    "mvreference": _T.BOOK,
    "periodical": _T.BOOK,
    "incollection": _T.CHAPTER,
    "inbook": _T.CHAPTER,
    "bookinbook": _T.CHAPTER,
    "suppbook": _T.CHAPTER,
    "suppcollection": _T.CHAPTER,
    "inproceedings": _T.PAPER_CONFERENCE,
    "conference": _T.PAPER_CONFERENCE,
    "inreference": _T.ENTRY_ENCYCLOPEDIA,
    "thesis": _T.THESIS,
    "phdthesis": _T.THESIS,
    "mastersthesis": _T.THESIS,
    "report": _T.REPORT,
    "techreport": _T.REPORT,
    "manual": _T.REPORT,
    "patent": _T.PATENT,
    "online": _T.WEBPAGE,
    "www": _T.WEBPAGE,
    "electronic": _T.WEBPAGE,
    "misc": _T.DOCUMENT,
    "dataset": _T.DATASET,
    "software": _T.SOFTWARE,
    "unpublished": _T.MANUSCRIPT,
}
# Standard biblatex types with no closer CSL type here: "other document", without a warning.
# fmt: off
_QUIETLY_DOCUMENTS = frozenset((
    "booklet", "artwork", "audio", "image", "letter", "movie", "music", "performance",
    "standard", "video", "review", "commentary", "jurisdiction", "legislation", "legal",
))
# fmt: on
_NOT_WORKS = {
    "set": "a @set groups other entries and is not a work itself",
    "xdata": "an @xdata entry only lends fields to other entries",
}
_ARTICLE_TYPES = {_T.ARTICLE_JOURNAL, _T.ARTICLE_MAGAZINE, _T.ARTICLE_NEWSPAPER}
_CONTAINED_TYPES = {_T.CHAPTER, _T.PAPER_CONFERENCE, _T.ENTRY_ENCYCLOPEDIA}
# Entry types whose crossref parent's title is their booktitle (biblatex's inheritance).
# fmt: off
_CONTAINED_BIBTEX_TYPES = frozenset((
    "incollection", "inbook", "bookinbook", "suppbook", "suppcollection", "inproceedings",
    "conference", "inreference",
))
# fmt: on
_ENCYCLOPEDIA_PARENTS = frozenset({"reference", "mvreference"})
_ENCYCLOPEDIA_TITLE = re.compile(r"encyclop(?:a|ae|æ)?edia", re.IGNORECASE)

_COUNTRY_ADJECTIVES = {"de": "German", "eu": "European", "fr": "French", "uk": "British",
                       "us": "U.S."}  # fmt: skip
_COUNTRY_NAMES = {"de": "Germany", "eu": "European Union", "fr": "France",
                  "uk": "United Kingdom", "us": "United States"}  # fmt: skip
# biblatex localisation keys seen in `type` and `series` fields.
_GENRE_KEYS = {
    "phdthesis": "PhD thesis",
    "mathesis": "Master's thesis",
    "mastersthesis": "Master's thesis",
    "candthesis": "Candidate thesis",
    "techreport": "Technical report",
    "resreport": "Research report",
    "patent": "Patent",
    "patreq": "Patent request",
    **{f"patent{cc}": f"{adj} patent" for cc, adj in _COUNTRY_ADJECTIVES.items()},
    **{f"patreq{cc}": f"{adj} patent request" for cc, adj in _COUNTRY_ADJECTIVES.items()},
}
_DEFAULT_GENRES = {
    "phdthesis": "PhD thesis",
    "mastersthesis": "Master's thesis",
    "techreport": "Technical report",
}
_SERIES_KEYS = {"newseries": "new series", "oldseries": "old series"}
_COUNTRY_KEY = re.compile(r"\bcountry(" + "|".join(_COUNTRY_NAMES) + r")\b")

# Fields a crossref child never takes from its parent: they describe the parent itself
# (a chapter is not the book's DOI), or are bookkeeping.
# fmt: off
_NOT_INHERITED = frozenset((
    "title", "subtitle", "titleaddon", "shorttitle", "sorttitle", "indextitle",
    "indexsorttitle", "crossref", "xref", "xdata", "entryset", "ids", "label", "shorthand",
    "sortkey", "related", "relatedtype", "relatedstring", "doi", "pmid", "eprint",
    "eprinttype", "eprintclass", "archiveprefix", "url", "urldate", "note", "addendum",
    "annotation", "abstract", "file",
))
# fmt: on


# --- Parsing --------------------------------------------------------------------------------


@dataclass
class _RawEntry:
    key: str
    bibtex_type: str
    line: int
    fields: dict[str, str]  # evaluated (macros, concatenation), still LaTeX
    field_lines: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    bad_values: list[str] = field(default_factory=list)
    duplicate_of_line: int | None = None


# Every BibTeX field the conversion reads (directly or through crossref inheritance).
# fmt: off
_USED_FIELDS = frozenset((
    "title", "subtitle", "titleaddon", "author", "editor", "date", "year", "month", "day",
    "journaltitle", "journalsubtitle", "journal", "booktitle", "booksubtitle",
    "booktitleaddon", "maintitle", "mainsubtitle", "series", "number", "issue", "volume",
    "pages", "publisher", "institution", "school", "organization", "location", "address",
    "edition", "type", "isbn", "doi", "pmid", "eprint", "eprinttype", "archiveprefix", "url",
    "urldate", "howpublished", "note", "addendum", "entrysubtype", "crossref", "xdata",
))
# fmt: on


class _EntryFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_bibtex(*, text: str, progress: Progress | None = None) -> ParsedBibtex:
    """Parse BibTeX text into unsaved `Reference` field dicts; never touches the database."""
    text = normalize_newlines(text)
    library = bibtexparser.parse_string(text, parse_stack=[])
    result = ParsedBibtex()

    # Two passes: all @string macros first, so an entry may use one defined below it.
    macros: dict[str, str] = dict(_MONTH_MACROS)
    for block in library.blocks:
        string = block
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, String
        ):
            string = block.ignore_error_block
            result.warnings.append(
                f"line {block.start_line + 1}: @string {string.key} is defined again; "
                "the later definition is used"
            )
        if isinstance(string, String):
            warnings: list[str] = []
            try:
                macros[string.key.lower()] = _evaluate(string.value, macros, warnings)
            except _BadValue as error:
                result.failures.append(
                    BlockProblem(string.start_line + 1, "", f"@string {string.key}: {error}")
                )
            result.warnings.extend(f"line {string.start_line + 1}: {w}" for w in warnings)

    raw_entries: list[_RawEntry] = []
    first_by_key: dict[str, _RawEntry] = {}
    for block in library.blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            if isinstance(block.ignore_error_block, Entry):
                raw = _raw_entry(block.ignore_error_block, macros)
                raw.duplicate_of_line = first_by_key[raw.key].line
                raw_entries.append(raw)
        elif isinstance(block, DuplicateFieldKeyBlock):
            entry = block.ignore_error_block
            names = ", ".join(sorted(block.duplicate_keys))
            result.failures.append(
                BlockProblem(
                    entry.start_line + 1,
                    entry.key,
                    f"the field {names} appears twice; keep one and import again",
                )
            )
        elif isinstance(block, ParsingFailedBlock):
            result.failures.append(_failed_block(block, text))
        elif isinstance(block, Entry):
            raw = _raw_entry(block, macros)
            raw_entries.append(raw)
            first_by_key[raw.key] = raw

    total = len(raw_entries)
    for done, raw in enumerate(raw_entries, start=1):
        if progress and (done % _PROGRESS_EVERY == 0 or done == total):
            progress("reading entries", done, total)
        if not raw.key:
            result.failures.append(
                BlockProblem(raw.line, "", "the entry has no citation key (“@type{key, …}”)")
            )
            continue
        if raw.bibtex_type in _NOT_WORKS:
            result.skipped.append(BlockProblem(raw.line, raw.key, _NOT_WORKS[raw.bibtex_type]))
            continue
        try:
            citation_key_validator(raw.key)
            if len(raw.key) > _KEY_MAX_LENGTH:
                raise _EntryFailed(f"the citation key is longer than {_KEY_MAX_LENGTH} characters")
            if raw.bad_values:
                raise _EntryFailed("; ".join(raw.bad_values))
            fields, lines, parent_type, warnings = _inherit(raw, first_by_key)
            converted = _convert(raw, fields, parent_type, warnings)
            _validate(converted, lines)
        except ValidationError:
            reason = f"the citation key is not valid: {KEY_RULE}"
            if raw.duplicate_of_line is None:
                result.failures.append(BlockProblem(raw.line, raw.key, reason))
                continue
            converted, warnings = {}, []
        except _EntryFailed as error:
            if raw.duplicate_of_line is None:
                result.failures.append(BlockProblem(raw.line, raw.key, error.reason))
                continue
            # A second entry with a known key is reported as a duplicate either way.
            converted, warnings = {}, []
        result.entries.append(
            ParsedEntry(
                key=raw.key,
                line=raw.line,
                bibtex_type=raw.bibtex_type,
                fields=converted,
                warnings=[f"entry {raw.key} (line {raw.line}) {w}" for w in warnings],
                duplicate_of_line=raw.duplicate_of_line,
            )
        )
    result.failures.sort(key=lambda failure: failure.line)
    return result


def _raw_entry(entry: Entry, macros: dict[str, str]) -> _RawEntry:
    raw = _RawEntry(
        key=entry.key.strip(),
        bibtex_type=entry.entry_type.lower(),
        line=entry.start_line + 1,
        fields={},
        field_lines={},
    )
    for bib_field in entry.fields:
        name = bib_field.key.strip().lower()
        if name not in _USED_FIELDS:
            continue  # abstracts, keywords, files…: never stored, so never evaluated
        if name in raw.fields:
            # Field names are case-insensitive in BibTeX; like BibTeX, the first one counts.
            raw.warnings.append(f"has the field {name} twice; the first one is used")
            continue
        line = (bib_field.start_line or entry.start_line) + 1
        try:
            raw.fields[name] = _evaluate(bib_field.value, macros, raw.warnings)
        except _BadValue as error:
            raw.bad_values.append(f"the field {name} (line {line}) is malformed: {error}")
        raw.field_lines[name] = line
    return raw


def _split_concatenation(value: str) -> list[str]:
    """`a # {b} # "c"` → parts, splitting only on `#` outside braces and quotes."""
    parts, depth, in_quotes, start = [], 0, False, 0
    escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            in_quotes = not in_quotes
        elif char == "#" and depth == 0 and not in_quotes:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


_MACRO_NAME = re.compile(r"^[A-Za-z_][^\s\"#%'(),={}]*$")


class _BadValue(Exception):
    pass


def _evaluate(value: str, macros: dict[str, str], warnings: list[str]) -> str:
    """Resolve one raw value: delimiters, @string macros, month macros and `#`.

    Raises `_BadValue` for text BibTeX itself would reject, such as `{x} junk`.
    """
    value = value.strip()
    if _fully_braced(value):
        return value[1:-1]
    out = []
    for part in _split_concatenation(value):
        part = part.strip()
        if _fully_braced(part) or len(part) >= 2 and part[0] == part[-1] == '"':
            out.append(part[1:-1])
        elif part.isdigit():
            out.append(part)
        elif part.lower() in macros:
            out.append(macros[part.lower()])
        elif _MACRO_NAME.match(part):
            warnings.append(f"uses @string {part}, which this file does not define")
            out.append(part)
        else:
            raise _BadValue(
                f"“{_SPACES.sub(' ', part)[:60]}” is not a BibTeX value; "
                "enclose it in braces: {…}"
            )
    return "".join(out)


_PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"Unexpectedly reached end of file"),
        'the file ends before this entry is closed: a “{{” or “"” has no closing partner',
    ),
    (
        re.compile(r"Unexpected block start: `(?P<at>[^`]*)`\. Was still looking for closing"),
        "the block is not closed: “{at}” starts before its closing “}}”",
    ),
    (
        re.compile(r"Unexpected block start: `(?P<at>[^`]*)`\..*closing `}`"),
        "a “{{” in a field value is never closed: “{at}” starts before its “}}”",
    ),
    (
        re.compile(r"Unexpected block start: `(?P<at>[^`]*)`\..*closing `\"`"),
        'a quoted field value is never closed: “{at}” starts before its closing “"”',
    ),
    (
        re.compile(r"Unexpected block start: `(?P<at>[^`]*)`"),
        "the entry is not closed: “{at}” starts before its closing “}}” "
        "(a brace is missing, or a value is not followed by “,”)",
    ),
    (
        re.compile(r"Expected comma after entry key, but found (?P<found>.*)"),
        "the entry has no citation key: expected “@type{{key,” but found “{found}”",
    ),
    (
        re.compile(r"Expected a `=` after entry key `(?P<name>[^`]*)`"),
        "the field name “{name}” is not followed by “=”",
    ),
    (
        re.compile(r"Expected a `=` after entry key, but found `(?P<found>[^`]*)`"),
        "a field name is not followed by “=” (found “{found}”)",
    ),
    (
        re.compile(
            r"Expected either a `,` or `.` after a closed entry field value, "
            r"but found a (?P<found>.*?) before"
        ),  # fmt: skip
        "unexpected text after a field value: expected “,” or “}}” but found “{found}”",
    ),
    (
        re.compile(r"Expected equals sign after field key, but found (?P<found>.*)"),
        "the @string has no “=” (found “{found}”)",
    ),
)
_BLOCK_KEY = re.compile(r"^@\s*\w+\s*[{(]\s*([^,\s{}()=\"]+)\s*,")


def _failed_block(block: ParsingFailedBlock, text: str) -> BlockProblem:
    """A block the splitter gave up on, explained without the parser's vocabulary."""
    line = (block.start_line or 0) + 1
    error = block.error
    parser_reason = getattr(error, "abort_reason", "") or str(error)
    reason = f"the parser could not read this block ({parser_reason.strip()})"
    for pattern, template in _PLAIN_REASONS:
        match = pattern.search(parser_reason)
        if match:
            reason = template.format(**match.groupdict())
            break
    end_index = getattr(error, "end_index", None)
    if isinstance(end_index, int):
        # The splitter's indices count one extra leading newline.
        noticed = text.count("\n", 0, end_index) + 1
        if noticed > line:
            reason += f" (noticed at line {noticed})"
    key_match = _BLOCK_KEY.match((block.raw or "").strip())
    return BlockProblem(line, key_match.group(1) if key_match else "", reason)


def _inherit(
    raw: _RawEntry, first_by_key: dict[str, _RawEntry]
) -> tuple[dict[str, str], dict[str, int], str | None, list[str]]:
    """The entry's fields plus those it inherits through `crossref` and `xdata`.

    bibtexparser 2 has no crossref support. This follows biblatex's defaults closely
    enough for references: a child keeps its own fields, takes the missing ones from the
    parent, and a chapter-like child takes the parent's title as its booktitle.
    """
    fields = dict(raw.fields)
    lines = dict(raw.field_lines)
    warnings = list(raw.warnings)
    parent_type: str | None = None
    seen = {raw.key}

    def lend(child_type: str, parent: _RawEntry, *, as_crossref: bool) -> None:
        source = _inherited_fields(parent, first_by_key, seen, warnings)
        if as_crossref and child_type in _CONTAINED_BIBTEX_TYPES:
            for own, as_book in (
                ("title", "booktitle"),
                ("subtitle", "booksubtitle"),
                ("titleaddon", "booktitleaddon"),
            ):
                if own in source and as_book not in fields:
                    fields[as_book] = source[own]
                    lines[as_book] = parent.line
        elif as_crossref and parent.bibtex_type.startswith("mv"):
            for own, as_main in (("title", "maintitle"), ("subtitle", "mainsubtitle")):
                if own in source and as_main not in fields:
                    fields[as_main] = source[own]
                    lines[as_main] = parent.line
        for name, value in source.items():
            if name not in fields and name not in _NOT_INHERITED:
                fields[name] = value
                lines[name] = parent.line

    crossref = _verbatim(raw.fields.get("crossref", ""))
    if crossref:
        parent = first_by_key.get(crossref)
        if parent is None:
            warnings.append(f"has crossref {crossref}, which is not in this file; "
                            "nothing was inherited")  # fmt: skip
        else:
            seen.add(parent.key)
            parent_type = parent.bibtex_type
            lend(raw.bibtex_type, parent, as_crossref=True)
    for xdata_key in _key_list(raw.fields.get("xdata", "")):
        source_entry = first_by_key.get(xdata_key)
        if source_entry is None:
            warnings.append(f"has xdata {xdata_key}, which is not in this file")
        elif xdata_key not in seen:
            seen.add(xdata_key)
            lend(raw.bibtex_type, source_entry, as_crossref=False)
    return fields, lines, parent_type, warnings


def _inherited_fields(
    parent: _RawEntry, first_by_key: dict[str, _RawEntry], seen: set[str], warnings: list[str]
) -> dict[str, str]:
    """A parent's own fields plus what it inherits itself; cycles are cut, with a warning."""
    fields = dict(parent.fields)
    for link in ("crossref", "xdata"):
        for key in _key_list(parent.fields.get(link, "")):
            grandparent = first_by_key.get(key)
            if grandparent is None:
                continue
            if key in seen:
                warnings.append(f"inherits in a circle through {key}; the circle was cut")
                continue
            seen.add(key)
            for name, value in _inherited_fields(grandparent, first_by_key, seen, warnings).items():
                fields.setdefault(name, value)
    return fields


def _key_list(value: str) -> list[str]:
    return [key for key in (_verbatim(part) for part in value.split(",")) if key]


def _join(first: str, second: str, separator: str) -> str:
    """Join title and subtitle ("Title: Subtitle"), or note and addendum."""
    if not first or not second:
        return first or second
    if first[-1] in "?!:.":
        return f"{first} {second}"
    return f"{first}{separator}{second}"


def _convert(
    raw: _RawEntry, source: dict[str, str], parent_type: str | None, warnings: list[str]
) -> dict[str, Any]:
    """One entry's fields (evaluated, with inheritance) as `Reference` field values."""

    def text(*names: str) -> str:
        for name in names:
            value = latex_to_unicode(source.get(name, ""))
            if value:
                return value
        return ""

    def titled(main: str, sub: str) -> str:
        return _join(text(main), text(sub), ": ")

    bibtex_type = raw.bibtex_type
    csl_type = _TYPE_MAP.get(bibtex_type)
    if csl_type is None:
        csl_type = _T.DOCUMENT
        if bibtex_type not in _QUIETLY_DOCUMENTS:
            warnings.append(f"has the unknown type @{bibtex_type}; imported as “other document”")
    subtype = text("entrysubtype").lower()
    if csl_type == _T.ARTICLE_JOURNAL and subtype in ("magazine", "newspaper"):
        csl_type = _T.ARTICLE_MAGAZINE if subtype == "magazine" else _T.ARTICLE_NEWSPAPER

    fields: dict[str, Any] = {"key": raw.key, "type": str(csl_type)}
    title = titled("title", "subtitle")
    if not title:
        raise _EntryFailed("has no title; add one (the library needs a title to cite)")
    fields["title"] = title

    try:
        authors, et_al = _names(source.get("author", ""))
        editors, _ = _names(source.get("editor", ""))
    except InvalidNameError as error:
        raise _EntryFailed(
            f"has a name that cannot be split into family and given names: “{error.name}” "
            f"({error.reason.lower()}); separate people with “and”"
        ) from error
    if authors or et_al:
        fields["authors"] = authors
        fields["authors_et_al"] = et_al
    if editors:
        fields["editors"] = editors

    date = _issued(source, warnings)
    if date is not None:
        fields["issued_year"], fields["issued_month"], fields["issued_day"] = date

    if csl_type in _ARTICLE_TYPES:
        container = titled("journaltitle", "journalsubtitle") or titled("journal", "")
    elif csl_type in _CONTAINED_TYPES:
        container = titled("booktitle", "booksubtitle") or titled("maintitle", "mainsubtitle")
    elif csl_type == _T.BOOK:
        container = ""  # a book's own title is its title; maintitle has no field here
    else:
        container = text("journaltitle", "journal", "booktitle")
    if csl_type == _T.CHAPTER and (
        bibtex_type == "inreference"
        or parent_type in _ENCYCLOPEDIA_PARENTS
        or _ENCYCLOPEDIA_TITLE.search(container)
    ):
        csl_type = _T.ENTRY_ENCYCLOPEDIA
        fields["type"] = str(csl_type)

    series = text("series")
    series = _SERIES_KEYS.get(series, series)
    if csl_type in _ARTICLE_TYPES:
        issue, number = text("number", "issue"), ""
    else:
        issue, number = text("issue"), text("number")

    genre = text("type")
    genre = _GENRE_KEYS.get(genre, genre) or _DEFAULT_GENRES.get(bibtex_type, "")
    place = text("location", "address")
    place = _COUNTRY_KEY.sub(lambda m: _COUNTRY_NAMES[m.group(1)], place)

    url = _verbatim(source.get("url", ""))
    if not url and "howpublished" in source:
        found = re.search(r"https?://[^\s{}]+", _verbatim(source["howpublished"]))
        url = found.group(0) if found else ""
    doi = _verbatim(source.get("doi", ""))
    pmid = _verbatim(source.get("pmid", ""))
    eprint = _verbatim(source.get("eprint", ""))
    eprint_type = text("eprinttype", "archiveprefix").lower()
    if eprint:
        if eprint_type in ("pubmed", "pmid") and not pmid:
            pmid = eprint
        elif eprint_type == "doi" and not doi:
            doi = eprint
        elif eprint_type == "arxiv" and not url:
            url = f"https://arxiv.org/abs/{eprint}"

    try:
        doi = normalize_doi(doi)
    except ValidationError as error:
        raise _EntryFailed(f"has a bad DOI (line {raw.field_lines.get('doi', raw.line)}): "
                           f"{' '.join(error.messages)}") from error  # fmt: skip
    try:
        pmid = normalize_pmid(pmid)
    except ValidationError as error:
        raise _EntryFailed(f"has a bad PMID: {' '.join(error.messages)}") from error

    accessed = None
    if source.get("urldate"):
        parsed_date = _parse_date(_verbatim(source["urldate"]))
        if parsed_date and parsed_date[1] and parsed_date[2]:
            accessed = datetime.date(*parsed_date)  # type: ignore[arg-type]
        else:
            warnings.append(f"has the urldate “{source['urldate']}”, which is not a full date")

    optional = {
        "container_title": container,
        "collection_title": series,
        "volume": text("volume"),
        "issue": issue,
        "pages": text("pages"),
        "publisher": text("publisher", "institution", "school", "organization"),
        "publisher_place": place,
        "edition": text("edition"),
        "genre": genre,
        "number": number,
        "isbn": _verbatim(source.get("isbn", "")),
        "doi": doi,
        "pmid": pmid,
        "url": url,
        "accessed": accessed,
        "note": _join(text("note"), text("addendum"), ". "),
    }
    fields.update({name: value for name, value in optional.items() if value})
    return fields


def _issued(
    source: dict[str, str], warnings: list[str]
) -> tuple[int, int | None, int | None] | None:
    """Year, month, day from biblatex `date`, else BibTeX `year`/`month`/`day`."""
    if source.get("date"):
        date = _parse_date(latex_to_unicode(source["date"]))
        if date is not None:
            return date
        warnings.append(f"has the date “{source['date']}”, which is not a date")
    if not source.get("year"):
        warnings.append("has no year; it will be cited as “n.d.”")
        return None
    year_match = _YEAR.search(latex_to_unicode(source["year"]))
    if not year_match:
        warnings.append(
            f"has the year “{source['year']}”, which is not a year; it will be cited as “n.d.”"
        )
        return None
    year = int(year_match.group(1))
    month = _parse_month(source["month"]) if source.get("month") else None
    if source.get("month") and month is None:
        warnings.append(f"has the month “{source['month']}”, which is not a month")
    day_text = latex_to_unicode(source.get("day", ""))
    day = int(day_text) if month and day_text.isdigit() else None
    if day is not None:
        try:
            datetime.date(year, month, day)  # type: ignore[arg-type]
        except ValueError:
            day = None
    return year, month, day


# Which BibTeX fields feed which model field, to point a validation error at its line.
_SOURCE_FIELDS = {
    "title": ("title", "subtitle"),
    "container_title": ("journaltitle", "journal", "booktitle", "maintitle"),
    "collection_title": ("series",),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "number": ("number",),
    "pages": ("pages",),
    "publisher": ("publisher", "institution", "school", "organization"),
    "publisher_place": ("location", "address"),
    "edition": ("edition",),
    "genre": ("type",),
    "isbn": ("isbn",),
    "url": ("url", "howpublished", "eprint"),
    "note": ("note", "addendum"),
}


def _validate(fields: dict[str, Any], lines: dict[str, int]) -> None:
    """Run the model's own validation, so the preview shows what saving would refuse."""
    try:
        # Uniqueness is the plan's business (duplicates are a status, not an error).
        # The key was checked already (see KEY_RULE), so its validator is left out.
        Reference(**fields).full_clean(
            exclude=["key"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        problems = []
        for name, messages in error.message_dict.items():
            text = " ".join(messages)
            if name == NON_FIELD_ERRORS:
                problems.append(text)
                continue
            where = next((lines[s] for s in _SOURCE_FIELDS.get(name, ()) if s in lines), None)
            at = f" (line {where})" if where else ""
            problems.append(f"{Reference._meta.get_field(name).verbose_name}{at}: {text}")
        raise _EntryFailed(" ".join(problems)) from error


# --- Planning -------------------------------------------------------------------------------

_COMPARED_FIELDS = [
    f.name
    for f in Reference._meta.concrete_fields
    if f.name not in {"id", "key", "created_at", "updated_at"}
]


def display_value(name: str, value: Any) -> str:
    """A field value as preview text (the template escapes it)."""
    if value in (None, "", []):
        return ""
    if name in ("authors", "editors"):
        return "; ".join(format_name(n) for n in value)
    if name == "type":
        try:
            return str(ReferenceType(value).label)
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _normalized(value: Any) -> Any:
    return "" if value is None or value == [] else value


def _diff(reference: Reference, fields: dict[str, Any]) -> list[FieldChange]:
    changes = []
    for name in _COMPARED_FIELDS:
        if name not in fields:
            continue  # the file does not provide it: the library's value stays
        old, new = getattr(reference, name), fields[name]
        if _normalized(old) != _normalized(new):
            label = str(Reference._meta.get_field(name).verbose_name)
            changes.append(
                FieldChange(name, label, display_value(name, old), display_value(name, new))
            )
    return changes


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """SQLite limits the number of query parameters; big files are looked up in slices."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def plan_import(*, parsed: ParsedBibtex) -> ImportPlan:
    """Classify every entry against the library. Reads the database, never writes it."""
    keys = {entry.key for entry in parsed.entries}
    existing: dict[str, Reference] = {}
    for chunk in _chunks(keys):
        for reference in Reference.objects.with_citing_article_count().filter(key__in=chunk):
            existing[reference.key] = reference
    # DOIs are case-insensitive (10.1000/ABC is 10.1000/abc), so they are matched that way.
    dois = {e.fields["doi"].lower() for e in parsed.entries if e.fields.get("doi")}
    doi_owner: dict[str, str] = {}
    for chunk in _chunks(dois):
        rows = (
            Reference.objects.annotate(doi_lower=Lower("doi"))
            .filter(doi_lower__in=chunk)
            .values_list("doi_lower", "key")
        )
        doi_owner.update(dict(rows))

    plan = ImportPlan(skipped=list(parsed.skipped), file_warnings=list(parsed.warnings))
    for failure in parsed.failures:
        plan.items.append(PlanItem(Status.FAILED, failure.key, failure.line, reason=failure.reason))
    dois_in_file: dict[str, tuple[str, int]] = {}
    for entry in parsed.entries:
        item = PlanItem(
            Status.NEW, entry.key, entry.line, fields=entry.fields, warnings=entry.warnings
        )
        plan.items.append(item)
        doi = entry.fields.get("doi", "").lower()
        if entry.duplicate_of_line is not None:
            item.status = Status.DUPLICATE
            item.reason = (
                f"the key {entry.key} is used twice in this file; the entry at line "
                f"{entry.duplicate_of_line} is the one imported"
            )
            continue
        if doi and doi_owner.get(doi, entry.key) != entry.key:
            item.status = Status.DUPLICATE
            item.reason = (
                f"the DOI {entry.fields['doi']} already belongs to the reference "
                f"{doi_owner[doi]} in the library"
            )
            continue
        if doi and dois_in_file.get(doi, (entry.key, 0))[0] != entry.key:
            other_key, other_line = dois_in_file[doi]
            item.status = Status.DUPLICATE
            item.reason = (
                f"the DOI {entry.fields['doi']} is also on entry {other_key} "
                f"(line {other_line}) in this file"
            )
            continue
        if doi:
            dois_in_file.setdefault(doi, (entry.key, entry.line))
        reference = existing.get(entry.key)
        if reference is not None:
            item.changes = _diff(reference, entry.fields)
            item.status = Status.CHANGED if item.changes else Status.UNCHANGED
            item.cited_by = reference.citing_article_count
    plan.items.sort(key=lambda item: item.line)
    return plan


# --- Applying -------------------------------------------------------------------------------


class _Abort(Exception):
    """Raised inside the transaction to roll every write back."""


def apply_import(
    *, plan: ImportPlan, update_existing: bool, progress: Progress | None = None
) -> ImportResult:
    """Write the plan in one transaction: new entries, and changed ones if asked.

    Failed and duplicate entries are never written. If any entry is refused at this point
    (for example another reference took its DOI since the plan was made), the whole
    import is rolled back and `result.errors` says why.
    """
    result = ImportResult(
        unchanged=len(plan.unchanged), duplicates=len(plan.duplicates), failed=plan.failed
    )
    to_update = plan.changed if update_existing else []
    if not update_existing:
        result.not_updated = [item.key for item in plan.changed]
    work = plan.new + to_update
    try:
        with transaction.atomic():
            current: dict[str, Reference] = {}
            for chunk in _chunks(item.key for item in to_update):
                for reference in Reference.objects.select_for_update().filter(key__in=chunk):
                    current[reference.key] = reference
            result.errors.extend(_conflicts(work, current))
            for done, item in enumerate(work, start=1):
                if progress and (done % _PROGRESS_EVERY == 0 or done == len(work)):
                    progress("writing", done, len(work))
                if result.errors:
                    break  # it will all be rolled back; the conflicts are the report
                if item.status == Status.NEW:
                    reference = Reference(**item.fields)
                else:
                    reference = current[item.key]
                    for name, value in item.fields.items():
                        setattr(reference, name, value)
                try:
                    # Keys and DOIs were checked for the whole batch in _conflicts (two
                    # queries per 500 entries instead of two per entry); the database's
                    # constraints still stop a concurrent writer.
                    reference.full_clean(validate_unique=False, validate_constraints=False)
                except ValidationError as error:
                    result.errors.append(
                        f"entry {item.key} (line {item.line}): "
                        + " ".join(
                            f"{name}: {' '.join(messages)}"
                            for name, messages in error.message_dict.items()
                        )
                    )
                    continue
                reference.save()
                (result.created if item.status == Status.NEW else result.updated).append(item.key)
            if result.errors:
                raise _Abort
    except _Abort:
        result.created, result.updated = [], []
    except DatabaseError as error:
        # A concurrent import can still win the race for a key or DOI between the
        # check and save(); the constraint stops it and nothing is kept.
        result.created, result.updated = [], []
        result.errors.append(f"the database refused the import ({error}); nothing was written")
    return result


def _conflicts(work: list[PlanItem], current: dict[str, Reference]) -> list[str]:
    """What changed in the library since the plan and now stands in the way."""
    errors = []
    new_keys = [item.key for item in work if item.status == Status.NEW]
    taken: set[str] = set()
    for chunk in _chunks(new_keys):
        taken.update(Reference.objects.filter(key__in=chunk).values_list("key", flat=True))
    dois = {item.fields["doi"].lower() for item in work if item.fields.get("doi")}
    doi_owner: dict[str, str] = {}
    for chunk in _chunks(dois):
        doi_owner.update(
            Reference.objects.annotate(doi_lower=Lower("doi"))
            .filter(doi_lower__in=chunk)
            .values_list("doi_lower", "key")
        )
    for item in work:
        where = f"entry {item.key} (line {item.line})"
        if item.status == Status.NEW and item.key in taken:
            errors.append(f"{where}: the key {item.key} was added to the library since the preview")
        elif item.status == Status.CHANGED and item.key not in current:
            errors.append(f"{where} was deleted from the library since the preview")
        doi = item.fields.get("doi", "").lower()
        if doi and doi_owner.get(doi, item.key) != item.key:
            errors.append(
                f"{where}: the DOI {item.fields['doi']} now belongs to the reference "
                f"{doi_owner[doi]}"
            )
    return errors
