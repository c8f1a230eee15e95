"""Field clean-up every format needs: identifiers, links, page ranges, ISBNs, names, dates.

Each function takes what a reader found and returns what the library stores, plus
warnings (sentences about the entry, without the "entry KEY (line N)" the engine adds).
A value that cannot be made right raises `FieldProblem` when the library shows the field
(a DOI that is not a DOI), and is dropped with a warning when it does not need to be there
(an ISSN list in the ISBN field).
"""

from __future__ import annotations

import datetime
import json
import re
import reprlib
import unicodedata
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ..identifiers import normalize_doi, normalize_pmid
from .text import collapse_spaces, shortened


class FieldProblem(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_SPACES = re.compile(r"\s+")

# --- DOI ------------------------------------------------------------------------------------

# Exports write "Doi10.1016/…", "DOI: 10.…", "doi:10.…", "https://doi.org/…", and several
# at once; the DOI itself starts at "10.".
_DOI_LABEL = re.compile(
    r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|(?:urn:)?doi\s*[:=]?\s*|info:doi/)", re.IGNORECASE
)
# Several DOIs in one field: separated by spaces, or by "," or ";" before the next one.
_DOI_SEPARATOR = re.compile(r"\s+|[,;]\s*(?=(?:doi\s*:?\s*|https?://\S*doi\.org/)?10\.)", re.I)
_PLAIN_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/[^\s%]*[^\s%.]")
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")


def clean_doi(value: str, warnings: list[str]) -> str:
    """The bare DOI, or "" for none; FieldProblem when the value is no DOI at all."""
    value = _SPACES.sub(" ", value or "").strip()
    if not value:
        return ""
    if _PLAIN_DOI.fullmatch(value):
        return value  # what normalize_doi returns for a bare DOI
    stripped = value
    for _ in range(3):  # "https://doi.org/doi:10.…"
        shorter = _DOI_LABEL.sub("", stripped).strip()
        if shorter == stripped:
            break
        stripped = shorter
    candidates = [c for c in _DOI_SEPARATOR.split(stripped) if c]
    if len(candidates) > 1:
        dois = [c for c in (_DOI_LABEL.sub("", c) for c in candidates) if c.startswith("10.")]
        if dois:
            if len({d.lower() for d in dois}) > 1:
                warnings.append(f"has several DOIs (“{value}”); the first, {dois[0]}, is kept")
            stripped = dois[0]
    try:
        return normalize_doi(stripped)
    except ValidationError as error:
        found = _DOI_IN_TEXT.search(stripped)
        if found:
            try:
                doi = normalize_doi(found.group(0))
            except ValidationError:
                pass
            else:
                warnings.append(f"has the DOI field “{value}”; the DOI {doi} in it is kept")
                return doi
        raise FieldProblem(" ".join(error.messages)) from error


def clean_pmid(value: str) -> str:
    try:
        return normalize_pmid(_SPACES.sub(" ", value or "").strip())
    except ValidationError as error:
        raise FieldProblem(" ".join(error.messages)) from error


# --- URL ------------------------------------------------------------------------------------

_URL_VALIDATOR = URLValidator()
_URL_START = re.compile(r"[a-z][a-z0-9+.-]*:|www\.", re.IGNORECASE)
_URL_SPACES = re.compile(r"(\s+)")


