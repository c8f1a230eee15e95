"""The BibTeX reader on what real exports contain: every loss the issue found is a case.

The samples are written the way Zotero, Mendeley, EndNote, JabRef and Google Scholar
write BibTeX. None of these touch the database.
"""

from __future__ import annotations

import pytest

from references.importing import parse, rich_text_html
from references.importing.latex import latex_to_rich_text


def entries(text: str) -> dict:
    parsed = parse(text=text, format="bibtex")
    assert parsed.failures == [], [f.message for f in parsed.failures]
    return {entry.key: entry for entry in parsed.entries}


def one(text: str):
    [entry] = entries(text).values()
    return entry


def title(latex: str, **extra: str) -> str:
    fields = "".join(f", {name}={{{value}}}" for name, value in extra.items())
    return one(f"@article{{k, title={{{latex}}}, year=2020{fields}}}").fields["title"]


# --- No title text lost -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "stored"),
    [
        # Mendeley and JabRef escape comparison signs as text commands.
        ("Outcomes in Adults Aged {\\textgreater}65", "Outcomes in adults aged >65"),
        ("Significance at p {\\textless} 0.05", "Significance at p < 0.05"),
        ("\\mbox{COVID-19} and Sleep", "COVID-19 and sleep"),
        ("A Minimal Example with \\texttt{mwe}", "A minimal example with mwe"),
        ("Effects Were Small ($p < 0.05$)", "Effects were small (p < 0.05)"),
        ("$\\alpha$-Synuclein in {Parkinson} Disease", "α-synuclein in Parkinson disease"),
        ("Levels of CO$_2$ in Blood", "Levels of CO<sub>2</sub> in blood"),
        ("Risk {\\textpm} 2 {SD} at 37{\\textdegree}C", "Risk ± 2 SD at 37°C"),
        ("The {\\TeX book}", "The TeXbook"),
        # An unknown command loses its name only; its braced argument keeps its case.
        ("An \\unknowncommand{Argument} Kept", "An Argument kept"),
        ("Caf{\\'e} Workers and M{\\\"u}ller's Test", "Café workers and müller's test"),
        ("Smith \\& Sons: 50\\% of Cases", "Smith & sons: 50% of cases"),
        ("10\\,mg/kg Doses --- a Review", "10 mg/kg doses — a review"),
    ],
)
def test_latex_in_titles_keeps_its_text(latex, stored):
    assert title(latex) == stored


def test_emphasis_is_kept_as_csl_italics():
    assert title("\\emph{In Vivo} Imaging of \\textit{Drosophila} Larvae") == (
        "<i>In vivo</i> imaging of <i>drosophila</i> larvae"
    )
    # Braces inside the emphasis protect a species name's capital, as in pandoc.
    assert title("Genes of \\emph{{Drosophila} melanogaster}") == (
        "Genes of <i>Drosophila melanogaster</i>"
    )
    assert title("{\\em Escherichia coli} Strains") == "<i>Escherichia coli</i> strains"


def test_italics_render_as_html_and_everything_else_is_escaped():
    stored = title("\\emph{In vivo} <script>alert(1)</script> {\\textless}b{\\textgreater}")
    html = rich_text_html(stored)
    assert "<i>In vivo</i>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    # A literal "<b>" with no partner is text, shown as typed.
    assert "&lt;b&gt;" in html and "<b>" not in html
    # An unmatched tag never leaves an element open around the rest of the page.
    assert str(rich_text_html("<i>open and never closed")) == "&lt;i&gt;open and never closed"


# --- Sentence case ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latex", "stored"),
    [
        (
            "The Effects of {COVID-19} on {Parkinson}'s Disease: A Cohort Study",
            "The effects of COVID-19 on Parkinson's disease: A cohort study",
        ),
        (
            "Sleep Quality. Results From the {UK} Biobank",
            "Sleep quality. Results from the UK biobank",
        ),
        ("DNA Repair in HeLa Cells", "DNA repair in HeLa cells"),  # capitals and inner caps stay
        ("Vitamin D and Type I Diabetes", "Vitamin D and type I diabetes"),  # single capitals stay
        (
            "{Emotional Intimacy and Sexual Satisfaction}",
            "Emotional Intimacy and Sexual Satisfaction",
        ),
        ("why sleep matters", "Why sleep matters"),
    ],
)
def test_english_titles_are_stored_in_sentence_case(latex, stored):
    assert title(latex) == stored


