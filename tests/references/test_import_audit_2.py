"""Held-out audit 2: exports written by hand in the habits of tools the other tests do not
cover (old EndNote on DOS, Scopus's newer RIS names, Scopus conference papers, PubMed
records with several LID lines, slashed raw dates in CSL-JSON). Every case here failed
before its fix.

None of these touch the database.
"""

from __future__ import annotations

import json

import pytest

from references.importing import decode_bytes, parse
from tests.builders import fastest_cpu_seconds, only_entry

# --- Old EndNote: the DOS end-of-file byte ------------------------------------------------

ENDNOTE_DOS = (
    b"TY  - JOUR\r\nAU  - World Health Organization,\r\nTI  - Global report on diabetes\r\n"
    b"PY  - 2016///\r\nSP  - 823\r\nEP  - 8\r\nER  - \r\n\r\n\x1a"
)


def test_an_endnote_export_ending_in_the_dos_end_of_file_byte_is_read():
    # DOS-era EndNote (and some Windows tools since) end a file with Ctrl-Z (0x1A): the
    # end of the text, not binary data. Refusing the file for it refused every record.
    text = decode_bytes(ENDNOTE_DOS)
    assert not text.endswith("\x1a")
    entry = only_entry(text)
    assert entry.fields["authors"] == [{"literal": "World Health Organization"}]
    assert entry.fields["pages"] == "823–828"


def test_the_end_of_file_byte_anywhere_else_is_still_refused():
    with pytest.raises(ValueError, match=r"U\+001A"):
        decode_bytes(b"TY  - JOUR\nTI  - A\x1aB\nER  - \n")


# --- Scopus RIS: "Family Initials" without a comma ------------------------------------------

SCOPUS_RIS = """TY  - JOUR
AU  - Kitchin J.R.
AU  - Van der Berg A.
AU  - de la Cruz M.A.
AU  - Dupont J.-P.
AU  - Müller H.
AU  - World Health Organization
TI  - Examples of effective data sharing
PY  - 2015
T2  - ACS Catalysis
SP  - 3894
EP  - 3899
DB  - Scopus
ER  -
"""


def test_scopus_names_without_a_comma_are_people_not_organisations():
    entry = only_entry(SCOPUS_RIS)
    assert entry.fields["authors"] == [
        {"family": "Kitchin", "given": "J.R."},
        {"family": "Van der Berg", "given": "A."},
        {"family": "de la Cruz", "given": "M.A."},
        {"family": "Dupont", "given": "J.-P."},
        {"family": "Müller", "given": "H."},
        {"literal": "World Health Organization"},
    ]
    assert entry.key == "kitchin2015examples"


@pytest.mark.parametrize(
    "organisation",
    ["World Health Organization", "Cochrane Collaboration", "Public Health England"],
)
def test_an_organisation_without_a_comma_is_still_one_name(organisation):
    text = f"TY  - JOUR\nAU  - {organisation}\nTI  - T\nPY  - 2020\nER  -\n"
    assert only_entry(text).fields["authors"] == [{"literal": organisation}]


# A name of `n` pieces, without a comma.
LONG_NAMES = {
    "spaces": lambda n: "a" + " " * n + "b",
    "initials": lambda n: "Smith" + " A." * n,
    "words": lambda n: "x " * n + "J.R.",
}


def cpu_seconds_to_parse(text: str, *, runs: int) -> float:
    return fastest_cpu_seconds(lambda: only_entry(text), runs=runs)


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_long_name_without_a_comma_is_read_in_linear_time(name):
    # The first reading of "Family Initials" was one regex with a lazy family before
    # `\s+`: quadratic, 50,000 spaces took three minutes. Compared with itself at a
    # sixteenth of the size, so the machine's speed cancels out: linear grows about 16
    # times, quadratic 256 times.
    def ris(n: int) -> str:
        return f"TY  - JOUR\nAU  - {LONG_NAMES[name](n)}\nTI  - T\nPY  - 2020\nER  -\n"

    small = cpu_seconds_to_parse(ris(3_125), runs=5)
    large = cpu_seconds_to_parse(ris(50_000), runs=2)
    assert large < 70 * max(small, 0.001), (small, large)


# --- Scopus BibTeX: conference papers name their proceedings in `journal` ----------------