def rejoin_wrapped_url(text: str) -> str:
    """A URL field as a format that wraps long lines wrote it (BibTeX, RIS), its line
    breaks taken out: a line that starts an address (`https:`, `www.`) is another URL,
    kept apart by a space; any other line is the rest of the address, joined on with
    nothing between. Spaces within a line stay: they are not wraps."""
    if "\n" not in text:
        return text.strip()
    lines = [line.strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if not line:
            continue
        if out and _URL_START.match(line):
            out.append(" ")
        out.append(line)
    return "".join(out)


# A subset of what Django's URLValidator accepts (plain http(s) addresses with an ASCII
# host name), checked with one regular expression; anything else goes to the validator.
_PLAIN_URL = re.compile(
    r"https?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::\d{1,5})?"
    r"(?:[/?#]\S*)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)  # the import checks each URL twice: cleaning it, then validating
def valid_url(url: str) -> bool:
    """What the model's URL field accepts (without its length limit)."""
    if len(url) <= 2048 and _PLAIN_URL.fullmatch(url) and len(url.split("/")[2]) <= 253:
        return True
    try:
        _URL_VALIDATOR(url)
    except ValidationError:
        return False
    return True


def clean_url(value: str, warnings: list[str], *, max_length: int = 1000) -> str:
    """One URL. A field holding several (space-separated, as Mendeley and Zotero write
    them) keeps the first valid one, with a warning naming how many there were. A field
    with no web address in it (EndNote's "<Go to ISI>://WOS:…", a `javascript:` link) is
    left out with a warning: the entry is still citable without it."""
    value = (value or "").strip()
    if not value:
        return ""
    # Only where the next piece starts an address is there a second URL ("https://a.org/x;
    # https://b.org/y": the separator is not part of the first). Any other space is part
    # of the address, which is then no valid URL: joined without it, "https://a.org/x y"
    # was https://a.org/xy, a different page. Readers of formats that wrap lines rejoin
    # wrapped addresses themselves (`rejoin_wrapped_url`), where the line breaks are known.
    # Pieces of each address are joined once at the end: adding piece by piece to a string
    # would copy it every time, quadratic on a field of many short pieces.
    tokens = _URL_SPACES.split(value)  # address text, spaces, address text, …
    pieces: list[list[str]] = [[tokens[0]]]
    for index in range(1, len(tokens) - 1, 2):
        space, part = tokens[index], tokens[index + 1]
        if _URL_START.match(part):
            last = pieces[-1]
            if last[-1][-1:] in (";", ","):
                last[-1] = last[-1][:-1]
            pieces.append([part])
        else:
            pieces[-1].extend((space, part))
    parts = ["".join(address) for address in pieces]
    valid = [part for part in parts if len(part) <= max_length and valid_url(part)]
    if not valid:
        if len(parts) == 1 and _URL_SPACES.search(value) and _URL_START.match(value):
            warnings.append(
                f"has the URL “{shortened(value)}”, which has a space in it, so it is not a "
                "web address as written; it was left out (write the space as %20)"
            )
        else:
            warnings.append(
                f"has the URL “{shortened(value)}”, which is not a web address; it was left out"
            )
        return ""
    if len(parts) > 1:
        warnings.append(f"has {len(parts)} URLs; the first valid one, {valid[0]}, is kept")
    return valid[0]


# --- Pages ----------------------------------------------------------------------------------

_RANGE = re.compile(r"^(?P<start>\d+)\s*(?:-{1,3}|–|—|‐|‑|−)\s*(?P<end>\d+)$")


def clean_pages(value: str) -> str:
    """`823--8` → `823–828`, `1123-35` → `1123–1135`, `540-552` → `540–552`.

    Medical journals abbreviate the second number of a range (Vancouver style); the library
    stores it in full, with an en dash. Anything that is not two plain numbers (`e1234`,
    `S12–S15`, `xi-xv`) is left exactly as it is.
    """
    if value and "," not in value and not _SPACES.search(value):
        return _range(value)  # one range or page, nothing to tidy
    value = _SPACES.sub(" ", value or "").strip()
    if not value:
        return ""
    parts = [part.strip() for part in value.split(",")]
    return ", ".join(_range(part) for part in parts)


def _range(part: str) -> str:
    match = _RANGE.match(part)
    if not match:
        return part
    start, end = match.group("start"), match.group("end")
    if len(end) < len(start):
        full = start[: len(start) - len(end)] + end
        if int(full) > int(start):
            end = full
    return f"{start}–{end}"


# --- ISBN -----------------------------------------------------------------------------------

_ISBN_CANDIDATE = re.compile(r"(?<![\dXx-])(?:97[89][- ]?)?(?:\d[- ]?){9}[\dXx](?![\dXx])")


def _isbn_checks(digits: str) -> bool:
    if len(digits) == 10:
        total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(digits))
        return total % 11 == 0
    if len(digits) == 13 and digits.isdigit():
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(digits))
        return total % 10 == 0
    return False


def clean_isbn(value: str, warnings: list[str], *, max_length: int) -> str:
    """The first ISBN in the field, as written. ISSNs, lists and notes are not ISBNs: the
    field is then dropped with a warning instead of refusing the entry."""
    value = _SPACES.sub(" ", value or "").strip()
    if not value:
        return ""
    shaped = [match.group(0).strip() for match in _ISBN_CANDIDATE.finditer(value)]
    # Prefer numbers whose check digit is right; a mistyped one is still the source's ISBN.
    found = [c for c in shaped if _isbn_checks(re.sub(r"[- ]", "", c))] or shaped
    if not found:
        warnings.append(f"has “{value[:80]}” as its ISBN, which holds no ISBN; it was left out")
        return ""
    if len(found) > 1 or len(found[0]) > max_length:
        warnings.append(f"has several ISBNs (“{value[:80]}”); the first, {found[0]}, is kept")
    return found[0][:max_length]


