"""The library's new fields (translators, book authors, date ranges, original year and
publisher, volumes, short title, language) attacked through every way in: hostile and
malformed values in BibTeX, RIS, CSL-JSON and the admin, re-imports that change them,
and the pages that show them. A refusal writes nothing; text is never lost in silence."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from articles.diff import diff_revisions
from articles.models import Revision
from articles.rendering import render_article
from references.importing import apply_import, parse, preview
from references.models import Reference
from tests.builders import (
    IMPORT_URL,
    admin_form_data,
    confirm_fields,
    fresh,
    make_article,
    make_editor,
    make_physician,
    make_reference,
    make_user,
    make_writer,
    publish_through_workflow,
    snapshot,
)

pytestmark = pytest.mark.django_db


def csl_json(**fields) -> str:
    return json.dumps([{"id": "k1", "type": "book", "title": "A book", **fields}])


# --- Date ranges on a re-import -------------------------------------------------------------


def test_a_reimport_with_a_single_year_ends_the_range_the_library_had():
    """The file's date wins as a whole: a range the library had does not outlive it."""
    make_reference("k1", type="book", title="A book", issued_year=1984, issued_end_year=1986)
    plan = preview(text=csl_json(issued={"date-parts": [[1985]]}))
    [item] = plan.items
    assert {c.field: c.new for c in item.changes} == {"issued_year": "1985", "issued_end_year": ""}
    result = apply_import(plan=plan, update_existing=True)
    assert result.applied, result.errors
    reference = Reference.objects.get(key="k1")
    assert (reference.issued_year, reference.issued_end_year) == (1985, None)
    assert reference.to_csl()["issued"] == {"date-parts": [[1985]]}


def test_a_reimport_with_a_year_after_the_range_is_not_refused_at_apply():
    make_reference("k1", type="book", title="A book", issued_year=1984, issued_end_year=1986)
    result = apply_import(
        plan=preview(text=csl_json(issued={"date-parts": [[1990]]})), update_existing=True
    )
    assert result.applied, result.errors
    reference = Reference.objects.get(key="k1")
    assert (reference.issued_year, reference.issued_end_year) == (1990, None)


# --- Too long for the library: named with its line, nothing written -------------------------

LONG_LANGUAGE = "german " + "x" * 60


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (f"@book{{k1,\n  title = {{A book}},\n  langid = {{{LONG_LANGUAGE}}},\n}}\n", 3),
        (f"TY  - BOOK\nID  - k1\nTI  - A book\nLA  - {LONG_LANGUAGE}\nER  - \n", 4),
        (csl_json(language=LONG_LANGUAGE), 1),
    ],
    ids=["bibtex", "ris", "csl-json"],
)
def test_a_language_too_long_to_keep_fails_with_its_field_and_line_and_writes_nothing(text, line):
    before = snapshot()
    plan = preview(text=text)
    [item] = plan.items
    assert item.status == "failed"
    assert f"language (line {line}): Ensure this value has at most 40 characters" in item.reason
    apply_import(plan=plan, update_existing=True)
    assert snapshot() == before


# --- Hostile text through the admin, and what the public page then shows ---------------------

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_LANGUAGE = "<img src=x onerror=alert(3)>"


def change_url_of(reference: Reference) -> str:
    return reverse("admin:references_reference_change", args=[reference.pk])


