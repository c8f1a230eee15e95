"""BibTeX and biblatex: bibtexparser 2 splits the file; this turns entries into CSL-JSON.

bibtexparser finds the blocks and reports the ones it cannot read with their lines; the
rest is ours: @string macros and `#` concatenation, month macros, crossref and xdata
inheritance (biblatex's rules, which bibtexparser 2 does not have), LaTeX to Unicode,
sentence case for English titles (as pandoc's biblatex reader), names, dates, types.

Decisions worth knowing:
- `@set` and `@xdata` blocks group or feed other entries and are not works: they are
  skipped (reported, never written). `@xdata` and `crossref` parents still lend fields.
- `and others` sets `x-et-al` instead of adding an author called "others".
- Only the fields the library stores are evaluated; the others (abstract, keywords,
  file, annote…) are counted for the preview's "left out" warning and never refuse an
  entry, even when an exporter wrote one twice.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ImplicitComment,
    ParsingFailedBlock,
    String,
)

from ...models import ReferenceType
from ..base import PROGRESS_EVERY, BlockProblem, Progress, Reader, ReadResult, SourceItem
from ..latex import latex_to_rich_text, latex_to_unicode
from ..normalize import (
    csl_date_range_end,
    csl_date_range_end_text,
    is_english,
    looks_like_organisation,
    month_number,
    parse_edtf,
    rejoin_wrapped_url,
    valid_date,
)
from ..richtext import rich_text_plain

# The splitter logs every malformed block at WARNING level. We report those blocks to the
# person importing, with line numbers; the log lines would only duplicate them.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)

_SPACES = re.compile(r"\s+")
NO_YEAR = "has no year; it will be cited as “n.d.”"

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
_QUIETLY_DOCUMENTS = frozenset((
    "booklet", "artwork", "audio", "image", "letter", "movie", "music", "performance",
    "standard", "video", "review", "commentary", "jurisdiction", "legislation", "legal",
))  # fmt: skip
_NOT_WORKS = {
    "set": "a @set groups other entries and is not a work itself",
    "xdata": "an @xdata entry only lends fields to other entries",
}
_ARTICLE_TYPES = {_T.ARTICLE_JOURNAL, _T.ARTICLE_MAGAZINE, _T.ARTICLE_NEWSPAPER}
_CONTAINED_TYPES = {_T.CHAPTER, _T.PAPER_CONFERENCE, _T.ENTRY_ENCYCLOPEDIA}
_ARTICLE_BIBTEX_TYPES = frozenset(("article", "suppperiodical"))
# Entry types whose crossref parent's title is their booktitle (biblatex's inheritance).
_CONTAINED_BIBTEX_TYPES = frozenset((
    "incollection", "inbook", "bookinbook", "suppbook", "suppcollection", "inproceedings",
    "conference", "inreference",
))  # fmt: skip
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
# Parts of a book, whose crossref'd book lends them its author as their bookauthor.
_BOOK_PART_BIBTEX_TYPES = frozenset(("inbook", "bookinbook", "suppbook"))
_NOT_INHERITED = frozenset((
    "title", "subtitle", "titleaddon", "shorttitle", "sorttitle", "indextitle",
    "indexsorttitle", "crossref", "xref", "xdata", "entryset", "ids", "label", "shorthand",
    "sortkey", "related", "relatedtype", "relatedstring", "doi", "pmid", "eprint",
    "eprinttype", "eprintclass", "archiveprefix", "url", "urldate", "note", "addendum",
    "annotation", "abstract", "file", "accession number",
))  # fmt: skip

# Every BibTeX field the conversion reads (directly or through crossref inheritance).
_USED_FIELDS = frozenset((
    "title", "subtitle", "titleaddon", "author", "editor", "date", "year", "month", "day",
    "journaltitle", "journalsubtitle", "journal", "booktitle", "booksubtitle",
    "booktitleaddon", "maintitle", "mainsubtitle", "series", "number", "issue", "volume",
    "part", "pages", "publisher", "institution", "school", "organization", "location",
    "address", "issuetitle", "issuesubtitle", "edition", "type", "isbn", "doi", "pmid",
    "eprint", "eprinttype", "archiveprefix", "url",
    "urldate", "howpublished", "note", "addendum", "entrysubtype", "crossref", "xdata",
    "langid", "language", "hyphenation", "translator", "origdate", "origyear", "volumes",
    "origpublisher", "shorttitle", "bookauthor", "accession number",
))  # fmt: skip

# --- Raw entries ----------------------------------------------------------------------------


@dataclass
class _RawEntry:
    key: str
    bibtex_type: str
    line: int
    fields: dict[str, str]  # evaluated (macros, concatenation), still LaTeX
    field_lines: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    bad_values: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    duplicate_of_line: int | None = None


class _EntryFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# BibTeX's predefined month macros: `month = jan` needs no @string.
_MONTH_MACROS = {name[:3]: name.capitalize() for name in _MONTHS}


class BibtexReader(Reader):
    name = "bibtex"
    label = "BibTeX"
    unit = "entry"
    units = "entries"
    extensions = (".bib", ".bibtex", ".biblatex")
    priority = 10

    def detect(self, text: str) -> int:
        return 80 if _ENTRY_START.search(text) else 0

    def read(self, text: str, *, progress: Progress | None = None) -> ReadResult:
        return read_bibtex(text, progress=progress)


_ENTRY_START = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)

READER = BibtexReader()


def read_bibtex(text: str, *, progress: Progress | None = None) -> ReadResult:
    library = bibtexparser.parse_string(text, parse_stack=[])
    result = ReadResult(format="bibtex")

    # Two passes: all @string macros first, so an entry may use one defined below it.
    macros: dict[str, str] = dict(_MONTH_MACROS)
    blocks = library.blocks
    for block in blocks:
        if type(block) is Entry:
            continue
        string = block
        if isinstance(block, DuplicateBlockKeyBlock) and isinstance(
            block.ignore_error_block, String
        ):
            string = block.ignore_error_block
            result.warnings.append(
                f"line {_line(block)}: @string {string.key} is defined again; "
                "the later definition is used"
            )
        if isinstance(string, String):
            warnings: list[str] = []
            try:
                macros[string.key.lower()] = _evaluate(string.value, macros, warnings)
            except _BadValue as error:
                result.failures.append(
                    BlockProblem(_line(string), "", f"@string {string.key}: {error}")
                )
            result.warnings.extend(f"line {_line(string)}: {w}" for w in warnings)

    raw_entries: list[_RawEntry] = []
    first_by_key: dict[str, _RawEntry] = {}
    for index, block in enumerate(blocks):
        if type(block) is Entry:  # the usual block, before the slower isinstance checks
            raw = _raw_entry(block, macros)
            raw_entries.append(raw)
            first_by_key[raw.key] = raw
        elif type(block) is ImplicitComment:
            # Text between blocks is a comment to BibTeX, unless it is the rest of the entry
            # before it, cut off by a "}" too many: its fields would be lost without a word.
            if index and isinstance(blocks[index - 1], Entry) and raw_entries:
                cut_off = _CUT_OFF_FIELDS.match(block.comment)
                if cut_off and raw_entries[-1].line == _line(blocks[index - 1]):
                    shown = _SPACES.sub(" ", block.comment.strip().lstrip(",").strip())
                    shown = shown if len(shown) <= 60 else shown[:59] + "…"
                    raw_entries[-1].bad_values.append(
                        f"a “}}” too many at line {_line(block)} closes the entry early, and "
                        f"“{shown}” after it would be lost; remove the extra “}}”"
                    )
        elif isinstance(block, DuplicateBlockKeyBlock):
            if isinstance(block.ignore_error_block, Entry):
                raw = _raw_entry(block.ignore_error_block, macros)
                raw.duplicate_of_line = first_by_key[raw.key].line
                raw_entries.append(raw)
        elif isinstance(block, DuplicateFieldKeyBlock) and isinstance(
            block.ignore_error_block, Entry
        ):
            entry = block.ignore_error_block
            twice = sorted(name.lower() for name in block.duplicate_keys)
            shown_twice = [name for name in twice if name in _USED_FIELDS]
            differing = [name for name in shown_twice if len(_values(entry, name)) > 1]
            if differing:
                result.failures.append(
                    BlockProblem(
                        _line(entry),
                        entry.key,
                        f"the field {', '.join(differing)} appears twice with different "
                        "values; keep one and import again",
                    )
                )
                continue
            # A repeated abstract, annote or file is left out anyway: never a refusal.
            raw = _raw_entry(entry, macros, repeated_ok=set(twice))
            raw_entries.append(raw)
            first_by_key.setdefault(raw.key, raw)
        elif isinstance(block, ParsingFailedBlock):
            result.failures.append(_failed_block(block, text))
        elif isinstance(block, Entry):
            raw = _raw_entry(block, macros)
            raw_entries.append(raw)
            first_by_key[raw.key] = raw

    total = len(raw_entries)
    for done, raw in enumerate(raw_entries, start=1):
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress("reading entries", done, total)
        if raw.bibtex_type in _NOT_WORKS and raw.key:
            result.skipped.append(BlockProblem(raw.line, raw.key, _NOT_WORKS[raw.bibtex_type]))
            continue
        item = SourceItem(
            csl={"id": raw.key},
            line=raw.line,
            duplicate_of_line=raw.duplicate_of_line,
            source_type=f"@{raw.bibtex_type}",
            dropped=raw.dropped,
        )
        result.items.append(item)
        if not raw.key:
            item.problem = "the entry has no citation key (“@type{key, …}”)"
            continue
        try:
            if raw.bad_values:
                raise _EntryFailed("; ".join(raw.bad_values))
            fields, lines, parent_type, warnings = _inherit(raw, first_by_key)
            item.csl, item.lines = _convert(raw, fields, lines, parent_type, warnings)
            item.warnings = warnings
        except _EntryFailed as error:
            item.problem = error.reason
    return result


# "author = {…}" (or ", author = …") right after an entry's closing brace.
_CUT_OFF_FIELDS = re.compile(r"\s*,?\s*[A-Za-z][\w.:+-]*\s*=\s*[{\"\w]")


def _line(block: Block) -> int:
    """A block's 1-based line (bibtexparser counts from 0)."""
    return (block.start_line or 0) + 1


