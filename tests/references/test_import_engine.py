"""The format-neutral engine: preview (plan) → confirm (apply), all or nothing, duplicates
by key and by DOI across formats, made-up keys that meet the library, and the admin's
signed confirm refusing anything but what was previewed."""

from __future__ import annotations

import json
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.core import signing

from references.importing import (
    InputError,
    Status,
    apply_import,
    format_names,
    parse,
    plan_import,
    text_sha256,
)
from references.models import Reference
from tests.builders import IMPORT_URL, confirm_fields, make_writer, snapshot

pytestmark = pytest.mark.django_db


BIB = """@article{parker2019,
  author = {Parker, Sarah J. and Lee, Kim},
  title = {Emotional Intimacy and Sexual Satisfaction},
  journal = {The Journal of Sex Research},
  year = 2019, volume = 56, number = 5, pages = {545--556},
  doi = {10.1080/00224499.2019.1565234},
}
"""

RIS = """TY  - JOUR
AU  - Rauer, Amy J.
TI  - Emotional intimacy and conflict resolution in couples
T2  - Journal of Marriage and Family
PY  - 2015
VL  - 77
SP  - 379
EP  - 92
DO  - 10.1111/jomf.12172
ER  -

TY  - JOUR
AU  - Parker, Sarah J.
TI  - Emotional intimacy and sexual satisfaction
T2  - The Journal of Sex Research
PY  - 2019
DO  - https://doi.org/10.1080/00224499.2019.1565234
ER  -
"""

CSL = json.dumps(
    [
        {
            "id": "parker2019",
            "type": "article-journal",
            "title": "Emotional intimacy and sexual satisfaction",
            "container-title": "The Journal of Sex Research",
            "volume": "56",
            "issue": "5",
            "page": "545-556",
            "DOI": "10.1080/00224499.2019.1565234",
            "PMID": "30700000",
            "author": [
                {"family": "Parker", "given": "Sarah J."},
                {"family": "Lee", "given": "Kim"},
            ],
            "issued": {"date-parts": [[2019]]},
        }
    ],
    indent=2,
)

NBIB = """PMID- 26000000
TI  - Emotional intimacy and conflict resolution in couples.
DP  - 2015 Apr
FAU - Rauer, Amy J
AU  - Rauer AJ
JT  - Journal of marriage and the family
VI  - 77
PG  - 379-92
LID - 10.1111/JOMF.12172 [doi]
"""


def plan(text: str, **kwargs):
    return plan_import(parsed=parse(text=text, **kwargs))


def test_every_format_is_offered():
    assert set(format_names()) == {"bibtex", "ris", "csl-json", "nbib"}


@pytest.mark.parametrize(
    ("text", "format"), [(BIB, "bibtex"), (RIS, "ris"), (CSL, "csl-json"), (NBIB, "nbib")]
)
def test_format_is_told_from_the_content(text, format):
    assert plan(text).format == format


def test_format_can_be_forced():
    # RIS read as BibTeX finds no entries, and says what the import reads.
    forced = plan(RIS, format="bibtex")
    assert forced.format == "bibtex"
    assert forced.items == []
    assert forced.warnings[0].startswith("No BibTeX entries were found in the text.")
    with pytest.raises(InputError, match="Unknown format “endnote”"):
        parse(text=RIS, format="endnote")


def test_preview_then_confirm_writes_exactly_the_plan():
    writer = make_writer("writer")
    preview = plan(RIS)
    assert [(i.key, i.status, i.line, i.record) for i in preview.items] == [
        ("rauer2015emotional", Status.NEW, 1, 1),
        ("parker2019emotional", Status.NEW, 12, 2),
    ]
    assert not Reference.objects.exists()  # the preview writes nothing
    result = apply_import(plan=preview, update_existing=False, actor=writer)
    assert result.created == ["rauer2015emotional", "parker2019emotional"]
    rauer = Reference.objects.get(key="rauer2015emotional")
    assert (rauer.pages, rauer.doi, rauer.edited_by) == ("379–392", "10.1111/jomf.12172", writer)
    # The same file again: the made-up keys are the same, so nothing changes.
    before = snapshot()
    again = plan(RIS)
    assert again.counts["unchanged"] == 2
    apply_import(plan=again, update_existing=True)
    assert snapshot() == before


def test_all_or_nothing_when_the_library_changes_under_the_plan():
    preview = plan(RIS)
    Reference.objects.create(key="other", title="Took the DOI", doi="10.1111/JOMF.12172")
    before = snapshot()
    result = apply_import(plan=preview, update_existing=False)
    assert not result.applied
    assert result.created == []
    assert result.errors == [
        "entry rauer2015emotional (line 1): the DOI 10.1111/jomf.12172 now belongs to the "
        "reference other"
    ]
    assert snapshot() == before


# --- Duplicates across formats ----------------------------------------------------------


