"""Fields the end-to-end comparison with pandoc's biblatex reader found read wrongly.

Each case is a field biblatex defines and pandoc (`--from=biblatex`) reads as biblatex
does; the library printed something else in APA or AMA (a stray "No. 7", a lost link, a
series called "3"). `test_import_against_pandoc.py` runs the whole shared corpus.
"""

from __future__ import annotations

import pytest

from references.importing import parse


def one(text: str):
    parsed = parse(text=text, format="bibtex")
    assert parsed.failures == [], [f.message for f in parsed.failures]
    [entry] = parsed.entries
    return entry


# --- A book's number is its number in a series -------------------------------------------


@pytest.mark.parametrize("bibtex_type", ["book", "incollection", "inproceedings", "inbook"])
def test_a_series_number_is_not_printed_as_the_works_own_number(bibtex_type):
    """biblatex's `number` of a book (or of the book a chapter is in) is its number in the
    series; CSL's `number` is a report's own ("No. 7" in APA). pandoc reads it as
    collection-number, which neither style prints; the library has no field for it, so it
    is left out, with a warning that says so."""
    entry = one(
        f"@{bibtex_type}{{k, title={{T}}, booktitle={{B}}, year=1982,"
        " series={Moreshet}, number={7}, publisher={JTSA}}"
    )
    assert "number" not in entry.fields
    assert entry.fields["collection_title"] == "Moreshet"
    assert any("number 7 in its series" in warning for warning in entry.warnings)


@pytest.mark.parametrize("bibtex_type", ["report", "techreport", "patent", "misc"])
def test_a_reports_number_is_its_own(bibtex_type):
    entry = one(f"@{bibtex_type}{{k, title={{T}}, year=2001, number={{TR-7}}}}")
    assert entry.fields["number"] == "TR-7"


# --- E-prints other than arXiv are links too ---------------------------------------------


@pytest.mark.parametrize(
    ("eprinttype", "eprint", "url"),
    [
        ("googlebooks", "4HIWAAAAYAAJ", "https://books.google.com?id=4HIWAAAAYAAJ"),
        ("jstor", "2279449", "https://www.jstor.org/stable/2279449"),
        ("arxiv", "1008.2849v1", "https://arxiv.org/abs/1008.2849v1"),
        ("JSTOR", "2279449", "https://www.jstor.org/stable/2279449"),
    ],
)
def test_an_eprint_is_a_link_as_in_pandoc(eprinttype, eprint, url):
    entry = one(
        f"@book{{k, title={{T}}, year=1899, eprint={{{eprint}}}, eprinttype={{{eprinttype}}}}}"
    )
    assert entry.fields["url"] == url


def test_an_eprint_of_an_unknown_kind_is_not_made_a_link():
    entry = one("@book{k, title={T}, year=1899, eprint={123}, eprinttype={hal}}")
    assert "url" not in entry.fields


def test_an_own_url_wins_over_an_eprint():
    entry = one(
        "@book{k, title={T}, year=1899, url={https://example.org/t},"
        " eprint={4HIWAAAAYAAJ}, eprinttype={googlebooks}}"
    )
    assert entry.fields["url"] == "https://example.org/t"


# --- A numbered series is "3rd series" ---------------------------------------------------


@pytest.mark.parametrize(
    ("series", "stored"),
    [("3", "3rd series"), ("1", "1st series"), ("2", "2nd series"), ("11", "11th series"),
     ("22", "22nd series"), ("newseries", "new series"), ("Lecture Notes", "Lecture notes")],
)  # fmt: skip
def test_a_series_given_as_a_number_is_printed_as_biblatex_prints_it(series, stored):
    entry = one(
        f"@article{{k, title={{T}}, journal={{J}}, year=1958, volume=15, series={{{series}}}}}"
    )
    assert entry.fields["collection_title"] == stored


# --- One volume of a multivolume work -----------------------------------------------------

