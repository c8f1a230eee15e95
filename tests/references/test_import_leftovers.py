"""Leftovers from the import audits: links altered in silence, made-up keys with a name
suffix, empty names between two "and"s, mangled RIS tags, short MEDLINE continuation
indents, CSL-JSON's `page-first`. Every case here failed before its fix.

None of these touch the database.
"""

from __future__ import annotations

import json

import pytest

from references.importing import parse
from tests.builders import only_entry


def csl(**variables) -> str:
    item = {"id": "k", "type": "article-journal", "title": "T", "issued": {"date-parts": [[2020]]}}
    return json.dumps([{**item, **variables}])


# --- 1. A URL is never changed into another address ---------------------------------------


def test_a_csl_json_url_with_a_space_is_left_out_with_a_warning_not_joined():
    # The space was taken for a line wrap and dropped: https://a.org/xy, another page.
    entry = only_entry(csl(URL="https://a.org/x y"))
    assert "url" not in entry.fields
    assert any("https://a.org/x y" in warning for warning in entry.warnings)


def test_a_csl_json_url_with_a_space_does_not_hide_a_valid_second_url():
    entry = only_entry(csl(URL="https://a.org/x y https://b.org/z"))
    assert entry.fields["url"] == "https://b.org/z"
    assert any("URLs" in warning for warning in entry.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "@misc{k, title={T}, year=2020, url={https://a.org/x y}}",
        "TY  - JOUR\nTI  - T\nPY  - 2020\nUR  - https://a.org/x y\nER  - \n",
    ],
)
def test_a_space_within_one_line_of_a_url_is_not_a_wrap(text):
    entry = only_entry(text)
    assert "url" not in entry.fields
    assert any("https://a.org/x y" in warning for warning in entry.warnings)


@pytest.mark.parametrize(
    "text",
    [
        "@misc{k, title={T}, year=2020, url={https://a.org/very/\n    long?q=1}}",
        "@misc{k, title={T}, year=2020, url={\\url{https://a.org/very/\n    long?q=1}}}",
        "@misc{k, title={T}, year=2020, howpublished={\\url{https://a.org/very/\n  long?q=1}}}",
        "TY  - JOUR\nTI  - T\nPY  - 2020\nUR  - https://a.org/very/\nlong?q=1\nER  - \n",
    ],
)
def test_a_url_wrapped_across_lines_is_still_joined(text):
    entry = only_entry(text)
    assert entry.fields["url"] == "https://a.org/very/long?q=1"
    assert entry.warnings == []


def test_a_second_address_on_the_next_line_is_a_second_url_not_a_wrap():
    text = "@misc{k, title={T}, year=2020, url={https://a.org/x\n  https://b.org/y}}"
    entry = only_entry(text)
    assert entry.fields["url"] == "https://a.org/x"
    assert any("has 2 URLs" in warning for warning in entry.warnings)


# --- 2. A made-up key takes the family name alone, without the suffix ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "TY  - JOUR\nAU  - Kaelin, William G, Jr\nTI  - The tumour\nPY  - 2020\nER  - \n",
        "PMID- 1\nTI  - The tumour.\nFAU - Kaelin, William G Jr\nDP  - 2020\n",
        csl(id="", author=[{"family": "Kaelin", "given": "W", "suffix": "Jr."}], title="Tumour"),
        csl(id="", author=[{"family": "Kaelin, Jr.", "given": "W"}], title="Tumour"),
    ],
)
def test_a_made_up_key_leaves_out_the_name_suffix(text):
    # Zotero and Better BibTeX key on the family name alone: kaelin2020tumour.
    entry = only_entry(text)
    assert entry.key == "kaelin2020tumour"
    assert entry.key_generated
    assert entry.fields["authors"][0]["family"] in ("Kaelin, Jr", "Kaelin, Jr.")


def test_an_entry_with_its_own_key_keeps_it():
    text = "@article{kaelinjr2020, author={Kaelin, Jr, William G}, title={T}, year=2020}"
    assert only_entry(text).key == "kaelinjr2020"


# --- 3. BibTeX: an empty name between two "and"s is skipped, with a warning ----------------


@pytest.mark.parametrize(
    "authors",
    [
        "Smith, John and and Doe, Jane",
        "Smith, John AND and Doe, Jane",
        "Smith, John and\n    and Doe, Jane",
        'Smith, John and {M{\\"u}ller}, Hans and and Doe, Jane',
        "and Smith, John and Doe, Jane",
        "Smith, John and Doe, Jane and",
    ],
)
def test_an_empty_bibtex_name_is_skipped_with_a_warning(authors):
    entry = only_entry(f"@article{{k, author={{{authors}}}, title={{T}}, year=2020}}")
    people = entry.fields["authors"]
    assert people[0] == {"family": "Smith", "given": "John"}
    assert people[-1] == {"family": "Doe", "given": "Jane"}
    assert all("and" not in person.get("family", "") for person in people)
    assert any("empty author" in warning for warning in entry.warnings), entry.warnings


def test_and_inside_braces_and_names_beginning_with_and_are_untouched():
    text = "@book{k, author={{Barnes and and Noble} and Anders, Andrew}, title={T}, year=2020}"
    entry = only_entry(text)
    assert entry.fields["authors"] == [
        {"literal": "Barnes and and Noble"},
        {"family": "Anders", "given": "Andrew"},
    ]
    assert entry.warnings == []