def _values(entry: Entry, name: str) -> set[str]:
    return {f.value.strip() for f in entry.fields if f.key.strip().lower() == name}


_PLAIN_BRACED = re.compile(r"\{[^{}]*\}")


def _raw_entry(
    entry: Entry, macros: dict[str, str], *, repeated_ok: set[str] | None = None
) -> _RawEntry:
    raw = _RawEntry(
        key=entry.key.strip(),
        bibtex_type=entry.entry_type.lower(),
        line=_line(entry),
        fields={},
        field_lines={},
    )
    fields, field_lines = raw.fields, raw.field_lines
    entry_start = entry.start_line or 0
    for bib_field in entry.fields:
        name = bib_field.key.lower()
        if name not in _USED_FIELDS:
            name = name.strip()
            if name not in _USED_FIELDS:
                if name not in raw.dropped:
                    raw.dropped.append(name)  # abstracts, keywords, files…: never evaluated
                continue
        if name in fields:
            if repeated_ok is None or name not in repeated_ok:
                # Field names are case-insensitive in BibTeX; like BibTeX, the first counts.
                raw.warnings.append(f"has the field {name} twice; the first one is used")
            continue
        line = (bib_field.start_line or entry_start) + 1
        value = bib_field.value
        if type(value) is str and _PLAIN_BRACED.fullmatch(value):
            fields[name] = value[1:-1]  # the usual {plain value}, no braces inside
        else:
            try:
                fields[name] = _evaluate(value, macros, raw.warnings)
            except _BadValue as error:
                raw.bad_values.append(f"the field {name} (line {line}) is malformed: {error}")
        field_lines[name] = line
    return raw


