"""Held-out PubMed MEDLINE (.nbib): records as PubMed writes them for citation managers,
with what real records carry — continued lines, pii and doi identifiers, cross-year issue
dates, collective authors, translated and untranslated titles, errata — and records
glued together by hand."""

from __future__ import annotations

import time

from references.importing import parse

NEJM = """PMID- 32000001
OWN - NLM
STAT- MEDLINE
DCOM- 20200401
IS  - 1533-4406 (Electronic)
VI  - 382
IP  - 10
DP  - 2020 Mar-Apr
TI  - Effects of intimacy-focused therapy on couples aged >65 years: a randomized
      trial in primary care.
PG  - 823-8
LID - 10.1056/NEJMoa2000001 [doi]
LID - NEJMoa2000001 [pii]
AB  - BACKGROUND: Little is known.
      METHODS: We randomly assigned 200 couples.
FAU - Smith, John A
AU  - Smith JA
AUID- ORCID: 0000-0001-2345-6789
FAU - van der Berg, Anna
AU  - van der Berg A
CN  - Couples Therapy Trial Group
LA  - eng
PT  - Journal Article
PT  - Randomized Controlled Trial
PL  - United States
TA  - N Engl J Med
JT  - The New England journal of medicine
JID - 0255562
PMC - PMC7000001
AID - 10.1056/NEJMoa2000001 [doi]
AID - NEJMoa2000001 [pii]
SO  - N Engl J Med. 2020 Mar-Apr;382(10):823-828.
"""

ERRATUM = """PMID- 32000002
STAT- MEDLINE
DP  - 2020 Jun
TI  - Erratum: Effects of intimacy-focused therapy on couples aged >65 years.
PG  - 900
PT  - Published Erratum
EIN - N Engl J Med. 2020 Mar-Apr;382(10):823-8. PMID: 32000001
TA  - N Engl J Med
JT  - The New England journal of medicine
VI  - 382
IP  - 12
"""


def entries(text: str) -> list:
    parsed = parse(text=text)
    assert parsed.format == "nbib"
    assert [f.message for f in parsed.failures] == []
    return parsed.entries


def test_a_journal_article_as_pubmed_writes_it():
    [entry] = entries(NEJM)
    fields = entry.fields
    assert entry.key == "smith2020effects"
    assert fields["title"] == (
        "Effects of intimacy-focused therapy on couples aged >65 years: a randomized trial in "
        "primary care"
    )
    assert fields["authors"] == [
        {"family": "Smith", "given": "John A"},
        {"family": "van der Berg", "given": "Anna"},
        {"literal": "Couples Therapy Trial Group"},
    ]
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2020, 3, None)
    assert (fields["volume"], fields["issue"], fields["pages"]) == ("382", "10", "823–828")
    assert (fields["doi"], fields["pmid"]) == ("10.1056/NEJMoa2000001", "32000001")
    assert fields["container_title"] == "The New England journal of medicine"


def test_crlf_and_a_bom_read_the_same():
    [plain] = entries(NEJM)
    [windows] = entries("\ufeff" + NEJM.replace("\n", "\r\n"))
    assert windows.fields == plain.fields


def test_a_cross_year_issue_date_has_no_day():
    [entry] = entries("PMID- 1\nTI  - T.\nDP  - 2019 Dec-2020 Jan\n")
    fields = entry.fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2019, 12, None)


def test_records_without_a_blank_line_between_them_are_still_two_records():
    # Pasting several abstracts' citations, or joining files, loses the blank lines; a
    # PMID line always starts a record.
    glued = NEJM + ERRATUM
    first, second = entries(glued)
    assert (first.fields["pmid"], first.line, first.record) == ("32000001", 1, 1)
    assert (second.fields["pmid"], second.line, second.record) == ("32000002", 33, 2)
    assert second.fields["title"].startswith("Erratum: Effects")


def test_an_erratum_is_imported_with_a_warning_saying_what_it_is():
    [entry] = entries(ERRATUM)
    assert entry.fields["pages"] == "900"
    assert any("is a published erratum" in warning for warning in entry.warnings)


def test_an_untranslated_title_comes_from_the_transliterated_title():
    text = "PMID- 1\nTI  - [Not Available].\nTT  - Schlafqualität bei älteren Menschen.\n"
    text += "DP  - 2020\n"
    [entry] = entries(text)
    assert entry.fields["title"] == "Schlafqualität bei älteren Menschen"


def test_not_available_alone_is_no_title():
    parsed = parse(text="PMID- 1\nTI  - [Not Available].\nDP  - 2020\n")
    [failure] = parsed.failures
    assert failure.message.startswith("record 1 (line 1): has no title")


def test_a_title_ending_in_an_abbreviation_keeps_its_period():
    for title in ("Infection by Candida sp.", "Outcomes in the U.S.", "Smith v. Jones et al."):
        [entry] = entries(f"PMID- 1\nTI  - {title}\nDP  - 2020\n")
        assert entry.fields["title"] == title
    # PubMed's own closing period still goes.
    [entry] = entries("PMID- 1\nTI  - Vitamin D.\nDP  - 2020\n")
    assert entry.fields["title"] == "Vitamin D"


def test_a_long_run_of_initials_in_a_title_is_read_in_linear_time():
    title = "a." * 30_000 + "!."  # quadratic: half a minute; linear: milliseconds
    started = time.monotonic()
    [entry] = entries(f"PMID- 1\nTI  - {title}\nDP  - 2020\n")
    assert time.monotonic() - started < 2
    assert entry.fields["title"] == title[:-1]


def test_a_doi_only_in_aid():
    [entry] = entries("PMID- 1\nTI  - T.\nDP  - 2020\nAID - 10.1000/ABC [doi]\n")
    assert entry.fields["doi"] == "10.1000/ABC"