# --- Names ----------------------------------------------------------------------------------

# Words that make a "name" an organisation's. A person split out of these prints as
# "G. C. D. of H." in a reference list.
_ORGANISATION_WORDS = re.compile(
    r"\b(?:Association|Society|College|Organi[sz]ation|Institute|Institutes|Committee|"
    r"Council|Department|Ministry|Agency|Foundation|University|Group|Cent(?:er|re)s?|"
    r"Board|Federation|Academy|Academies|Collaboration|Collaborative|Consortium|Network|"
    r"Task Force|Services?|Administration|Commission|Office|Programme|Program|"
    r"Hospital|Clinic|Alliance|Coalition|Initiative|Working Party|Panel|Registry|"
    r"Investigators|Authority|Bureau|Trust|Union|Corporation|Inc\.|Ltd\.?|GmbH)\b"
)
_NOT_NAMES = frozenset(("null", "none", "undefined", "nan", "n/a", "anonymous", "unknown"))


_CONNECTORS = frozenset(("of", "for", "and", "on", "the", "&"))


def looks_like_organisation(text: str) -> bool:
    """ "American College of Surgeons", "Guidelines Committee of the Department of Health";
    not "John Center"."""
    words = text.split()
    return bool(_ORGANISATION_WORDS.search(text)) and (
        len(words) >= 3 or any(word in _CONNECTORS for word in words)
    )


def clean_names(names: Any, role: str, warnings: list[str]) -> list[dict[str, str]]:
    """CSL names as the library stores them: {"family", "given"} or {"literal"}.

    Particles and suffixes join the family name ("van Gennep", "King, Jr."), as the admin
    edits them. Names that are no names (`null`), have no family name, or look like an
    organisation split in two are fixed where the intent is clear, and warned about.
    """
    if not isinstance(names, list):
        if names in (None, ""):
            return []
        warnings.append(f"has an {role} list that is not a list of names; it was left out")
        return []
    result: list[dict[str, str]] = []
    for name in names:
        if isinstance(name, str):
            name = {"literal": name}
        if not isinstance(name, dict):
            warnings.append(f"has an {role} that is not a name ({name!r}); it was left out")
            continue
        cleaned = _clean_name(name, role, warnings)
        if cleaned:
            result.append(cleaned)
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            # A list or an object where CSL has text: not a name part ("['Smith']").
            raise _NotAName
        value = str(value)
    return collapse_spaces(value)


class _NotAName(Exception):
    """A name part that is a list or an object."""


def _clean_name(name: dict[str, Any], role: str, warnings: list[str]) -> dict[str, str] | None:
    said = len(warnings)
    try:
        cleaned = _clean_name_parts(name, role, warnings)
    except _NotAName:
        cleaned = None
    if cleaned is None and len(warnings) == said:
        # {"family": null}, {}, {"family": ["Smith"]}: left out, and the preview says so.
        shown = reprlib.repr(name)  # bounded, however deep or long the value
        warnings.append(f"has an {role} with no name in it ({shown}); it was left out")
    return cleaned