# --- Values ---------------------------------------------------------------------------------


def _split_concatenation(value: str) -> list[str]:
    """`a # {b} # "c"` → parts, splitting only on `#` outside braces and quotes."""
    if "#" not in value:
        return [value]
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


def _fully_braced(value: str) -> bool:
    """True for `{…}` whose first brace closes at the very end (not `{a} and {b}`)."""
    if len(value) < 2 or value[0] != "{" or value[-1] != "}":
        return False
    inner = value[1:-1]
    if "{" not in inner and "}" not in inner:
        return True
    # Balanced inside means the outer braces enclose it all.
    rest, _ = _without_groups(inner)
    return "{" not in rest and "}" not in rest


def _without_groups(text: str) -> tuple[str, bool]:
    """`text` without escaped braces and without its `{…}` groups, stripped innermost
    first for at most _BRACE_LEVELS levels, and whether a group nested deeper is left."""
    if "\\" in text:
        text = _ESCAPED_BRACE.sub("", text)
    for _ in range(_BRACE_LEVELS):
        text, count = _INNERMOST_GROUP.subn("", text)
        if not count:
            return text, False
    return text, _INNERMOST_GROUP.search(text) is not None


_ESCAPED_BRACE = re.compile(r"\\[{}]")
_INNERMOST_GROUP = re.compile(r"\{[^{}]*\}")


class _BadValue(Exception):
    pass


# Braces nested deeper than this inside a value are refused: no reference needs more than a
# few levels, and reading `{{{…}}}` or `\emph{\emph{…}}` thousands deep costs time that grows
# with the square of the depth (and Python's stack), so one entry could hold a request.
MAX_BRACE_DEPTH = 32
_BRACE_LEVELS = MAX_BRACE_DEPTH + 1  # and the braces that delimit the value


def _check_brace_depth(value: str) -> None:
    """Raises `_BadValue` for braces nested deeper than MAX_BRACE_DEPTH. Each round of
    `_without_groups` strips the innermost groups, so the rounds count the depth; a value
    with few braces (almost all of them) is not even looked at."""
    if value.count("{") > _BRACE_LEVELS and _without_groups(value)[1]:
        raise _BadValue(
            f"its braces are nested more than {MAX_BRACE_DEPTH} levels deep; "
            "remove the extra “{” and “}”"
        )


# A complete value followed by the next field: `{Missing Comma}  author = {…}`.
_MISSING_COMMA = re.compile(r"(?:\{.*\}|\".*\"|\d+)\s+([A-Za-z][\w.:+-]*)\s*=", re.S)


def _evaluate(value: str, macros: dict[str, str], warnings: list[str]) -> str:
    """Resolve one raw value: delimiters, @string macros, month macros and `#`.

    Raises `_BadValue` for text BibTeX itself would reject, such as `{x} junk`, and for
    braces nested too deep to be a reference.
    """
    value = value.strip()
    _check_brace_depth(value)
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
            missing_comma = _MISSING_COMMA.match(part)
            if missing_comma:
                # `title = {A}` and then `author = …` on the next line: the splitter read
                # both as one value.
                raise _BadValue(
                    f"a “,” is missing after its value, before “{missing_comma.group(1)} =”"
                )
            raise _BadValue(
                f"“{_SPACES.sub(' ', part)[:60]}” is not a BibTeX value; "
                "enclose it in braces: {…}"
            )
    return "".join(out)


# `\url{…}` or `\href{…}`: matched at the start of a URL field, searched for in
# `howpublished` ("Available at \url{…}").
_URL_MACRO = re.compile(r"\\(?:url|href)\s*\{(?P<url>[^{}]*)\}")
# Escapes exporters write in URLs and DOIs: \_ {\_} \% \& \# \$ \~{} \textunderscore …
_VERBATIM_COMMANDS = re.compile(
    r"\\(?:textunderscore|textasciitilde|textasciicircum|textbackslash|textbar|"
    r"textless|textgreater)(?![A-Za-z])\s*(?:\{\})?"
)
_VERBATIM_COMMAND_TEXT = {
    "textunderscore": "_", "textasciitilde": "~", "textasciicircum": "^",
    "textbackslash": "\\", "textbar": "|", "textless": "<", "textgreater": ">",
}  # fmt: skip
_VERBATIM_ESCAPE = re.compile(r"\\([_%&#$~{}^])(?:\{\})?")
_PLACEHOLDER_OPEN, _PLACEHOLDER_CLOSE = "\x00", "\x01"
_ANY_SPACE = re.compile(r"\s")


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


def _verbatim(value: str, *, keep_spaces: bool = False) -> str:
    """URLs, DOIs and e-prints are verbatim in biblatex, but exporters escape them
    anyway: `10.1162/jocn{\\_}a{\\_}00318` is `10.1162/jocn_a_00318`. Escapes are undone,
    grouping braces dropped; whitespace goes (or, for lists, becomes single spaces)."""
    if not value:
        return ""
    value = value.strip()
    match = _URL_MACRO.match(value)
    if match:
        value = match.group("url")
    if "\\" in value:
        value = _VERBATIM_COMMANDS.sub(
            lambda m: _VERBATIM_COMMAND_TEXT[m.group(0)[1:].split("{")[0].strip()], value
        )
        # Escaped braces are characters; keep them through the brace removal below.
        value = value.replace("\\{", _PLACEHOLDER_OPEN).replace("\\}", _PLACEHOLDER_CLOSE)
        value = _VERBATIM_ESCAPE.sub(_first_group, value)
    if "{" in value or "}" in value:
        value = value.replace("{", "").replace("}", "")
    if _PLACEHOLDER_OPEN in value or _PLACEHOLDER_CLOSE in value:
        value = value.replace(_PLACEHOLDER_OPEN, "{").replace(_PLACEHOLDER_CLOSE, "}")
    if _ANY_SPACE.search(value):
        value = _SPACES.sub(" " if keep_spaces else "", value)
    return value.strip()


