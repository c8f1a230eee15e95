"""RIS, as EndNote, Zotero, Mendeley, Scopus, Web of Science and PubMed write it.

A record is a run of tagged lines, `TY  - JOUR` … `ER  - `: a two-character tag, two
spaces (exporters vary: one to three), a hyphen, a space and the value. A tag RIS has,
written loosely by hand (`au  - …`, a tab before the hyphen, none after it), is read with
a warning. A line without a tag continues the previous value (some exporters wrap long
abstracts; EndNote writes a second ISSN or link on a line of its own). Tags that repeat
(AU, KW, UR) add a value each.

What the tags mean varies by exporter; the choices here follow the RIS specification and
what the common exporters actually write:

- authors AU, A1 (then A2/ED as editors); "Family, Given", Scopus's "Family J.R." (or
  "Smith JR" after a one-word family name, not "Google LLC"), or a single name, which is
  an organisation when it has spaces ("World Health Organization", EndNote's trailing
  comma) or reads as one ("Centers for Disease Control (U.S.), Division of …"); names
  separated by ";" on one line are several names, with a warning
- title TI, T1 (CT, BT for books); journal T2, JF, JO, JA, J2, J1 in that order; series T3
- year PY, Y1 ("2019", "2019///", "2019/03/05/"), refined by DA (Web of Science's
  month alone: "NOV"); access date Y2
- VL volume, IS issue, SP/EP pages (EP may be short: 823/8; else an article's C7 article
  number), SN (ISBN for books), PB publisher, CY place, ET edition, M3 genre for theses
  and reports
- DO DOI (else an M3 or UR holding one), UR/L2/L1/LK links (first valid kept)
- PMID from AN when it is all digits, or any C1–C8 / M2 field saying "PMID: …"
- ID, N1, N2/AB, KW, LA, DB, … have no place in the library and are left out.

No key in RIS: the engine makes one as Zotero does (`parker2019emotional`).
"""

from __future__ import annotations

import re
from typing import Any

from ..base import PROGRESS_EVERY, BlockProblem, Progress, Reader, ReadResult, SourceItem
from ..normalize import (
    looks_like_organisation,
    loose_date,
    month_number,
    rejoin_wrapped_url,
    valid_date,
)

# TAG, one to three spaces (exporters vary), "-", then a space and the value, or nothing
# ("ER  -").
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,3}-(?:\s+(.*)|\s*)$")
# Hand-edited files: "au  - Smith" (lower case), "AU<tab>- Smith", "TI  -Title". Read as a
# tag only when the two characters are a tag RIS has and the line starts with them, with a
# tab or two spaces or more before the "-": prose wrapped onto a line ("is - a", "CT
# -guided") has a single space there.
_LOOSE_TAG_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9])([ \t]{1,4})-[ \t]*(.*)$")