SCOPUS_BIBTEX = """Scopus
EXPORT DATE: 1 Jan 2026

@CONFERENCE{DeGregorio2016,
author={De Gregorio, M. and Giordano, M.},
title={The WiSARD classifier},
journal={ESANN 2016 - 24th European Symposium on Artificial Neural Networks},
year={2016},
pages={447-452},
url={https://www.scopus.com/inward/record.uri?eid=2-s2.0-84994165233&partnerID=40},
document_type={Conference Paper},
source={Scopus},
}
"""


def test_a_scopus_conference_paper_keeps_its_proceedings_from_journal():
    entry = only_entry(SCOPUS_BIBTEX)
    assert entry.fields["type"] == "paper-conference"
    assert entry.fields["container_title"] == (
        "ESANN 2016 - 24th European Symposium on Artificial Neural Networks"
    )
    assert entry.fields["pages"] == "447–452"


def test_booktitle_still_wins_over_journal():
    entry = only_entry(
        "@inproceedings{k, title={T}, year=2020, booktitle={Proc. A}, journal={Journal B}}"
    )
    assert entry.fields["container_title"] == "Proc. A"


# --- PubMed: several LID lines --------------------------------------------------------------


def test_a_doi_in_the_first_of_two_lid_lines_is_found():
    # Biopython joins repeated LID lines into one string ("10.1/x [doi] e1 [pii]"), which
    # ended in "[pii]": the DOI was lost when AID did not repeat it.
    text = (
        "PMID- 31000003\nDP  - 2020 Dec\nTI  - Only a group.\nCN  - World Health Organization\n"
        "JT  - PLoS One\nLID - 10.1371/journal.pone.0123456 [doi]\nLID - e0123456 [pii]\n"
    )
    entry = only_entry(text)
    assert entry.fields["doi"] == "10.1371/journal.pone.0123456"


def test_an_article_number_in_a_second_lid_line_stands_in_for_pages():
    text = (
        "PMID- 31000006\nDP  - 2020\nTI  - Plos.\nAU  - Doe J\nJT  - PLoS One\n"
        "LID - 10.1371/journal.pone.0212345 [doi]\nLID - e0212345\n"
    )
    entry = only_entry(text)
    assert entry.fields["doi"] == "10.1371/journal.pone.0212345"
    assert entry.fields["pages"] == "e0212345"


# --- CSL-JSON: a raw date with slashes ------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        ({"raw": "2019/03/05"}, (2019, 3, 5)),
        ({"raw": "2019/03"}, (2019, 3, None)),
        # Real EDTF intervals are still read as their start.
        ({"raw": "2019/2020"}, (2019, None, None)),
        ({"raw": "2019-03/2019-04"}, (2019, 3, None)),
    ],
)
def test_a_raw_date_with_slashes_keeps_its_month_and_day(issued, expected):
    text = json.dumps([{"id": "k", "type": "article-journal", "title": "T", "issued": issued}])
    fields = only_entry(text).fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == expected


# --- Web of Science RIS: month alone in DA, article number in C7 ----------------------------

WOS_RIS = """FN Clarivate Analytics Web of Science
VR 1.0
TY  - JOUR
AU  - Maxwell, BD
AU  - Loram, A
TI  - Scientific floras can be reliable sources for some trait data in a
   system with poor coverage in global trait databases
T2  - JOURNAL OF VEGETATION SCIENCE
J9  - J VEG SCI
DA  - NOV
PY  - 2021
VL  - 32
IS  - 4
C7  - e12990
DO  - 10.1111/jvs.12728
AN  - WOS:000220133300004
C6  - FEB 2020
AB  - Question
   We make clear how ecoinformatics in vegetation science works.
N1  - Times Cited in Web of Science Core Collection:  49
Total Times Cited:  49
Cited Reference Count:  68
WE  - Science Citation Index Expanded (SCI-EXPANDED)
ER  -
"""


def test_web_of_science_month_and_article_number():
    fields = only_entry(WOS_RIS).fields
    assert fields["title"] == (
        "Scientific floras can be reliable sources for some trait data in a system with "
        "poor coverage in global trait databases"
    )
    # Web of Science writes the month alone in DA ("NOV"); the year is PY's.
    assert (fields["issued_year"], fields["issued_month"]) == (2021, 11)
    # An article without pages is cited by its number, which WoS and Scopus put in C7.
    assert fields["pages"] == "e12990"