# --- Failed blocks --------------------------------------------------------------------------

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
        "the entry has no citation key, or no “,” after it: expected “@type{{key,” but "
        "found “{found}”",
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


# --- Inheritance ----------------------------------------------------------------------------


def _inherit(
    raw: _RawEntry, first_by_key: dict[str, _RawEntry]
) -> tuple[dict[str, str], dict[str, int], str | None, list[str]]:
    """The entry's fields plus those it inherits through `crossref` and `xdata`.

    bibtexparser 2 has no crossref support. This follows biblatex's defaults closely
    enough for references: a child keeps its own fields, takes the missing ones from the
    parent, a chapter-like child takes the parent's title as its booktitle, and an article
    takes a @periodical parent's title as its journal.
    """
    warnings = list(raw.warnings)
    if "crossref" not in raw.fields and "xdata" not in raw.fields:
        return raw.fields, raw.field_lines, None, warnings
    fields = dict(raw.fields)
    lines = dict(raw.field_lines)
    parent_type: str | None = None
    seen = {raw.key}

    def lend(child_type: str, parent: _RawEntry, *, as_crossref: bool) -> None:
        source = _inherited_fields(parent, first_by_key, seen, warnings)
        renames: tuple[tuple[str, str], ...] = ()
        if as_crossref and child_type in _CONTAINED_BIBTEX_TYPES:
            renames = (
                ("title", "booktitle"),
                ("subtitle", "booksubtitle"),
                ("titleaddon", "booktitleaddon"),
            )
        elif (
            as_crossref
            and child_type in _ARTICLE_BIBTEX_TYPES
            and (parent.bibtex_type == "periodical")
        ):
            renames = (("title", "journaltitle"), ("subtitle", "journalsubtitle"))
        elif as_crossref and parent.bibtex_type.startswith("mv"):
            renames = (("title", "maintitle"), ("subtitle", "mainsubtitle"))
        if (
            as_crossref
            and child_type in _BOOK_PART_BIBTEX_TYPES
            and parent.bibtex_type in ("book", "mvbook")
        ):
            # biblatex's default: a part of a book takes the book's author as its bookauthor
            # (and as its own author, when it has none, below).
            renames += (("author", "bookauthor"),)
        for own, as_child in renames:
            if own in source and as_child not in fields:
                fields[as_child] = source[own]
                lines[as_child] = parent.line
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


# --- Conversion -----------------------------------------------------------------------------


def _join(first: str, second: str, separator: str) -> str:
    """Join title and subtitle ("Title: Subtitle"), or note and addendum; a subtitle the
    title already ends with (Zotero writes both) is not repeated."""
    if not first or not second:
        return first or second
    if _comparable(first).endswith(_comparable(second)):
        return first
    if rich_text_plain(first)[-1:] in ("?", "!", ":", "."):
        return f"{first} {second}"
    return f"{first}{separator}{second}"


def _comparable(text: str) -> str:
    return re.sub(r"\W+", "", rich_text_plain(text)).casefold()