_TYPES = {
    "JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal",
    "ABST": "article-journal", "INPR": "article-journal", "SER": "article-journal",
    "MGZN": "article-magazine", "NEWS": "article-newspaper", "BOOK": "book",
    "EBOOK": "book", "EDBOOK": "book", "CLSWK": "book", "ANCIENT": "book", "DICT": "book",
    "CHAP": "chapter", "ECHAP": "chapter", "CONF": "paper-conference",
    "CPAPER": "paper-conference", "ENCYC": "entry-encyclopedia", "RPRT": "report",
    "GOVDOC": "report", "STAND": "report", "GRANT": "report", "HEAR": "report",
    "THES": "thesis", "PAT": "patent", "ELEC": "webpage", "WEB": "webpage",
    "BLOG": "webpage", "ICOMM": "webpage", "MULTI": "webpage", "DATA": "dataset",
    "DBASE": "dataset", "AGGR": "dataset", "COMP": "software", "UNPB": "manuscript",
    "MANSCPT": "manuscript", "GEN": "document", "PAMP": "document", "PCOMM": "document",
    "CASE": "document", "LEGAL": "document", "STAT": "document", "BILL": "document",
    "UNBILL": "document", "ART": "document", "ADVS": "document", "CHART": "document",
    "CTLG": "document", "EQUA": "document", "FIGURE": "document", "MAP": "document",
    "MPCT": "document", "MUSIC": "document", "SLIDE": "document", "SOUND": "document",
    "VIDEO": "document",
}  # fmt: skip
_BOOKS = frozenset(("BOOK", "EBOOK", "EDBOOK", "CLSWK", "ANCIENT", "DICT"))
_CONTAINED = frozenset(("CHAP", "ECHAP", "CONF", "CPAPER", "ENCYC"))
# Tags this reader reads (or knowingly ignores as bookkeeping); others are "left out".
_READ = frozenset((
    "TY", "ER", "AU", "A1", "A2", "ED", "TI", "T1", "CT", "BT", "T2", "T3", "JF", "JO",
    "JA", "J1", "J2", "PY", "Y1", "DA", "Y2", "VL", "IS", "CP", "SP", "EP", "SN", "PB",
    "CY", "PP", "ET", "M3", "DO", "UR", "L1", "L2", "LK", "AN", "C1", "C2", "C3", "C4",
    "C5", "C6", "C7", "C8", "M2", "M1", "LA", "ID", "DB", "DP", "ST", "NV", "A4",
))  # fmt: skip
# Every tag of the RIS specification and of the common exporters: the ones read, and the
# ones left out.
_KNOWN_TAGS = _READ | frozenset((
    "A3", "AB", "AD", "AV", "CA", "CN", "H1", "H2", "KW", "L3", "L4", "LB", "N1",
    "N2", "OP", "RI", "RN", "RP", "SE", "T3", "TA", "TT", "U1", "U2", "U3",
    "U4", "U5", "VO", "WT", "Y3",
))  # fmt: skip
_PMID_LABEL = re.compile(r"^\s*(?:PMID|PubMed(?:\s*ID)?)\s*[:=]?\s*(\d{1,9})\s*$", re.I)
# A DOI in free text (notes, links). Notes may be HTML, so it ends at a quote or at the
# start of a tag ("</p>"); a "<" before a digit stays, as SICI DOIs have one: "8<693::…>".
_DOI_LIKE = re.compile(
    r"(?:doi\s*:?\s*|https?://(?:dx\.)?doi\.org/)?10\.\d{4,9}/(?:[^\s\"'<]|<(?![/A-Za-z]))+", re.I
)


class RisReader(Reader):
    name = "ris"
    label = "RIS"
    unit = "record"
    units = "records"
    extensions = (".ris", ".txt")
    priority = 20

    def detect(self, text: str) -> int:
        head = text.lstrip("\ufeff \t\n")[:2000]
        if re.match(r"TY {1,3}- ", head):
            return 95
        if re.search(r"^TY {1,3}- ", text[:20000], re.M) and re.search(r"^ER {1,3}-", text, re.M):
            return 70
        return 0

    def read(self, text: str, *, progress: Progress | None = None) -> ReadResult:
        return read_ris(text, progress=progress)


READER = RisReader()


class _Record:
    def __init__(self, line: int, number: int):
        self.line = line
        self.number = number
        self.tags: list[tuple[str, str, int]] = []  # (tag, value, line)
        self.problems: list[str] = []
        self.loose_lines: list[tuple[int, str]] = []  # (line, text) of tags read loosely
        self._continued: dict[int, list[str]] = {}  # tag index → its wrapped lines

    def continue_last(self, text: str) -> None:
        """A wrapped line of the last tag's value. Kept apart and joined once (`close`):
        adding each line to the value would copy it every time, quadratic in the lines."""
        self._continued.setdefault(len(self.tags) - 1, []).append(text)

    def close(self) -> _Record:
        for index, more in self._continued.items():
            tag, value, at = self.tags[index]
            if tag in _LINK_TAGS:
                # A wrapped address is joined without a space; a line of its own that
                # starts an address is another link.
                joined = rejoin_wrapped_url("\n".join([value, *more]))
            else:
                joined = " ".join([value, *more]).strip()
            self.tags[index] = (tag, joined, at)
        self._continued = {}
        return self

    def values(self, *tags: str) -> list[str]:
        return [value for tag, value, _ in self.tags if tag in tags and value]

    def first(self, *tags: str) -> tuple[str, int]:
        """The first non-empty value among `tags`, in the order given, and its line."""
        for wanted in tags:
            for tag, value, line in self.tags:
                if tag == wanted and value:
                    return value, line
        return "", 0