def public_html(client, article) -> str:
    client.logout()
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_a_published_page_keeps_the_new_fields_it_was_signed_with(client):
    """Frozen stays frozen: editing a cited reference's translators, book authors, range,
    short title, language, volumes or original in the admin changes no public page."""
    reference = make_reference(
        "galen1997",
        type="book",
        authors=[],
        title="Selected works: A reader",
        issued_year=1997,
        issued_end_year=1999,
        translators=[{"family": "Singer", "given": "P. N."}],
        short_title="Selected works",
        number_of_volumes="3",
        original_year=1821,
        original_publisher="Cnobloch",
        publisher="Oxford University Press",
    )
    article = make_article(make_writer(), body="Galen wrote it [@galen1997].\n")
    article = publish_through_workflow(article, physician=make_physician(), editor=make_editor())
    signed = public_html(client, article)
    assert "P. N. Singer, Trans." in signed and "1997–1999" in signed

    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    data = admin_form_data(
        client.get(url),
        translators=f"Mallory, {XSS}",
        container_authors="Kühn, C. G.",
        issued_end_year="1998",
        short_title=f"Short {XSS}",
        language="de",
        number_of_volumes="9",
        original_year="1820",
        original_publisher=f"Leipzig {XSS}",
    )
    assert client.post(url, data).status_code == 302
    assert fresh(reference).translators[0]["family"] == "Mallory"
    assert public_html(client, article) == signed


def test_the_change_form_shows_hostile_new_fields_escaped_and_saves_them_as_typed(client):
    reference = make_reference(
        "k1",
        type="book",
        translators=[{"family": XSS, "given": "A."}],
        container_authors=[{"literal": XSS}],
        short_title=XSS[:300],
        language="<b>de</b>",
        original_publisher=XSS,
    )
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    assert client.post(url, admin_form_data(page)).status_code == 302
    saved = fresh(reference)
    assert saved.translators == [{"family": XSS, "given": "A."}]
    assert (saved.short_title, saved.language, saved.original_publisher) == (
        XSS,
        "<b>de</b>",
        XSS,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"issued_year": "", "issued_end_year": "1986"},  # an end without a start
        {"issued_end_year": "1900"},  # before the start
        {"short_title": "x" * 301},
        {"language": "x" * 41},
        {"original_publisher": "x" * 301},
        {"number_of_volumes": "1" * 21},
        {"original_year": "-5"},
        {"translators": ", Given"},  # a name without a family name
    ],
    ids=lambda changes: next(iter(changes)) if len(changes) == 1 else "end-without-start",
)
def test_a_forged_admin_post_with_bad_new_fields_is_refused_and_writes_nothing(client, changes):
    reference = make_reference("k1", type="book", issued_year=1984)
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    data = admin_form_data(client.get(url), **changes)
    before = snapshot()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert snapshot() == before


def test_a_stale_page_cannot_overwrite_the_new_fields_an_import_just_changed(client):
    reference = make_reference("k1", type="book", title="A book", issued_year=1984)
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    page = client.get(url)
    result = apply_import(
        plan=preview(text=csl_json(translator=[{"family": "Doe", "given": "J."}])),
        update_existing=True,
    )
    assert result.updated == ["k1"]
    before = snapshot()
    response = client.post(url, admin_form_data(page, short_title="Mine", translators=""))
    assert response.status_code == 200
    assert "Someone else saved this reference" in response.content.decode()
    assert snapshot() == before
    assert fresh(reference).translators == [{"family": "Doe", "given": "J."}]


# --- Re-importing: a change to one new field only ------------------------------------------

BASE_BOOK = {
    "author": [{"family": "Galen", "given": ""}],
    "issued": {"date-parts": [[1997], [1999]]},
    "translator": [{"family": "Singer", "given": "P. N."}],
    "container-author": [{"family": "Kühn", "given": "C. G."}],
    "original-date": {"date-parts": [[1821]]},
    "original-publisher": "Cnobloch",
    "number-of-volumes": "3",
    "title-short": "Works",
    "language": "de",
    "DOI": "10.1000/galen",
}