def test_pages_win_over_the_article_number_and_a_pmid_in_c7_is_no_page():
    text = "TY  - JOUR\nTI  - T\nPY  - 2020\nSP  - 5\nEP  - 9\nC7  - e12990\nER  -\n"
    assert only_entry(text).fields["pages"] == "5–9"
    text = "TY  - JOUR\nTI  - T\nPY  - 2020\nC7  - PMID: 18000000\nER  -\n"
    fields = only_entry(text).fields
    assert "pages" not in fields
    assert fields["pmid"] == "18000000"


def test_a_month_alone_in_da_for_another_year_is_not_taken():
    text = "TY  - JOUR\nTI  - T\nPY  - 2021\nDA  - 2019/11\nER  -\n"
    fields = only_entry(text).fields
    assert (fields["issued_year"], fields["issued_month"]) == (2021, None)


# --- PubMed: a collective author keeps its place in the author list --------------------------

RECOVERY = """PMID- 32678530
OWN - NLM
DP  - 2021 Feb 25
TI  - Dexamethasone in Hospitalized Patients with Covid-19.
PG  - 693-704
CN  - RECOVERY Collaborative Group
FAU - Horby, Peter
AU  - Horby P
FAU - Lim, Wei Shen
AU  - Lim WS
CN  - Writing Committee
FAU - Landray, Martin J
AU  - Landray MJ
JT  - The New England journal of medicine
"""


def test_a_collective_author_listed_first_stays_first():
    # PubMed cites it "RECOVERY Collaborative Group; Horby P, Lim WS, …": the group was
    # moved behind every person.
    entry = only_entry(RECOVERY)
    assert entry.fields["authors"] == [
        {"literal": "RECOVERY Collaborative Group"},
        {"family": "Horby", "given": "Peter"},
        {"family": "Lim", "given": "Wei Shen"},
        {"literal": "Writing Committee"},
        {"family": "Landray", "given": "Martin J"},
    ]
    assert entry.key.startswith("recoverycollaborativegroup2021")


def test_short_names_keep_the_order_with_groups_too():
    text = "PMID- 1\nDP  - 2020\nTI  - T.\nCN  - Trial Group\nAU  - Horby P\nAU  - Lim WS\n"
    assert only_entry(text).fields["authors"] == [
        {"literal": "Trial Group"},
        {"family": "Horby", "given": "P."},
        {"family": "Lim", "given": "W. S."},
    ]


# --- EndNote RIS: multi-line ISSN and URL fields ----------------------------------------------

ENDNOTE_MULTILINE = """TY  - JOUR
AU  - Parker, Sarah J.
TI  - Emotional intimacy and sexual satisfaction
JO  - The Journal of Sex Research
PY  - 2019
SP  - 545
EP  - 56
SN  - 1559-8519 (Electronic)
0022-4499 (Linking)
UR  - https://www.ncbi.nlm.nih.gov/pubmed/30700000
https://doi.org/10.1080/00224499.2019.1565234
KW  - intimacy
sexual satisfaction
ER  -
"""


def test_endnote_fields_on_several_lines_never_refuse_the_record():
    # EndNote writes a field holding several values (ISSNs, links, keywords) as one tag
    # and untagged lines. The ISSN — a field the site never shows — refused the record.
    entry = only_entry(ENDNOTE_MULTILINE)
    assert entry.fields["pages"] == "545–556"
    assert entry.fields["url"] == "https://www.ncbi.nlm.nih.gov/pubmed/30700000"
    assert any("has 2 URLs" in warning for warning in entry.warnings)


def test_a_stray_line_after_a_field_that_never_wraps_still_fails_the_record():
    text = "TY  - JOUR\nTI  - T\nPY  - 2019\n2020\nER  -\n"
    parsed = parse(text=text)
    assert parsed.entries == []
    assert "line 4 is not an RIS line" in parsed.failures[0].message


# --- LaTeX: maths accents and a few text symbols ----------------------------------------------


def bibtex_title(latex: str) -> str:
    return only_entry(f"@article{{k, title={{{latex}}}, year=2020}}").fields["title"]