def read_ris(text: str, *, progress: Progress | None = None) -> ReadResult:
    result = ReadResult(format="ris")
    records: list[_Record] = []
    current: _Record | None = None
    seen_record = False
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip()
        if not line.strip():
            continue
        match = _TAG_LINE.match(line)
        loose = None
        if match is None:
            loose = _loose_tag(line)
        if match is None and loose is None:
            if not seen_record and not _LOOKS_LIKE_TAG.match(line):
                continue  # a publisher's header ("Provider: …") before the first record
            if (
                current is not None
                and current.tags[-1][0] in _WRAPPING_TAGS
                and not _meant_as_tag(line)
            ):
                # A wrapped value: it continues the previous tag.
                current.continue_last(line.strip())
                continue
            reason = f"line {number} is not an RIS line (“TAG  - value”): “{line.strip()[:60]}”"
            if current is None:
                result.failures.append(
                    BlockProblem(number, "", f"{reason}; a record starts with “TY  - ”")
                )
            else:
                current.problems.append(reason)
            continue
        if loose is not None:
            tag, value = loose
        else:
            tag, value = match.group(1), (match.group(2) or "").strip()  # type: ignore[union-attr]
        if tag == "TY":
            seen_record = True
            if current is not None:
                current.problems.append(
                    f"the record has no “ER  - ” before the next record starts at line {number}"
                )
                records.append(current.close())
            current = _Record(number, len(records) + 1)
            current.tags.append((tag, value, number))
            if loose is not None:
                current.loose_lines.append((number, line))
            continue
        if current is None:
            result.failures.append(
                BlockProblem(
                    number,
                    "",
                    f"the tag {tag} (line {number}) is outside a record; "
                    "a record starts with “TY  - ”",
                )  # fmt: skip
            )
            continue
        if loose is not None:
            current.loose_lines.append((number, line))
        if tag == "ER":
            records.append(current.close())
            current = None
            continue
        current.tags.append((tag, value, number))
    if current is not None:
        current.problems.append("the file ends before this record's “ER  - ” line")
        records.append(current.close())

    total = len(records)
    for done, record in enumerate(records, start=1):
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress("reading records", done, total)
        result.items.append(_item(record))
    return result


# Free text that some exporters wrap onto untagged lines; and the fields EndNote writes
# as one tag with a value per line ("SN  - 1559-8519 (Electronic)" then "0022-4499
# (Linking)"; several links in UR, files in L1): refusing the record over an ISSN line
# would refuse it for a field the site never shows.
_WRAPPING_TAGS = frozenset(("AB", "N2", "N1", "TI", "T1", "T2", "T3", "BT", "CT", "JF", "JO",
                            "AD", "KW", "PB", "M3", "ST", "SN", "UR", "L1", "L2", "L4", "LK",
                            "CY", "LA"))  # fmt: skip
# Links: a wrapped line continues the address itself, not text after a space.
_LINK_TAGS = frozenset(("UR", "L1", "L2", "L4", "LK"))
# Something meant as a tag, however mangled ("AU- Smith", "au  - x", "T1 -Title"): a space
# on one side of the hyphen at least. A wrapped line that starts with a hyphenated word
# ("In-hospital mortality…", "re-admission") is text, not a tag.
_LOOKS_LIKE_TAG = re.compile(r"^\s*[A-Za-z][A-Za-z0-9](?:\s+-|-(?:\s|$))")
# Prose that only looks like a tag: a word of two letters RIS has no tag for, one space,
# a hyphen and a space ("of - the", "as - expected").
_PROSE_HYPHEN = re.compile(r"^\s*([A-Za-z]{2}) - ")