def _convert(
    raw: _RawEntry,
    source: dict[str, str],
    lines: dict[str, int],
    parent_type: str | None,
    warnings: list[str],
) -> tuple[dict[str, Any], dict[str, int]]:
    """One entry's fields (evaluated, with inheritance) as a CSL-JSON item."""
    # A @periodical's title is a journal's name, which keeps its capitals (as in pandoc);
    # with an issuetitle it is one issue of the journal, whose title is the work's.
    issue_of_journal = raw.bibtex_type == "periodical" and bool(source.get("issuetitle"))
    language = ""
    if not _LANGUAGE_FIELDS.isdisjoint(source):
        for language_field in ("langid", "hyphenation", "language"):
            if source.get(language_field, "").strip():
                language = latex_to_unicode(source[language_field])
                break
    english = (raw.bibtex_type != "periodical" or issue_of_journal) and is_english(language)

    def text(*names: str) -> str:
        for name in names:
            value = source.get(name)
            if value:
                value = latex_to_unicode(value)
                if value:
                    return value
        return ""

    def title_text(name: str) -> str:
        value = source.get(name)
        if not value:
            return ""
        return latex_to_rich_text(value, sentence_case=english)

    def titled(main: str, sub: str, addon: str = "") -> str:
        joined = _join(title_text(main), title_text(sub), ": ")
        return _join(joined, title_text(addon), ". ") if addon else joined

    bibtex_type = raw.bibtex_type
    csl_type = _TYPE_MAP.get(bibtex_type)
    if csl_type is None:
        csl_type = _T.DOCUMENT
        if bibtex_type not in _QUIETLY_DOCUMENTS:
            warnings.append(f"has the unknown type @{bibtex_type}; imported as “other document”")
    subtype = text("entrysubtype").lower() if "entrysubtype" in source else ""
    if csl_type == _T.ARTICLE_JOURNAL and subtype in ("magazine", "newspaper"):
        csl_type = _T.ARTICLE_MAGAZINE if subtype == "magazine" else _T.ARTICLE_NEWSPAPER

    if issue_of_journal:
        csl_type = _T.ARTICLE_JOURNAL
    csl: dict[str, Any] = {"id": raw.key, "type": str(csl_type)}
    out_lines: dict[str, int] = {}

    def put(variable: str, value: Any, *source_names: str) -> None:
        if value:
            csl[variable] = value
            for source_name in source_names:
                if source_name in lines:
                    out_lines[variable] = lines[source_name]
                    break

    if issue_of_journal:
        title = titled("issuetitle", "issuesubtitle")
    else:
        title = titled("title", "subtitle", "titleaddon")
    # biblatex's part of a volume is "5.2", as in pandoc.
    volume = text("volume")
    if volume and text("part"):
        volume = f"{volume}.{text('part')}"
    if csl_type == _T.BOOK and "maintitle" in source and title:
        # One volume of a multivolume work: see _volume_of.
        title = _volume_of(titled("maintitle", "mainsubtitle"), volume, title)
        volume = ""
    put("title", title, "title", "subtitle")
    if "shorttitle" in source:
        put("title-short", title_text("shorttitle"), "shorttitle")
    elif (
        ": " in title
        and "<" not in title.partition(": ")[0]
        and not source.get("author", "").strip()
        and not source.get("editor", "").strip()
    ):
        # As pandoc's biblatex reader makes it: the title before its subtitle, which APA
        # cites a work with no author or editor by ("CTAN", not the whole "CTAN: The …").
        # Only for those: for every other work it would print nowhere.
        put("title-short", title.partition(": ")[0], "title")
    if language:
        # The engine keeps it only when it is not English.
        put("language", language, language_field)
    if english and title.isupper() and len(_CAPITAL_WORD.findall(title)) >= 3:
        # Sentence case cannot tell words from acronyms in "TREATMENT OF HTN IN THE ELDERLY"
        # and leaves capitals alone (as pandoc does): APA and AMA would print it shouting.
        warnings.append(
            "has its title in capitals; it is stored as written, since acronyms cannot be "
            "told from words: retype it in sentence case, with acronyms in braces ({DNA})"
        )

    authors, et_al = _names(source.get("author", ""), "author", warnings)
    editors, _ = _names(source.get("editor", ""), "editor", warnings)
    put("author", authors, "author")
    if et_al:
        csl["x-et-al"] = True
    put("editor", editors, "editor")
    if "translator" in source:
        translators, _ = _names(source["translator"], "translator", warnings)
        put("translator", translators, "translator")
    if "bookauthor" in source:
        book_authors, _ = _names(source["bookauthor"], "book author", warnings)
        put("container-author", book_authors, "bookauthor")

    date = _issued(source, warnings)
    if date is not None:
        csl["issued"] = {"date-parts": [[part for part in date if part is not None]]}
        out_lines["issued"] = lines.get("date") or lines.get("year") or raw.line
        if source.get("date") and "/" in source["date"]:
            # biblatex's range, "1984/1986": a work published over several years.
            end = csl_date_range_end(latex_to_unicode(source["date"]))
            if end is not None and end != date[0]:
                csl["issued"]["date-parts"].append([end])  # the engine checks the order
            elif end is None and (
                unread := csl_date_range_end_text(latex_to_unicode(source["date"]))
            ):
                warnings.append(
                    f"has a date range ending “{unread}”, which is not a year; "
                    f"it will be cited as {date[0]}"
                )
    # A reprint's or translation's first publication: biblatex's origdate, or origyear.
    original_field = "origdate" if source.get("origdate") else "origyear"
    if source.get(original_field):
        original = parse_edtf(latex_to_unicode(source[original_field]))
        if original is not None:
            csl["original-date"] = {"date-parts": [[original[0]]]}
            out_lines["original-date"] = lines[original_field]
        else:
            warnings.append(
                f"has the {original_field} “{source[original_field]}”, which is not a date"
            )
    if "origpublisher" in source:
        put("original-publisher", text("origpublisher"), "origpublisher")

    if issue_of_journal:
        container = titled_plain(source, "title", "subtitle")
        container_sources: tuple[str, ...] = ("title",)
    elif csl_type in _ARTICLE_TYPES:
        container = titled_plain(source, "journaltitle", "journalsubtitle") or titled_plain(
            source, "journal", ""
        )
        container_sources = ("journaltitle", "journal")
    elif csl_type in _CONTAINED_TYPES:
        # Scopus names a conference paper's proceedings in `journal`, not `booktitle`:
        # without the fallback the proceedings were lost, and no warning said so.
        container = titled("booktitle", "booksubtitle", "booktitleaddon")
        if container and "maintitle" in source:
            container = _volume_of(titled("maintitle", "mainsubtitle"), volume, container)
            volume = ""
        container = (
            container
            or titled("maintitle", "mainsubtitle")
            or titled_plain(source, "journaltitle", "journalsubtitle")
            or titled_plain(source, "journal", "")
        )
        container_sources = ("booktitle", "maintitle", "journaltitle", "journal")
    elif csl_type == _T.BOOK:
        container = ""  # a book's own title is its title; maintitle has no field here
        container_sources = ()
    else:
        container = text("journaltitle", "journal") or title_text("booktitle")
        container_sources = ("journaltitle", "journal", "booktitle")
    if csl_type == _T.CHAPTER and (
        bibtex_type == "inreference"
        or parent_type in _ENCYCLOPEDIA_PARENTS
        or _ENCYCLOPEDIA_TITLE.search(container)
    ):
        csl_type = _T.ENTRY_ENCYCLOPEDIA
        csl["type"] = str(csl_type)
    put("container-title", rich_text_plain(container), *container_sources)

    if "series" in source:
        series = _SERIES_KEYS.get(source["series"].strip(), "") or title_text("series")
        if series.isdigit():  # biblatex prints series = {3} as "3rd series", as pandoc does
            series = f"{_ordinal(int(series))} series"
        put("collection-title", rich_text_plain(series), "series")
    if csl_type in _ARTICLE_TYPES:
        if "number" in source or "issue" in source:
            put("issue", text("number", "issue"), "number", "issue")
    else:
        if "issue" in source:
            put("issue", text("issue"), "issue")
        if "number" in source and bibtex_type in _SERIES_NUMBER_TYPES:
            # A book's number is its number in its series (pandoc: collection-number,
            # which neither style prints); as CSL `number` APA printed "(No. 7)".
            number = text("number")
            if number:
                warnings.append(
                    f"is number {number} in its series; the library keeps no series "
                    "number, so it was left out"
                )
        elif "number" in source:
            put("number", text("number"), "number")
    put("volume", volume, "volume")
    if "pages" in source:
        put("page", text("pages"), "pages")

    # EndNote writes `type = {Journal Article}` into every entry: a genre only where
    # biblatex has one (theses, reports, patents, manuals, misc…).
    genre = text("type") if "type" in source and csl_type in _GENRE_TYPES else ""
    genre = _GENRE_KEYS.get(genre, genre) or _DEFAULT_GENRES.get(bibtex_type, "")
    if genre:
        put("genre", genre, "type")
    if "location" in source or "address" in source:
        place = text("location", "address")
        place = _COUNTRY_KEY.sub(lambda m: _COUNTRY_NAMES[m.group(1)], place)
        put("publisher-place", place, "location", "address")
    if not _PUBLISHER_FIELDS.isdisjoint(source):
        put(
            "publisher",
            text("publisher", "institution", "school", "organization"),
            "publisher", "institution", "school", "organization",
        )  # fmt: skip
    if "edition" in source:
        put("edition", text("edition"), "edition")
    if "volumes" in source:
        put("number-of-volumes", text("volumes"), "volumes")

    if not _IDENTIFIER_FIELDS.isdisjoint(source):
        _identifiers(source, text, put)

    if source.get("urldate"):
        parsed_date = parse_edtf(_verbatim(source["urldate"]))
        if parsed_date and parsed_date[1] and parsed_date[2]:
            csl["accessed"] = {"date-parts": [list(parsed_date)]}
        else:
            warnings.append(f"has the urldate “{source['urldate']}”, which is not a full date")
    if "note" in source or "addendum" in source:
        note = text("note")
        if csl.get("PMID") and _pmid_in_note(note) == csl["PMID"]:
            # The PMID is stored as the PMID; the rest of the note stays.
            note = _PMID_IN_NOTE.sub("", note, count=1).lstrip(" .;,").rstrip(" ;,")
        put("note", _join(note, text("addendum"), ". "), "note", "addendum")
    return csl, out_lines


