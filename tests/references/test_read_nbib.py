"""The PubMed/MEDLINE (.nbib) reader, on records as PubMed's "Send to: Citation manager"
writes them, read through Biopython's Bio.Medline."""

from __future__ import annotations

from references.importing import parse, pick_reader

PUBMED = """PMID- 30700000
OWN - NLM
STAT- MEDLINE
DCOM- 20200101
LR  - 20200101
IS  - 1559-8519 (Electronic)
IS  - 0022-4499 (Linking)
VI  - 56
IP  - 5
DP  - 2019 Jun-Jul
TI  - Emotional intimacy and sexual satisfaction: exploring their connection in
      couples aged >65 years.
PG  - 545-56
LID - 10.1080/00224499.2019.1565234 [doi]
AB  - Emotional intimacy is associated with sexual satisfaction (p < 0.05). The
      abstract goes on over several lines.
FAU - Parker, Sarah J
AU  - Parker SJ
AD  - Department of Psychology, University of Somewhere.
FAU - Lee, Kim
AU  - Lee K
CN  - Couples Intimacy Study Group
LA  - eng
PT  - Journal Article
PT  - Research Support, Non-U.S. Gov't
DEP - 20190205
PL  - United States
TA  - J Sex Res
JT  - Journal of sex research
JID - 0066461
SB  - IM
MH  - Humans
MH  - *Sexual Behavior
OTO - NOTNLM
OT  - intimacy
EDAT- 2019/02/06 06:00
CRDT- 2019/02/06 06:00
PHST- 2019/02/06 06:00 [entrez]
AID - 10.1080/00224499.2019.1565234 [doi]
PST - ppublish
SO  - J Sex Res. 2019 Jun-Jul;56(5):545-556. doi: 10.1080/00224499.2019.1565234.

PMID- 31234567
OWN - NLM
STAT- Publisher
DP  - 2020 Spring
TI  - [Sleep quality in older adults].
PG  - 1123-35
LID - S0028-2804(20)30001-2 [pii]
AID - 10.1007/s00115-020-00001-1 [doi]
FAU - Müller, Anna
AU  - Müller A
LA  - ger
PT  - English Abstract
PT  - Journal Article
TA  - Nervenarzt
JT  - Der Nervenarzt

PMID- 20301295
STAT- Publisher
DP  - 1993
TI  - Alpha-Thalassemia.
BTI - GeneReviews(®)
FED - Adam, Margaret P
ED  - Adam MP
FAU - Tamary, Hannah
AU  - Tamary H
PB  - University of Washington, Seattle
PL  - Seattle (WA)
PT  - Review
PT  - Book Chapter

PMID- 33000000
DP  - 2021 Mar 5
TI  - A randomized trial in PLoS ONE.
LID - e0245678
FAU - Nguyen, Minh
AU  - Nguyen M
TA  - PLoS One
JT  - PloS one
VI  - 16
IP  - 3
"""


def entries(text: str) -> dict:
    parsed = parse(text=text)
    assert parsed.failures == [], [f.message for f in parsed.failures]
    return {entry.key: entry for entry in parsed.entries}


def test_detected_by_content():
    assert pick_reader(PUBMED).name == "nbib"
    assert pick_reader("\n\n" + PUBMED).name == "nbib"


def test_journal_article():
    found = entries(PUBMED)
    assert list(found) == [
        "parker2019emotional",
        "muller2020sleep",
        "tamary1993alphathalassemia",
        "nguyen2021randomized",
    ]
    entry = found["parker2019emotional"]
    assert (entry.line, entry.record) == (1, 1)
    fields = entry.fields
    assert fields["pmid"] == "30700000"
    # A continued title is one line; PubMed's closing period goes.
    assert fields["title"] == (
        "Emotional intimacy and sexual satisfaction: exploring their connection in couples "
        "aged >65 years"
    )
    assert fields["authors"] == [
        {"family": "Parker", "given": "Sarah J"},
        {"family": "Lee", "given": "Kim"},
        {"literal": "Couples Intimacy Study Group"},
    ]
    assert fields["container_title"] == "Journal of sex research"
    assert (fields["issued_year"], fields["issued_month"]) == (2019, 6)
    assert (fields["volume"], fields["issue"], fields["pages"]) == ("56", "5", "545–556")
    assert fields["doi"] == "10.1080/00224499.2019.1565234"
    assert fields["type"] == "article-journal"


def test_translated_title_and_doi_from_aid():
    fields = entries(PUBMED)["muller2020sleep"].fields
    assert fields["title"] == "Sleep quality in older adults"  # PubMed's [brackets] go
    assert fields["doi"] == "10.1007/s00115-020-00001-1"
    assert fields["pages"] == "1123–1135"
    assert fields["issued_year"] == 2020 and fields["issued_month"] is None


def test_bookshelf_chapter():
    fields = entries(PUBMED)["tamary1993alphathalassemia"].fields
    assert fields["type"] == "chapter"
    assert fields["title"] == "Alpha-Thalassemia"
    assert fields["container_title"] == "GeneReviews(®)"
    assert fields["editors"] == [{"family": "Adam", "given": "Margaret P"}]
    assert (fields["publisher"], fields["publisher_place"]) == (
        "University of Washington, Seattle",
        "Seattle (WA)",
    )


def test_electronic_article_number_stands_in_for_pages():
    fields = entries(PUBMED)["nguyen2021randomized"].fields
    assert fields["pages"] == "e0245678"
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2021, 3, 5)


def test_abbreviated_names_without_full_names():
    text = "PMID- 1\nTI  - T.\nDP  - 2000\nAU  - Parker SJ\nAU  - World Health Organization\n"
    [entry] = entries(text).values()
    assert entry.fields["authors"] == [
        {"family": "Parker", "given": "S. J."},
        {"literal": "World Health Organization"},
    ]


def test_fields_without_a_column_are_summed_up():
    parsed = parse(text=PUBMED)
    [summary] = parsed.warnings
    assert "AB (1 record)" in summary and "MH (1 record)" in summary


def test_malformed_line_fails_the_record_naming_its_line():
    broken = PUBMED.replace("VI  - 56\n", "VI  - 56\nthis line is damaged\n")
    parsed = parse(text=broken)
    [failure] = parsed.failures
    assert failure.message == (
        "record 1 (line 1): line 9 is not a MEDLINE line (“TAG - value”): “this line is damaged”"
    )
    # The other records are still read (and --skip-failed would import them).
    assert len(parsed.entries) == 3


def test_misaligned_tag_fails():
    parsed = parse(text="PMID- 1\nTI - Misaligned title.\nDP  - 2000\n", format="nbib")
    [failure] = parsed.failures
    assert "line 2 is not a MEDLINE line" in failure.reason


def test_record_without_title_fails():
    parsed = parse(text="PMID- 1\nDP  - 2000\n\nPMID- 2\nTI  - Fine.\nDP  - 2001\n")
    [failure] = parsed.failures
    assert failure.message == (
        "record 1 (line 1): has no title; add one (the library needs a title to cite)"
    )
    [entry] = parsed.entries
    assert (entry.key, entry.line, entry.record) == ("anon2001fine", 4, 2)