def _loose_tag(line: str) -> tuple[str, str] | None:
    """(TAG, value) for a line that is clearly a known tag written loosely, else None."""
    match = _LOOSE_TAG_LINE.match(line)
    if match is None:
        return None
    tag, space = match.group(1).upper(), match.group(2)
    if tag not in _KNOWN_TAGS or ("\t" not in space and len(space) < 2):
        return None
    return tag, match.group(3).strip()


def _meant_as_tag(line: str) -> bool:
    """A line that is no RIS line but was meant as a tag: it fails the record rather than
    being read as text. Not prose that happens to have a hyphen after two letters."""
    if not _LOOKS_LIKE_TAG.match(line):
        return False
    prose = _PROSE_HYPHEN.match(line)
    return prose is None or prose.group(1).upper() in _KNOWN_TAGS


def _names(values: list[str], tag: str, warnings: list[str]) -> list[dict[str, str]]:
    names: list[dict[str, str]] = []
    for line_value in values:
        # One name per line is RIS; "Smith, J; Jones, K" (hand-made files, some web
        # exporters) is several, and read as one it would print as "Smith, K, J; Jones".
        several = [part.strip() for part in line_value.split(";") if part.strip()]
        if len(several) > 1:
            warnings.append(
                f"has {len(several)} names in one {tag} line (“{line_value[:80]}”); "
                "each is read as a name of its own"
            )
        names.extend(_name(value) for value in several)
    return names


# Scopus (since 2023) and PubMed-derived files write people as "Family Initials" with no
# comma: "Kitchin J.R.", "de la Cruz M.A.", "Dupont J.-P.", "Smith JR". Read as a single
# name, such a person was stored as an organisation and cited as "Kitchin J.R.".
_INITIALS = re.compile(r"(?:[^\W\d_]\.-?)+|[A-Z]{1,3}")


def _family_and_initials(value: str) -> dict[str, str] | None:
    """ "Kitchin J.R." → family Kitchin, given J.R.; None for anything else."""
    # Split on the last word, not with one regex over the whole value: a lazy family
    # before `\s+` backtracks quadratically on a long run of spaces.
    words = value.split()
    if len(words) < 2:
        return None
    family, given = " ".join(words[:-1]), words[-1]
    if (
        not _INITIALS.fullmatch(given)
        or not given.isupper()
        or any(character.isdigit() for character in family)
        or looks_like_organisation(value)
    ):
        return None
    # Initials without periods ("JR") read just like an organisation's acronym ("Public
    # Health England PHE", "The Lancet HIV"): only a one-word family name, with particles
    # before it ("van der Berg JR"), makes them a person's.
    if "." not in given and (
        given in _NOT_INITIALS or any(word.lower() not in _PARTICLES for word in words[:-2])
    ):
        return None
    return {"family": family, "given": given}


# Capitals that end a one-field author's name in Zotero's RIS and are no one's initials: a
# company's legal form ("Google LLC") or a country ("Cochrane UK"). "AG", "SA" or "AB"
# ("Bayer AG") are left to read as initials: they are as often a person's ("Smith AB").
_NOT_INITIALS = frozenset(("LLC", "LTD", "INC", "PLC", "UK", "USA", "EU"))


_PARTICLES = frozenset(
    ("van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la",
     "le", "ter", "ten", "al", "el", "bin", "ibn")
)  # fmt: skip


def _name(value: str) -> dict[str, str]:
    """ "Family, Given[, Suffix]", "Family Initials", or one name (a person known by one
    name, an organisation)."""
    if "," not in value:
        if " " not in value:
            return {"family": value}
        return _family_and_initials(value) or {"literal": value}
    if looks_like_organisation(value) and " " in value.partition(",")[0].strip():
        # "Centers for Disease Control and Prevention (U.S.), Division of …": an
        # organisation whose name has a comma, not "Family, Given".
        return {"literal": value.rstrip(",").strip()}
    family, _, rest = value.partition(",")
    given, _, suffix = rest.partition(",")
    name = {"family": family.strip()}
    if given.strip():
        name["given"] = given.strip()
    if suffix.strip():
        name["suffix"] = suffix.strip()
    return name