# --- 4. RIS: a tag written in lower case, with a tab, or without the space after "-" ------


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("au  - Smith, J", "authors", [{"family": "Smith", "given": "J"}]),
        ("Au  - Smith, J", "authors", [{"family": "Smith", "given": "J"}]),
        ("AU\t- Smith, J", "authors", [{"family": "Smith", "given": "J"}]),
        ("AU\t-\tSmith, J", "authors", [{"family": "Smith", "given": "J"}]),
        ("TI  -Title", "title", "Title"),
        ("ti\t-Title", "title", "Title"),
        ("sp  -  12", "pages", "12"),
    ],
)
def test_an_ris_tag_written_loosely_is_read_as_the_tag_with_a_warning(line, field, value):
    title = "" if field == "title" else "TI  - T\n"
    text = f"TY  - JOUR\nPY  - 2020\n{line}\n{title}ER  - \n"
    entry = only_entry(text)
    assert entry.fields[field] == value
    assert any("line 3" in warning and "RIS" in warning for warning in entry.warnings)


def test_several_loose_ris_tags_are_one_warning_naming_the_first_and_the_count():
    text = "TY  - JOUR\nau  - Smith, J\nti\t- Title\nPY  - 2020\ner  - \n"
    entry = only_entry(text)
    assert entry.fields["title"] == "Title"
    assert entry.warnings == [
        f"entry {entry.key} (line 1) has 3 RIS lines not written “TAG  - value” (line 2: "
        "“au  - Smith, J”, …); each read as the tag it starts with"
    ]


def test_a_url_with_a_space_is_refused_with_a_warning_that_names_the_space():
    entry = only_entry(csl(URL="https://a.org/x y"))
    [warning] = entry.warnings
    assert "has a space in it" in warning and "%20" in warning


def test_a_lower_case_record_end_ends_the_record():
    text = "TY  - JOUR\nTI  - A\nPY  - 2020\ner  - \nTY  - JOUR\nTI  - B\nPY  - 2021\nER  - \n"
    parsed = parse(text=text, format="ris")
    assert [f.message for f in parsed.failures] == []
    assert [entry.fields["title"] for entry in parsed.entries] == ["A", "B"]


@pytest.mark.parametrize(
    "continuation",
    [
        "In-hospital mortality was 5%.",
        "re-admission rates fell",
        "of - the patients",
        "as - expected - fell",
    ],
)
def test_text_in_a_wrapped_abstract_is_never_taken_for_a_tag(continuation):
    text = f"TY  - JOUR\nTI  - T\nPY  - 2020\nAB  - First.\n{continuation}\nER  - \n"
    entry = only_entry(text)
    assert entry.fields["title"] == "T"
    assert not any("RIS" in warning for warning in entry.warnings)


@pytest.mark.parametrize(
    "line",
    [
        "is - a treatment",  # a known tag, but written as prose: one space before "-"
        "CT -guided biopsy",
        " AU  - Smith, J",  # not at the start of the line
        "zz\t- a tab, but no tag anyone writes",
        "AU- Smith, J",
    ],
)
def test_a_line_that_is_not_clearly_a_tag_still_fails_the_record(line):
    parsed = parse(text=f"TY  - JOUR\nTI  - T\n{line}\nPY  - 2020\nER  - \n", format="ris")
    [failure] = parsed.failures
    assert "line 3 is not an RIS line" in failure.message


# --- 5. PubMed: a continuation line indented by fewer than six spaces -----------------------


@pytest.mark.parametrize("indent", [" ", "  ", "     ", "\t", " \t"])
def test_a_medline_line_indented_less_than_six_spaces_continues_the_field(indent):
    text = (
        "PMID- 31234567\nTI  - Sexual health after a stroke: a study\n"
        f"{indent}of couples.\nFAU - Parker, Sarah J\n{indent}Jane\nDP  - 2019 Mar\n"
    )
    entry = only_entry(text, "nbib")
    assert entry.fields["title"] == "Sexual health after a stroke: a study of couples"
    assert entry.fields["authors"] == [{"family": "Parker", "given": "Sarah J Jane"}]
    assert any("line 3" in warning and "six spaces" in warning for warning in entry.warnings)


def test_a_medline_line_indented_six_spaces_is_read_without_a_warning():
    text = "PMID- 1\nTI  - A study\n      of couples.\nDP  - 2019\n"
    entry = only_entry(text, "nbib")
    assert entry.fields["title"] == "A study of couples"
    assert entry.warnings == []


def test_an_indented_medline_tag_is_not_read_as_text():
    # "  TI  - …" is a tag pushed in by an edit, not the rest of the field before it.
    parsed = parse(text="PMID- 1\nDP  - 2019\n  TI  - A study\n", format="nbib")
    [failure] = parsed.failures
    assert "line 3" in failure.message


def test_an_indented_line_that_only_looks_like_a_medline_tag_is_text():
    text = "PMID- 1\nTI  - Outcomes in people who are\n  HIV - positive.\nDP  - 2019\n"
    entry = only_entry(text, "nbib")
    assert entry.fields["title"] == "Outcomes in people who are HIV - positive"


# --- 6. CSL-JSON: `page-first` without `page` --------------------------------------------


@pytest.mark.parametrize("first", ["e1234", 823, "S12"])
def test_csl_page_first_without_page_is_the_page(first):
    # CSL's page-first is the first page; an item with it and no page was cited without one.
    parsed = parse(text=csl(**{"page-first": first}))
    [entry] = parsed.entries
    assert entry.fields["pages"] == str(first)
    assert entry.warnings == []
    assert not any("page-first" in warning for warning in parsed.warnings)


def test_csl_page_wins_over_page_first():
    entry = only_entry(csl(page="823-8", **{"page-first": "823"}))
    assert entry.fields["pages"] == "823–828"
    assert entry.warnings == []
