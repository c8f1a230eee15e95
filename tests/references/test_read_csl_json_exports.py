"""Held-out CSL-JSON: items as Zotero and Better BibTeX write them, in the shapes the CSL
schema allows (dates as date-parts, raw, literal or seasons; names as literals or with
particles; numbers as numbers), and the shapes a hand-edited file ends up in."""

from __future__ import annotations

import json

import pytest

from references.importing import parse


def entries(items: object) -> list:
    parsed = parse(text=json.dumps(items, indent=2))
    assert parsed.format == "csl-json"
    assert [f.message for f in parsed.failures] == []
    return parsed.entries


def item(**fields) -> dict:
    return {"id": "k", "type": "article-journal", "title": "T", **fields}


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        ({"date-parts": [[2019, 5, 3]]}, (2019, 5, 3)),
        ({"date-parts": [["2019", "5", "3"]]}, (2019, 5, 3)),
        ({"date-parts": [[2019, 5, 3], [2019, 6, 1]]}, (2019, 5, 3)),  # a range: its start
        ({"date-parts": [[2019, 21]]}, (2019, None, None)),  # EDTF season 21, not a month
        ({"date-parts": [[2019]], "season": "Spring"}, (2019, None, None)),
        ({"season": 2, "year": 2019}, (2019, None, None)),
        ({"raw": "2019-05-03"}, (2019, 5, 3)),
        ({"raw": "May 2019"}, (2019, 5, None)),
        ({"literal": "Spring 2019"}, (2019, None, None)),
        ("2019-05", (2019, 5, None)),
    ],
)
def test_dates_in_every_shape_zotero_and_better_bibtex_write(issued, expected):
    [entry] = entries([item(issued=issued)])
    fields = entry.fields
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == expected
    assert entry.warnings == []


@pytest.mark.parametrize(
    "issued",
    [[{"year": 2019}], {"date-parts": [[]]}, {"date-parts": [[None]]}, {"date-parts": "2019"},
     {"date-parts": [[True]]}, {"raw": "sometime"}],
)  # fmt: skip
def test_a_date_that_cannot_be_read_warns_instead_of_vanishing(issued):
    [entry] = entries([item(issued=issued)])
    assert "issued_year" not in entry.fields
    [warning] = entry.warnings
    assert warning.startswith("entry k (line 2) has the date ")
    assert warning.endswith("which is not a date; it will be cited as “n.d.”")


def test_names_as_zotero_and_better_bibtex_write_them():
    [entry] = entries(
        [
            item(
                author=[
                    {"literal": "World Health Organization"},
                    {"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"},
                    {"family": "Gogh", "given": "Vincent", "dropping-particle": "van"},
                    {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
                ]
            )
        ]
    )
    assert entry.fields["authors"] == [
        {"literal": "World Health Organization"},
        {"family": "van Beethoven", "given": "Ludwig"},
        {"family": "van Gogh", "given": "Vincent"},
        {"family": "King, Jr.", "given": "Martin Luther"},
    ]


@pytest.mark.parametrize(
    "name",
    [{"family": ["Smith"], "given": "John"}, {"family": {"x": 1}}, {"family": None}, {}, 42],
)
def test_a_name_that_is_no_text_is_left_out_with_a_warning(name):
    [entry] = entries([item(issued="2020", author=[{"family": "Lee", "given": "Kim"}, name])])
    assert entry.fields["authors"] == [{"family": "Lee", "given": "Kim"}]
    [warning] = entry.warnings
    assert "it was left out" in warning


def test_numbers_written_as_numbers():
    [entry] = entries([item(volume=56, issue=5, page=823, edition=2, PMID=31234567)])
    fields = entry.fields
    assert (fields["volume"], fields["issue"], fields["pages"]) == ("56", "5", "823")
    assert (fields["edition"], fields["pmid"]) == ("2", "31234567")


def test_rich_text_titles_keep_their_markup_and_title_short_is_kept():
    title = "<i>Homo sapiens</i> and H<sub>2</sub>O<sup>+</sup>: the <b>first</b> look"
    parsed = parse(text=json.dumps([item(title=title, **{"title-short": "Homo sapiens"})]))
    assert parsed.entries[0].fields["title"] == title
    # APA cites a work without an author by it (the library kept no short title before).
    assert parsed.entries[0].fields["short_title"] == "Homo sapiens"
    assert not any("title-short" in warning for warning in parsed.warnings)


def test_doi_as_a_link_is_the_bare_doi():
    [entry] = entries([item(DOI="https://doi.org/10.1000/ABC.123")])
    assert entry.fields["doi"] == "10.1000/ABC.123"


def test_a_single_item_not_in_a_list():
    [entry] = entries(item(issued={"date-parts": [[2020]]}))
    assert (entry.key, entry.line, entry.record) == ("k", 1, 1)


def test_items_without_an_id_get_keys_made_and_told_apart():
    work = {"type": "book", "title": "Rites", "author": [{"family": "Gennep"}], "issued": "1960"}
    first, second = entries([work, work])
    assert (first.key, second.key) == ("gennep1960rites", "gennep1960ritesa")
    assert (first.record, second.record) == (1, 2)


def test_a_duplicate_id_is_reported_as_a_duplicate_of_the_first():
    first, second = entries([item(issued="2020"), item(issued="2021", title="Other")])
    assert (first.key, second.key) == ("k", "k")
    assert second.duplicate_of_line == first.line


@pytest.mark.parametrize("raw_id", [True, False, 1.5, None, ["k"], {"id": "k"}])
def test_an_id_that_is_no_key_gets_a_made_up_key(raw_id):
    [entry] = entries([{"id": raw_id, "type": "book", "title": "Rites", "issued": "1960"}])
    assert entry.key == "anon1960rites"
    assert entry.key_generated


def test_a_list_or_object_where_text_belongs_is_left_out_with_a_warning():
    (entry,) = entries(
        [item(URL=["https://a.example/1", "https://b.example/2"], volume={"n": 3}, page=True)]
    )
    assert "url" not in entry.fields and "volume" not in entry.fields
    assert "pages" not in entry.fields
    said = " ".join(entry.warnings)
    assert 'has URL “["https://a.example/1", "https://b.example/2"]”, which is not text' in said
    assert 'has volume “{"n": 3}”' in said and "has page “true”" in said
