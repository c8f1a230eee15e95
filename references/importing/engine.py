"""The import engine, the same for every format: read → plan (preview) → apply (confirm).

1. `parse` picks the reader (by content, or the one asked for), and turns its CSL-JSON
   items into unsaved `Reference` field dicts: keys made where the format has none,
   identifiers, links, page ranges and names cleaned, the model's validation run, and
   every item that cannot be imported reported with its line and the reason. It needs no
   database.
2. `plan_import` classifies every entry against the library: new, changed (with a
   per-field diff), unchanged, duplicate (same key, or same DOI under another key, in the
   file or in the library) or failed.
3. `apply_import` writes the plan in one transaction: all of it or, if anything turns
   out invalid at that moment, none of it.

Merge rule: the fields an entry provides win; fields it leaves empty keep the library's
value. A PMID added by hand in the admin therefore survives a re-import of the same file.

Decisions worth knowing:
- An entry without a title fails ("entry KEY (line N) has no title"); the model requires
  one and a key is not a title. An entry without a year imports with a warning.
- A field the library has no column for (abstract, keywords, ISSN, files, notes…) never
  refuses an entry: it is left out, and one warning per file says which and how often.
- A made-up key (RIS, PubMed) that the library already uses for another work gets the
  next free letter instead of overwriting it; for the same work (same DOI, PMID, or title
  and year) it is that reference, so importing a file twice changes nothing.
- The admin refuses inputs over `MAX_UPLOAD_BYTES` (5 MB); the management command reads
  files of any size.
"""

from __future__ import annotations

import datetime
import gc
import hashlib
import json
import re
import reprlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DatabaseError, transaction
from django.db.models.functions import Lower
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..models import KEY_RE, NAME_FIELDS, Reference, ReferenceType, citation_key_validator
from . import keys as keygen
from .base import PROGRESS_EVERY, BlockProblem, Progress, ReadResult, SourceItem, where
from .normalize import (
    FieldProblem,
    clean_doi,
    clean_isbn,
    clean_names,
    clean_pages,
    clean_pmid,
    clean_url,
    csl_date,
    csl_date_range_end,
    csl_date_range_end_text,
    csl_language,
    valid_url,
)
from .readers import get_reader, pick_reader
from .richtext import rich_text_html, rich_text_plain
from .text import collapse_spaces, normalize_newlines, shortened

# The validator's message is a %-template ("%%" for "%"), formatted here once: shown as
# it is, the rule printed "%%". Raise it without params (Django would format it again).
KEY_RULE = str(citation_key_validator.message) % {}
_KEY_MAX_LENGTH = int(Reference._meta.get_field("key").max_length or 0)


class EntryFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- Results --------------------------------------------------------------------------------


@dataclass
class ParsedEntry:
    """One entry, converted to `Reference` field values (unsaved)."""

    key: str
    line: int
    source_type: str
    # Only the fields this entry provides (always key, type and title); see the merge rule.
    fields: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    duplicate_of_line: int | None = None
    record: int | None = None
    key_generated: bool = False