def _clean_name_parts(
    name: dict[str, Any], role: str, warnings: list[str]
) -> dict[str, str] | None:
    if len(name) <= 2 and "literal" not in name:
        family, given = name.get("family"), name.get("given", "")
        if (
            type(family) is str
            and type(given) is str
            and family
            and family == family.strip()
            and given == given.strip()
            and " " not in family
            and given.count(" ") <= 1
            and family.lower() not in _NOT_NAMES
            and given.lower() not in _NOT_NAMES
        ):
            return {"family": family, "given": given} if given else {"family": family}
    literal = _text(name.get("literal")).rstrip(",").strip()
    family = _text(name.get("family"))
    given = _text(name.get("given"))
    for particle_key in ("non-dropping-particle", "dropping-particle"):
        particle = _text(name.get(particle_key))
        if particle:
            family = f"{particle} {family}".strip()
    suffix = _text(name.get("suffix"))
    if suffix and family:
        family = f"{family}, {suffix}"
    if literal:
        if literal.lower() in _NOT_NAMES:
            warnings.append(f"has the {role} “{literal}”, which is not a name; it was left out")
            return None
        return {"literal": literal}
    if family.lower() in _NOT_NAMES and not given:
        warnings.append(f"has the {role} “{family}”, which is not a name; it was left out")
        return None
    if given.lower() in _NOT_NAMES:
        warnings.append(
            f"has the {role} “{family}, {given}”, whose given name is not a name; "
            f"kept as “{family}”"
        )
        given = ""
    if not family and not given:
        return None
    if not given and " " in family and not family[0].islower():
        # "American College of Surgeons," (EndNote) or a CSL family-only organisation.
        return {"literal": family}
    if not family:
        warnings.append(
            f"has the {role} “{given}” with no family name; kept as one name, as written"
        )
        return {"literal": given}
    if (
        given
        and (" " in family or given.count(" ") > 1)
        and looks_like_organisation(f"{given} {family}")
    ):
        whole = f"{given} {family}"
        warnings.append(
            f"has the {role} “{whole}”, which looks like an organisation split into given "
            "and family names; kept as one name (in BibTeX, wrap it in braces: {…})"
        )
        return {"literal": whole}
    return {"family": family, "given": given} if given else {"family": family}


# --- Dates ----------------------------------------------------------------------------------

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
# The year is four digits, not the first four of five ("99999" is no year, not 9999).
_ISO_DATE = re.compile(r"^(?P<year>-?\d{4})(?!\d)(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?")


_MONTH_PREFIXES = {name[:3]: number for number, name in enumerate(_MONTHS, start=1)}


def month_number(text: str) -> int | None:
    """ "jan", "January", "Sep.", "5" → the month's number; None when it is no month."""
    text = text.lower().strip().rstrip(".")
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return _MONTH_PREFIXES.get(text[:3]) if text[:3].isalpha() else None


def valid_date(year: int, month: int | None, day: int | None) -> tuple[int, int | None, int | None]:
    if month is not None and not 1 <= month <= 12:
        month = day = None  # EDTF seasons (21-24) are not months
    if day is not None:
        try:
            datetime.date(year, month or 1, day)
        except ValueError:
            day = None
    if month is None:
        day = None
    return year, month, day


# "2019/03/05", "2019/03": a year, then numbers too short to be a year. Not an EDTF
# interval (whose ends have four-digit years) but the slashed date EndNote and hand-typed
# CSL-JSON "raw" dates use: read as an interval, its month and day were lost.
_SLASHED_DATE = re.compile(r"(?P<year>\d{4})/(?P<month>\d{1,2})(?:/(?P<day>\d{1,2}))?/?")


def parse_edtf(value: str) -> tuple[int, int | None, int | None] | None:
    """An ISO/EDTF date (`2019`, `2019-05`, `2019-05-03`, ranges `1984/1986`, `../2000`),
    or a slashed one (`2019/03/05`)."""
    slashed = _SLASHED_DATE.fullmatch(value.strip())
    if slashed:
        day = slashed.group("day")
        return valid_date(
            int(slashed.group("year")), int(slashed.group("month")), int(day) if day else None
        )
    start, _, end = value.strip().partition("/")
    for part in (start, end):
        part = part.strip().strip("?~%")  # EDTF: ? uncertain, ~ approximate, % both
        match = _ISO_DATE.match(part)
        if not match:
            continue
        year = int(match.group("year"))
        if year <= 0:
            continue
        month = int(match.group("month")) if match.group("month") else None
        day = int(match.group("day")) if match.group("day") else None
        return valid_date(year, month, day)
    return None


def csl_date(value: Any) -> tuple[int, int | None, int | None] | None:
    """A CSL date: {"date-parts": [[y, m, d]]}, {"raw": …}, {"literal": …} or a string."""
    if isinstance(value, str):
        return parse_edtf(value) or loose_date(value)
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        numbers: list[int] = parts[0][:3]
        if not all(type(p) is int for p in numbers):  # numbers as readers make them: as they are
            try:
                numbers = [int(str(p).strip()) for p in numbers]
            except (TypeError, ValueError):
                numbers = []
        if numbers and 0 < numbers[0] < 10_000:  # as a range's end (_year): 99999 is no year
            numbers += [None] * (3 - len(numbers))  # type: ignore[list-item]
            return valid_date(numbers[0], numbers[1], numbers[2])
    for key in ("raw", "literal"):
        if isinstance(value.get(key), str):
            found = parse_edtf(value[key]) or loose_date(value[key])
            if found:
                return found
    if value.get("season") and value.get("year"):
        return loose_date(f"{value['year']}")
    return None