@pytest.mark.parametrize(
    ("variable", "value", "field", "shown"),
    [
        ("translator", [{"family": "Doe", "given": "J."}], "translators", "Doe, J."),
        ("container-author", [{"literal": "WHO"}], "container_authors", "WHO"),
        ("issued", {"date-parts": [[1997], [2001]]}, "issued_end_year", "2001"),
        ("original-date", {"date-parts": [[1820]]}, "original_year", "1820"),
        ("original-publisher", "Reimer", "original_publisher", "Reimer"),
        ("number-of-volumes", "4", "number_of_volumes", "4"),
        ("title-short", "Opera", "short_title", "Opera"),
        ("language", "fr", "language", "fr"),
    ],
)
def test_a_reimport_changing_only_one_new_field_shows_it_and_updates_it(
    variable, value, field, shown
):
    apply_import(plan=preview(text=csl_json(**BASE_BOOK)), update_existing=False)
    assert preview(text=csl_json(**BASE_BOOK)).counts["unchanged"] == 1
    plan = preview(text=csl_json(**{**BASE_BOOK, variable: value}))
    [item] = plan.items
    assert item.status == "changed"
    assert [(c.field, c.new) for c in item.changes] == [(field, shown)]
    untouched = snapshot()
    assert apply_import(plan=plan, update_existing=False).not_updated == ["k1"]
    assert snapshot() == untouched
    assert apply_import(plan=plan, update_existing=True).updated == ["k1"]
    assert preview(text=csl_json(**{**BASE_BOOK, variable: value})).counts["unchanged"] == 1


def test_the_same_work_under_another_key_is_still_a_duplicate_whatever_its_new_fields():
    apply_import(plan=preview(text=csl_json(**BASE_BOOK)), update_existing=False)
    before = snapshot()
    other = json.dumps(
        [{"id": "k2", "type": "book", "title": "A book", **BASE_BOOK, "title-short": "Other"}]
    )
    plan = preview(text=other)
    [item] = plan.items
    assert item.status == "duplicate" and "k1" in item.reason
    apply_import(plan=plan, update_existing=True)
    assert snapshot() == before


# --- Nonsense years and range ends ------------------------------------------------------------


def bibtex_book(fields: str) -> str:
    return f"@book{{k1,\n  title = {{A book}},\n  {fields},\n}}\n"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("date = {99999}", {"issued_year": None}),
        ("origdate = {19591}, year = {1990}", {"issued_year": 1990, "original_year": None}),
        ("date = {1984/99999}", {"issued_year": 1984, "issued_end_year": None}),
    ],
)
def test_a_five_digit_year_in_bibtex_is_not_read_as_its_first_four_digits(fields, expected):
    """99999 was cited as 9999 and origdate 19591 as 1959: a typo became a plausible year."""
    [entry] = parse(text=bibtex_book(fields)).entries
    assert {name: entry.fields.get(name) for name in expected} == expected


@pytest.mark.parametrize(
    "issued",
    [{"date-parts": [[99999]]}, {"date-parts": [[32768]]}, "99999", {"raw": "99999"}],
)
def test_a_csl_year_past_9999_is_no_date_and_said(issued):
    [entry] = parse(text=csl_json(issued=issued, **{"original-date": issued})).entries
    assert "issued_year" not in entry.fields and "original_year" not in entry.fields
    assert any("which is not a date; it will be cited as “n.d.”" in w for w in entry.warnings)
    assert any("original date" in w and "it is left out" in w for w in entry.warnings)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (csl_json(issued={"date-parts": [[1984], ["x"]]}), '["x"]'),
        (csl_json(issued={"date-parts": [[1984], [99999]]}), "[99999]"),
        (csl_json(issued={"raw": "1984/19xx"}), "19xx"),
        (csl_json(issued="1984/later"), "later"),
        (bibtex_book("date = {1984/x}"), "x"),
        (bibtex_book("date = {1984/99999}"), "99999"),
    ],
    ids=["csl-text", "csl-99999", "csl-raw", "csl-string", "bibtex-text", "bibtex-99999"],
)
def test_a_range_end_that_is_no_year_is_said_not_dropped_in_silence(text, shown):
    [entry] = parse(text=text).entries
    assert entry.fields["issued_year"] == 1984
    assert entry.fields.get("issued_end_year") is None
    assert any(
        f"has a date range ending “{shown}”, which is not a year; it will be cited as 1984" in w
        for w in entry.warnings
    ), entry.warnings


