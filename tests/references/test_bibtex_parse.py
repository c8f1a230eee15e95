"""BibTeX → unsaved Reference fields: decoding, conversion rules and error reports.

None of these touch the database: parsing is pure.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from references.bibtex import (
    BibtexInputError,
    ParsedBibtex,
    ParsedEntry,
    decode_bibtex_bytes,
    latex_to_unicode,
    parse_bibtex,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "biblatex-examples.bib"


@pytest.fixture(scope="module")
def corpus() -> ParsedBibtex:
    if not CORPUS.exists():
        pytest.skip(f"the biblatex example corpus is not at {CORPUS}")
    return parse_bibtex(text=decode_bibtex_bytes(CORPUS.read_bytes()))


@pytest.fixture(scope="module")
def by_key(corpus) -> dict[str, ParsedEntry]:
    return {entry.key: entry for entry in corpus.entries}


def one(text: str) -> ParsedEntry:
    parsed = parse_bibtex(text=text)
    assert parsed.failures == [], [f.message for f in parsed.failures]
    assert len(parsed.entries) == 1
    return parsed.entries[0]


def failures(text: str) -> list[tuple[int, str, str]]:
    return [(f.line, f.key, f.message) for f in parse_bibtex(text=text).failures]


# --- Reading bytes ----------------------------------------------------------------------


def test_utf8_is_decoded():
    assert decode_bibtex_bytes("@book{k, title={Müller}}".encode()) == "@book{k, title={Müller}}"


def test_utf8_bom_is_dropped():
    assert decode_bibtex_bytes(b"\xef\xbb\xbf@book{k}") == "@book{k}"


def test_crlf_line_breaks_become_lf():
    assert decode_bibtex_bytes(b"a\r\nb\rc") == "a\nb\nc"


def test_latin1_is_refused_naming_the_byte_offset_and_line():
    data = "@book{k,\n  title = {Müller}}".encode("latin-1")
    with pytest.raises(BibtexInputError) as info:
        decode_bibtex_bytes(data)
    message = str(info.value)
    offset = data.index(b"\xfc")
    assert "not UTF-8" in message
    assert f"byte offset {offset} " in message
    assert "line 2" in message
    assert "0xfc" in message


def test_offset_counts_the_bom():
    data = b"\xef\xbb\xbf@book{k, title={\xff}}"
    with pytest.raises(BibtexInputError, match=r"byte offset 19\b"):
        decode_bibtex_bytes(data)


def test_utf16_is_refused_with_a_clear_message():
    with pytest.raises(BibtexInputError, match="UTF-16"):
        decode_bibtex_bytes("@book{k}".encode("utf-16"))


def test_binary_data_is_refused_naming_the_first_control_character():
    with pytest.raises(BibtexInputError) as info:
        decode_bibtex_bytes(b"@book{k,\n title={\x00\x01\x02}}")
    assert str(info.value).startswith(
        "The text contains the control character U+0000 at character offset 17 (line 2)"
    )
    with pytest.raises(BibtexInputError, match="U\\+001B"):
        decode_bibtex_bytes(b"@book{k, title={\x1b[31mred}}")


def test_tabs_and_form_feeds_are_text():
    assert decode_bibtex_bytes(b"@book{k,\ttitle={T}}\f\n") == "@book{k,\ttitle={T}}\f\n"


# --- The biblatex example corpus --------------------------------------------------------


def test_every_corpus_entry_converts(corpus):
    assert corpus.failures == []
    declared = re.findall(
        r"^@(\w+)\s*\{\s*([^,\s]+)\s*,", CORPUS.read_text(encoding="utf-8"), flags=re.M
    )
    keys = {key for kind, key in declared if kind.lower() != "string"}
    converted = {entry.key for entry in corpus.entries}
    skipped = {block.key for block in corpus.skipped}
    assert converted | skipped == keys
    # The two @set blocks group other entries; they are the only ones skipped.
    assert skipped == {"set", "stdmodel"}
    assert len(converted) == 90
    assert all(entry.fields["title"] for entry in corpus.entries)


@pytest.mark.parametrize(
    ("key", "csl_type"),
    [
        ("aksin", "article-journal"),
        ("aristotle:anima", "book"),
        ("aristotle:rhetoric", "book"),  # @mvbook
        ("gaonkar", "book"),  # @collection
        ("britannica", "book"),  # @mvcollection
        ("jcg", "article-journal"),  # @periodical with an issuetitle: one issue
        ("gaonkar:in", "chapter"),  # @incollection
        ("kant:kpv", "chapter"),  # @inbook
        ("moraux", "paper-conference"),  # @inproceedings
        ("cms", "report"),  # @manual
        ("chiu", "report"),
        ("geer", "thesis"),
        ("almendro", "patent"),
        ("ctan", "webpage"),  # @online
    ],
)
def test_corpus_entry_types(by_key, key, csl_type):
    assert by_key[key].fields["type"] == csl_type


def test_corpus_latex_is_decoded(by_key):
    aksin = by_key["aksin"].fields
    assert aksin["authors"][0] == {"family": "Aksın", "given": "Özge"}
    assert {"family": "Çetinkaya", "given": "Bekir"} in aksin["authors"]
    assert {"family": "Büyükgüngör", "given": "Orhan"} in aksin["authors"]
    assert "Pd-N-heterocyclic" in aksin["title"]
    assert "{" not in aksin["title"]
    assert by_key["angenendt"].fields["container_title"] == "Revue d'Histoire Ecclésiastique"
    assert by_key["spiegelberg"].fields["title"].startswith("“Intention” und “Intentionalität”")
    # English titles are stored in sentence case; braced words keep their capitals.
    assert by_key["knuth:ct"].fields["title"] == "Computers & typesetting"
    # One volume of the five: the set's title, the volume, the volume's own title.
    assert by_key["knuth:ct:a"].fields["title"] == "Computers & typesetting: A. The TeXbook"
    assert by_key["knuth:ct:b"].fields["title"] == "Computers & typesetting: B. TeX: The program"
    assert by_key["malinowski"].fields["authors"] == [
        {"family": "Malinowski", "given": "Bronisław"}
    ]
    assert by_key["britannica"].fields["title"] == "The New Encyclopædia Britannica"
    assert by_key["herrmann"].fields["title"].endswith("for C–C coupling reactions")
    assert "methodology-independent" in by_key["kastenholz"].fields["title"]
    assert by_key["iliad"].fields["publisher"] == "Artemis & Winkler"
    assert by_key["vazques-de-parga"].fields["authors"][0] == {
        "family": "Vázques de Parga",
        "given": "Luis",
    }
    # `~` is a no-break space in TeX; stored text uses a plain one.
    assert (
        by_key["murray"]
        .fields["title"]
        .startswith("Alkanethiolate gold cluster molecules with core diameters from 1.5 to 5.2 nm")
    )
    assert by_key["glashow"].fields["container_title"] == "Nucl. Phys."


def test_corpus_pages_get_en_dashes(by_key):
    assert by_key["angenendt"].fields["pages"] == "431–456, 791–823"
    # A page range is a range, however the file wrote its dash.
    assert by_key["aksin"].fields["pages"] == "3027–3036"


def test_corpus_string_macros_and_concatenation(by_key):
    assert by_key["aksin"].fields["container_title"] == "J. Organomet. Chem."
    assert by_key["aristotle:anima"].fields["publisher"] == "Cambridge University Press"
    assert by_key["nietzsche:ksa"].fields["publisher"] == (
        "Deutscher Taschenbuch-Verlag and Walter de Gruyter"
    )


def test_corpus_subtitles_are_joined(by_key):
    assert by_key["gerhardt"].fields["title"] == (
        "The federal appointments process: A constitutional and historical analysis"
    )
    # A title ending in punctuation is not followed by a second colon.
    entry = one("@book{k, title={Why?}, subtitle={An answer}, year=2000}")
    assert entry.fields["title"] == "Why? An answer"


def test_corpus_dates(by_key):
    assert (by_key["shore"].fields["issued_year"], by_key["shore"].fields["issued_month"]) == (
        1991,
        3,
    )
    itzhaki = by_key["itzhaki"].fields
    assert (itzhaki["issued_year"], itzhaki["issued_month"], itzhaki["issued_day"]) == (
        1996,
        3,
        11,
    )
    assert by_key["knuth:ct"].fields["issued_year"] == 1984  # date = {1984/1986}
    assert by_key["jaffe"].fields["issued_year"] == 1885
    assert by_key["doody"].fields["issued_year"] == 1974  # BibTeX `year`
    assert by_key["ctan"].fields["accessed"] == datetime.date(2006, 10, 1)


def test_corpus_names(by_key):
    assert by_key["vangennep"].fields["authors"] == [{"family": "van Gennep", "given": "Arnold"}]
    assert by_key["geer"].fields["authors"] == [{"family": "de Geer", "given": "Ingrid"}]
    # A single name stays a family name (it is not an organisation).
    assert by_key["aristotle:anima"].fields["authors"] == [{"family": "Aristotle"}]
    assert by_key["aristotle:anima"].fields["editors"] == [
        {"family": "Hicks", "given": "Robert Drew"}
    ]
    assert by_key["sarfraz"].fields["authors"][1] == {"family": "Razzak", "given": "M. F. A."}
    # Editors only (a collection): no authors at all.
    assert "authors" not in by_key["gaonkar"].fields


def test_corpus_genres_and_numbers(by_key):
    assert by_key["geer"].fields["genre"] == "PhD thesis"
    assert by_key["loh"].fields["genre"] == "Master's thesis"
    assert by_key["padhye"].fields["genre"] == "Technical report"
    assert by_key["padhye"].fields["number"] == "99-02"
    assert by_key["padhye"].fields["publisher"] == "University of Massachusetts"
    assert by_key["sorace"].fields["genre"] == "U.S. patent"
    assert by_key["sorace"].fields["number"] == "5668842"
    assert by_key["almendro"].fields["publisher_place"] == "France and United Kingdom and Germany"
    assert by_key["aksin"].fields["issue"] == "13"  # number → issue for articles
    assert "number" not in by_key["aksin"].fields
    assert by_key["gillies"].fields["collection_title"] == "new series"
    assert by_key["hyman"].fields["collection_title"] == (
        "Studies in philosophy and the history of philosophy"
    )


def test_corpus_identifiers(by_key):
    assert by_key["kastenholz"].fields["doi"] == "10.1063/1.2172593"
    assert by_key["sigfridsson"].fields["doi"] == (
        "10.1002/(SICI)1096-987X(199803)19:4<377::AID-JCC1>3.0.CO;2-P"
    )
    assert by_key["gonzalez"].fields["isbn"] == "0-816-52066-6"
    assert by_key["markey"].fields["url"] == (
        "http://mirror.ctan.org/info/bibtex/tamethebeast/ttb_en.pdf"
    )
    # An arXiv e-print without a URL gets the arXiv abstract page.
    assert by_key["baez/article"].fields["url"] == "https://arxiv.org/abs/math/0307200v3"


def test_corpus_crossref_inheritance(by_key):
    child = by_key["westfahl:space"].fields
    assert child["type"] == "chapter"
    assert child["title"].startswith("The true frontier: Confronting")
    assert child["pages"] == "55–65"  # its own field
    assert child["container_title"] == "Space and beyond: The frontier theme in science fiction"
    assert child["editors"] == [{"family": "Westfahl", "given": "Gary"}]
    assert child["publisher"] == "Greenwood"
    assert child["publisher_place"] == "Westport, Conn. and London"
    assert child["issued_year"] == 2000


def test_corpus_booktitle_for_chapters_and_papers(by_key):
    # The booktitleaddon joins the book's title, as in pandoc's biblatex reader.
    assert by_key["salam"].fields["container_title"] == (
        "Elementary particle theory: Relativistic groups and analyticity. "
        "Proceedings of the Eighth Nobel Symposium"
    )
    assert by_key["pines"].fields["container_title"] == (
        "Studies in medieval Jewish history and literature"
    )


# --- Entry types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bibtex_type", "csl_type"),
    [
        ("article", "article-journal"),
        ("book", "book"),
        ("mvbook", "book"),
        ("collection", "book"),
        ("proceedings", "book"),
        ("periodical", "book"),
        ("incollection", "chapter"),
        ("inbook", "chapter"),
        ("bookinbook", "chapter"),
        ("inproceedings", "paper-conference"),
        ("conference", "paper-conference"),
        ("inreference", "entry-encyclopedia"),
        ("thesis", "thesis"),
        ("phdthesis", "thesis"),
        ("mastersthesis", "thesis"),
        ("report", "report"),
        ("techreport", "report"),
        ("manual", "report"),
        ("patent", "patent"),
        ("online", "webpage"),
        ("www", "webpage"),
        ("electronic", "webpage"),
        ("misc", "document"),
        ("dataset", "dataset"),
        ("software", "software"),
        ("unpublished", "manuscript"),
        ("suppperiodical", "article-magazine"),
        ("booklet", "document"),
        ("ARTICLE", "article-journal"),  # entry types are case-insensitive
    ],
)
def test_entry_type_conversion(bibtex_type, csl_type):
    entry = one(f"@{bibtex_type}{{k, title = {{T}}, year = 2020}}")
    assert entry.fields["type"] == csl_type
    assert entry.warnings == []


def test_unknown_entry_type_becomes_a_document_with_a_warning():
    entry = one("@podcast{k, title = {T}, year = 2020}")
    assert entry.fields["type"] == "document"
    assert entry.warnings == [
        "entry k (line 1) has the unknown type @podcast; imported as “other document”"
    ]


@pytest.mark.parametrize(
    ("subtype", "csl_type"), [("magazine", "article-magazine"), ("newspaper", "article-newspaper")]
)
def test_article_entrysubtype(subtype, csl_type):
    entry = one(f"@article{{k, title={{T}}, year=2020, entrysubtype={{{subtype}}}}}")
    assert entry.fields["type"] == csl_type


def test_thesis_genres():
    assert one("@phdthesis{k, title={T}, year=2001, school={MIT}}").fields == {
        "key": "k",
        "type": "thesis",
        "title": "T",
        "issued_year": 2001,
        "issued_month": None,
        "issued_day": None,
        "publisher": "MIT",
        "genre": "PhD thesis",
    }
    assert one("@mastersthesis{k, title={T}, year=2001}").fields["genre"] == "Master's thesis"
    assert one("@thesis{k, title={T}, year=2001, type={mathesis}}").fields["genre"] == (
        "Master's thesis"
    )
    assert one("@thesis{k, title={T}, year=2001, type={Habilitation}}").fields["genre"] == (
        "Habilitation"
    )


def test_incollection_in_an_encyclopedia_is_an_encyclopedia_entry():
    entry = one(
        "@incollection{k, title={Asthma}, booktitle={Encyclopedia of Respiratory Medicine},"
        " year=2006}"
    )
    assert entry.fields["type"] == "entry-encyclopedia"
    parsed = parse_bibtex(
        text="@reference{enc, title={The Big Reference}, year=2001}\n"
        "@incollection{art, title={Article}, crossref={enc}}\n"
    )
    art = next(e for e in parsed.entries if e.key == "art")
    assert art.fields["type"] == "entry-encyclopedia"
    assert art.fields["container_title"] == "The big reference"


# --- Fields -----------------------------------------------------------------------------


def test_journal_article_fields():
    entry = one(
        """@article{parker2019,
  author = {Parker, Sarah J. and Lee, Kim},
  title = {Emotional intimacy},
  subtitle = {A study},
  journal = {The Journal of Sex Research},
  year = {2019}, month = apr,
  volume = 56, number = 4, pages = {540--552},
  doi = {https://doi.org/10.1080/00224499.2019.1565234},
  url = {https://example.org/a\\_b?x=1\\%20},
  urldate = {2024-01-31},
  note = {Open access}, addendum = {Corrected 2020},
}"""
    )
    assert entry.fields == {
        "key": "parker2019",
        "type": "article-journal",
        "title": "Emotional intimacy: A study",
        "authors": [{"family": "Parker", "given": "Sarah J."}, {"family": "Lee", "given": "Kim"}],
        "authors_et_al": False,
        "issued_year": 2019,
        "issued_month": 4,
        "issued_day": None,
        "container_title": "The Journal of Sex Research",
        "volume": "56",
        "issue": "4",
        "pages": "540–552",
        "doi": "10.1080/00224499.2019.1565234",
        "url": "https://example.org/a_b?x=1%20",
        "accessed": datetime.date(2024, 1, 31),
        "note": "Open access. Corrected 2020",
    }


@pytest.mark.parametrize(
    "doi", ["doi:10.1000/xyz", "https://dx.doi.org/10.1000/xyz", "10.1000/xyz"]
)
def test_doi_forms_are_normalized(doi):
    assert one(f"@article{{k, title={{T}}, year=2000, doi={{{doi}}}}}").fields["doi"] == (
        "10.1000/xyz"
    )


def test_pmid_from_a_field_or_a_pubmed_eprint():
    assert one("@article{k, title={T}, year=2000, pmid={PMID: 31234567}}").fields["pmid"] == (
        "31234567"
    )
    entry = one("@article{k, title={T}, year=2000, eprint={31234567}, eprinttype={pubmed}}")
    assert entry.fields["pmid"] == "31234567"
    assert "url" not in entry.fields


@pytest.mark.parametrize(
    ("month", "number"),
    [("jan", 1), ("{January}", 1), ("5", 5), ("{sep.}", 9), ("dec", 12), ("{Mar}", 3)],
)
def test_month_names_and_numbers(month, number):
    entry = one(f"@article{{k, title={{T}}, year=2000, month={month}}}")
    assert entry.fields["issued_month"] == number


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2019-05-03", (2019, 5, 3)),
        ("2019-05", (2019, 5, None)),
        ("1999/2000", (1999, None, None)),
        ("1968-05-19/1968-05-25", (1968, 5, 19)),
        ("../2000", (2000, None, None)),
        ("2004?", (2004, None, None)),
        ("2019-02-30", (2019, 2, None)),  # not a day of February
    ],
)
def test_biblatex_dates(date, expected):
    fields = one(f"@article{{k, title={{T}}, date={{{date}}}}}").fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == expected


def test_publisher_fallbacks_and_places():
    assert one("@report{k, title={T}, year=2000, institution={WHO}}").fields["publisher"] == "WHO"
    assert one("@manual{k, title={T}, year=2000, organization={ACME}}").fields["publisher"] == (
        "ACME"
    )
    fields = one("@book{k, title={T}, year=2000, publisher={P}, address={Boston}}").fields
    assert (fields["publisher"], fields["publisher_place"]) == ("P", "Boston")
    assert one("@book{k, title={T}, year=2000, location={Paris}}").fields["publisher_place"] == (
        "Paris"
    )


def test_number_is_a_number_outside_articles():
    fields = one("@techreport{k, title={T}, year=2000, number={TR-7}, series={Reports}}").fields
    assert fields["number"] == "TR-7"
    assert fields["collection_title"] == "Reports"
    assert fields["genre"] == "Technical report"
    assert "issue" not in fields


def test_edition_and_isbn():
    fields = one("@book{k, title={T}, year=2000, edition={2}, isbn={978-0-12-345678-9}}").fields
    assert fields["edition"] == "2"
    assert fields["isbn"] == "978-0-12-345678-9"


# --- Names ------------------------------------------------------------------------------


def test_and_others_means_et_al_not_an_author():
    fields = one("@article{k, title={T}, year=2000, author={Smith, J. and Doe, A. and others}}")
    assert fields.fields["authors"] == [
        {"family": "Smith", "given": "J."},
        {"family": "Doe", "given": "A."},
    ]
    assert fields.fields["authors_et_al"] is True


def test_braced_organisation_is_a_literal_name():
    fields = one(
        "@report{k, title={T}, year=2000, author={{World Health Organization} and Jane Roe}}"
    ).fields
    assert fields["authors"] == [
        {"literal": "World Health Organization"},
        {"family": "Roe", "given": "Jane"},
    ]


def test_name_parts_von_and_jr_go_into_the_family_name():
    fields = one(
        "@book{k, title={T}, year=2000, author={Ludwig van Beethoven and "
        "Beeblebrox, IV, Zaphod and {\\'E}mile Zola}}"
    ).fields
    assert fields["authors"] == [
        {"family": "van Beethoven", "given": "Ludwig"},
        {"family": "Beeblebrox, IV", "given": "Zaphod"},
        {"family": "Zola", "given": "Émile"},
    ]


def test_unsplittable_name_is_kept_whole_with_a_warning():
    # It used to refuse the entry; a name the site cannot split is still the source's name.
    entry = one("@article{k,\n title={T}, year=2000,\n author={Smith, J., Doe, A.}}")
    assert entry.fields["authors"] == [{"literal": "Smith, J., Doe, A."}]
    [warning] = entry.warnings
    assert warning.startswith("entry k (line 1) has the author “Smith, J., Doe, A.”")
    assert "cannot be split" in warning
    assert "separate people with “and”" in warning


# --- LaTeX ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        ('{\\"o}', "ö"),
        ('M{\\"u}ller', "Müller"),
        ("\\&", "&"),
        ("Smith & Sons", "Smith & Sons"),  # an unescaped & is not an alignment tab
        ("50% of patients", "50% of patients"),  # and % is not a comment
        ("{BRCA1} mutations", "BRCA1 mutations"),
        ("pp. 12--15", "pp. 12–15"),
        ("$\\alpha$-synuclein", "α-synuclein"),
        ("\\emph{in vivo}", "in vivo"),
        ("a\n   b", "a b"),
    ],
)
def test_latex_to_unicode(latex, text):
    assert latex_to_unicode(latex) == text


def test_html_and_javascript_in_titles_are_kept_as_plain_text():
    entry = one(
        '@article{k, title={<script>alert("x")</script> and javascript:alert(1)}, year=2000}'
    )
    assert entry.fields["title"] == '<script>alert("x")</script> and javascript:alert(1)'


def test_javascript_url_is_left_out_with_a_warning():
    # It used to refuse the entry; the work is citable without a link, and none is stored.
    entry = one("@misc{k,\n title={T}, year=2000,\n url={javascript:alert(1)}}")
    assert "url" not in entry.fields
    assert entry.warnings == [
        "entry k (line 1) has the URL “javascript:alert(1)”, which is not a web address; "
        "it was left out"
    ]


# --- Crossref ---------------------------------------------------------------------------


def test_crossref_child_inherits_missing_fields_but_keeps_its_own():
    parsed = parse_bibtex(
        text="""@inproceedings{paper,
  author = {Roe, Jane}, title = {A Paper}, pages = {1--10}, crossref = {procs},
  publisher = {Own Press},
}
@proceedings{procs,
  editor = {Doe, John}, title = {Proceedings of Things}, subtitle = {Volume One},
  year = 2019, publisher = {Parent Press}, address = {Boston},
  doi = {10.1000/procs}, series = {LNCS}, volume = 12,
}
"""
    )
    assert parsed.failures == []
    paper = next(e for e in parsed.entries if e.key == "paper").fields
    assert paper["title"] == "A paper"
    assert paper["container_title"] == "Proceedings of things: Volume one"
    assert paper["editors"] == [{"family": "Doe", "given": "John"}]
    assert paper["publisher"] == "Own Press"
    assert paper["publisher_place"] == "Boston"
    assert paper["issued_year"] == 2019
    assert paper["collection_title"] == "LNCS"
    assert paper["volume"] == "12"
    # The parent's DOI identifies the proceedings, not the paper.
    assert "doi" not in paper


def test_crossref_to_a_missing_parent_warns():
    entry = one("@incollection{k, title={T}, year=2000, crossref={nowhere}}")
    assert entry.warnings == [
        "entry k (line 1) has crossref nowhere, which is not in this file; nothing was inherited"
    ]


def test_crossref_circle_is_cut():
    parsed = parse_bibtex(
        text="@book{a, title={A}, publisher={P}, crossref={b}}\n"
        "@book{b, title={B}, year=2000, crossref={a}}\n"
    )
    assert parsed.failures == []
    a, b = parsed.entries
    assert (a.fields["issued_year"], a.fields["publisher"]) == (2000, "P")
    assert (b.fields["issued_year"], b.fields["publisher"]) == (2000, "P")
    assert "entry a (line 1) inherits in a circle through a; the circle was cut" in a.warnings


def test_xdata_lends_fields_and_is_not_imported():
    parsed = parse_bibtex(
        text="@xdata{pub, publisher={Shared Press}, location={Rome}}\n"
        "@book{k, title={T}, year=2000, xdata={pub}}\n"
    )
    assert [e.key for e in parsed.entries] == ["k"]
    assert parsed.entries[0].fields["publisher"] == "Shared Press"
    assert [(s.line, s.key) for s in parsed.skipped] == [(1, "pub")]


# --- Malformed input --------------------------------------------------------------------


def test_unclosed_brace_is_reported_at_its_line_and_the_rest_still_parses():
    parsed = parse_bibtex(
        text="% my library\n"
        "@article{broken,\n"
        "  title = {Unclosed,\n"
        "  year = 2000\n"
        "\n"
        "@article{fine, title = {Fine}, year = 2001}\n"
    )
    [failure] = parsed.failures
    assert (failure.line, failure.key) == (2, "broken")
    assert "never closed" in failure.reason
    assert "noticed at line 6" in failure.reason
    assert [e.key for e in parsed.entries] == ["fine"]


def test_unclosed_entry_at_the_end_of_the_file():
    [(line, key, message)] = failures("@book{ok, title={A}, year=1}\n\n@book{last, title={B")
    assert (line, key) == (3, "last")
    assert "the file ends before this entry is closed" in message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@article{title = {No key}, year = 2000}", "no citation key"),
        ("@article{, title = {No key}, year = 2000}", "no citation key"),
    ],
)
def test_missing_key(text, reason):
    [(line, key, message)] = failures("\n\n" + text)
    assert line == 3
    assert key == ""
    assert reason in message
    assert message.startswith("line 3: ")


def test_garbage_after_a_value_is_reported():
    [(line, key, message)] = failures(
        "@article{a, title={A}, year=1}\n@article{junk,\n  title = {T} ^%$§ garbage,\n  year=1}"
    )
    assert (line, key) == (2, "junk")
    assert "the field title (line 3) is malformed" in message


def test_garbage_between_fields_is_reported():
    [(line, key, message)] = failures("@article{junk,\n  title = {T}\n  ¤¤¤ year = 2000}")
    assert (line, key) == (1, "junk")
    assert "the field title (line 2) is malformed: “{T} ¤¤¤ year = 2000”" in message


def test_duplicate_field_fails_the_entry():
    [(line, key, message)] = failures("@article{k,\n title={A},\n title={B}, year=2000}")
    assert (line, key) == (1, "k")
    assert "the field title appears twice" in message


def test_invalid_citation_key_fails_with_its_line():
    [(line, key, message)] = failures("\n@article{has space, title={A}, year=2000}")
    assert (line, key) == (2, "has space")
    assert "the citation key is not valid" in message


def test_too_long_value_fails_naming_the_field_and_line():
    [(line, key, message)] = failures(
        f"@article{{k, title={{A}}, year=2000,\n volume={{{'9' * 50}}}}}"
    )
    assert (line, key) == (1, "k")
    assert "volume (line 2): Ensure this value has at most 40 characters" in message


def test_bad_doi_fails_the_entry():
    [(line, key, message)] = failures("@article{k, title={A}, year=2000,\n doi={not-a-doi}}")
    assert (line, key) == (1, "k")
    assert "bad DOI (line 2)" in message
    assert "is not a DOI" in message


def test_undefined_macro_warns():
    entry = one("@article{k, title={T}, year=2000, journal=jama}")
    assert entry.fields["container_title"] == "jama"
    assert entry.warnings == ["entry k (line 1) uses @string jama, which this file does not define"]


# --- No title, no year, duplicates ------------------------------------------------------


def test_entry_without_a_title_fails_naming_key_and_line():
    [(line, key, message)] = failures(
        "@article{ok, title={A}, year=1}\n@article{untitled, year=2000}"
    )
    assert (line, key) == (2, "untitled")
    assert message.startswith("entry untitled (line 2) has no title")


def test_entry_without_a_year_converts_with_a_warning():
    entry = one("\n@article{undated, title={A}}")
    assert "issued_year" not in entry.fields
    assert entry.warnings == ["entry undated (line 2) has no year; it will be cited as “n.d.”"]


def test_unreadable_year_warns():
    entry = one("@article{k, title={A}, year={in press}}")
    assert "issued_year" not in entry.fields
    assert entry.warnings == [
        "entry k (line 1) has the year “in press”, which is not a year; it will be cited as “n.d.”"
    ]


def test_same_key_twice_marks_the_second_as_duplicate():
    parsed = parse_bibtex(
        text="@article{k, title={First}, year=2000}\n@article{k, title={Second}, year=2001}\n"
    )
    assert parsed.failures == []
    assert [(e.key, e.line, e.duplicate_of_line) for e in parsed.entries] == [
        ("k", 1, None),
        ("k", 2, 1),
    ]


def test_set_entries_are_skipped_not_failed():
    parsed = parse_bibtex(text="@set{s, entryset={a,b}}\n")
    assert parsed.entries == [] and parsed.failures == []
    assert [s.message for s in parsed.skipped] == [
        "entry s (line 1): a @set groups other entries and is not a work itself"
    ]


def test_overlong_citation_key_fails():
    [(line, key, message)] = failures(f"@article{{{'k' * 121}, title={{A}}, year=2000}}")
    assert line == 1
    assert "the citation key is longer than 120 characters" in message
