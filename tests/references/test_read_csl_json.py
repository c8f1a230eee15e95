"""The CSL-JSON reader, on arrays as Zotero and Better BibTeX export them."""

from __future__ import annotations

import json

import pytest

from references.importing import InputError, parse, pick_reader

BETTER_BIBTEX = """[
  {
    "id": "parker2019",
    "type": "article-journal",
    "title": "Intimacy <i>in vivo</i>: the <span class=\\"nocase\\">iPhone</span> study",
    "container-title": "The Journal of Sex Research",
    "page": "545-56",
    "volume": "56",
    "issue": "5",
    "source": "Taylor and Francis+NEJM",
    "abstract": "Background…",
    "DOI": "10.1080/00224499.2019.1565234",
    "ISSN": "0022-4499",
    "author": [
      {"family": "Parker", "given": "Sarah J."},
      {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
      {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
      {"literal": "American College of Surgeons"}
    ],
    "issued": {"date-parts": [["2019", 5, 3]]},
    "citation-key": "parker2019"
  },
  {
    "id": "who2020",
    "type": "report",
    "title": "Guidelines on physical activity and sedentary behaviour",
    "publisher": "World Health Organization",
    "publisher-place": "Geneva",
    "author": [{"literal": "World Health Organization"}],
    "issued": {"raw": "2020-11"},
    "URL": "https://www.who.int/publications/i/item/9789240015128",
    "accessed": {"date-parts": [[2024, 1, 31]]}
  }
]
"""

ZOTERO = json.dumps(
    [
        {
            "id": "http://zotero.org/users/1234567/items/AB12CD34",
            "type": "article-journal",
            "title": "Sensate focus: A critical review",
            "container-title": "Sexual and Relationship Therapy",
            "page": 274,
            "volume": 31,
            "issue": "3",
            "note": "PMID: 27000000\nPMCID: PMC4800000",
            "author": [{"family": "Avery-Clark", "given": "Constance"}],
            "issued": {"date-parts": [[2016]]},
        },
        {
            "id": "1234567/EF56GH78",
            "type": "post-weblog",
            "title": "What couples therapy can do",
            "author": [{"family": "null", "given": ""}],
            "issued": "2021-04-05",
        },
    ],
    indent=2,
)


def entries(text: str) -> list:
    parsed = parse(text=text)
    assert parsed.failures == [], [f.message for f in parsed.failures]
    return parsed.entries


def test_detected_by_content():
    assert pick_reader(BETTER_BIBTEX).name == "csl-json"
    assert pick_reader(ZOTERO).name == "csl-json"
    assert pick_reader('  {"id": "a", "type": "book", "title": "T"}').name == "csl-json"


def test_better_bibtex_items():
    parker, who = entries(BETTER_BIBTEX)
    assert (parker.key, parker.line, parker.record) == ("parker2019", 2, 1)
    assert (who.key, who.line, who.record) == ("who2020", 23, 2)
    fields = parker.fields
    # CSL italics stay; Better BibTeX's case-protecting span goes, its text kept.
    assert fields["title"] == ("Intimacy <i>in vivo</i>: the iPhone study")
    assert fields["authors"] == [
        {"family": "Parker", "given": "Sarah J."},
        {"family": "van Gennep", "given": "Arnold"},
        {"family": "King, Jr.", "given": "Martin Luther"},
        {"literal": "American College of Surgeons"},
    ]
    assert (fields["issued_year"], fields["issued_month"], fields["issued_day"]) == (2019, 5, 3)
    assert fields["pages"] == "545–556"
    assert fields["doi"] == "10.1080/00224499.2019.1565234"
    report = who.fields
    assert report["type"] == "report"
    assert (report["issued_year"], report["issued_month"]) == (2020, 11)
    assert report["accessed"].isoformat() == "2024-01-31"
    assert report["authors"] == [{"literal": "World Health Organization"}]