@dataclass
class ParsedImport:
    entries: list[ParsedEntry] = field(default_factory=list)
    failures: list[BlockProblem] = field(default_factory=list)
    skipped: list[BlockProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    format_label: str = ""


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
    record: int | None = None
    # A key the engine made (RIS, PubMed…), which may move aside for another work.
    key_generated: bool = False

    @property
    def message(self) -> str:
        return BlockProblem(self.line, self.key, self.reason, self.record).message

    @property
    def type_label(self) -> str:
        return display_value("type", self.fields.get("type"))

    @property
    def authors_text(self) -> str:
        names = [n.get("family") or n.get("literal", "") for n in self.fields.get("authors", [])]
        if len(names) > 2 or self.fields.get("authors_et_al"):
            return f"{names[0]} et al." if names else ""
        return " & ".join(names)

    @property
    def summary(self) -> str:
        """Who, year, title: enough to recognise the work in a preview table (plain text)."""
        if not self.fields:
            return ""
        year = self.fields.get("issued_year") or "n.d."
        title = rich_text_plain(self.fields.get("title", ""))
        return f"{self.authors_text} ({year}). {title}".strip()

    @property
    def summary_html(self) -> SafeString:
        """The summary as HTML: everything escaped, the title's italics shown."""
        if not self.fields:
            return SafeString("")
        year = self.fields.get("issued_year") or "n.d."
        return format_html(
            "{} ({}). {}", self.authors_text, year, rich_text_html(self.fields.get("title", ""))
        )


@dataclass
class ImportPlan:
    items: list[PlanItem] = field(default_factory=list)
    skipped: list[BlockProblem] = field(default_factory=list)
    file_warnings: list[str] = field(default_factory=list)
    format: str = ""
    format_label: str = ""

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


# --- Reading --------------------------------------------------------------------------------


def read(*, text: str, format: str | None = None, progress: Progress | None = None) -> ReadResult:
    """The reader's own output (CSL-JSON items), before any conversion."""
    text = normalize_newlines(text)
    reader = get_reader(format) if format else pick_reader(text)
    return reader.read(text, progress=progress)


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """A large import creates hundreds of thousands of small objects and no reference
    cycles; the cyclic garbage collector would walk them all again and again (a third of
    the time for 10,000 entries). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(
    *, text: str, format: str | None = None, progress: Progress | None = None
) -> ParsedImport:
    """Read `text` (in `format`, or the one its content shows) into unsaved `Reference`
    field dicts. Never touches the database."""
    with _without_gc_pauses():
        return _parse(normalize_newlines(text), format, progress)


def _parse(text: str, format: str | None, progress: Progress | None) -> ParsedImport:
    reader = get_reader(format) if format else pick_reader(text)
    result = reader.read(text, progress=progress)
    parsed = ParsedImport(
        failures=list(result.failures),
        skipped=list(result.skipped),
        warnings=list(result.warnings),
        format=reader.name,
        format_label=reader.label,
    )
    if not result.items and not result.failures and not result.skipped and text.strip():
        parsed.warnings.append(
            f"No {reader.label} {reader.units} were found in the text. The import reads "
            "BibTeX (@article{…}), RIS (TY  - JOUR), CSL-JSON ([{…}]) and PubMed/MEDLINE "
            "(PMID- …)."
        )

    explicit_keys = {str(item.csl.get("id") or "").strip() for item in result.items}
    taken = {key for key in explicit_keys if key}
    first_line: dict[str, int] = {}
    dropped: Counter[str] = Counter()
    converted: list[tuple[SourceItem, dict[str, Any] | None, list[str], str]] = []
    for item in result.items:
        warnings: list[str] = []
        try:
            if item.problem:
                raise EntryFailed(item.problem)
            converted.append((item, to_fields(item, warnings, dropped), warnings, ""))
        except EntryFailed as error:
            converted.append((item, None, warnings, error.reason))

    for item, fields, warnings, problem in converted:
        key = str(item.csl.get("id") or "").strip()
        generated = False
        if not key and fields is not None:
            key = keygen.unique_key(keygen.base_key(fields), taken)
            taken.add(key)
            generated = True
        duplicate_of = item.duplicate_of_line
        if key and not generated and duplicate_of is None and key in first_line:
            duplicate_of = first_line[key]
        if key and key not in first_line:
            first_line[key] = item.line
        if not problem and not generated:
            problem = _key_problem(key)
        if problem:
            if duplicate_of is None:
                parsed.failures.append(BlockProblem(item.line, key, problem, item.record))
                continue
            # A second entry with a known key is reported as a duplicate either way.
            fields, warnings = {}, []
        elif fields is not None:
            fields["key"] = key
        parsed.entries.append(
            ParsedEntry(
                key=key,
                line=item.line,
                source_type=item.source_type,
                fields=fields or {},
                warnings=[f"{where(key, item.line, item.record)} {w}" for w in warnings],
                duplicate_of_line=duplicate_of,
                record=item.record,
                key_generated=generated,
            )
        )
    if dropped:
        listed = ", ".join(
            f"{name} ({count} {reader.unit if count == 1 else reader.units})"
            for name, count in sorted(dropped.items(), key=lambda pair: (-pair[1], pair[0]))
        )
        parsed.warnings.append(
            f"Left out, because the library has no place for them: {listed}. They are not "
            "needed to cite a work."
        )
    parsed.failures.sort(key=lambda failure: failure.line)
    return parsed


def parse_bibtex(*, text: str, progress: Progress | None = None) -> ParsedImport:
    """BibTeX/biblatex only (the import before it read other formats)."""
    return parse(text=text, format="bibtex", progress=progress)


def _key_problem(key: str) -> str:
    if not key:
        return "the entry has no citation key (“@type{key, …}”)"
    if not KEY_RE.fullmatch(key):  # the model's citation_key_validator, without a call
        return f"the citation key is not valid: {KEY_RULE}"
    if len(key) > _KEY_MAX_LENGTH:
        return f"the citation key is longer than {_KEY_MAX_LENGTH} characters"
    return ""


# --- CSL item → Reference fields ------------------------------------------------------------

_T = ReferenceType
_OUR_TYPES = frozenset(t.value for t in ReferenceType)
# CSL types without a type of their own here, mapped without a warning.
_CSL_TYPE_ALIASES = {
    "post-weblog": _T.WEBPAGE, "post": _T.WEBPAGE, "entry-dictionary": _T.ENTRY_ENCYCLOPEDIA,
    "entry": _T.ENTRY_ENCYCLOPEDIA, "program": _T.SOFTWARE, "review": _T.ARTICLE_JOURNAL,
    "review-book": _T.ARTICLE_JOURNAL, "standard": _T.REPORT, "hearing": _T.REPORT,
    "classic": _T.BOOK, "collection": _T.BOOK, "periodical": _T.BOOK,
    "article": _T.DOCUMENT, "speech": _T.DOCUMENT, "interview": _T.DOCUMENT,
    "personal_communication": _T.DOCUMENT, "letter": _T.DOCUMENT, "broadcast": _T.DOCUMENT,
    "motion_picture": _T.DOCUMENT, "graphic": _T.DOCUMENT, "figure": _T.DOCUMENT,
    "map": _T.DOCUMENT, "musical_score": _T.DOCUMENT, "song": _T.DOCUMENT,
    "performance": _T.DOCUMENT, "event": _T.DOCUMENT, "pamphlet": _T.DOCUMENT,
    "bill": _T.DOCUMENT, "legislation": _T.DOCUMENT, "legal_case": _T.DOCUMENT,
    "treaty": _T.DOCUMENT, "regulation": _T.DOCUMENT,
}  # fmt: skip
# CSL variables → model fields (plain text ones).
_TEXT_VARIABLES = {
    "container-title": "container_title",
    "collection-title": "collection_title",
    "volume": "volume",
    "issue": "issue",
    "publisher": "publisher",
    "publisher-place": "publisher_place",
    "edition": "edition",
    "genre": "genre",
    "number": "number",
    "number-of-volumes": "number_of_volumes",
    "original-publisher": "original_publisher",
    "title-short": "short_title",
    "note": "note",
}
# Names besides the authors (which carry "et al."), in the order the preview lists them.
_OTHER_NAME_FIELDS = [(field, var) for field, var in NAME_FIELDS.items() if field != "authors"]
_HANDLED = frozenset(
    {"id", "type", "title", "x-et-al", "issued", "original-date", "accessed", "page",
     "page-first", "DOI", "PMID", "URL", "ISBN", "language", *NAME_FIELDS.values(),
     *_TEXT_VARIABLES}
)  # fmt: skip
# The variables stored as text: a list, object or true/false there cannot be stored.
_SHOWN_AS_TEXT = frozenset(
    {"page", "page-first", "DOI", "PMID", "URL", "ISBN", "language", *_TEXT_VARIABLES}
)
_ISBN_MAX = int(Reference._meta.get_field("isbn").max_length or 0)
_URL_MAX = int(Reference._meta.get_field("url").max_length or 0)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, (dict, list, bool)):
            return ""
        value = str(value)
    return collapse_spaces(value)


def _shown(value: Any) -> str:
    """A CSL value as a preview quotes it: short, and as JSON when it is not text."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (RecursionError, ValueError, TypeError):
            text = reprlib.repr(value)  # nested too deeply to show whole
    return shortened(text)


def to_fields(item: SourceItem, warnings: list[str], dropped: Counter[str]) -> dict[str, Any]:
    """One item's CSL-JSON as `Reference` field values (no key yet).

    Appends the item's warnings to `warnings` and the names of fields left out to
    `dropped`; raises `EntryFailed` when the item cannot be imported.
    """
    csl = item.csl
    if item.warnings:
        warnings.extend(item.warnings)
    if item.dropped:
        dropped.update(set(item.dropped))
    if not _HANDLED.issuperset(csl):
        dropped.update(k for k in csl if k not in _HANDLED and not k.startswith("x-"))

    csl_type = _text(csl.get("type"))
    if csl_type in _OUR_TYPES:
        our_type = csl_type
    elif csl_type in _CSL_TYPE_ALIASES:
        our_type = str(_CSL_TYPE_ALIASES[csl_type])
    else:
        our_type = str(_T.DOCUMENT)
        if csl_type:
            warnings.append(f"has the unknown type “{csl_type}”; imported as “other document”")
    fields: dict[str, Any] = {"type": our_type}

    title = _text(csl.get("title"))
    if not title:
        raise EntryFailed("has no title; add one (the library needs a title to cite)")
    fields["title"] = title

    if "author" in csl or "x-et-al" in csl:
        authors = clean_names(csl.get("author"), "author", warnings)
        et_al = bool(csl.get("x-et-al"))
        if authors or et_al:
            fields["authors"] = authors
            fields["authors_et_al"] = et_al
    for name_field, variable in _OTHER_NAME_FIELDS:
        if variable in csl:
            names = clean_names(csl[variable], variable.replace("container-", "book "), warnings)
            if names:
                fields[name_field] = names

    issued = csl.get("issued")
    if issued:
        date = csl_date(issued)
        if date is not None:
            fields["issued_year"], fields["issued_month"], fields["issued_day"] = date
            end = csl_date_range_end(issued)
            if end is not None and end > date[0]:
                fields["issued_end_year"] = end
            elif end is not None and end < date[0]:
                warnings.append(
                    f"has a date range that ends ({end}) before it starts ({date[0]}); "
                    f"it will be cited as {date[0]}"
                )
            elif end is None and (unread := csl_date_range_end_text(issued)):
                warnings.append(
                    f"has a date range ending “{_shown(unread)}”, which is not a year; "
                    f"it will be cited as {date[0]}"
                )
        else:
            # A date in a shape no exporter writes ([{"year": 2019}], empty date-parts):
            # said in the preview, not silently cited as "n.d.".
            warnings.append(
                f"has the date “{_shown(issued)}”, which is not a date; it will be cited as “n.d.”"
            )

    original = csl.get("original-date")
    if original:
        original_date = csl_date(original)
        if original_date is not None:
            fields["original_year"] = original_date[0]
        else:
            shown = (
                original.get("raw") or original.get("literal")
                if isinstance(original, dict)
                else None
            )
            warnings.append(
                f"has the original date “{_shown(shown or original)}”, which is not a date; "
                "it is left out"
            )

    lines = item.lines
    for variable, value in csl.items():
        if variable in _SHOWN_AS_TEXT and isinstance(value, (dict, list, bool)):
            # `"URL": ["…", "…"]`: no page can show it as it is; said, not lost in silence.
            warnings.append(f"has {variable} “{_shown(value)}”, which is not text; it is left out")
            continue
        name = _TEXT_VARIABLES.get(variable)
        if name is not None:
            value = _text(value)
            if value:
                fields[name] = value
        elif variable == "page":
            pages = clean_pages(_text(value))
            if pages:
                fields["pages"] = pages
        elif variable == "page-first" and not _text(csl.get("page")):
            # CSL's first page, for an item with no `page`: the page it is cited by.
            pages = clean_pages(_text(value))
            if pages:
                fields["pages"] = pages
                lines.setdefault("page", lines.get("page-first", item.line))
        elif variable == "DOI":
            try:
                doi = clean_doi(_text(value), warnings)
            except FieldProblem as error:
                raise EntryFailed(
                    f"has a bad DOI (line {lines.get('DOI', item.line)}): {error.reason}"
                ) from error
            if doi:
                fields["doi"] = doi
        elif variable == "PMID":
            try:
                pmid = clean_pmid(_text(value))
            except FieldProblem as error:
                raise EntryFailed(f"has a bad PMID: {error.reason}") from error
            if pmid:
                fields["pmid"] = pmid
        elif variable == "language":
            language = csl_language(_text(value))
            if language:
                fields["language"] = language
        elif variable == "URL":
            url = clean_url(_text(value), warnings, max_length=_URL_MAX)
            if url:
                fields["url"] = url
        elif variable == "ISBN":
            isbn = clean_isbn(_text(value), warnings, max_length=_ISBN_MAX)
            if isbn:
                fields["isbn"] = isbn
        elif variable == "accessed" and value:
            accessed = csl_date(value)
            if accessed and accessed[1] and accessed[2]:
                fields["accessed"] = datetime.date(*accessed)  # type: ignore[arg-type]
            else:
                shown = value
                if isinstance(shown, dict):
                    shown = shown.get("raw") or shown.get("literal") or shown.get("date-parts")
                warnings.append(f"has the access date “{shown}”, which is not a full date")

    _validate(fields, lines)
    return fields


# Model field → the CSL variable its line is recorded under.
_LINE_KEYS = {
    **NAME_FIELDS, "title": "title", "issued_year": "issued", "issued_end_year": "issued",
    "original_year": "original-date",
    "number_of_volumes": "number-of-volumes", "original_publisher": "original-publisher",
    "short_title": "title-short", "language": "language",
    "container_title": "container-title", "collection_title": "collection-title",
    "volume": "volume", "issue": "issue", "pages": "page", "publisher": "publisher",
    "publisher_place": "publisher-place", "edition": "edition", "genre": "genre",
    "number": "number", "isbn": "ISBN", "doi": "DOI", "pmid": "PMID", "url": "URL",
    "accessed": "accessed", "note": "note",
}  # fmt: skip
_MODEL_FIELDS = {f.name: f for f in Reference._meta.concrete_fields}
_TYPE_VALUES = frozenset(t.value for t in ReferenceType)
# Text fields whose only validator is their length: checked without calling validators.
_LENGTH_ONLY: dict[str, int] = {
    f.name: int(f.max_length)
    for f in Reference._meta.concrete_fields
    if f.max_length
    and all(type(v).__name__ in ("MaxLengthValidator", "ProhibitNullCharactersValidator")
            for v in f.validators)
}  # fmt: skip
_WITHOUT_VALIDATORS = frozenset(name for name, f in _MODEL_FIELDS.items() if not f.validators)


def _bounds(model_field: Any) -> tuple[int, int] | None:
    """(low, high) for a field checked only by MinValueValidator and MaxValueValidator."""
    low = high = None
    for validator in model_field.validators:
        limit = getattr(validator, "limit_value", None)
        if type(limit) is not int:
            return None
        if type(validator) is MinValueValidator:
            low = limit if low is None else max(low, limit)
        elif type(validator) is MaxValueValidator:
            high = limit if high is None else min(high, limit)
        else:
            return None
    return (low, high) if low is not None and high is not None else None


_RANGES = {name: bounds for name, f in _MODEL_FIELDS.items() if (bounds := _bounds(f)) is not None}


def _passes_quickly(name: str, value: Any) -> bool:
    if name in _WITHOUT_VALIDATORS:
        return True
    if name == "url":
        return len(value) <= _URL_MAX and valid_url(value)
    bounds = _RANGES.get(name)
    return bounds is not None and type(value) is int and bounds[0] <= value <= bounds[1]


def _validate(fields: dict[str, Any], lines: dict[str, int]) -> None:
    """The model's field validation (lengths, URLs, choices, ranges), so the preview shows
    what saving would refuse. The same checks `full_clean` runs, without building a model
    instance per entry; `apply_import` still runs `full_clean` before every save."""
    problems = []
    for name, value in fields.items():
        if value is None or value == "" or value == [] or name not in _MODEL_FIELDS:
            continue
        messages: list[str] = []
        if name in _LENGTH_ONLY:
            if len(value) > _LENGTH_ONLY[name]:
                messages.append(
                    f"Ensure this value has at most {_LENGTH_ONLY[name]} characters "
                    f"(it has {len(value)})."
                )
        elif name == "type":
            if value not in _TYPE_VALUES:
                messages.append(f"Value {value!r} is not a valid choice.")
        elif name == "issued_month":
            if not 1 <= value <= 12:
                messages.append("A month is a number from 1 to 12.")
        elif name == "issued_day":
            if not 1 <= value <= 31:
                messages.append("A day is a number from 1 to 31.")
        elif _passes_quickly(name, value):
            pass  # what the validators would accept; anything else, they say why
        elif _MODEL_FIELDS[name].validators:
            try:
                _MODEL_FIELDS[name].run_validators(value)
            except ValidationError as error:
                messages.extend(error.messages)
        if messages:
            line = lines.get(_LINE_KEYS.get(name, ""))
            at = f" (line {line})" if line else ""
            problems.append(f"{_MODEL_FIELDS[name].verbose_name}{at}: {' '.join(messages)}")
    if problems:
        raise EntryFailed(" ".join(problems))


# --- Planning -------------------------------------------------------------------------------

_COMPARED_FIELDS = [
    f.name
    for f in Reference._meta.concrete_fields
    if f.name not in {"id", "key", "created_at", "updated_at", "edited_by"}
]


def format_name(name: dict[str, str]) -> str:
    """A CSL name as one line: "Family, Given", "Family," (no given name) or a literal."""
    if "literal" in name:
        literal = name["literal"]
        return f"{{{literal}}}" if "," in literal else literal
    family = name.get("family", "")
    given = name.get("given", "")
    return f"{family}, {given}" if given else f"{family},"


def display_value(name: str, value: Any) -> str:
    """A field value as preview text (the template escapes it)."""
    if value in (None, "", []):
        return ""
    if name in NAME_FIELDS:
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
            label = str(_MODEL_FIELDS[name].verbose_name)
            changes.append(
                FieldChange(name, label, display_value(name, old), display_value(name, new))
            )
    return changes


def _chunks(values: Iterable[str], size: int = 500) -> Iterator[list[str]]:
    """SQLite limits the number of query parameters; big files are looked up in slices."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _same_work(reference: Reference, fields: dict[str, Any]) -> bool:
    """Whether a made-up key's owner in the library is the work this entry describes."""
    doi = fields.get("doi", "")
    if doi and reference.doi:
        return doi.lower() == reference.doi.lower()
    pmid = fields.get("pmid", "")
    if pmid and reference.pmid:
        return pmid == reference.pmid

    def simple(title: str) -> str:
        return re.sub(r"\W+", "", rich_text_plain(title)).casefold()

    return simple(fields.get("title", "")) == simple(reference.title) and (
        fields.get("issued_year") == reference.issued_year
    )


def _move_generated_keys(parsed: ParsedImport, existing: dict[str, Reference]) -> None:
    """A made-up key that names another work in the library takes the next free letter."""
    file_keys = {entry.key for entry in parsed.entries}
    for entry in parsed.entries:
        reference = existing.get(entry.key)
        if not entry.key_generated or reference is None or not entry.fields:
            continue
        if _same_work(reference, entry.fields):
            continue
        base = keygen.base_key(entry.fields)
        taken = set(Reference.objects.filter(key__startswith=base).values_list("key", flat=True))
        new_key = keygen.unique_key(base, taken | file_keys)
        file_keys.add(new_key)
        entry.warnings.append(
            f"{where(new_key, entry.line, entry.record)}: the key {entry.key} belongs to "
            f"another work in the library ({reference.short_citation()}), so this one is "
            f"imported as {new_key}"
        )
        entry.key = new_key
        entry.fields["key"] = new_key


def plan_import(*, parsed: ParsedImport) -> ImportPlan:
    """Classify every entry against the library. Reads the database, never writes it."""
    with _without_gc_pauses():
        return _plan(parsed)


def preview(
    *, text: str, format: str | None = None, progress: Progress | None = None
) -> ImportPlan:
    """`parse` then `plan_import`: what the admin's preview and the command's report show.

    One pause of the garbage collector for both, which saves a full collection between
    them on large files. Raises `InputError` for a file that cannot be read at all.
    """
    with _without_gc_pauses():
        return plan_import(parsed=parse(text=text, format=format, progress=progress))


def _plan(parsed: ParsedImport) -> ImportPlan:

    # A file larger than the library is checked against the library's keys and DOIs read
    # in one query each, instead of one query per 500 entries of the file.
    library_size = Reference.objects.count()
    small_library = library_size < len(parsed.entries)

    def look_up(keys: set[str]) -> dict[str, Reference]:
        if small_library:
            keys = keys & set(Reference.objects.values_list("key", flat=True))
        found: dict[str, Reference] = {}
        for chunk in _chunks(keys):
            for reference in Reference.objects.with_citing_article_count().filter(key__in=chunk):
                found[reference.key] = reference
        return found

    existing = look_up({entry.key for entry in parsed.entries}) if library_size else {}
    if any(e.key_generated and e.key in existing for e in parsed.entries):
        _move_generated_keys(parsed, existing)
        existing.update(look_up({e.key for e in parsed.entries} - set(existing)))
    # DOIs are case-insensitive (10.1000/ABC is 10.1000/abc), so they are matched that way.
    dois = {e.fields["doi"].lower() for e in parsed.entries if e.fields.get("doi")}
    doi_owner: dict[str, str] = {}
    with_doi = Reference.objects.exclude(doi="").annotate(doi_lower=Lower("doi"))
    if library_size and small_library:
        doi_owner.update(
            (doi, key) for doi, key in with_doi.values_list("doi_lower", "key") if doi in dois
        )
    elif library_size:
        for chunk in _chunks(dois):
            doi_owner.update(with_doi.filter(doi_lower__in=chunk).values_list("doi_lower", "key"))

    plan = ImportPlan(
        skipped=list(parsed.skipped),
        file_warnings=list(parsed.warnings),
        format=parsed.format,
        format_label=parsed.format_label,
    )
    for failure in parsed.failures:
        plan.items.append(
            PlanItem(
                Status.FAILED,
                failure.key,
                failure.line,
                reason=failure.reason,
                record=failure.record,
            )  # fmt: skip
        )
    dois_in_file: dict[str, tuple[str, int]] = {}
    for entry in parsed.entries:
        if "issued_year" in entry.fields:
            # The file's date wins whole, as its month and day do: a single year ends a
            # range the library had (merged, 1985 became "1985–1986", and 1990 "1990–1986").
            entry.fields.setdefault("issued_end_year", None)
        item = PlanItem(
            Status.NEW,
            entry.key,
            entry.line,
            fields=entry.fields,
            warnings=entry.warnings,
            record=entry.record,
            key_generated=entry.key_generated,
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
            item.cited_by = getattr(reference, "citing_article_count", 0)
    plan.items.sort(key=lambda item: item.line)
    return plan


# --- Applying -------------------------------------------------------------------------------


class _Abort(Exception):
    """Raised inside the transaction to roll every write back."""


def apply_import(
    *,
    plan: ImportPlan,
    update_existing: bool,
    progress: Progress | None = None,
    actor: AbstractBaseUser | None = None,
) -> ImportResult:
    """Write the plan in one transaction: new entries, and changed ones if asked.

    Failed and duplicate entries are never written. If any entry is refused at this point
    (for example another reference took its DOI since the plan was made), the whole
    import is rolled back and `result.errors` says why. `actor` is recorded as the
    references' last editor (`Reference.edited_by`).
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
                if progress and (done % PROGRESS_EVERY == 0 or done == len(work)):
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
                        f"{where(item.key, item.line, item.record)}: "
                        + " ".join(
                            f"{name}: {' '.join(messages)}"
                            for name, messages in error.message_dict.items()
                        )
                    )
                    continue
                reference.edited_by = actor  # type: ignore[assignment]  # any user model
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
        at = where(item.key, item.line, item.record)
        if item.status == Status.NEW and item.key in taken:
            errors.append(f"{at}: the key {item.key} was added to the library since the preview")
        elif item.status == Status.CHANGED and item.key not in current:
            errors.append(f"{at} was deleted from the library since the preview")
        doi = item.fields.get("doi", "").lower()
        if doi and doi_owner.get(doi, item.key) != item.key:
            errors.append(
                f"{at}: the DOI {item.fields['doi']} now belongs to the reference {doi_owner[doi]}"
            )
    return errors