def _item(record: _Record) -> SourceItem:
    ris_type = record.first("TY")[0].upper()
    item = SourceItem(
        csl={"id": ""},
        line=record.line,
        record=record.number,
        source_type=f"TY {ris_type}",
    )
    if record.problems:
        item.problem = "; ".join(record.problems)
        return item
    if record.loose_lines:
        at, shown = record.loose_lines[0]
        count = len(record.loose_lines)
        what = "an RIS line" if count == 1 else f"{count} RIS lines"
        item.warnings.append(
            f"has {what} not written “TAG  - value” (line {at}: “{shown.strip()[:60]}”"
            f"{', …' if count > 1 else ''}); {'' if count == 1 else 'each '}read as the tag "
            "it starts with"
        )
    csl: dict[str, Any] = item.csl
    lines = item.lines
    csl_type = _TYPES.get(ris_type)
    if csl_type is None:
        csl_type = "document"
        item.warnings.append(f"has the unknown RIS type “{ris_type}”; imported as “other document”")
    csl["type"] = csl_type

    def put(variable: str, *tags: str) -> str:
        value, line = record.first(*tags)
        if value:
            csl[variable] = value
            lines[variable] = line
        return value

    if ris_type in _BOOKS:
        put("title", "TI", "T1", "BT", "CT")
        put("collection-title", "T2", "T3")
    else:
        put("title", "TI", "T1", "CT")
        if ris_type in _CONTAINED:
            put("container-title", "T2", "BT")
        else:
            put("container-title", "T2", "JF", "JO", "JA", "J2", "J1", "BT")
        put("collection-title", "T3")

    authors = _names(record.values("AU", "A1"), "AU", item.warnings)
    if authors:
        csl["author"] = authors
        lines["author"] = record.first("AU", "A1")[1]
    editor_tags = ("A2", "ED") if ris_type in _BOOKS | _CONTAINED else ("ED",)
    editors = _names(record.values(*editor_tags), "/".join(editor_tags), item.warnings)
    if editors:
        csl["editor"] = editors
    if ris_type in _BOOKS | _CONTAINED:
        # A4, the "subsidiary author", is the translator of a book or chapter (EndNote's
        # and Zotero's RIS); of other types it is left out.
        translators = _names(record.values("A4"), "A4", item.warnings)
        if translators:
            csl["translator"] = translators
    elif record.first("A4")[0]:
        item.dropped.append("A4")

    _date(record, csl, item.warnings)
    put("volume", "VL")
    if ris_type == "RPRT":
        put("number", "M1", "IS")  # a report's number
    else:
        put("issue", "IS", "CP")
    _pages(record, csl, lines)
    put("publisher", "PB")
    put("publisher-place", "CY", "PP")
    put("edition", "ET")
    put("title-short", "ST")
    put("number-of-volumes", "NV")
    put("language", "LA")  # the engine keeps it only when it is not English
    if ris_type in ("THES", "RPRT"):
        put("genre", "M3")
    isbn, isbn_line = record.first("SN")
    if isbn and (ris_type in _BOOKS or ris_type in ("CHAP", "ECHAP")):
        csl["ISBN"] = isbn
        lines["ISBN"] = isbn_line
    elif isbn:
        item.dropped.append("SN")  # an ISSN for journals: no place in the library

    doi, doi_line = record.first("DO")
    if not doi:
        for tag in ("M3", "N1", "UR", "L2"):
            for value in record.values(tag):
                found = _DOI_LIKE.search(value)
                if found and (tag != "UR" or "doi.org/" in value):
                    doi, doi_line = found.group(0), record.first(tag)[1]
                    break
            if doi:
                break
    if doi:
        csl["DOI"] = doi
        lines["DOI"] = doi_line
    urls = (
        record.values("UR")
        or record.values("L2", "LK")
        or [value for value in record.values("L1") if value.startswith(("http://", "https://"))]
    )
    if urls:
        csl["URL"] = " ".join(urls)
        lines["URL"] = record.first("UR", "L2", "LK", "L1")[1]
    pmid = _pmid(record)
    if pmid:
        csl["PMID"] = pmid
    accessed, _ = record.first("Y2")
    if accessed:
        date = loose_date(accessed)
        if date and date[1] and date[2]:
            csl["accessed"] = {"date-parts": [list(date)]}
        else:
            item.warnings.append(f"has the access date “{accessed}”, which is not a full date")
    item.dropped.extend(sorted({tag for tag, value, _ in record.tags if tag not in _READ}))
    return item


