"""The reference admin: list, search, name editing, and the two-step BibTeX import."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from references.bibtex import text_sha256
from references.models import Reference
from tests.builders import (
    CHANGELIST_URL,
    IMPORT_URL,
    confirm_fields,
    make_article,
    make_category,
    make_user,
    make_writer,
    snapshot,
)

pytestmark = pytest.mark.django_db


BIB = """@article{parker2019,
  author = {Parker, Sarah J. and Lee, Kim},
  title = {Emotional intimacy and sexual satisfaction},
  journal = {The Journal of Sex Research},
  year = 2019, volume = 56, number = 4, pages = {540--552},
  doi = {10.1080/00224499.2019.1565234},
}

@book{apa2013,
  author = {{American Psychiatric Association}},
  title = {{Diagnostic and Statistical Manual of Mental Disorders}},
  year = 2013, edition = 5,
}

@article{untitled,
  year = 2000,
}

@article{parker2019,
  title = {A second parker2019},
  year = 2020,
}
"""


def staff(username: str, *codenames: str) -> User:
    user = make_user(username, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="references", codename__in=codenames)
    )
    return user


def preview(client, text: str = BIB):
    response = client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 200
    return response


# --- The changelist ---------------------------------------------------------------------


def test_changelist_has_the_import_button_and_columns(admin_client):
    Reference.objects.create(
        key="parker2019",
        title="Emotional intimacy",
        authors=[{"family": "Parker", "given": "S."}, {"family": "Lee", "given": "K."}],
        issued_year=2019,
        doi="10.1000/x",
    )
    user = make_writer("writer")
    category = make_category(name="C", slug="c")
    for slug in ("a", "b"):
        make_article(
            user, slug=slug, category=category, title=slug, summary="s", body="[@parker2019]"
        )
    response = admin_client.get(CHANGELIST_URL)
    html = response.content.decode()
    assert f'href="{IMPORT_URL}"' in html
    assert "Import BibTeX" in html
    assert "Parker &amp; Lee, 2019" in html
    assert "2 articles" in html
    assert "10.1000/x" in html
    assert "By type" in html and "By year" in html


def test_import_button_is_hidden_without_add_permission(client):
    client.force_login(staff("viewer", "view_reference"))
    response = client.get(CHANGELIST_URL)
    assert response.status_code == 200
    assert "Import BibTeX" not in response.content.decode()


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("parker", {"parker2019"}),  # key and author
        ("Özge", {"aksin2006"}),  # a non-ASCII author name
        ("Aksın", {"aksin2006"}),
        ("intimacy", {"parker2019"}),  # title
        ("https://doi.org/10.1063/1.2172593", {"aksin2006"}),  # DOI pasted as a link
        ("Organomet", {"aksin2006"}),  # journal
        ("World Health", {"who2020"}),  # a literal name
        ("nobody", set()),
    ],
)
def test_search_by_key_author_title_doi(admin_client, term, expected):
    Reference.objects.create(
        key="parker2019", title="Emotional intimacy", authors=[{"family": "Parker", "given": "S."}]
    )
    Reference.objects.create(
        key="aksin2006",
        title="Effect of immobilization",
        authors=[{"family": "Aksın", "given": "Özge"}],
        container_title="J. Organomet. Chem.",
        doi="10.1063/1.2172593",
    )
    Reference.objects.create(
        key="who2020",
        title="Mental health atlas",
        authors=[{"literal": "World Health Organization"}],
    )
    response = admin_client.get(CHANGELIST_URL, {"q": term})
    assert {ref.key for ref in response.context["cl"].result_list} == expected


# --- Editing one reference --------------------------------------------------------------


def change_form_data(**overrides) -> dict[str, str]:
    data = {
        "key": "roe2020",
        "type": "article-journal",
        "title": "A title",
        "authors": "Roe, Jane\nAristotle,\n{University of California, Berkeley}\nWHO",
        "editors": "",
        "issued_year": "2020",
        "doi": "https://doi.org/10.1000/ABC",
        "pmid": "PMID: 123",
    }
    data.update(overrides)
    return data


def test_authors_are_edited_one_per_line(admin_client):
    response = admin_client.post(reverse("admin:references_reference_add"), change_form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors
    ref = Reference.objects.get(key="roe2020")
    assert ref.authors == [
        {"family": "Roe", "given": "Jane"},
        {"family": "Aristotle"},
        {"literal": "University of California, Berkeley"},
        {"literal": "WHO"},
    ]
    # The model's clean() normalizes identifiers.
    assert (ref.doi, ref.pmid) == ("10.1000/ABC", "123")
    response = admin_client.get(reverse("admin:references_reference_change", args=[ref.pk]))
    assert "Roe, Jane\nAristotle,\n{University of California, Berkeley}\nWHO" in unescape(
        response.content.decode()
    )


def test_bad_doi_and_key_are_form_errors_not_crashes(admin_client):
    response = admin_client.post(
        reverse("admin:references_reference_add"),
        change_form_data(key="bad key!", doi="nonsense", authors=", Jane"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "A citation key starts and ends" in errors["key"][0]
    assert "is not a DOI" in errors["doi"][0]
    assert "has no family name" in errors["authors"][0]
    assert not Reference.objects.exists()


# --- Import: upload and preview ---------------------------------------------------------


def test_import_page_is_an_admin_page(admin_client):
    response = admin_client.get(IMPORT_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="breadcrumbs"' in html
    assert 'type="file"' in html and "<textarea" in html
    assert 'enctype="multipart/form-data"' in html


def test_preview_shows_every_group_and_writes_nothing(admin_client):
    Reference.objects.create(key="apa2013", title="DSM-IV", issued_year=1994, type="book")
    before = snapshot()
    response = preview(admin_client)
    plan = response.context["plan"]
    assert plan.counts == {"new": 1, "changed": 1, "unchanged": 0, "duplicate": 1, "failed": 1}
    html = unescape(response.content.decode())
    assert "nothing has been imported yet" in html
    assert "parker2019" in html
    # The changed entry, field by field, library → file.
    assert "DSM-IV" in html and "Diagnostic and Statistical Manual of Mental Disorders" in html
    # Failed with its line and reason; duplicate with its reason.
    assert re.search(r"<td>15</td><td>untitled</td><td>has no title", html)
    assert "the key parker2019 is used twice in this file" in html
    assert 'name="update_existing"' in html
    assert snapshot() == before


def test_upload_a_file(admin_client):
    upload = SimpleUploadedFile("refs.bib", BIB.encode(), content_type="application/x-bibtex")
    response = admin_client.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 200
    assert response.context["plan"].counts["new"] == 2
    assert not Reference.objects.exists()


def test_non_utf8_upload_is_refused_with_a_clear_message(admin_client):
    upload = SimpleUploadedFile("refs.bib", "@book{k, title={Müller}}".encode("latin-1"))
    response = admin_client.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 400
    assert "not UTF-8: byte 0xfc at byte offset 17 (line 1)" in unescape(response.content.decode())
    assert not Reference.objects.exists()


def test_six_megabyte_upload_is_refused_before_parsing(admin_client):
    entry = "@misc{k%d, title={T}, note={%s}}\n"
    data = "".join(entry % (i, "x" * 1000) for i in range(6_200)).encode()
    assert 6 * 1024 * 1024 < len(data) < 7 * 1024 * 1024
    response = admin_client.post(IMPORT_URL, {"file": SimpleUploadedFile("big.bib", data)})
    assert response.status_code == 400
    assert "more than 5 MB" in response.content.decode()
    assert "manage.py import_references" in response.content.decode()
    assert not Reference.objects.exists()


def test_ten_megabyte_request_is_refused_before_the_form_sees_it(admin_client):
    # Bodies over the site's request limit never reach the import (clinic_site middleware).
    entry = "@misc{k%d, title={T}, note={%s}}\n"
    data = "".join(entry % (i, "x" * 1000) for i in range(10_500)).encode()
    assert len(data) > 10 * 1024 * 1024
    response = admin_client.post(IMPORT_URL, {"file": SimpleUploadedFile("big.bib", data)})
    assert response.status_code in (400, 413)
    assert not Reference.objects.exists()


def test_oversized_paste_is_refused(admin_client):
    text = "@misc{k, title={T}, note={" + "x" * (5 * 1024 * 1024) + "}}"
    response = admin_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 400
    assert "more than 5 MB" in response.content.decode()
    assert not Reference.objects.exists()


def test_empty_form_asks_for_input(admin_client):
    response = admin_client.post(IMPORT_URL, {"text": "  "})
    assert response.status_code == 400
    assert (
        "Choose a file or paste references (BibTeX, RIS, CSL-JSON or PubMed)."
        in response.content.decode()
    )


def test_html_in_an_entry_is_escaped_in_the_preview(admin_client):
    response = preview(admin_client, "@article{x, title={<script>alert(1)</script>}, year=2000}")
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Import: confirm --------------------------------------------------------------------


def test_confirm_imports_exactly_what_was_previewed(admin_client):
    fields = confirm_fields(preview(admin_client))
    assert not Reference.objects.exists()
    response = admin_client.post(IMPORT_URL, fields)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST_URL
    assert sorted(Reference.objects.values_list("key", flat=True)) == ["apa2013", "parker2019"]
    assert Reference.objects.get(key="parker2019").title == (
        "Emotional intimacy and sexual satisfaction"
    )
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "BibTeX import: 2 new, 0 updated, 0 unchanged, 1 duplicates skipped, 1 failed and skipped."
    ]


def test_confirm_with_crlf_line_breaks_from_the_browser(admin_client):
    fields = confirm_fields(preview(admin_client))
    fields["text"] = fields["text"].replace("\n", "\r\n")
    assert admin_client.post(IMPORT_URL, fields).status_code == 302
    assert Reference.objects.count() == 2


def test_changed_entries_are_updated_only_when_ticked(admin_client):
    Reference.objects.create(key="apa2013", title="DSM-IV", issued_year=1994, type="book")
    fields = confirm_fields(preview(admin_client))
    admin_client.post(IMPORT_URL, fields)
    assert Reference.objects.get(key="apa2013").title == "DSM-IV"

    fields = confirm_fields(preview(admin_client))
    response = admin_client.post(IMPORT_URL, {**fields, "update_existing": "on"})
    assert response.status_code == 302
    assert Reference.objects.get(key="apa2013").title == (
        "Diagnostic and Statistical Manual of Mental Disorders"
    )


def test_edited_text_is_refused_and_nothing_is_written(admin_client):
    fields = confirm_fields(preview(admin_client))
    fields["text"] = fields["text"].replace("Emotional intimacy", "Something else entirely")
    response = admin_client.post(IMPORT_URL, fields)
    assert response.status_code == 400
    assert "not the text that was previewed" in response.content.decode()
    assert not Reference.objects.exists()


def test_forged_signature_is_refused_and_nothing_is_written(admin_client):
    fields = confirm_fields(preview(admin_client))
    fields["signature"] = signing.dumps(
        {"user": 1, "sha256": text_sha256(fields["text"]), "plan": "x"}, salt="some-other-salt"
    )
    response = admin_client.post(IMPORT_URL, fields)
    assert response.status_code == 400
    assert "not one this site issued" in response.content.decode()
    assert not Reference.objects.exists()


def test_missing_signature_is_refused(admin_client):
    fields = confirm_fields(preview(admin_client))
    del fields["signature"]
    assert admin_client.post(IMPORT_URL, fields).status_code == 400
    assert not Reference.objects.exists()


def test_another_users_confirmation_is_refused(admin_client, client):
    fields = confirm_fields(preview(admin_client))
    client.force_login(staff("other", "add_reference", "change_reference"))
    response = client.post(IMPORT_URL, fields)
    assert response.status_code == 400
    assert not Reference.objects.exists()


def test_library_changed_since_preview_shows_a_new_preview(admin_client):
    fields = confirm_fields(preview(admin_client))
    Reference.objects.create(key="apa2013", title="Added meanwhile", type="book")
    before = snapshot()
    response = admin_client.post(IMPORT_URL, fields)
    assert response.status_code == 200
    assert "The library changed since your preview" in response.content.decode()
    assert response.context["plan"].counts["changed"] == 1
    assert snapshot() == before


# --- Permissions ------------------------------------------------------------------------


def test_staff_without_add_permission_gets_403(client):
    client.force_login(staff("viewer", "view_reference", "change_reference"))
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"text": BIB}).status_code == 403
    assert not Reference.objects.exists()


def test_forged_confirm_without_add_permission_gets_403(client, admin_user):
    user = staff("viewer", "view_reference")
    client.force_login(user)
    text = "@article{k, title={T}, year=2000}"
    signature = signing.dumps(
        {"user": user.pk, "sha256": text_sha256(text), "plan": "x"},
        salt="references.admin.bibtex-import",
        compress=True,
    )
    response = client.post(IMPORT_URL, {"confirm": "1", "text": text, "signature": signature})
    assert response.status_code == 403
    assert not Reference.objects.exists()


def test_updating_needs_change_permission(client):
    Reference.objects.create(key="apa2013", title="DSM-IV", issued_year=1994, type="book")
    before = snapshot()
    client.force_login(staff("adder", "add_reference", "view_reference"))
    response = preview(client)
    assert 'name="update_existing"' not in response.content.decode()
    fields = confirm_fields(response)
    assert client.post(IMPORT_URL, {**fields, "update_existing": "on"}).status_code == 403
    assert snapshot() == before
    # Without the box ticked the same user may add the new entries.
    assert client.post(IMPORT_URL, fields).status_code == 302
    assert Reference.objects.get(key="apa2013").title == "DSM-IV"
    assert Reference.objects.filter(key="parker2019").exists()


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