@pytest.mark.parametrize(
    ("latex", "stored"),
    [
        # The accent is what tells a mean (x̄) or an estimate (β̂) from the bare letter.
        ("Mean $\\bar{x}$ and Estimate $\\hat{\\beta}$", "Mean x\u0304 and estimate β\u0302"),
        ("$\\tilde{p}$, $\\dot{V}$O$_2$ and $\\ddot{u}$", "p\u0303, V\u0307O<sub>2</sub> and ü"),
        ("Vector $\\vec{v}$ and $\\widehat{AB}$", "Vector v\u20d7 and \u00c2B"),
    ],
)
def test_maths_accents_are_kept(latex, stored):
    assert bibtex_title(latex) == stored


@pytest.mark.parametrize(
    ("latex", "stored"),
    [
        ("Rates of 50\\textpercent{} and More", "Rates of 50% and more"),
        ("Footnotes \\dag{} and \\ddag{} Marks", "Footnotes † and ‡ marks"),
        ("The \\textsurd{}2 Rule and \\checkmark{} Lists", "The √2 rule and ✓ lists"),
    ],
)
def test_text_symbols_are_kept(latex, stored):
    assert bibtex_title(latex) == stored


# --- PubMed: wrapped group names and name suffixes ------------------------------------------


def test_a_collective_name_wrapped_onto_a_second_line_is_one_author():
    # MEDLINE wraps lines over 80 characters; Biopython made the wrapped part of a CN a
    # group of its own, at the end of the list.
    text = (
        "PMID- 5\nDP  - 2020\nTI  - Guideline.\n"
        "CN  - American College of Cardiology/American Heart Association Task Force on\n"
        "      Practice Guidelines\nFAU - Li, Xia\nAU  - Li X\n"
    )
    assert only_entry(text).fields["authors"] == [
        {
            "literal": "American College of Cardiology/American Heart Association Task Force "
            "on Practice Guidelines"
        },
        {"family": "Li", "given": "Xia"},
    ]


@pytest.mark.parametrize(
    ("lines", "person"),
    [
        ("FAU - Kaelin, William G Jr\nAU  - Kaelin WG Jr\n", {"given": "William G"}),
        ("AU  - Kaelin WG Jr\n", {"given": "W. G."}),
        ("FAU - Kaelin, William G, Jr\nAU  - Kaelin WG Jr\n", {"given": "William G"}),
    ],
)
def test_a_name_suffix_joins_the_family_name_as_elsewhere(lines, person):
    text = f"PMID- 7\nDP  - 2020\nTI  - Suffix.\n{lines}"
    entry = only_entry(text)
    assert entry.fields["authors"] == [{"family": "Kaelin, Jr", **person}]


@pytest.mark.parametrize(
    ("author", "person"),
    [
        ("Ivanov II", {"family": "Ivanov", "given": "I. I."}),
        ("Smith V", {"family": "Smith", "given": "V."}),
        ("Smith JA 3rd", {"family": "Smith, 3rd", "given": "J. A."}),
    ],
)
def test_initials_that_look_like_numerals_stay_initials(author, person):
    text = f"PMID- 8\nDP  - 2020\nTI  - Initials.\nAU  - {author}\n"
    assert only_entry(text).fields["authors"] == [person]


@pytest.mark.parametrize(
    "organisation",
    ["Public Health England PHE", "Doctors Without Borders MSF", "The Lancet HIV"],
)
def test_an_organisation_ending_in_its_acronym_is_not_a_person(organisation):
    text = f"TY  - JOUR\nAU  - {organisation}\nTI  - T\nPY  - 2020\nER  -\n"
    assert only_entry(text).fields["authors"] == [{"literal": organisation}]


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [("Smith JR", "Smith", "JR"), ("van der Berg JR", "van der Berg", "JR")],
)
def test_initials_without_periods_after_one_family_name_are_a_person(name, family, given):
    text = f"TY  - JOUR\nAU  - {name}\nTI  - T\nPY  - 2020\nER  -\n"
    assert only_entry(text).fields["authors"] == [{"family": family, "given": given}]


@pytest.mark.parametrize(
    "organisation",
    ["Google LLC", "Pfizer INC", "Acme LTD", "Unilever PLC", "Cochrane UK", "NHS UK"],
)
def test_an_organisation_ending_in_a_legal_form_or_country_is_not_a_person(organisation):
    # Zotero writes a one-field (institutional) author with no comma; "Google LLC" was read
    # as Google, L. L. C.: a company's form and a country code are no one's initials.
    text = f"TY  - JOUR\nAU  - {organisation}\nTI  - T\nPY  - 2020\nER  -\n"
    assert only_entry(text).fields["authors"] == [{"literal": organisation}]