BOOKS = r"""
@book{a, author={Doe, Jane}, title={Volume Title}, maintitle={Main Title}, volume={5}, publisher={P}, year=2000}
@book{b, author={Doe, Jane}, title={Volume Title}, maintitle={Main Title}, publisher={P}, year=2001}
@book{c, author={Doe, Jane}, title={Volume Title}, maintitle={Main Title}, volume={5}, part={2}, publisher={P}, year=2002}
@inbook{d, author={Doe, Jane}, title={Chapter}, booktitle={Volume Title}, maintitle={Main Title}, volume={5}, pages={1--9}, publisher={P}, year=2003}
@incollection{e, author={Doe, Jane}, title={Chapter}, booktitle={Volume Title}, maintitle={Main Title}, mainsubtitle={Sub}, editor={Roe, Rich}, volume={5}, pages={1--9}, publisher={P}, year=2004}
@incollection{f, author={Doe, Jane}, title={Chapter}, maintitle={Main Title}, editor={Roe, Rich}, volume={5}, pages={1--9}, publisher={P}, year=2005}
@book{g, author={Doe, Jane}, title={Volume Title}, volume={5}, publisher={P}, year=2006}
@book{h, author={Doe, Jane}, title={Volume Title}, maintitle={Main Title}, volume={A}, publisher={P}, year=2007}
@book{i, author={Doe, Jane}, title={Volume Title}, volume={12}, part={2}, publisher={P}, year=2008}
"""  # noqa: E501


@pytest.mark.parametrize(
    ("key", "title", "container", "volume"),
    [
        # APA 7 §10.2 (a volume with its own title): "Handbook: Vol. 2. Volume title".
        ("a", "Main title: Vol. 5. Volume title", None, None),
        ("b", "Main title: Volume title", None, None),
        ("c", "Main title: 5.2. Volume title", None, None),  # biblatex's part
        ("d", "Chapter", "Main title: Vol. 5. Volume title", None),
        ("e", "Chapter", "Main title: Sub: Vol. 5. Volume title", None),
        ("f", "Chapter", "Main title", "5"),
        ("g", "Volume title", None, "5"),
        ("h", "Main title: A. Volume title", None, None),
        ("i", "Volume title", None, "12.2"),
    ],
)
def test_a_volume_of_a_multivolume_work_keeps_both_titles(key, title, container, volume):
    """pandoc reads maintitle as the title and the volume's own title as volume-title, which
    APA prints as "Main title: Vol. 5. Volume title". The library has no volume-title, so
    the import writes that title out; the multivolume work's title was lost before."""
    parsed = parse(text=BOOKS, format="bibtex")
    fields = {entry.key: entry.fields for entry in parsed.entries}[key]
    assert (fields["title"], fields.get("container_title"), fields.get("volume")) == (
        title,
        container,
        volume,
    )


# --- An issue of a journal with a title of its own -----------------------------------------


def test_a_periodicals_titled_issue_is_the_work_and_the_journal_its_container():
    """biblatex's @periodical with an issuetitle is one issue of a journal: pandoc reads
    the issue's title as the title and the journal as the container, which APA prints as
    "Semantic 3D media and content. (2011). Computers and Graphics, 35(4)." The import
    printed the journal's name as the work, and "(No. 4; Vol. 35)"."""
    entry = one(
        "@periodical{jcg, title={Computers and Graphics}, year=2011,"
        " issuetitle={Semantic {3D} Media and Content}, volume=35, number=4}"
    )
    assert {name: entry.fields.get(name) for name in
            ("type", "title", "container_title", "volume", "issue", "number")} == {
        "type": "article-journal",
        "title": "Semantic 3D media and content",
        "container_title": "Computers and Graphics",
        "volume": "35",
        "issue": "4",
        "number": None,
    }  # fmt: skip


# --- \mkbibquote keeps its words' capitals -------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "stored"),
    [
        ("Aristotle's \\mkbibquote{De Motu Animalium}", "Aristotle's “De Motu Animalium”"),
        ("The \\mkbibquote{Choosing Wisely Now} Campaign", "The “Choosing Wisely Now” campaign"),
        # \enquote and typed quotes are sentence-cased like the rest, in pandoc too.
        ("The \\enquote{Choosing Wisely} Campaign", "The “choosing wisely” campaign"),
        ("The ``Choosing Wisely'' Campaign", "The “choosing wisely” campaign"),
    ],
)
def test_a_mkbibquote_title_within_a_title_keeps_its_capitals_as_in_pandoc(latex, stored):
    """biblatex's \\mkbibquote marks a quoted title (Nussbaum's "Aristotle's De Motu
    Animalium" in the corpus); pandoc leaves its words' case alone, so APA printed
    "“De Motu Animalium”" from pandoc and "“de motu animalium”" from the library."""
    assert one(f"@book{{k, title={{{latex}}}, year=1978}}").fields["title"] == stored