def test_fields_without_a_column_are_summed_up():
    parsed = parse(text=BETTER_BIBTEX)
    assert parsed.warnings == [
        "Left out, because the library has no place for them: ISSN (1 item), abstract (1 item), "
        "source (1 item). They are not needed to cite a work."
    ]


def test_zotero_items():
    parsed = parse(text=ZOTERO)
    assert parsed.failures == []
    review, post = parsed.entries
    # Zotero's ids are item addresses, not keys: keys are made as Zotero's BibTeX would.
    assert review.key == "averyclark2016sensate"
    assert review.warnings == [
        "entry averyclark2016sensate (line 2) has the id "
        "“http://zotero.org/users/1234567/items/AB12CD34”, which is an item's address, not a "
        "citation key; a key was made for it"
    ]
    assert review.fields["pmid"] == "27000000"  # from Zotero's "PMID: …" note
    assert "note" not in review.fields  # nothing but identifiers was in it
    assert (review.fields["volume"], review.fields["pages"]) == ("31", "274")
    # "1234567/EF56GH78" is a valid key; the post is a web page; "null" is no author.
    assert post.key == "1234567/EF56GH78"
    assert post.fields["type"] == "webpage"
    assert "authors" not in post.fields
    assert post.fields["issued_day"] == 5
    assert any("“null”, which is not a name" in w for w in post.warnings)


def test_item_without_title_fails_naming_it():
    text = '[{"id": "a", "type": "book", "title": "A", "issued": {"date-parts": [[2000]]}},\n'
    text += ' {"id": "b", "type": "book"}]'
    parsed = parse(text=text)
    [failure] = parsed.failures
    assert (
        failure.message
        == "entry b (line 2) has no title; add one (the library needs a title to cite)"
    )


def test_an_element_that_is_not_an_item_fails_naming_its_record_and_line():
    parsed = parse(text='[\n  {"id": "a", "type": "book", "title": "A"},\n  "oops"\n]')
    [failure] = parsed.failures
    assert failure.message == (
        "record 2 (line 3): is not a CSL-JSON item (an object with “type” and “title”)"
    )


def test_the_same_id_twice_is_a_duplicate():
    text = json.dumps(
        [{"id": "k", "type": "book", "title": "A"}, {"id": "k", "type": "book", "title": "B"}],
        indent=1,
    )
    first, second = parse(text=text).entries
    assert (first.duplicate_of_line, second.duplicate_of_line) == (None, 2)


def test_unknown_type_warns():
    [entry] = entries('[{"id": "k", "type": "hologram", "title": "T", "issued": "2020"}]')
    assert entry.fields["type"] == "document"
    assert "has the unknown type “hologram”" in entry.warnings[0]


def test_missing_date_warns():
    [entry] = entries('[{"id": "k", "type": "book", "title": "T"}]')
    assert entry.warnings == ["entry k (line 1) has no year; it will be cited as “n.d.”"]


# --- Invalid JSON: nothing is read ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[\n  {"id": "a", "title": "A"},\n  {"id": "b", "title": "B",}\n]',
            "Expecting property name enclosed in double quotes at line 3, column 28, in item 2 "
            "(which starts at line 3)",
        ),
        (
            '[\n  {"id": "a", "title": "A"}\n  {"id": "b", "title": "B"}\n]',
            "expected “,” or “]” after this item at line 3, column 3, in item 1",
        ),
        ('[\n  {"id": "a", "title": "A"}\n', "expected “,” or “]” after this item at line 3"),
        ('[{"id": "a"}] trailing', "unexpected text after the closing “]” at line 1"),
    ],
)
def test_invalid_json_is_refused_naming_the_item_and_line(text, message):
    with pytest.raises(InputError) as info:
        parse(text=text, format="csl-json")
    assert str(info.value).startswith("The CSL-JSON is not valid JSON: ")
    assert message in str(info.value)
    assert "Nothing was imported" in str(info.value)


def test_text_that_is_not_json_at_all():
    with pytest.raises(InputError, match="it should be a JSON array of items"):
        parse(text="@article{k, title={T}}", format="csl-json")