def _date(record: _Record, csl: dict[str, Any], warnings: list[str]) -> None:
    year_text, _ = record.first("PY", "Y1")
    date_text, _ = record.first("DA")
    year = loose_date(year_text) if year_text else None
    detailed = loose_date(date_text) if date_text else None
    # EndNote writes "PY  - 2019///" with the full date in Y1 ("2019/05/03/"), others in DA:
    # the year's month and day come from whichever has them for the same year.
    for refining in (record.first("DA")[0], record.first("Y1")[0]):
        found = loose_date(refining) if refining else None
        if year and found and found[0] == year[0] and year[1] is None and found[1]:
            year = found
            break
    if year and year[1] is None and date_text:
        year = _with_month_alone(year, date_text)
    date = year or detailed
    if date is None:
        shown = year_text or date_text
        if shown:
            warnings.append(
                f"has the year “{shown}”, which is not a year; it will be cited as “n.d.”"
            )
        else:
            warnings.append("has no year; it will be cited as “n.d.”")
        return
    csl["issued"] = {"date-parts": [[part for part in date if part is not None]]}


def _with_month_alone(
    year: tuple[int, int | None, int | None], date_text: str
) -> tuple[int, int | None, int | None]:
    """Web of Science writes the month alone in DA ("NOV", "MAR"), the year in PY."""
    month = month_number(date_text) if date_text.strip().isalpha() else None
    return valid_date(year[0], month, None) if month else year


# An article number as Web of Science and Scopus write it in C7: "e12990", "102345",
# "S0140-6736"; not a labelled identifier ("PMID: 123").
_ARTICLE_NUMBER = re.compile(r"[A-Za-z]{0,3}\d[\w.-]{0,30}")


def _pages(record: _Record, csl: dict[str, Any], lines: dict[str, int]) -> None:
    start, line = record.first("SP")
    end, _ = record.first("EP")
    if not start and not end:
        # An article without pages is cited by its number ("J Veg Sci 32: e12990"). C7
        # means "article number" for articles only.
        number, number_line = record.first("C7")
        if csl["type"].startswith("article") and _ARTICLE_NUMBER.fullmatch(number.strip()):
            csl["page"] = number.strip()
            lines["page"] = number_line
        return
    if start and end and start != end and not re.search(r"[-–—]", start):
        csl["page"] = f"{start}-{end}"
    else:
        csl["page"] = start or end
    lines["page"] = line


def _pmid(record: _Record) -> str:
    for value in record.values("AN"):
        value = value.strip()
        if value.isdigit() and len(value) <= 9:
            return value
        match = _PMID_LABEL.match(value)
        if match:
            return match.group(1)
    # Custom fields: "PMID: 123" anywhere; a bare number only in a record from PubMed.
    from_pubmed = any(
        re.search(r"pubmed|medline|\bnlm\b", value, re.I) for value in record.values("DB", "DP")
    )
    for tag in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "M2", "N1"):
        for value in record.values(tag):
            match = _PMID_LABEL.match(value)
            if match:
                return match.group(1)
            if from_pubmed and value.strip().isdigit() and len(value.strip()) <= 9:
                return value.strip()
    return ""
