"""A work already in the library comes back in another format, its DOI written another way
(a link, "doi:", upper case, inside an HTML note, percent-encoded): it is a duplicate, and
confirming the import leaves the library's rows exactly as they were."""

from __future__ import annotations

import json
from html import unescape

import pytest

from references.importing import Status, apply_import, preview
from references.models import Reference
from tests.builders import IMPORT_URL, confirm_fields, make_reference, snapshot

pytestmark = pytest.mark.django_db

IN_LIBRARY = "10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-0"


def ris(doi_lines: str, title: str = "Another title for the same work") -> str:
    return f"TY  - JOUR\nAU  - Parker, Sarah J.\nTI  - {title}\nPY  - 2019\n{doi_lines}\nER  - \n"


SAME_DOI = {
    "RIS DO as a link": ris(f"DO  - https://doi.org/{IN_LIBRARY.upper()}"),
    "RIS DO with doi:": ris(f"DO  - doi:{IN_LIBRARY}"),
    "RIS HTML note": ris(f"N1  - <p>Published as doi:{IN_LIBRARY}</p>"),
    "RIS percent-encoded link": ris(
        "UR  - https://doi.org/10.1002/%28SICI%291097-4571%28199806%2949%3A8%3C693"
        "%3A%3AAID-ASI4%3E3.0.CO%3B2-0"
    ),
    "PubMed LID": f"PMID- 9999999\nTI  - Same work.\nDP  - 2019\nLID - {IN_LIBRARY} [doi]\n",
    "CSL-JSON under another id": json.dumps(
        [{"id": "other2019", "type": "article-journal", "title": "T", "DOI": IN_LIBRARY}]
    ),
}


@pytest.fixture
def library():
    make_reference("parker2019", doi=IN_LIBRARY)
    return snapshot()


@pytest.mark.parametrize("text", SAME_DOI.values(), ids=SAME_DOI.keys())
def test_the_same_doi_written_another_way_is_a_duplicate_and_nothing_is_written(library, text):
    plan = preview(text=text)
    [item] = plan.items
    assert item.status == Status.DUPLICATE, (item.status, item.reason, item.fields.get("doi"))
    assert "already belongs to the reference parker2019 in the library" in item.reason
    result = apply_import(plan=plan, update_existing=True)
    assert (result.created, result.updated, result.duplicates) == ([], [], 1)
    assert snapshot() == library


def test_the_same_doi_twice_in_one_ris_file_imports_the_first_only():
    text = ris("DO  - 10.1000/twice", "First") + "\n" + ris("DO  - 10.1000/TWICE", "Second")
    plan = preview(text=text)
    assert [(item.status, item.line) for item in plan.items] == [
        (Status.NEW, 1),
        (Status.DUPLICATE, 8),
    ]
    assert plan.items[1].reason == (
        "the DOI 10.1000/TWICE is also on entry parker2019first (line 1) in this file"
    )
    apply_import(plan=plan, update_existing=False)
    assert list(Reference.objects.values_list("doi", flat=True)) == ["10.1000/twice"]


def test_the_admin_previews_the_duplicate_and_confirming_writes_only_the_new_work(
    admin_client, library
):
    text = SAME_DOI["RIS HTML note"] + "\n" + ris("DO  - 10.1000/new", "A new work")
    response = admin_client.post(IMPORT_URL, {"text": text})
    assert response.status_code == 200
    assert "already belongs to the reference parker2019" in unescape(response.content.decode())
    assert admin_client.post(IMPORT_URL, confirm_fields(response)).status_code == 302
    assert sorted(Reference.objects.values_list("key", "doi")) == [
        ("parker2019", IN_LIBRARY),
        ("parker2019new", "10.1000/new"),
    ]
    assert [r for r in snapshot().references if r in library.references] == library.references