_CAPITAL_WORD = re.compile(r"\b[^\W\d_]{2,}\b")
# biblatex types whose `number` is the number in a series (pandoc's collection-number).
_SERIES_NUMBER_TYPES = frozenset((
    "book", "mvbook", "collection", "mvcollection", "proceedings", "mvproceedings",
    "reference", "mvreference", "bookinbook", "inbook", "incollection", "inproceedings",
    "inreference", "suppbook", "suppcollection", "conference",
))  # fmt: skip
# E-print archives whose identifiers pandoc's biblatex reader turns into links.
_EPRINT_URLS = {
    "arxiv": "https://arxiv.org/abs/",
    "jstor": "https://www.jstor.org/stable/",
    "googlebooks": "https://books.google.com?id=",
}


def _volume_of(main_title: str, volume: str, own_title: str) -> str:
    """The title of one volume of a multivolume work, as APA 7 writes it (§10.2: "Handbook
    of X: Vol. 2. Title of the volume") and pandoc prints its maintitle, volume and
    volume-title. The library has no field for a volume's own title: without this, either
    the multivolume work's title or the volume's was lost."""
    if not main_title or _comparable(main_title) == _comparable(own_title):
        return own_title
    if volume:
        label = f"Vol. {volume}" if volume.isdigit() else volume
        return f"{main_title}: {label}. {own_title}"
    return _join(main_title, own_title, ": ")


def _ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 22nd (pandoc writes "22th"; biblatex "22nd")."""
    suffix = (
        "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


_GENRE_TYPES = frozenset((_T.THESIS, _T.REPORT, _T.PATENT, _T.DOCUMENT, _T.WEBPAGE, _T.DATASET,
                          _T.SOFTWARE, _T.MANUSCRIPT))  # fmt: skip
_LANGUAGE_FIELDS = frozenset(("langid", "hyphenation", "language"))
_PUBLISHER_FIELDS = frozenset(("publisher", "institution", "school", "organization"))
_IDENTIFIER_FIELDS = frozenset(
    ("url", "howpublished", "doi", "pmid", "eprint", "isbn", "note", "accession number")
)
# A PMID as notes write it ("PMID: 32561234", "PubMed ID 32561234"), as the RIS and
# CSL-JSON readers take it from theirs.
_PMID_IN_NOTE = re.compile(
    r"[\s;,]*\b(?:PMID|PubMed\s*ID)\s*[:=]?\s*(\d{1,9})\b"
    r"|[\s;,]*\bPubMed\s*[:=]\s*(\d{1,9})\b",
    re.I,
)


def _pmid_in_note(note: str) -> str:
    found = _PMID_IN_NOTE.search(note)
    return (found.group(1) or found.group(2)) if found else ""


def _identifiers(source: dict[str, str], text: Any, put: Any) -> None:
    """URL, DOI, PMID and ISBN, from their fields or an e-print."""
    # A line break in a URL is a wrapped line (some tools wrap long fields); a space
    # within a line is part of the value, and makes it no web address.
    url = _verbatim(rejoin_wrapped_url(source.get("url", "")), keep_spaces=True)
    url_sources: tuple[str, ...] = ("url",)
    if not url and "howpublished" in source:
        howpublished = source["howpublished"]
        macro = _URL_MACRO.search(howpublished)
        if macro:  # "Available at \url{…}": the macro holds the whole address
            url = _verbatim(rejoin_wrapped_url(macro.group("url")), keep_spaces=True)
        else:  # free text: the address ends at the first space
            found = re.search(r"https?://[^\s{}]+", _verbatim(howpublished, keep_spaces=True))
            url = found.group(0) if found else ""
        url_sources = ("howpublished",)
    doi = _verbatim(source.get("doi", ""), keep_spaces=True)
    pmid = _verbatim(source.get("pmid", ""))
    eprint = _verbatim(source.get("eprint", ""))
    if eprint:
        eprint_type = text("eprinttype", "archiveprefix").lower()
        if eprint_type in ("pubmed", "pmid") and not pmid:
            pmid = eprint
        elif eprint_type == "doi" and not doi:
            doi = eprint
        elif eprint_type in _EPRINT_URLS and not url:
            url = f"{_EPRINT_URLS[eprint_type]}{eprint}"
            url_sources = ("eprint",)
    if not pmid:
        # EndNote's accession number is the PMID when it is all digits (as its RIS AN);
        # Web of Science's is "WOS:…".
        accession = _verbatim(source.get("accession number", ""))
        if accession.isascii() and accession.isdigit() and len(accession) <= 9:
            pmid = accession
        elif "note" in source:
            pmid = _pmid_in_note(text("note"))
    put("URL", url, *url_sources)
    put("DOI", doi, "doi")
    put("PMID", pmid, "pmid", "eprint", "accession number", "note")
    put("ISBN", _verbatim(source.get("isbn", ""), keep_spaces=True), "isbn")


def titled_plain(source: dict[str, str], main: str, sub: str) -> str:
    """A journal's name: decoded, never recased (journal names keep their capitals)."""
    first = latex_to_unicode(source.get(main, "")) if source.get(main) else ""
    second = latex_to_unicode(source.get(sub, "")) if sub and source.get(sub) else ""
    return _join(first, second, ": ")