def test_mendeley_double_braces_protect_the_whole_title():
    # Mendeley writes title = {{…}}: the title as the user typed it, never recased.
    entry = one("@article{k, title = {{The Lancet Commission on Dementia}}, year = {2020}}")
    assert entry.fields["title"] == "The Lancet Commission on Dementia"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("langid", "ngerman"),
        ("language", "German"),
        ("langid", "french"),
        ("hyphenation", "spanish"),
    ],
)
def test_titles_in_other_languages_are_untouched(field, value):
    assert title('Schlafqualit{\\"a}t Bei {\\"A}lteren Erwachsenen', **{field: value}) == (
        "Schlafqualität Bei Älteren Erwachsenen"
    )


@pytest.mark.parametrize("value", ["english", "American", "en-GB", "eng", "british"])
def test_english_language_fields_still_mean_sentence_case(value):
    assert title("Sleep in Older Adults", langid=value) == "Sleep in older adults"


def test_journal_names_keep_their_capitals():
    entry = one("@article{k, title={T}, journal={The New England Journal of Medicine}, year=2020}")
    assert entry.fields["container_title"] == "The New England Journal of Medicine"


def test_sentence_case_of_a_rich_text_title_is_idempotent():
    once = latex_to_rich_text("\\emph{In Vivo}: Effects of {COVID-19}", sentence_case=True)
    assert once == "<i>In vivo</i>: Effects of COVID-19"
    assert latex_to_rich_text(once, sentence_case=True) == once


# --- Subtitles --------------------------------------------------------------------------


def test_subtitle_is_joined_once():
    assert title("Emotional Intimacy", subtitle="Exploring Their Connection") == (
        "Emotional intimacy: Exploring their connection"
    )


def test_subtitle_already_in_the_title_is_not_doubled():
    # Zotero's biblatex export writes the full title and the subtitle both.
    assert title(
        "Emotional Intimacy: Exploring Their Connection", subtitle="Exploring Their Connection"
    ) == ("Emotional intimacy: Exploring their connection")


# --- DOIs and links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "doi",
    [
        "10.1162/jocn{\\_}a{\\_}00318",  # Mendeley
        "10.1162/jocn\\_a\\_00318",  # JabRef
        "10.1162/jocn{\\textunderscore}a{\\textunderscore}00318",
        "Doi10.1162/jocn_a_00318",  # Web of Science via EndNote
        "DOI: 10.1162/jocn_a_00318",
        "doi:10.1162/jocn_a_00318",
        "https://doi.org/10.1162/jocn_a_00318",
        "http://dx.doi.org/10.1162/jocn_a_00318",
        "\\url{https://doi.org/10.1162/jocn_a_00318}",
    ],
)
def test_doi_escapes_and_prefixes_are_undone(doi):
    entry = one(f"@article{{k, title={{T}}, year=2013, doi={{{doi}}}}}")
    assert entry.fields["doi"] == "10.1162/jocn_a_00318"


def test_several_dois_keep_the_first_with_a_warning():
    entry = one("@article{k, title={T}, year=2013, doi={10.1000/a 10.1000/b}}")
    assert entry.fields["doi"] == "10.1000/a"
    assert "has several DOIs" in entry.warnings[0]


def test_space_separated_urls_keep_the_first_valid_one():
    entry = one(
        "@article{k, title={T}, year=2013,\n"
        "url = {http://www.mitpressjournals.org/doi/10.1162/jocn_a_00318 "
        "http://www.ncbi.nlm.nih.gov/pubmed/23000000}}"
    )
    assert entry.fields["url"] == "http://www.mitpressjournals.org/doi/10.1162/jocn_a_00318"
    assert entry.warnings == [
        "entry k (line 1) has 2 URLs; the first valid one, "
        "http://www.mitpressjournals.org/doi/10.1162/jocn_a_00318, is kept"
    ]


def test_url_escapes_are_undone():
    entry = one(
        "@misc{k, title={T}, year=2013, url={https://example.org/a{\\_}b?x=1{\\&}y={\\~{}}z}}"
    )
    assert entry.fields["url"] == "https://example.org/a_b?x=1&y=~z"


def test_a_javascript_url_is_never_stored():
    entry = one("@misc{k,\n title={T}, year=2000,\n url={javascript:alert(1)}}")
    assert "url" not in entry.fields
    assert "“javascript:alert(1)”, which is not a web address" in entry.warnings[0]


