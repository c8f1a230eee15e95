"""Translators, date ranges, numbers of volumes, reprints, short titles and languages are
kept, not dropped.

Issue 10 found them lost between a reference manager's export and the page: a translated
work printed without "(J. Doe, Trans.)", a set published over years as its first year only
(1984 for 1984–1986), "Vols. 1–5" and "(Original work published 1959)" gone; a work without
an author cited by its whole long title; a French title title-cased by AMA. The library now
stores them, every reader that has them fills them, the admin edits them and the revision
diff shows them; `test_import_against_pandoc.py` holds the corpus's works that use them to
pandoc's output.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from articles.rendering import render_article
from references.importing import apply_import, parse, preview
from references.models import Reference
from tests.builders import admin_form_data, make_reference, make_user, only_entry, snapshot

pytestmark = pytest.mark.django_db

BIBTEX = r"""
@book{galen1997,
  author = {Galen},
  title = {Selected Works},
  translator = {Singer, P. N. and Doe, Jane},
  date = {1997/1999},
  volumes = {3},
  origdate = {1821},
  origpublisher = {Cnobloch},
  publisher = {Oxford University Press},
}
"""
# The same work as Zotero's CSL-JSON has it.
CSL_JSON = [
    {
        "id": "galen1997",
        "type": "book",
        "title": "Selected works",
        "author": [{"literal": "Galen"}],
        "translator": [{"family": "Singer", "given": "P. N."}, {"family": "Doe", "given": "Jane"}],
        "issued": {"date-parts": [[1997], [1999]]},
        "number-of-volumes": "3",
        "original-date": {"date-parts": [[1821]]},
        "original-publisher": "Cnobloch",
        "publisher": "Oxford University Press",
    }
]
EXPECTED = {
    "translators": [{"family": "Singer", "given": "P. N."}, {"family": "Doe", "given": "Jane"}],
    "issued_year": 1997,
    "issued_end_year": 1999,
    "number_of_volumes": "3",
    "original_year": 1821,
    "original_publisher": "Cnobloch",
}


@pytest.mark.parametrize("text", [BIBTEX, json.dumps(CSL_JSON)], ids=["bibtex", "csl-json"])
def test_each_reader_keeps_translators_ranges_volumes_and_the_original(text):
    entry = only_entry(text)
    assert {name: entry.fields.get(name) for name in EXPECTED} == EXPECTED
    assert entry.warnings == []


def test_apa_prints_them_as_apa_7_wants():
    apply_import(plan=preview(text=BIBTEX), update_existing=False)
    csl = Reference.objects.get(key="galen1997").to_csl()
    rendered = render_article(body="See [@galen1997].", references={"galen1997": csl}, style="apa")
    assert ">Galen, 1821/1997–1999</a>)" in rendered.html
    assert (
        "Galen. (1997–1999). <em>Selected works</em> (P. N. Singer &amp; J. Doe, Trans.; "
        "Vols. 1–3). Oxford University Press. (Original work published 1821, Cnobloch)"
    ) in rendered.references_html


@pytest.mark.parametrize(
    ("issued", "warning"),
    [
        ({"date-parts": [[1999], [1997]]}, "ends (1997) before it starts (1999)"),
        ({"raw": "1999/1997"}, "ends (1997) before it starts (1999)"),
    ],
)
def test_a_range_ending_before_it_starts_is_cited_by_its_first_year_and_said(issued, warning):
    entry = only_entry(json.dumps([{**CSL_JSON[0], "issued": issued}]))
    assert entry.fields["issued_year"] == 1999
    assert "issued_end_year" not in entry.fields
    assert any(warning in message for message in entry.warnings), entry.warnings


def test_an_original_date_that_is_no_date_is_left_out_and_said():
    entry = only_entry(json.dumps([{**CSL_JSON[0], "original-date": {"raw": "long ago"}}]))
    assert "original_year" not in entry.fields
    assert any("original date “long ago”" in message for message in entry.warnings)


def test_the_admin_edits_them(client):
    reference = make_reference("galen1997", type="book", issued_year=1997)
    editor = make_user(None, "Writer")
    client.force_login(editor)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    data = admin_form_data(
        client.get(url),
        translators="Singer, P. N.\nDoe, Jane",
        issued_end_year="1999",
        original_year="1821",
        number_of_volumes="3",
        short_title="Works",
        language="de",
    )
    assert client.post(url, data).status_code == 302
    reference.refresh_from_db()
    assert reference.translators == EXPECTED["translators"]
    assert (reference.issued_end_year, reference.original_year) == (1999, 1821)
    assert reference.to_csl()["issued"] == {"date-parts": [[1997], [1999]]}
    assert (reference.short_title, reference.language) == ("Works", "de")


@pytest.mark.parametrize("end", ["1990", "1997x"])
def test_the_admin_refuses_a_range_ending_before_it_starts(client, end):
    reference = make_reference("galen1997", type="book", issued_year=1997)
    client.force_login(make_user(None, "Writer"))
    url = reverse("admin:references_reference_change", args=[reference.pk])
    before = snapshot()
    response = client.post(url, admin_form_data(client.get(url), issued_end_year=end))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert snapshot() == before


def test_a_single_year_stays_a_single_date():
    reference = make_reference("plain2019", issued_year=2019, issued_end_year=2019)
    assert reference.to_csl()["issued"] == {"date-parts": [[2019]]}


RIS = """TY  - BOOK
AU  - Galen
A4  - Singer, P. N.
A4  - Doe, Jane
TI  - Selected works
ST  - Works
NV  - 3
LA  - German
PY  - 1997
PB  - Oxford University Press
ER  -
"""


def test_ris_keeps_translators_short_title_volumes_and_language():
    fields = only_entry(RIS).fields
    assert fields["translators"] == EXPECTED["translators"]
    assert (fields["short_title"], fields["number_of_volumes"], fields["language"]) == (
        "Works",
        "3",
        "German",
    )


def test_ris_a4_of_a_journal_article_is_left_out_and_said():
    parsed = parse(text=RIS.replace("TY  - BOOK", "TY  - JOUR"))
    assert "translators" not in parsed.entries[0].fields
    assert any("A4" in warning for warning in parsed.warnings), parsed.warnings


@pytest.mark.parametrize(
    ("language", "stored"),
    [("de", "de"), ("German", "German"), ("en-US", ""), ("English", ""), ("eng", ""), ("", "")],
)
def test_english_is_the_default_and_other_languages_are_kept(language, stored):
    entry = only_entry(json.dumps([{**CSL_JSON[0], "language": language}]))
    assert entry.fields.get("language", "") == stored


def test_ama_leaves_a_french_title_as_written_and_title_cases_an_english_one():
    bibtex = r"""
