"""The RIS reader, on records written the way EndNote, Zotero, Mendeley, Scopus and
PubMed-derived exports write them. None of these touch the database."""

from __future__ import annotations

import pytest

from references.importing import parse, pick_reader, read

ENDNOTE = """TY  - JOUR
AU  - Parker, Sarah J.
AU  - Lee, Kim
AU  - American College of Surgeons,
T1  - Emotional intimacy and sexual satisfaction: Exploring their connection
JO  - The Journal of Sex Research
JA  - J Sex Res
VL  - 56
IS  - 5
SP  - 545
EP  - 56
PY  - 2019
DA  - 2019/05/03
SN  - 0022-4499
DO  - Doi10.1080/00224499.2019.1565234
UR  - <Go to ISI>://WOS:000470000000001
UR  - https://doi.org/10.1080/00224499.2019.1565234
AN  - 30700000
N1  - Parker, Sarah J
ID  - 12
ER  -

"""

ZOTERO = """TY  - BOOK
TI  - Diagnostic and statistical manual of mental disorders
AU  - American Psychiatric Association
CY  - Washington, DC
DA  - 2013///
PY  - 2013
ET  - 5
PB  - American Psychiatric Publishing
SN  - 978-0-89042-555-8
UR  - https://doi.org/10.1176/appi.books.9780890425596
Y2  - 2024/01/31/15:04:19
L1  - file:///home/me/Zotero/storage/DSM5/dsm.pdf
KW  - Psychiatry
ER  -

TY  - CHAP
TI  - Sensate focus
AU  - Weiner, Linda
AU  - Avery-Clark, Constance
A2  - Hall, Kathryn S. K.
A2  - Binik, Yitzchak M.
T2  - Principles and practice of sex therapy
PY  - 2020
SP  - 123
EP  - 145
PB  - Guilford Press
CY  - New York
ET  - 6
SN  - 978-1-4625-4132-1
ER  -
"""

MENDELEY = """TY  - JOUR
AU  - Rauer, Amy J.
AU  - Pettit, Gregory S.
PY  - 2015
T1  - Emotional intimacy and conflict resolution in couples
JF  - Journal of Marriage and Family
VL  - 77
IS  - 2
SP  - 379
EP  - 392
DO  - 10.1111/jomf.12172
UR  - http://doi.wiley.com/10.1111/jomf.12172 http://www.ncbi.nlm.nih.gov/pubmed/26000000
N2  - An abstract that Mendeley
  wraps onto a second line.
ER  -
"""

SCOPUS = """TY  - JOUR
AU  - Brotto, L.A.
AU  - Basson, R.
AU  - Luria, M.
TI  - A mindfulness-based group psychoeducational intervention targeting sexual arousal disorder
PY  - 2008
T2  - Archives of Sexual Behavior
J2  - Arch. Sex. Behav.
VL  - 37
IS  - 2
SP  - 317
EP  - 29
DO  - 10.1007/s10508-007-9281-7
UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-41149000000&doi=10.1007%2fs10508-007-9281-7
AN  - 2-s2.0-41149000000
C2  - PMID: 18000000
N1  - Cited By :250
DB  - Scopus
M3  - Article
ER  -
"""

PUBMED_VIA_OVID = """TY  - JOUR
DB  - MEDLINE
AN  - 31234567
AU  - Müller, Anna
T1  - Sleep quality in older adults aged >65 (p < 0.05)
JO  - Journal of Sleep Research
VL  - 29
IS  - 3
SP  - 1123
EP  - 35
Y1  - 2020//
LA  - English
ER  -
"""


def records(text: str, **kwargs) -> dict:
    parsed = parse(text=text, **kwargs)
    assert parsed.failures == [], [f.message for f in parsed.failures]
    return {entry.key: entry for entry in parsed.entries}


def test_detected_by_content():
    for text in (ENDNOTE, ZOTERO, MENDELEY, SCOPUS, PUBMED_VIA_OVID):
        assert pick_reader(text).name == "ris"
    assert read(text=ENDNOTE).format == "ris"


