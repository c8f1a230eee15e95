"""Two people editing one reference: the second save, from a page loaded before the first,
is refused with a message and loses nothing of the first correction (as for articles)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from references.models import Reference
from tests.builders import admin_form_data, make_reference, make_user

pytestmark = pytest.mark.django_db


def test_a_save_from_a_stale_page_is_refused_and_keeps_the_first_correction(client):
    reference = make_reference("parker2019", title="Original title")
    first, second = make_user(None, "Writer"), make_user(None, "Writer")
    url = reverse("admin:references_reference_change", args=[reference.pk])
    client.force_login(first)
    page_first = client.get(url)
    client.force_login(second)
    page_second = client.get(url)

    client.force_login(first)
    response = client.post(url, admin_form_data(page_first, title="First correction"))
    assert response.status_code == 302
    client.force_login(second)
    response = client.post(url, admin_form_data(page_second, volume="99"))
    assert response.status_code == 200
    assert "Someone else saved this reference after you opened it" in response.content.decode()
    reference = Reference.objects.get(pk=reference.pk)
    assert (reference.title, reference.volume) == ("First correction", "56")
    assert reference.edited_by == first


def test_an_import_in_between_makes_the_open_page_stale(client):
    from references.importing import apply_import, preview

    reference = make_reference("parker2019", title="Original title", doi="10.1000/parker")
    editor = make_user(None, "Writer")
    url = reverse("admin:references_reference_change", args=[reference.pk])
    client.force_login(editor)
    page = client.get(url)
    text = "@article{parker2019, title={Imported title}, year={2019}, doi={10.1000/parker}}"
    result = apply_import(plan=preview(text=text), update_existing=True)
    assert result.applied and result.updated == ["parker2019"]
    response = client.post(url, admin_form_data(page, volume="99"))
    assert response.status_code == 200
    assert Reference.objects.get(pk=reference.pk).volume == "56"