# --- Names ----------------------------------------------------------------------------------

# Names are separated by "and" in any case; decoded text has single spaces only.
_AND_DECODED = re.compile(" [aA][nN][dD] ")
# Values the fast path can split like BibTeX: braces only around single words' letters.
_SIMPLE_NAMES = re.compile(r"[^{}]*(?:\{[^{}\s,]*\}[^{}]*)*")


# A run of "and"s ("and and") outside braces holds an empty name.
_AND_RUN = re.compile(r"(?<!\S)[aA][nN][dD](?:\s+[aA][nN][dD](?!\S))*(?!\S)")
# Where an empty name can be at all (braces aside): "and" first, last or twice in a row.
_EMPTY_NAME_HINT = re.compile(
    r"^[aA][nN][dD](?!\S)|(?<!\S)[aA][nN][dD]$|(?<!\S)[aA][nN][dD]\s+[aA][nN][dD](?!\S)"
)


def _without_empty_names(value: str, role: str, warnings: list[str]) -> str:
    """`Smith, J and and Doe, J` (and an "and" first or last) without the empty names
    between the "and"s. Split as they are, the next person was "and Doe", a family name
    no one has. "and" inside braces is text: `{Barnes and and Noble}`."""
    content_end = len(value)  # `value` is stripped
    out: list[str] = []
    position = depth = empty = 0
    for match in _AND_RUN.finditer(value):
        # Brace depth counted from the last match on, so the file is read once.
        between = value[position : match.start()]
        depth += between.count("{") - between.count("}")
        out.append(between)
        position = match.end()
        count = len(match.group().split())
        if depth > 0:
            out.append(match.group())
        elif match.start() == 0 or match.end() == content_end:
            empty += count  # nothing before the first "and", or after the last
        else:
            empty += count - 1
            out.append(match.group().split()[0])
    if not empty:
        return value
    out.append(value[position:])
    warnings.append(
        f"has {'an empty ' + role if empty == 1 else f'{empty} empty {role}s'} in its "
        f"{role} list (“and” twice, or “and” at an end); skipped"
    )
    return "".join(out).strip()


def _names(value: str, role: str, warnings: list[str]) -> tuple[list[dict[str, str]], bool]:
    """A BibTeX name list as CSL names, and whether it ended in `and others`."""
    value = value.strip()
    if _EMPTY_NAME_HINT.search(value):
        value = _without_empty_names(value, role, warnings)
    if not value:
        return [], False
    # EndNote ends an organisation's name with a comma; one with "and" in it ("Agency for
    # Healthcare Research and Quality,") must not be split there: the general path joins it.
    endnote_organisation = value[-1] == "," or ", and " in value
    # "=" only in biblatex's extended name format, which the fast path cannot read.
    if not endnote_organisation and "=" not in value and _SIMPLE_NAMES.fullmatch(value):
        fast = _simple_names(value, role, warnings)
        if fast is not None:
            return fast
    raw_names = split_multiple_persons_names(value)
    if endnote_organisation:
        raw_names = _join_endnote_organisations(raw_names)
    names: list[dict[str, str]] = []
    et_al = False
    for raw_name in raw_names:
        raw_name = raw_name.strip()
        if raw_name.lower() in _ET_AL:
            et_al = True
            continue
        if _fully_braced(raw_name):
            # {World Health Organization}: braces protect an organisation's name from
            # being split into given and family names.
            literal = latex_to_unicode(raw_name[1:-1])
            if literal:
                names.append({"literal": literal})
            continue
        if "=" in raw_name:
            extended = _extended_name(raw_name)
            if extended:
                names.append(extended)
                continue
        if raw_name.endswith(",") and raw_name.count(",") == 1:
            # EndNote's "American College of Surgeons," is one name without a given name.
            names.append({"family": latex_to_unicode(raw_name[:-1])})
            continue
        if "," not in raw_name and " " in raw_name:
            organisation = _unbraced_organisation(raw_name, role, warnings)
            if organisation:
                names.append(organisation)
                continue
        try:
            parts = parse_single_name_into_parts(raw_name)
        except InvalidNameError as error:
            literal = latex_to_unicode(raw_name)
            warnings.append(
                f"has the {role} “{literal}”, which cannot be split into family and given "
                f"names ({error.reason.lower()}); kept as one name: separate people with "
                "“and”"
            )
            names.append({"literal": literal})
            continue
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


def _extended_name(raw_name: str) -> dict[str, str] | None:
    """biblatex's extended name format, as Better BibTeX writes names with particles:
    `family=Berg, given=Jan, prefix=van der, useprefix=true` is Jan van der Berg. None
    when the name is not in that format (an "=" in an ordinary name)."""
    parts: dict[str, str] = {}
    for part in _split_top_level_commas(raw_name):
        key, equals, part_value = part.partition("=")
        key = key.strip().lower()
        if not equals or key not in _EXTENDED_NAME_KEYS:
            return None
        parts[key] = latex_to_unicode(part_value.strip())
    family = " ".join(p for p in (parts.get("prefix", ""), parts.get("family", "")) if p)
    if parts.get("suffix") and family:
        family = f"{family}, {parts['suffix']}"
    if not family:
        return None
    name = {"family": family}
    if parts.get("given"):
        name["given"] = parts["given"]
    return name