# --- Pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "stored"),
    [
        ("823--8", "823–828"),
        ("1123-35", "1123–1135"),
        ("540--552", "540–552"),
        ("e1234", "e1234"),
        ("S12--S15", "S12–S15"),
        ("S12–S15", "S12–S15"),
        ("xi-xv", "xi-xv"),
        ("12", "12"),
        ("95-3", "95–3"),  # not a range that shortening can explain: left as written
        ("431--456, 791--823", "431–456, 791–823"),
    ],
)
def test_page_ranges_are_written_out(pages, stored):
    assert one(f"@article{{k, title={{T}}, year=2000, pages={{{pages}}}}}").fields["pages"] == (
        stored
    )


# --- Names ------------------------------------------------------------------------------


def test_organisation_authors_stay_one_name():
    entry = one(
        "@article{k, title={T}, year=2019,\n"
        " author={{American College of Surgeons} and Smith, John and {World Health Organization}}}"
    )
    assert entry.fields["authors"] == [
        {"literal": "American College of Surgeons"},
        {"family": "Smith", "given": "John"},
        {"literal": "World Health Organization"},
    ]


def test_endnote_trailing_comma_organisation():
    # EndNote's BibTeX export: author = {American College of Surgeons,}
    entry = one(
        "@article{k,\n   author = {American College of Surgeons,},\n   title = {T},\n"
        "   year = {2019}\n}"
    )
    assert entry.fields["authors"] == [{"literal": "American College of Surgeons"}]
    assert entry.warnings == []


def test_organisation_split_into_given_and_family_is_kept_whole_with_a_warning():
    entry = one(
        "@report{k, title={T}, year=2019,"
        " author={Guidelines Committee of the Department of Health}}"
    )
    assert entry.fields["authors"] == [
        {"literal": "Guidelines Committee of the Department of Health"}
    ]
    assert "looks like an organisation" in entry.warnings[0]


@pytest.mark.parametrize(
    ("author", "expected", "warning"),
    [
        ("null", [], "has the author “null”, which is not a name; it was left out"),
        ("null and Smith, John", [{"family": "Smith", "given": "John"}], "“null”"),
        (", John", [{"literal": "John"}], "with no family name"),
        ("Smith, J., Doe, A.", [{"literal": "Smith, J., Doe, A."}], "cannot be split"),
    ],
)
def test_names_that_cannot_be_used_warn_instead_of_printing_nonsense(author, expected, warning):
    entry = one(f"@article{{k, title={{T}}, year=2019, author={{{author}}}}}")
    assert entry.fields.get("authors", []) == expected
    assert any(warning in w for w in entry.warnings), entry.warnings


def test_google_scholar_names():
    entry = one(
        "@article{scholar,\n  title={Sexual desire},\n  author={Brotto, Lori A and Basson, "
        "Rosemary and Luria, Mijal},\n  journal={The journal of sexual medicine},\n"
        "  volume={7},\n  number={1},\n  pages={586--614},\n  year={2010},\n"
        "  publisher={Oxford University Press}\n}"
    )
    assert [n["family"] for n in entry.fields["authors"]] == ["Brotto", "Basson", "Luria"]
    assert entry.fields["pages"] == "586–614"


# --- Crossref ---------------------------------------------------------------------------


def test_article_crossref_to_a_periodical_inherits_the_journal():
    found = entries(
        "@periodical{jama, title={JAMA}, subtitle={The Journal of the American Medical "
        "Association}, year=2020, volume=323}\n"
        "@article{child, author={Roe, Jane}, title={Vitamin D: A Review}, crossref={jama},"
        " number=4, pages={S12--S15}}\n"
    )
    child = found["child"].fields
    assert child["container_title"] == "JAMA: The Journal of the American Medical Association"
    assert (child["volume"], child["issue"], child["issued_year"]) == ("323", "4", 2020)
    assert child["title"] == "Vitamin D: A review"
    # The periodical itself keeps its name as written: a journal's name is not recased.
    assert found["jama"].fields["title"] == "JAMA: The Journal of the American Medical Association"


# --- Fields the site never shows --------------------------------------------------------