@pytest.mark.parametrize(
    "issued",
    [
        {"date-parts": [[1984]]},
        {"date-parts": [[1984], [1984]]},  # a range ending where it starts is one year
        {"date-parts": [[1984], [1984, 13]]},
        {"raw": "1984/"},  # an open end
        {"raw": "1984/.."},
        "2019/03/05",  # a slashed date, not a range
    ],
)
def test_a_single_year_or_an_open_range_is_cited_by_its_year_without_a_warning(issued):
    [entry] = parse(text=csl_json(issued=issued)).entries
    assert entry.fields.get("issued_end_year") is None
    assert not any("range" in w for w in entry.warnings), entry.warnings


# --- Rendering and the revision diff -----------------------------------------------------------

HOSTILE_BOOK = {
    "id": "k",
    "type": "book",
    "title": "A book",
    "author": [{"family": "Smith", "given": "J."}],
    "translator": [{"family": f"Mallory{XSS}", "given": "A."}],
    "container-author": [{"literal": f"Book author {XSS}"}],
    "issued": {"date-parts": [[1984], [1986]]},
    "original-date": {"date-parts": [[1959]]},
    "original-publisher": f"Leipzig {XSS}",
    "number-of-volumes": "3",
    "title-short": f"Short {XSS}",
    "language": XSS,
    "publisher": "Oxford University Press",
}


def no_live_markup(text: str) -> None:
    assert not re.search(r"<\s*(script|img)\b", text, re.I), text
    assert "onerror=" not in re.sub(r"&lt;.*?&gt;", "", text)


@pytest.mark.parametrize("style", ["apa", "ama"])
def test_hostile_new_fields_render_as_text_in_both_styles(style):
    rendered = render_article(body="[@k]", references={"k": HOSTILE_BOOK}, style=style)
    no_live_markup(rendered.html + rendered.references_html)
    if style == "apa":
        shown = html.unescape(rendered.references_html)
        assert "Leipzig <script>alert(1)</script>" in shown  # kept, as text
        assert "Mallory<script>" in shown and "Book author <script>" in shown


def test_apa_cites_by_a_hostile_short_title_as_text():
    item = {**HOSTILE_BOOK, "author": [], "translator": [], "container-author": []}
    rendered = render_article(body="[@k]", references={"k": item}, style="apa")
    no_live_markup(rendered.html + rendered.references_html)
    assert "alert(1)" in html.unescape(rendered.html)


def test_the_revision_diff_escapes_hostile_new_fields_and_shows_each_change():
    old = {**HOSTILE_BOOK, "language": "de"}
    new = {
        **HOSTILE_BOOK,
        "translator": [{"family": "Doe", "given": XSS}],
        "issued": {"date-parts": [[1984], [1988]]},
        "title-short": f"Other {XSS}",
    }
    base = Revision(number=1, title="T", summary="S", body="B", references_csl=[old])
    changed = Revision(number=2, title="T", summary="S", body="B", references_csl=[new])
    [change] = diff_revisions(base, changed).references
    no_live_markup(change.diff_html)
    text = html.unescape(re.sub(r"<del>.*?</del>|</?ins>", "", change.diff_html, flags=re.S))
    for line in ("translator: Doe, " + XSS, "issued: 1984/1988", f"title-short: Other {XSS}"):
        assert line in text
    assert f"language: {XSS}" in text


# --- A language that would change citeproc ------------------------------------------------------


@pytest.mark.parametrize("typed", ["English", "english", "eng", "American", " en-US "])
def test_english_typed_in_the_admin_is_stored_as_the_import_stores_it(client, typed):
    """AMA title-cases only what citeproc takes for English: "en…" or nothing. "English"
    typed by a careless editor turned AMA's title-casing off for an English title; the
    import already stored every English as empty."""
    reference = make_reference("k1", type="book", title="the title of a book", language="de")
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    assert client.post(url, admin_form_data(client.get(url), language=typed)).status_code == 302
    saved = fresh(reference)
    assert saved.language == ""
    rendered = render_article(body="[@k1]", references={"k1": saved.to_csl()}, style="ama")
    assert "<em>The Title of a Book</em>" in rendered.references_html


