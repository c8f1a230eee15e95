"""PubMed's MEDLINE format (.nbib, "Send to: Citation manager"), read by Biopython.

Records are separated by blank lines; each line is a tag padded to four characters, "- "
and the value (`PMID- 31234567`, `TI  - …`, `FAU - Parker, Sarah J`), and lines starting
with six spaces continue the one before (fewer, or a tab, in hand-edited files: read as
a continuation, with a warning). This reader checks that shape line by line (so a
damaged record is reported with its line, which Biopython would not do), then hands each
record to `Bio.Medline` for the fields.

- PMID; TI (the closing period and the [brackets] PubMed puts around translated titles
  come off); FAU (full names, else AU "Parker SJ"); CN group authors as one name, each
  in its place among the people
- JT (full journal title, else TA); DP ("2019 Mar 5", "2019 Spring"); VI, IP, PG
  (abbreviated ranges expanded by the engine: 823-8 → 823–828)
- DOI from LID or AID "… [doi]"; PT for the type (books and chapters: BTI, ED/FED, PB, PL,
  ISBN)
- abstracts, MeSH terms, affiliations, grants, dates of entry… are left out.
"""

from __future__ import annotations

import io
import re
from typing import Any

from Bio import Medline

from ..base import PROGRESS_EVERY, Progress, Reader, ReadResult, SourceItem
from ..normalize import loose_date

# The tag padded with spaces to four characters, then "- ": "PMID- ", "FAU - ", "TI  - ".
_LINE = re.compile(
    r"^(?P<tag>[A-Z][A-Z0-9]{3}|[A-Z][A-Z0-9]{2}(?= )|[A-Z][A-Z0-9](?=  )) *-(?: |$)"
)
_CONTINUATION = "      "
# Tags read here; the rest is left out (and counted in the preview's warning).
_READ = frozenset((
    "PMID", "TI", "BTI", "CTI", "FAU", "AU", "CN", "FED", "ED", "JT", "TA", "DP", "VI",
    "IP", "PG", "LID", "AID", "PT", "PB", "PL", "ISBN", "LA", "TT", "OWN", "STAT", "SO",
))  # fmt: skip
# Every MEDLINE tag NLM documents: an indented line starting with one was meant as a tag;
# "HIV - positive" is text.
_MEDLINE_TAGS = frozenset((
    "AB", "AD", "AID", "AU", "AUID", "BTI", "CI", "CIN", "CN", "COIS", "CON", "CRDT", "CRF",
    "CRI", "CTI", "DA", "DCOM", "DEP", "DP", "ECF", "ECI", "ED", "EDAT", "EFR", "EIN", "EN",
    "FAU", "FED", "FIR", "FPS", "GN", "GR", "GS", "IP", "IR", "IRAD", "IS", "ISBN", "JID",
    "JT", "LA", "LID", "LR", "MH", "MHDA", "MID", "NM", "OAB", "OABL", "OCI", "OID", "ORI",
    "OT", "OTO", "OWN", "PG", "PHST", "PL", "PMC", "PMCR", "PMID", "PS", "PST", "PT", "PUBM",
    "RF", "RIN", "RN", "ROF", "RPF", "RPI", "SB", "SFM", "SI", "SO", "SPIN", "STAT", "TA",
    "TI", "TT", "UIN", "UOF", "VI", "VTI",
))  # fmt: skip
# Bookkeeping without data for a reference: not reported as left out.
_QUIET = frozenset(("OWN", "STAT", "SO", "LA", "TT", "PL"))


class NbibReader(Reader):
    name = "nbib"
    label = "PubMed (MEDLINE/nbib)"
    unit = "record"
    units = "records"
    extensions = (".nbib", ".medline", ".txt")
    priority = 25

    def detect(self, text: str) -> int:
        head = text.lstrip("\ufeff \t\n")[:5000]
        if re.match(r"PMID- ?\d", head):
            return 95
        if re.search(r"^PMID- ?\d", head, re.M) and re.search(r"^(?:TI|FAU|AU)  - ", head, re.M):
            return 80
        return 0

    def read(self, text: str, *, progress: Progress | None = None) -> ReadResult:
        return read_nbib(text, progress=progress)


