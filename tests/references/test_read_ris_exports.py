"""Held-out RIS: records written the way EndNote, Zotero, Mendeley, Scopus and PubMed
write them, none of which the reader was built against. Each work must come through with
its title, authors, year, pages, DOI and first valid URL as the source meant them."""

from __future__ import annotations

import pytest

from references.importing import parse
from tests.builders import only_entry

# EndNote X9 on Windows: CRLF, a UTF-8 BOM, "ER  - " with its trailing space, A1 as well
# as AU, a Spanish title, a corporate author, the DOI as a link, several UR lines, an
# attachment, an HTML note and an abstract with a blank line between its paragraphs.
ENDNOTE = (
    "\ufeffTY  - JOUR\r\n"
    "AU  - Parker, Sarah J.\r\n"
    "A1  - Lee, Kim\r\n"
    "AU  - World Health Organization\r\n"
    "ED  - Editor, Ed\r\n"
    "T1  - Intimidad emocional y satisfacción sexual: un estudio de cohortes\r\n"
    "JF  - Revista Médica de Chile\r\n"
    "JA  - Rev Med Chil\r\n"
    "PY  - 2019///\r\n"
    "Y1  - 2019/05/03/\r\n"
    "SP  - 823-8\r\n"
    "VL  - 147\r\n"
    "LA  - Spanish\r\n"
    "DO  - https://doi.org/10.4067/S0034-98872019000500823\r\n"
    "UR  - <Go to ISI>://WOS:000470000000001\r\n"
    "UR  - https://www.scielo.cl/scielo.php?pid=S0034-98872019000500823\r\n"
    "UR  - https://pubmed.ncbi.nlm.nih.gov/31000000/\r\n"
    "L1  - internal-pdf://0123456789/Parker-2019.pdf\r\n"
    "N1  - <p>Read for the <b>intimacy</b> article</p>\r\n"
    "N2  - Background: couples were followed for two years.\r\n"
    "\r\n"
    "In-hospital counselling was offered to all; co-morbidities were recorded.\r\n"
    "ER  - \r\n"
)


def test_endnote_windows_export():
    entry = only_entry(ENDNOTE)
    fields = entry.fields
    assert parse(text=ENDNOTE).format == "ris"
    # Non-English titles are kept exactly as written.
    assert fields["title"] == "Intimidad emocional y satisfacción sexual: un estudio de cohortes"
    assert fields["authors"] == [
        {"family": "Parker", "given": "Sarah J."},
        {"family": "Lee", "given": "Kim"},
        {"literal": "World Health Organization"},
    ]
    assert fields["editors"] == [{"family": "Editor", "given": "Ed"}]
    assert fields["container_title"] == "Revista Médica de Chile"
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2019, 5, 3)
    assert fields["pages"] == "823–828"
    assert fields["doi"] == "10.4067/S0034-98872019000500823"
    assert fields["url"] == "https://www.scielo.cl/scielo.php?pid=S0034-98872019000500823"
    assert any("has 3 URLs; the first valid one" in warning for warning in entry.warnings)


@pytest.mark.parametrize(
    "continuation",
    [
        "In-hospital mortality was 5%.",
        "re-admission rates fell",
        "co-morbidities were common",
        "Up-regulated genes - a list",
    ],
)
def test_a_wrapped_line_starting_with_a_hyphenated_word_continues_the_value(continuation):
    # Zotero writes an abstract's paragraphs, and Mendeley wraps long values, onto lines
    # with no tag; a two-letter word before a hyphen is text, not a mangled tag.
    text = f"TY  - JOUR\nTI  - A study of\n{continuation}\nPY  - 2020\nAB  - First.\n"
    text += f"{continuation}\nER  - \n"
    entry = only_entry(text)
    assert entry.fields["title"] == f"A study of {continuation}"


def test_a_mangled_tag_still_fails_the_record():
    # "au  - Smith" (a known tag in lower case, spaced as RIS) is read since; see
    # test_import_leftovers.py.
    for mangled in ("AU- Smith, J.", "T1 -Title"):
        parsed = parse(text=f"TY  - JOUR\nTI  - T\n{mangled}\nPY  - 2020\nER  - \n")
        [failure] = parsed.failures
        assert failure.message.startswith("record 1 (line 1): line 3 is not an RIS line")


@pytest.mark.parametrize(
    ("tag", "value", "doi"),
    [
        ("N1", "<p>See doi:10.1000/abc.def</p>", "10.1000/abc.def"),
        ("N1", '<a href="https://doi.org/10.1000/xyz">full text</a>', "10.1000/xyz"),
        ("M3", "doi: 10.1000/m3.", "10.1000/m3"),
        ("UR", "http://dx.doi.org/10.1002/%28SICI%291097-4571", "10.1002/(SICI)1097-4571"),
        # A SICI DOI keeps its angle brackets: they are part of it, not HTML.
        ("N1", "doi:10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0",
         "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0"),
    ],
)  # fmt: skip
def test_a_doi_found_in_another_field_stops_where_the_doi_does(tag, value, doi):
    entry = only_entry(f"TY  - JOUR\nTI  - T\nPY  - 2020\n{tag}  - {value}\nER  - \n")
    assert entry.fields["doi"] == doi