ENDNOTE = """@article{
   RN12,
   author = {Parker, S. J. and Lee, K.},
   title = {Emotional Intimacy and Sexual Satisfaction},
   journal = {Journal of Sex Research},
   volume = {56},
   number = {5},
   pages = {545-56},
   note = {Parker, Sarah J},
   ISSN = {0022-4499},
   isbn = {0022-4499 1559-8519},
   DOI = {Doi10.1080/00224499.2019.1565234},
   url = {<Go to ISI>://WOS:000470000000001},
   annote = {First reading note},
   annote = {Second reading note},
   year = {2019},
   type = {Journal Article}
}
"""


def test_fields_without_a_column_never_refuse_an_entry():
    parsed = parse(text=ENDNOTE)
    assert parsed.failures == []
    [entry] = parsed.entries
    fields = entry.fields
    assert fields["doi"] == "10.1080/00224499.2019.1565234"
    assert fields["pages"] == "545–556"
    assert "isbn" not in fields
    assert "genre" not in fields  # EndNote's "Journal Article" type is not a genre
    assert any("holds no ISBN; it was left out" in w for w in entry.warnings)
    # The repeated annote and the ISSN are summed up once for the file.
    [summary] = parsed.warnings
    assert summary.startswith("Left out, because the library has no place for them: ")
    assert "annote (1 entry)" in summary and "issn (1 entry)" in summary


def test_endnote_url_that_is_no_address_is_left_out_with_a_warning():
    # "<Go to ISI>://WOS:…" is not a link anyone can follow: not a reason to refuse a work.
    [entry] = parse(text=ENDNOTE).entries
    assert "url" not in entry.fields
    assert (
        "entry RN12 (line 1) has the URL “<Go to ISI>://WOS:000470000000001”, which is not "
        "a web address; it was left out"
    ) in entry.warnings


def test_a_duplicated_field_the_site_shows_still_fails_when_the_values_differ():
    parsed = parse(text="@article{k,\n title={A},\n title={B}, year=2000}")
    [failure] = parsed.failures
    assert "the field title appears twice with different values" in failure.reason


def test_a_repeated_field_with_the_same_value_is_fine():
    entry = one("@article{k, title={A}, title={A}, year=2000}")
    assert entry.fields["title"] == "A"


ZOTERO = """
@article{parker_emotional_2019,
	title = {Emotional intimacy and sexual satisfaction: {Exploring} their connection},
	volume = {56},
	issn = {0022-4499},
	shorttitle = {Emotional intimacy and sexual satisfaction},
	url = {https://doi.org/10.1080/00224499.2019.1565234},
	doi = {10.1080/00224499.2019.1565234},
	abstract = {Emotional intimacy {\\textgreater} sexual frequency.},
	language = {en},
	number = {5},
	urldate = {2024-01-31},
	journal = {The Journal of Sex Research},
	author = {Parker, Sarah J. and Lee, Kim},
	month = may,
	year = {2019},
	pmid = {30700000},
	keywords = {Intimacy, Couples},
	pages = {545--556},
	file = {Full Text:/home/me/Zotero/storage/AB12CD34/Parker.pdf:application/pdf},
}
"""


def test_zotero_export():
    entry = one(ZOTERO)
    fields = entry.fields
    assert (
        fields["title"] == "Emotional intimacy and sexual satisfaction: Exploring their connection"
    )
    assert (fields["issued_year"], fields["issued_month"]) == (2019, 5)
    assert fields["pmid"] == "30700000"
    assert fields["accessed"].isoformat() == "2024-01-31"
    assert fields["pages"] == "545–556"


JABREF = """% Encoding: UTF-8

@Article{Rauer2015,
  author    = {Rauer, Amy J. and Pettit, Gregory S. and Lansford, Jennifer E.},
  title     = {Emotional Intimacy and Conflict Resolution in Couples},
  journal   = {Journal of Marriage and Family},
  year      = {2015},
  volume    = {77},
  number    = {2},
  pages     = {379--392},
  doi       = {10.1111/jomf.12172},
  owner     = {clinic},
  timestamp = {2023.05.01},
}

@Comment{jabref-meta: databaseType:bibtex;}
"""


def test_jabref_export():
    parsed = parse(text=JABREF)
    assert parsed.failures == []
    [entry] = parsed.entries
    assert entry.fields["title"] == "Emotional intimacy and conflict resolution in couples"
    assert entry.line == 3
    assert "owner (1 entry)" in parsed.warnings[0]