def test_same_key_from_another_format_is_that_reference():
    apply_import(plan=plan(BIB), update_existing=False)
    stored = Reference.objects.get(key="parker2019")
    assert stored.title == "Emotional intimacy and sexual satisfaction"  # sentence case
    [item] = plan(CSL).items
    # CSL-JSON's id is the key: the same reference, with what the file adds (a PMID).
    assert (item.key, item.status) == ("parker2019", Status.CHANGED)
    assert [(c.field, c.old, c.new) for c in item.changes] == [("pmid", "", "30700000")]


def test_same_doi_from_another_format_is_a_duplicate():
    apply_import(plan=plan(BIB), update_existing=False)
    preview = plan(RIS)
    assert [(i.key, i.status) for i in preview.items] == [
        ("rauer2015emotional", Status.NEW),
        ("parker2019emotional", Status.DUPLICATE),
    ]
    assert preview.duplicates[0].reason == (
        "the DOI 10.1080/00224499.2019.1565234 already belongs to the reference parker2019 in "
        "the library"
    )


def test_same_doi_in_pubmed_and_ris_is_one_work():
    apply_import(plan=plan(RIS), update_existing=False)
    [item] = plan(NBIB).items
    # PubMed's key is made the same way, and the DOI matches whatever its case.
    assert (item.key, item.status) == ("rauer2015emotional", Status.CHANGED)
    assert {c.field for c in item.changes} >= {"pmid", "container_title"}


def test_made_up_key_of_another_work_takes_the_next_letter():
    Reference.objects.create(
        key="rauer2015emotional", title="Emotional development in adolescence", issued_year=2015
    )
    [item, _] = plan(RIS).items
    assert (item.key, item.status) == ("rauer2015emotionala", Status.NEW)
    assert item.warnings == [
        "entry rauer2015emotionala (line 1): the key rauer2015emotional belongs to another "
        "work in the library (Emotional development in adolescence, 2015), so this one is "
        "imported as rauer2015emotionala"
    ]


def test_made_up_key_of_the_same_work_is_that_reference():
    Reference.objects.create(
        key="rauer2015emotional",
        title="Emotional intimacy and conflict resolution in couples",
        issued_year=2015,
    )
    [item, _] = plan(RIS).items
    assert (item.key, item.status) == ("rauer2015emotional", Status.CHANGED)


def test_a_bibtex_key_is_never_moved():
    Reference.objects.create(key="parker2019", title="Something else", issued_year=2001)
    [item] = plan(BIB).items
    assert (item.key, item.status) == ("parker2019", Status.CHANGED)


def test_an_unreadable_file_raises_before_anything_is_planned():
    with pytest.raises(InputError, match="not valid JSON"):
        plan('[{"id": "a", "title": "A"},]')
    assert not Reference.objects.exists()


# --- The admin's signed confirm ---------------------------------------------------------


@pytest.fixture
def previewed(admin_client):
    response = admin_client.post(IMPORT_URL, {"text": RIS})
    assert response.status_code == 200
    fields = confirm_fields(response)
    assert fields["format"] == "ris"
    return fields


def test_confirm_imports_what_was_previewed(admin_client, previewed):
    response = admin_client.post(IMPORT_URL, previewed)
    assert response.status_code == 302
    assert sorted(Reference.objects.values_list("key", flat=True)) == [
        "parker2019emotional",
        "rauer2015emotional",
    ]
    assert [str(m) for m in response.wsgi_request._messages] == [
        "RIS import: 2 new, 0 updated, 0 unchanged."
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"text": RIS.replace("Rauer, Amy J.", "Someone, Else")},
            "not the text that was previewed",
        ),
        ({"format": "bibtex"}, "not the text that was previewed"),
        ({"format": "no-such-format"}, "Unknown format."),
        ({"signature": "forged"}, "not one this site issued"),
    ],
)
def test_a_changed_confirm_is_refused_and_nothing_is_written(
    admin_client, previewed, change, message
):
    before = snapshot()
    response = admin_client.post(IMPORT_URL, {**previewed, **change})
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert snapshot() == before
    assert before.references == []


def test_a_signature_for_another_salt_is_refused(admin_client, previewed):
    user = User.objects.get(username="admin")
    forged = signing.dumps(
        {"user": user.pk, "sha256": text_sha256(RIS), "format": "ris", "plan": "x"},
        salt="some-other-salt",
    )
    response = admin_client.post(IMPORT_URL, {**previewed, "signature": forged})
    assert response.status_code == 400
    assert not Reference.objects.exists()


def test_an_expired_preview_is_refused(admin_client, previewed, monkeypatch):
    from references import admin as reference_admin

    monkeypatch.setattr(reference_admin, "_PREVIEW_MAX_AGE", -1)
    response = admin_client.post(IMPORT_URL, previewed)
    assert response.status_code == 400
    assert "more than an hour old" in response.content.decode()
    assert not Reference.objects.exists()