# Language names and codes that mean English (biblatex langid and hyphenation, RIS and
# PubMed LA, CSL language).
_ENGLISH = frozenset((
    "english", "american", "british", "canadian", "australian", "newzealand", "usenglish",
    "ukenglish", "en", "eng", "americanenglish", "britishenglish",
))  # fmt: skip


def is_english(value: str) -> bool:
    """Whether a language field names English ("english", "en-GB", "eng"); an empty one
    does too, as citeproc reads a reference without a language."""
    first = re.split(r"[\s,;]+|\band\b", value.strip().lower())[0] if value.strip() else ""
    return not first or first in _ENGLISH or first.startswith(("en-", "en_", "english"))


def csl_language(value: str) -> str:
    """A language as the library stores it: empty for English (citeproc's default, and the
    only language it title-cases in AMA), else as the source wrote it ("german", "de",
    "fre"), which citeproc reads as not English. Never cut short: one too long for the
    library is refused by the model's length check, which names it and its line."""
    value = collapse_spaces(value)
    return "" if is_english(value) else value


def csl_date_range_end(value: Any) -> int | None:
    """The last year of a CSL date range ({"date-parts": [[1984], [1986]]}, "1984/1986"),
    or None for a single date or an open end."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and len(parts) > 1 and isinstance(parts[1], list):
            return _year(parts[1][0] if parts[1] else None)
        value = value.get("raw") or value.get("literal")
    if isinstance(value, str) and "/" in value and not _SLASHED_DATE.fullmatch(value.strip()):
        end = parse_edtf(value.strip().partition("/")[2])
        return end[0] if end else None
    return None


def csl_date_range_end_text(value: Any) -> str:
    """The end of a CSL date range as the source wrote it ("1986", "x", "[99999]"), or ""
    for a single date or an open end ("1984/", "1984/.."): what a preview quotes when
    `csl_date_range_end` finds no year in it."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and len(parts) > 1:
            end = parts[1]
            return "" if end in (None, "", []) else json.dumps(end, ensure_ascii=False)
        value = value.get("raw") or value.get("literal")
    if isinstance(value, str) and "/" in value and not _SLASHED_DATE.fullmatch(value.strip()):
        end = value.strip().partition("/")[2].strip()
        return "" if end in ("", "..") else end
    return ""


def _year(value: Any) -> int | None:
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return year if 0 < year < 10_000 else None


_LOOSE_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def loose_date(value: str) -> tuple[int, int | None, int | None] | None:
    """ "2019 Mar 5", "2019 Mar-Apr", "2019 Spring", "March 2019", "2019/03/05/": the year,
    and the month and day where they are plain."""
    text = value.strip()
    year_match = _LOOSE_YEAR.search(text)
    if not year_match:
        return None
    year = int(year_match.group(1))
    if year == 0:
        return None  # "0000": a placeholder some exporters write for "no year"
    # RIS: "2019/05/03/", "2019///", and "2019/05" with its second slash left off.
    slashed = re.match(r"^(\d{4})/(\d{0,2})(?:/(\d{0,2}))?(?!\d)", text)
    if slashed:
        month = int(slashed.group(2)) if slashed.group(2) else None
        day = int(slashed.group(3)) if slashed.group(3) else None
        return valid_date(year, month, day)
    rest = (text[: year_match.start()] + " " + text[year_match.end() :]).strip()
    # Whole numbers: the "20" of a second year ("2019 Dec-2020 Jan") is not a day.
    words = re.findall(r"[A-Za-z]+|\d+", rest)
    month = day = None
    for word in words:
        if word.isdigit():
            if month is not None and day is None and len(word) <= 2:
                day = int(word)
            continue
        if month is None:
            lowered = word.lower()
            if lowered in _SEASONS:
                break
            month = month_number(word)
    return valid_date(year, month, day)


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return folded.translate(_FOLD_EXTRA)


_FOLD_EXTRA = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae",
                             "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i",
                             "þ": "th", "ð": "d"})  # fmt: skip