_EXTENDED_NAME_KEYS = frozenset((
    "family", "given", "prefix", "suffix", "useprefix", "familyi", "giveni", "prefixi",
    "suffixi", "id", "hash", "sortingnamekeytemplatename", "uniquename", "uniquepart",
))  # fmt: skip


def _split_top_level_commas(value: str) -> list[str]:
    """`a={x, y}, b=z` → ["a={x, y}", "b=z"]: commas inside braces belong to the value."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


# What ends an author list that goes on: BibTeX's "and others", and what people type.
_ET_AL = frozenset(("others", "et al.", "et al", "et. al.", "et.al.", "etal"))
_ET_AL_LONGEST = max(map(len, _ET_AL))  # longer names need no lower-casing to compare


def _join_endnote_organisations(raw_names: list[str]) -> list[str]:
    """ "National Institute for Health" and "Care Excellence,": one organisation, which
    EndNote wrote with a final comma and BibTeX splits at its "and". People in EndNote's
    lists always have a comma ("Smith, J."), so a comma-less part before such a name is
    the organisation's beginning when the whole reads as one."""
    joined: list[str] = []
    for raw_name in raw_names:
        name = raw_name.strip()
        if (
            joined
            and name.endswith(",")
            and name.count(",") == 1
            and "," not in joined[-1]
            and joined[-1].lower() not in _ET_AL
            and not _fully_braced(joined[-1])
            and looks_like_organisation(f"{joined[-1]} and {name[:-1]}")
        ):
            joined[-1] = f"{joined[-1]} and {name}"
        else:
            joined.append(name)
    return joined


def _unbraced_organisation(raw_name: str, role: str, warnings: list[str]) -> dict[str, str] | None:
    """ "World Health Organization" without braces (Google Scholar, hand-typed files):
    BibTeX would make it "Organization, W. H."; it is kept as one name, with a warning."""
    literal = latex_to_unicode(raw_name)
    if not looks_like_organisation(literal) or not (
        _ORGANISATION_END.search(literal) or not _CONNECTORS.isdisjoint(literal.split())
    ):
        return None
    warnings.append(
        f"has the {role} “{literal}”, which looks like an organisation written without "
        "braces; kept as one name (in BibTeX, wrap it in braces: {…})"
    )
    return {"literal": literal}


# Without a connecting word ("of", "for"…) a name counts as an organisation's only when it
# ends in a word no surname is ("World Health Organization"): "Mary Anne Union" and
# "John Center" stay people.
_ORGANISATION_END = re.compile(
    r"\b(?:Association|Society|Organi[sz]ation|Institute|Institutes|Committee|Council|"
    r"Department|Ministry|Agency|Foundation|University|Federation|Academy|Academies|"
    r"Collaboration|Collaborative|Consortium|Administration|Commission|Programme|"
    r"Coalition|Initiative|Registry|Investigators|Authority|Corporation)$"
)
_CONNECTORS = frozenset(("of", "for", "and", "on", "the", "&"))


def _simple_names(
    value: str, role: str, warnings: list[str]
) -> tuple[list[dict[str, str]], bool] | None:
    """The common case without bibtexparser's general name parser, or None to use it.

    Only for values whose braces hold no spaces or commas (`M{\\"u}ller`), so decoding
    the LaTeX first cannot move a name boundary.
    """
    names: list[dict[str, str]] = []
    et_al = False
    for raw_name in _AND_DECODED.split(latex_to_unicode(value)):
        if not raw_name:
            return None
        if len(raw_name) <= _ET_AL_LONGEST and raw_name.lower() in _ET_AL:
            et_al = True
            continue
        commas = raw_name.count(",")
        if commas == 0:
            words = raw_name.split()
            if len(words) == 1:
                names.append({"family": words[0]})
                continue
            if len(words) > 2:
                organisation = _unbraced_organisation(raw_name, role, warnings)
                if organisation:
                    names.append(organisation)
                    continue
            if any(not word[0].isalpha() for word in words):
                return None
            lower = [i for i, word in enumerate(words[:-1]) if word[0].islower()]
            if lower:
                given, family = words[: lower[0]], words[lower[0] :]
            else:
                given, family = words[:-1], words[-1:]
            name = {"family": " ".join(family)}
            if given:
                name["given"] = " ".join(given)
            names.append(name)
        elif commas in (1, 2):
            parts = [part.strip() for part in raw_name.split(",")]
            family = parts[0]
            if commas == 2:
                if not parts[1]:
                    return None
                family = f"{family}, {parts[1]}"
            if not family:
                return None
            name = {"family": family}
            if parts[-1]:
                name["given"] = parts[-1]
            names.append(name)
        else:
            return None
    return names, et_al


# --- Dates ----------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _issued(
    source: dict[str, str], warnings: list[str]
) -> tuple[int, int | None, int | None] | None:
    """Year, month, day from biblatex `date`, else BibTeX `year`/`month`/`day`."""
    if source.get("date"):
        date = parse_edtf(latex_to_unicode(source["date"]))
        if date is not None:
            return date
        warnings.append(f"has the date “{source['date']}”, which is not a date")
    if not source.get("year"):
        warnings.append(NO_YEAR)
        return None
    year_text = source["year"]
    year_match = _YEAR.search(year_text if year_text.isdigit() else latex_to_unicode(year_text))
    if not year_match:
        warnings.append(
            f"has the year “{source['year']}”, which is not a year; it will be cited as “n.d.”"
        )
        return None
    year = int(year_match.group(1))
    month = month_number(latex_to_unicode(source["month"])) if source.get("month") else None
    if source.get("month") and month is None:
        warnings.append(f"has the month “{source['month']}”, which is not a month")
    day_text = latex_to_unicode(source.get("day", ""))
    day = int(day_text) if month and day_text.isdigit() else None
    if day is not None:
        try:
            datetime.date(year, month, day)  # type: ignore[arg-type]
        except ValueError:
            day = None
    return valid_date(year, month, day)