def test_endnote_record():
    [entry] = records(ENDNOTE).values()
    assert entry.key == "parker2019emotional"
    assert (entry.line, entry.record) == (1, 1)
    assert entry.key_generated
    fields = entry.fields
    assert fields["type"] == "article-journal"
    assert (
        fields["title"] == "Emotional intimacy and sexual satisfaction: Exploring their connection"
    )
    assert fields["authors"] == [
        {"family": "Parker", "given": "Sarah J."},
        {"family": "Lee", "given": "Kim"},
        {"literal": "American College of Surgeons"},
    ]
    assert fields["container_title"] == "The Journal of Sex Research"
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2019, 5, 3)
    assert (fields["volume"], fields["issue"], fields["pages"]) == ("56", "5", "545–556")
    assert fields["doi"] == "10.1080/00224499.2019.1565234"
    assert fields["pmid"] == "30700000"  # AN is the PMID when it is a number
    # Of two URLs, the first that is a web address.
    assert fields["url"] == "https://doi.org/10.1080/00224499.2019.1565234"
    assert "isbn" not in fields  # SN of a journal article is its ISSN


def test_zotero_book_and_chapter():
    found = records(ZOTERO)
    assert list(found) == ["americanpsychiatricassociation2013diagnostic", "weiner2020sensate"]
    book = found["americanpsychiatricassociation2013diagnostic"].fields
    assert book["type"] == "book"
    assert book["authors"] == [{"literal": "American Psychiatric Association"}]
    assert (book["edition"], book["publisher"], book["publisher_place"]) == (
        "5",
        "American Psychiatric Publishing",
        "Washington, DC",
    )
    assert book["isbn"] == "978-0-89042-555-8"
    assert book["accessed"].isoformat() == "2024-01-31"
    assert book["url"] == "https://doi.org/10.1176/appi.books.9780890425596"
    chapter = found["weiner2020sensate"].fields
    assert chapter["type"] == "chapter"
    assert chapter["container_title"] == "Principles and practice of sex therapy"
    assert chapter["editors"] == [
        {"family": "Hall", "given": "Kathryn S. K."},
        {"family": "Binik", "given": "Yitzchak M."},
    ]
    assert chapter["pages"] == "123–145"


def test_mendeley_record_with_a_url_list_and_a_wrapped_abstract():
    parsed = parse(text=MENDELEY)
    assert parsed.failures == []
    [entry] = parsed.entries
    assert entry.key == "rauer2015emotional"
    assert entry.fields["container_title"] == "Journal of Marriage and Family"
    assert entry.fields["url"] == "http://doi.wiley.com/10.1111/jomf.12172"
    assert entry.warnings == [
        "entry rauer2015emotional (line 1) has 2 URLs; the first valid one, "
        "http://doi.wiley.com/10.1111/jomf.12172, is kept"
    ]
    assert "N2 (1 record)" in parsed.warnings[0]


def test_scopus_record():
    [entry] = records(SCOPUS).values()
    fields = entry.fields
    assert entry.key == "brotto2008mindfulnessbased"
    assert fields["container_title"] == "Archives of Sexual Behavior"  # T2 before J2
    assert fields["pages"] == "317–329"
    assert fields["pmid"] == "18000000"  # from C2 "PMID: …", not the Scopus EID in AN
    assert fields["authors"][0] == {"family": "Brotto", "given": "L.A."}


def test_pubmed_record_via_ovid():
    [entry] = records(PUBMED_VIA_OVID).values()
    fields = entry.fields
    assert entry.key == "muller2020sleep"
    assert fields["pmid"] == "31234567"
    assert fields["pages"] == "1123–1135"
    assert fields["issued_year"] == 2020
    # RIS titles are kept as written: no LaTeX, no recasing.
    assert fields["title"] == "Sleep quality in older adults aged >65 (p < 0.05)"


def test_pmid_in_a_custom_field_of_a_pubmed_record():
    text = "TY  - JOUR\nDB  - PubMed\nTI  - T\nPY  - 2020\nC1  - 31234567\nER  - \n"
    [entry] = records(text).values()
    assert entry.fields["pmid"] == "31234567"
    # Without a PubMed source a bare number in C1 is not taken for a PMID.
    [entry] = records(text.replace("DB  - PubMed\n", "")).values()
    assert "pmid" not in entry.fields


