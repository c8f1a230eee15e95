"""The admin import end to end with RIS, PubMed and CSL-JSON files: a writer logs in on the
admin's login page, uploads, reads the preview, confirms, and finds the references."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from references.models import Reference
from tests.builders import CHANGELIST_URL, IMPORT_URL, PASSWORD, confirm_fields

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")

ENDNOTE_RIS = """TY  - JOUR
AU  - Parker, Sarah J.
AU  - American College of Surgeons,
T1  - Emotional intimacy in adults aged >65: a cohort study
JO  - The Journal of Sex Research
VL  - 56
IS  - 5
SP  - 823
EP  - 8
PY  - 2019
DO  - Doi10.1080/00224499.2019.1565234
UR  - http://example.org/a http://example.org/b
AN  - 30700000
N2  - <b>Abstract</b> with markup that is never shown.
ER  -

TY  - BOOK
AU  - World Health Organization
TI  - Guidelines on physical activity
PY  - 2020
PB  - WHO
CY  - Geneva
SN  - 978-92-4-001512-8
ER  -
"""

PUBMED_NBIB = """PMID- 26000000
OWN - NLM
DP  - 2015 Apr
TI  - Emotional intimacy and conflict resolution in couples.
PG  - 379-92
LID - 10.1111/jomf.12172 [doi]
FAU - Rauer, Amy J
AU  - Rauer AJ
JT  - Journal of marriage and the family
TA  - J Marriage Fam
VI  - 77
IP  - 2
MH  - Humans
"""


def login(client, user) -> None:
    """Through the admin's own login form, as a person does."""
    response = client.post(
        f"{LOGIN_URL}?next={IMPORT_URL}",
        {"username": user.username, "password": PASSWORD, "next": IMPORT_URL},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == IMPORT_URL


def upload(client, name: str, text: str, **extra):
    file = SimpleUploadedFile(name, text.encode("utf-8"))
    return client.post(IMPORT_URL, {"file": file, **extra})


def test_writer_imports_an_endnote_ris_file(client, writer):
    login(client, writer)
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    assert "RIS" in page.content.decode() and "PubMed" in page.content.decode()

    preview = upload(client, "library.ris", ENDNOTE_RIS)
    assert preview.status_code == 200
    html = unescape(preview.content.decode())
    assert "Read as RIS." in html
    assert "parker2019emotional" in html and "worldhealthorganization2020guidelines" in html
    assert "has 2 URLs; the first valid one, http://example.org/a, is kept" in html
    assert "Left out, because the library has no place for them: N2 (1 record)" in html
    assert not Reference.objects.exists()

    response = client.post(IMPORT_URL, confirm_fields(preview))
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST_URL
    parker = Reference.objects.get(key="parker2019emotional")
    assert parker.title == "Emotional intimacy in adults aged >65: a cohort study"
    assert parker.authors == [
        {"family": "Parker", "given": "Sarah J."},
        {"literal": "American College of Surgeons"},
    ]
    assert (parker.pages, parker.doi, parker.pmid) == (
        "823–828",
        "10.1080/00224499.2019.1565234",
        "30700000",
    )
    assert parker.edited_by == writer
    assert Reference.objects.get(key="worldhealthorganization2020guidelines").isbn == (
        "978-92-4-001512-8"
    )
    followed = client.get(CHANGELIST_URL)
    assert "RIS import: 2 new, 0 updated, 0 unchanged." in followed.content.decode()


def test_writer_imports_a_pubmed_nbib_file(client, writer):
    login(client, writer)
    preview = upload(client, "pubmed-export.nbib", PUBMED_NBIB)
    assert preview.status_code == 200
    html = unescape(preview.content.decode())
    assert "Read as PubMed (MEDLINE/nbib)." in html
    assert "rauer2015emotional" in html
    response = client.post(IMPORT_URL, confirm_fields(preview))
    assert response.status_code == 302
    rauer = Reference.objects.get(key="rauer2015emotional")
    assert (rauer.pmid, rauer.doi, rauer.pages, rauer.issued_month) == (
        "26000000",
        "10.1111/jomf.12172",
        "379–392",
        4,
    )
    assert rauer.title == "Emotional intimacy and conflict resolution in couples"
    assert rauer.edited_by == writer


def test_forcing_the_format_in_the_form(client, writer):
    login(client, writer)
    preview = upload(client, "library.txt", ENDNOTE_RIS, format="ris")
    assert confirm_fields(preview)["format"] == "ris"
    # Asking for the wrong format previews nothing to import, and says what was expected.
    wrong = upload(client, "library.txt", ENDNOTE_RIS, format="bibtex")
    assert wrong.status_code == 200
    assert "No BibTeX entries were found" in unescape(wrong.content.decode())
    assert "There is nothing to import." in wrong.content.decode()


def test_invalid_csl_json_is_refused_naming_the_item_and_line(client, writer):
    login(client, writer)
    text = '[\n  {"id": "a", "type": "book", "title": "A"},\n  {"id": "b" "title": "B"}\n]'
    response = upload(client, "library.json", text)
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "The CSL-JSON is not valid JSON: Expecting ',' delimiter at line 3, column 14" in html
    assert "in item 2 (which starts at line 3)" in html
    assert not Reference.objects.exists()


def test_malformed_ris_record_is_shown_as_failed_and_never_written(client, writer):
    login(client, writer)
    broken = ENDNOTE_RIS.replace("VL  - 56\n", "VL  - 56\ngarbage that is not a tag\n")
    preview = upload(client, "library.ris", broken)
    assert preview.status_code == 200
    html = unescape(preview.content.decode())
    assert "line 7 is not an RIS line (“TAG  - value”): “garbage that is not a tag”" in html
    assert client.post(IMPORT_URL, confirm_fields(preview)).status_code == 302
    # Only the readable record was imported; the broken one is reported, not guessed at.
    assert list(Reference.objects.values_list("key", flat=True)) == [
        "worldhealthorganization2020guidelines"
    ]


def test_titles_with_italics_are_shown_as_italics_and_nothing_else_is_html(client, writer):
    login(client, writer)
    bib = (
        "@article{k, title={\\emph{In vivo} <script>alert(1)</script> imaging},"
        " year=2020, author={<img src=x onerror=alert(1)>}}"
    )
    response = client.post(IMPORT_URL, {"text": bib})
    html = response.content.decode()
    assert "<i>In vivo</i>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