@book{gennep1909, author = {van Gennep, Arnold}, title = {Les rites de passage},
  year = {1909}, publisher = {Nourry}, langid = {french}}
@book{gennep1960, author = {van Gennep, Arnold}, title = {The rites of passage},
  year = {1960}, publisher = {University of Chicago Press}, langid = {english}}
"""
    apply_import(plan=preview(text=bibtex), update_existing=False)
    library = {ref.key: ref.to_csl() for ref in Reference.objects.all()}
    rendered = render_article(body="[@gennep1909; @gennep1960]", references=library, style="ama")
    assert "<em>Les rites de passage</em>" in rendered.references_html
    assert "<em>The Rites of Passage</em>" in rendered.references_html


@pytest.mark.parametrize(
    ("fields", "short"),
    [
        ("author = {Doe, Jane}, title = {Sleep: A guide}", None),  # cited by its author
        ("title = {Sleep: A guide}", "Sleep"),  # pandoc's biblatex reader: the main title
        ("title = {Sleep}, shorttitle = {Rest}", "Rest"),
    ],
)
def test_a_bibtex_short_title_is_read_or_made_as_pandoc_makes_it(fields, short):
    entry = only_entry(f"@book{{k, {fields}, year = {{2020}}, publisher = {{P}}}}")
    assert entry.fields.get("short_title") == short


def test_apa_cites_a_work_without_an_author_by_its_short_title():
    apply_import(
        plan=preview(
            text="@online{ctan, title = {CTAN}, subtitle = {The {Comprehensive TeX Archive "
            "Network}}, date = {2006}, url = {http://www.ctan.org}}"
        ),
        update_existing=False,
    )
    library = {"ctan": Reference.objects.get(key="ctan").to_csl()}
    rendered = render_article(body="[@ctan]", references=library, style="apa")
    assert "<em>CTAN</em>, 2006" in rendered.html


def test_the_author_of_the_book_a_part_is_in_is_kept_and_lent_through_crossref():
    """biblatex's default: a part of a book crossref'd to it takes the book's author as
    its bookauthor; APA prints "In I. Kant, Kants Werke…" as pandoc does."""
    parsed = parse(
        text=r"""
@book{werke, author = {Kant, Immanuel}, title = {Kants Werke}, year = {1968},
  publisher = {Walter de Gruyter}}
@inbook{kpv, author = {Kant, Immanuel}, title = {Kritik der praktischen Vernunft},
  crossref = {werke}, pages = {1--163}}
@inbook{own, author = {Doe, Jane}, bookauthor = {Roe, Richard}, title = {A part},
  booktitle = {A book}, year = {2001}, publisher = {P}}
"""
    )
    by_key = {entry.key: entry.fields for entry in parsed.entries}
    assert by_key["kpv"]["container_authors"] == [{"family": "Kant", "given": "Immanuel"}]
    assert by_key["own"]["container_authors"] == [{"family": "Roe", "given": "Richard"}]
    assert "container_authors" not in by_key["werke"]
    reference = make_reference(
        "kpv",
        type="chapter",
        container_title="Kants Werke",
        container_authors=by_key["kpv"]["container_authors"],
    )
    rendered = render_article(body="[@kpv]", references={"kpv": reference.to_csl()}, style="apa")
    assert "In I. Kant, <em>Kants Werke</em>" in rendered.references_html