def test_generated_keys_are_made_unique_in_the_file():
    twice = ENDNOTE + ENDNOTE.replace("DO  - Doi10.1080/00224499.2019.1565234\n", "")
    keys = [entry.key for entry in parse(text=twice).entries]
    assert keys == ["parker2019emotional", "parker2019emotionala"]


def test_key_from_title_skips_articles_and_prepositions():
    text = "TY  - JOUR\nAU  - van Gennep, Arnold\nTI  - The Rites of Passage\nPY  - 1960\nER  - \n"
    [entry] = parse(text=text).entries
    assert entry.key == "vangennep1960rites"


def test_header_lines_before_the_first_record_are_ignored():
    text = (
        "Provider: John Wiley & Sons, Ltd\nDatabase: Wiley Online Library\n"
        'Content: text/plain; charset="UTF-8"\n\n' + MENDELEY
    )
    assert pick_reader(text).name == "ris"
    assert len(records(text)) == 1


def test_crlf_line_breaks_and_a_bom():
    text = "\ufeff" + ENDNOTE.replace("\n", "\r\n")
    [entry] = records(text).values()
    assert entry.fields["pages"] == "545–556"


# --- Malformed RIS ----------------------------------------------------------------------


def failures(text: str) -> list[str]:
    return [failure.message for failure in parse(text=text, format="ris").failures]


def test_missing_er_at_the_end_names_the_record_and_its_line():
    text = ENDNOTE + "TY  - JOUR\nTI  - Unfinished\nPY  - 2020\n"
    assert failures(text) == [
        "record 2 (line 23): the file ends before this record's “ER  - ” line"
    ]
    # The first record is still read.
    assert [e.key for e in parse(text=text).entries] == ["parker2019emotional"]


def test_a_record_without_er_before_the_next_one():
    text = "TY  - JOUR\nTI  - First\nPY  - 2020\nTY  - JOUR\nTI  - Second\nPY  - 2020\nER  - \n"
    assert failures(text) == [
        "record 1 (line 1): the record has no “ER  - ” before the next record starts at line 4"
    ]


def test_a_line_that_is_not_ris_names_its_line():
    text = "TY  - JOUR\nTI  - T\nPY  - 2020\nVL  - 3\nthis is not RIS\nER  - \n"
    assert failures(text) == [
        "record 1 (line 1): line 5 is not an RIS line (“TAG  - value”): “this is not RIS”"
    ]


def test_a_mangled_tag_is_not_taken_for_a_continuation():
    text = "TY  - JOUR\nTI  - T\nAU- Smith, J.\nPY  - 2020\nER  - \n"
    [message] = failures(text)
    assert message.startswith("record 1 (line 1): line 3 is not an RIS line")


def test_a_tag_outside_a_record():
    text = ENDNOTE + "AU  - Stray, Author\n"
    assert failures(text) == [
        "line 23: the tag AU (line 23) is outside a record; a record starts with “TY  - ”"
    ]


def test_a_record_without_a_title_fails():
    text = "TY  - JOUR\nAU  - Smith, J.\nPY  - 2020\nER  - \n"
    [failure] = parse(text=text).failures
    assert failure.message == (
        "record 1 (line 1): has no title; add one (the library needs a title to cite)"
    )


def test_unknown_type_is_a_document_with_a_warning():
    [entry] = records("TY  - XYZ\nTI  - T\nPY  - 2020\nER  - \n").values()
    assert entry.fields["type"] == "document"
    assert "unknown RIS type “XYZ”" in entry.warnings[0]


@pytest.mark.parametrize(
    ("year", "expected"),
    [("2019", (2019, None, None)), ("2019///", (2019, None, None)),
     ("2019/03/05/", (2019, 3, 5)), ("2019/03//", (2019, 3, None))],
)  # fmt: skip
def test_ris_dates(year, expected):
    [entry] = records(f"TY  - JOUR\nTI  - T\nPY  - {year}\nER  - \n").values()
    fields = entry.fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == expected


def test_no_year_warns():
    [entry] = records("TY  - JOUR\nTI  - T\nER  - \n").values()
    assert entry.key == "anont"
    assert entry.warnings == ["entry anont (line 1) has no year; it will be cited as “n.d.”"]