def test_an_organisation_with_a_comma_in_its_name_keeps_its_word_order():
    cdc = "Centers for Disease Control and Prevention (U.S.), Division of Viral Hepatitis"
    text = (
        f"TY  - RPRT\nTI  - Surveillance report\nPY  - 2021\nAU  - {cdc}\n"
        "AU  - National Institutes of Health (U.S.)\n"
        "AU  - de la Cruz, Maria\n"
        "ER  - \n"
    )
    entry = only_entry(text)
    assert entry.fields["authors"] == [
        {"literal": cdc},
        {"literal": "National Institutes of Health (U.S.)"},
        {"family": "de la Cruz", "given": "Maria"},
    ]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("PY  - 2019///\nDA  - 2019/05/03", (2019, 5, 3)),
        ("Y1  - 2019/05/03/", (2019, 5, 3)),
        ("PY  - 2019/05", (2019, 5, None)),
        ("PY  - 2019\nDA  - May 3, 2019", (2019, 5, 3)),
        # Scopus and PubMed give cross-year issues; the 20 of 2020 is not a day.
        ("PY  - 2019\nDA  - 2019 Dec-2020 Jan", (2019, 12, None)),
        ("PY  - 2019\nDA  - 2018/05/01", (2019, None, None)),
    ],
)
def test_dates_as_exporters_write_them(tags, expected):
    fields = only_entry(f"TY  - JOUR\nTI  - T\n{tags}\nER  -\n").fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == expected


@pytest.mark.parametrize(
    ("tags", "pages"),
    [
        ("SP  - 823-8", "823–828"),
        ("SP  - 823\nEP  - 8", "823–828"),
        ("SP  - 1123\nEP  - 1135", "1123–1135"),
        ("SP  - e0212345", "e0212345"),
        ("SP  - S12\nEP  - S15", "S12-S15"),
    ],
)
def test_pages(tags, pages):
    assert only_entry(f"TY  - JOUR\nTI  - T\nPY  - 2020\n{tags}\nER  - \n").fields["pages"] == pages


@pytest.mark.parametrize(
    ("ris_type", "tags", "title", "container"),
    [
        ("JOUR", "T1  - Title\nJO  - J Abbr\nJF  - Journal Full", "Title", "Journal Full"),
        ("JOUR", "TI  - Title\nJA  - J Abbr", "Title", "J Abbr"),
        ("JOUR", "TI  - Title\nT2  - Journal\nJ2  - J Abbr", "Title", "Journal"),
        ("CHAP", "CT  - Chapter\nBT  - Book", "Chapter", "Book"),
        ("CHAP", "TI  - Chapter\nT2  - Book", "Chapter", "Book"),
        ("BOOK", "BT  - Book only", "Book only", None),
    ],
)
def test_title_and_container_tags(ris_type, tags, title, container):
    fields = only_entry(f"TY  - {ris_type}\n{tags}\nPY  - 2020\nER  - \n").fields
    assert fields["title"] == title
    assert fields.get("container_title") == container


def test_urls_in_one_line_separated_by_semicolons_keep_the_first_without_its_separator():
    text = "TY  - WEB\nTI  - T\nPY  - 2020\nUR  - https://a.org/x; https://b.org/y\nER  -\n"
    entry = only_entry(text)
    assert entry.fields["url"] == "https://a.org/x"


def test_only_a_local_attachment_gives_no_url_and_no_warning():
    entry = only_entry("TY  - JOUR\nTI  - T\nPY  - 2020\nL1  - file:///C:/papers/x.pdf\nER  - \n")
    assert "url" not in entry.fields
    assert entry.warnings == []


def test_a_placeholder_year_is_no_year_and_says_so_in_the_source_s_words():
    entry = only_entry("TY  - JOUR\nTI  - T\nPY  - 0000\nER  - \n")
    assert "issued_year" not in entry.fields
    assert entry.warnings == [
        "entry anont (line 1) has the year “0000”, which is not a year; it will be cited as “n.d.”"
    ]


def test_several_names_on_one_author_line_are_read_as_several_with_a_warning():
    entry = only_entry("TY  - JOUR\nTI  - T\nPY  - 2020\nAU  - Smith, J; Jones, K\nER  - \n")
    assert entry.fields["authors"] == [
        {"family": "Smith", "given": "J"},
        {"family": "Jones", "given": "K"},
    ]
    assert entry.warnings == [
        "entry smith2020t (line 1) has 2 names in one AU line (“Smith, J; Jones, K”); each is "
        "read as a name of its own"
    ]