READER = NbibReader()


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) for each blank-line separated record."""
    records: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() == "":
            if current:
                records.append((start, current))
                current = []
            continue
        if current and line.startswith("PMID-"):
            # A PMID line always starts a record, even when the blank line before it was
            # lost (citations pasted one after another, files joined).
            records.append((start, current))
            current = []
        if not current:
            start = number
        current.append(line.rstrip())
    if current:
        records.append((start, current))
    return records


def read_nbib(text: str, *, progress: Progress | None = None) -> ReadResult:
    result = ReadResult(format="nbib")
    records = _records(text)
    total = len(records)
    for number, (start, lines) in enumerate(records, start=1):
        if progress and (number % PROGRESS_EVERY == 0 or number == total):
            progress("reading records", number, total)
        problems = []
        indented = _reindent(lines, start)
        for offset, line in enumerate(lines):
            if line.startswith(_CONTINUATION):
                if offset == 0:
                    problems.append(f"line {start} continues a field, but no field came before")
                continue
            match = _LINE.match(line)
            if not match or match.end() not in (5, 6) or line[4] != "-":
                problems.append(
                    f"line {start + offset} is not a MEDLINE line (“TAG - value”): "
                    f"“{line.strip()[:60]}”"
                )
        item = SourceItem(csl={"id": ""}, line=start, record=number, source_type="MEDLINE")
        result.items.append(item)
        if problems:
            item.problem = "; ".join(problems[:3]) + (
                f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            )
            continue
        record = Medline.read(io.StringIO("\n".join(lines) + "\n"))
        _fill(item, dict(record), lines, start)
        if indented:
            count = len(indented)
            item.warnings.append(
                f"has {'a line' if count == 1 else f'{count} lines'} indented by fewer than six "
                f"spaces (line {indented[0]}{', …' if count > 1 else ''}); read as the rest "
                "of the field before, as PubMed's six-space indent would be"
            )
    return result


def _reindent(lines: list[str], start: int) -> list[int]:
    """Lines indented by fewer than six spaces (or with tabs), as hand-edited files have
    them, given PubMed's six spaces in place, so Biopython reads them as continuations
    too; the numbers of the lines changed. An indented tag ("  TI  - …") is left as it
    is and fails the record: it is not the rest of the field before it."""
    changed: list[int] = []
    for offset, line in enumerate(lines):
        if line[:1] not in (" ", "\t") or line.startswith(_CONTINUATION):
            continue
        text = line.strip()
        tag = _LINE.match(text)
        if tag and tag.group("tag") in _MEDLINE_TAGS:
            continue
        lines[offset] = _CONTINUATION + text
        changed.append(start + offset)
    return changed


def _text(record: dict[str, Any], tag: str) -> str:
    value = record.get(tag)
    if isinstance(value, list):
        value = " ".join(part.strip() for part in value)
    return re.sub(r"\s+", " ", value or "").strip()


def _list(record: dict[str, Any], tag: str) -> list[str]:
    value = record.get(tag) or []
    if isinstance(value, str):
        value = [value]
    return [part.strip() for part in value if part.strip()]


def _authors(lines: list[str]) -> list[dict[str, str]]:
    """People (FAU, else AU) and groups (CN), in the order the record lists them.

    A group can come first ("CN - RECOVERY Collaborative Group", then the people), and
    PubMed cites it first: putting every group after the people changed the first author.
    """
    tagged = [(tag, value) for tag, value in _tagged_values(lines) if tag in _AUTHOR_TAGS]
    full = sum(1 for tag, _ in tagged if tag == "FAU")
    short = sum(1 for tag, _ in tagged if tag == "AU")
    person_tag = "AU" if short and full != short else "FAU"
    return [
        _person(value) if tag == person_tag else {"literal": value}
        for tag, value in tagged
        if tag in (person_tag, "CN")
    ]


_AUTHOR_TAGS = frozenset(("FAU", "AU", "CN"))


def _values(lines: list[str], tag: str) -> list[str]:
    """Every value of `tag`, in order."""
    return [value for found, value in _tagged_values(lines) if found == tag]


def _tagged_values(lines: list[str]) -> list[tuple[str, str]]:
    """(tag, value) for each field of a record, its continuation lines joined on.

    Read here rather than from Biopython for the fields that repeat: Biopython joins
    repeated LID lines into one text ("10.1/x [doi] e1 [pii]", so the DOI was lost), and
    makes the wrapped end of a CN line a group of its own.
    """
    fields: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith(_CONTINUATION):
            if fields:
                fields[-1][1].append(line.strip())
            continue
        match = _LINE.match(line)
        if match:
            fields.append((match.group("tag"), [line[match.end() :].strip()]))
    # Parts joined once per field: appending line by line would copy the value each time.
    return [(tag, " ".join(part for part in parts if part)) for tag, parts in fields if any(parts)]


# A title that ends in an abbreviation keeps its period: PubMed adds none after "sp.",
# "U.S." or "et al.", so removing one would cut the title's own text.
# Matched against the last word alone, anchored: searched through the whole title, the
# "(?:X\.)+" would be tried from every position, quadratic on a long run of "a.a.a.".
_ABBREVIATION = re.compile(
    r"\W*(?:sp|spp|subsp|var|al|etc|Inc|Ltd|Co|vs|v|Jr|Sr|cf|ca|approx|No|"
    r"(?:[A-Za-z]\.)+[A-Za-z])\."
)
# What PubMed puts in TI when an article has no English title; the title is then in TT.
_NOT_AVAILABLE = "Not Available"


def _without_period(value: str) -> str:
    last_word = value.rpartition(" ")[2]
    if value.endswith(".") and not value.endswith("..") and not _ABBREVIATION.fullmatch(last_word):
        return value[:-1].rstrip()
    return value


def _title(value: str) -> str:
    """PubMed ends titles with a period and brackets translated ones: "[Title]."."""
    value = _without_period(value.strip())
    if value.startswith("[") and value.endswith("]"):
        value = _without_period(value[1:-1].strip())
    return value


# MEDLINE writes a name's suffix last, without a comma: "Kaelin, William G Jr", "Kaelin
# WG Jr". Left on the given name, "Jr" was printed as an initial; on AU alone, the name
# was no name at all. NLM writes numerals as "2nd", "3rd": "Ivanov II" and "Smith V" are
# initials, never suffixes.
_SUFFIXES = frozenset(("Jr", "Sr", "2nd", "3rd", "4th", "5th"))


def _person(full: str) -> dict[str, str]:
    """FAU "Parker, Sarah J" or AU "Parker SJ", either with a suffix ("Jr") at the end."""
    head, _, last = full.rstrip().rpartition(" ")
    suffix = last if head and last in _SUFFIXES else ""
    name = _person_without_suffix(head.rstrip().rstrip(",") if suffix else full)
    if suffix and "family" in name:
        name["suffix"] = suffix
    return name


def _person_without_suffix(full: str) -> dict[str, str]:
    if "," in full:
        family, _, given = full.partition(",")
        name = {"family": family.strip()}
        if given.strip():
            name["given"] = given.strip()
        return name
    family, _, initials = full.rpartition(" ")
    if family and initials.isupper() and initials.isalpha() and len(initials) <= 4:
        return {"family": family, "given": " ".join(f"{letter}." for letter in initials)}
    return {"family": full}


def _fill(item: SourceItem, record: dict[str, Any], lines: list[str], start: int) -> None:
    csl = item.csl
    for offset, line in enumerate(lines):
        match = _LINE.match(line)
        if match:
            item.lines.setdefault(match.group("tag"), start + offset)
    at = item.lines

    types = [t.lower() for t in _list(record, "PT")]
    book_title = _text(record, "BTI")
    title = _title(_text(record, "TI"))
    if title == _NOT_AVAILABLE:
        # The article's own title, in its language, is TT; without it there is no title.
        title = _title(_text(record, "TT"))
        at_title = "TT"
    else:
        at_title = "TI"
    if book_title and title:
        csl["type"] = "chapter"
    elif book_title or any("book" in t for t in types):
        csl["type"] = "book"
        title = title or _title(book_title)
        book_title = ""
    elif any(t == "dataset" for t in types):
        csl["type"] = "dataset"
    else:
        csl["type"] = "article-journal"
    if title:
        csl["title"] = title
        item.lines["title"] = at.get(at_title) or at.get("BTI") or item.line

    authors = _authors(lines)
    if authors:
        csl["author"] = authors
    editors = [_person(name) for name in _list(record, "FED") or _list(record, "ED")]
    if editors:
        csl["editor"] = editors

    if "published erratum" in types:
        # Citable, but rarely what an article means to cite: the preview says so.
        item.warnings.append(
            "is a published erratum (PT “Published Erratum”), not the article it corrects"
        )

    if csl["type"] == "chapter":
        csl["container-title"] = _title(book_title)
    elif csl["type"] == "article-journal":
        journal = _text(record, "JT") or _text(record, "TA")
        if journal:
            csl["container-title"] = journal
            item.lines["container-title"] = at.get("JT") or at.get("TA") or item.line
    if _text(record, "CTI"):
        csl["collection-title"] = _text(record, "CTI")

    published = _text(record, "DP")
    date = loose_date(published) if published else None
    if date:
        csl["issued"] = {"date-parts": [[part for part in date if part is not None]]}
    elif published:
        item.warnings.append(
            f"has the date “{published}”, which is not a date; it will be cited as “n.d.”"
        )
    else:
        item.warnings.append("has no year; it will be cited as “n.d.”")

    for tag, variable in (("VI", "volume"), ("IP", "issue"), ("PG", "page"), ("PMID", "PMID"),
                          ("PB", "publisher"), ("ISBN", "ISBN")):  # fmt: skip
        value = _text(record, tag)
        if value:
            csl[variable] = value
            item.lines[variable] = at.get(tag, item.line)
    if csl["type"] in ("book", "chapter") and _text(record, "PL"):
        csl["publisher-place"] = _text(record, "PL")

    locations = _values(lines, "LID")
    for identifier in locations + _list(record, "AID"):
        if identifier.endswith("[doi]"):
            csl["DOI"] = identifier[: -len("[doi]")].strip()
            item.lines["DOI"] = at.get("LID") or at.get("AID") or item.line
            break
    if "page" not in csl:
        # An electronic article number stands in for pages ("LID - e0212345").
        for identifier in locations:
            if not identifier.endswith("]"):
                csl["page"] = identifier
                break
    item.dropped.extend(sorted(t for t in record if t not in _READ and t not in _QUIET))