@pytest.mark.parametrize("typed", ["fr", "german", "de-DE"])
def test_another_language_typed_in_the_admin_is_kept_as_typed(client, typed):
    reference = make_reference("k1", type="book", title="les rites de passage")
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    assert client.post(url, admin_form_data(client.get(url), language=typed)).status_code == 302
    assert fresh(reference).language == typed


# --- The admin's import preview ------------------------------------------------------------------


def test_the_import_preview_shows_hostile_new_fields_as_text_and_confirm_keeps_them(
    admin_client,
):
    make_reference("k1", type="book", title="A book", issued_year=1984)
    text = csl_json(
        issued={"date-parts": [[1984]]},
        translator=[{"family": "Mallory", "given": XSS}],
        **{"title-short": f"Short {XSS}", "language": HOSTILE_LANGUAGE},
        **{"number-of-volumes": "<b>3</b>", "original-publisher": XSS},
    )
    response = admin_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 200
    page = response.content.decode()
    no_live_markup(page.replace("<script src=", "").replace("<script>\n", ""))
    assert "Short &lt;script&gt;alert(1)&lt;/script&gt;" in page
    fields = confirm_fields(response)
    fields["update_existing"] = "on"
    assert admin_client.post(IMPORT_URL, fields).status_code == 302
    saved = Reference.objects.get(key="k1")
    assert saved.short_title == f"Short {XSS}"
    assert saved.translators == [{"family": "Mallory", "given": XSS}]
    assert (saved.language, saved.number_of_volumes) == (HOSTILE_LANGUAGE, "<b>3</b>")
    assert saved.original_publisher == XSS


# --- JSON of the wrong type where the new fields are text or names ---------------------------


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"translator": "Doe"}, "translator list that is not a list of names"),
        ({"translator": [{"family": ["x"]}]}, "translator with no name in it"),
        ({"container-author": {"family": "x"}}, "book author list that is not a list of names"),
        ({"title-short": ["a"]}, 'title-short “["a"]”, which is not text'),
        ({"language": {"x": 1}}, 'language “{"x": 1}”, which is not text'),
        ({"number-of-volumes": {"x": 1}}, 'number-of-volumes “{"x": 1}”, which is not text'),
        ({"original-publisher": True}, "original-publisher “true”, which is not text"),
        ({"original-date": [1959]}, "original date “[1959]”, which is not a date"),
    ],
)
def test_a_new_field_of_the_wrong_json_type_is_left_out_and_said(extra, said):
    before = snapshot()
    [entry] = parse(text=csl_json(issued={"date-parts": [[1990]]}, **extra)).entries
    assert not {"translators", "container_authors", "short_title", "language"} & set(entry.fields)
    assert not {"number_of_volumes", "original_publisher", "original_year"} & set(entry.fields)
    assert any(said in warning for warning in entry.warnings), entry.warnings
    assert snapshot() == before


# --- Years the admin must not take -------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"issued_year": "0", "issued_end_year": "1986"},  # cited "n.d.", its range lost
        {"original_year": "0"},  # saved, then never cited
        {"original_year": "20000"},
        {"issued_end_year": "10000"},
    ],
    ids=["range-from-year-0", "original-0", "original-20000", "end-10000"],
)
def test_the_admin_refuses_a_year_that_is_no_year(client, changes):
    reference = make_reference("k1", type="book", issued_year=1984)
    client.force_login(make_user(None, "Writer"))
    url = change_url_of(reference)
    data = admin_form_data(client.get(url), **changes)
    before = snapshot()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "A year is a number from 1 to 9999." in response.content.decode()
    assert snapshot() == before
