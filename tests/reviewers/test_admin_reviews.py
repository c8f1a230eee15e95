"""Reviews (signed decisions) in the admin: viewable, never added, changed or deleted by
anyone; reviewer profiles are managed by editors."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from articles.models import Review
from reviewers.models import Reviewer
from tests.builders import (
    article_in,
    make_editor,
    make_physician,
    make_superuser,
    make_writer,
    snapshot,
)

pytestmark = pytest.mark.django_db


def review_rows() -> list[tuple]:
    return list(
        Review.objects.order_by("pk").values_list(
            "pk", "decision", "comment", "revision_hash", "reviewer_name", "created_at"
        )
    )


@pytest.fixture
def signed():
    s = article_in("live")
    return s, Review.objects.get(revision=s.revision)


@pytest.fixture(params=["superuser", "editor", "writer", "physician"])
def staff(request):
    return {
        "superuser": make_superuser,
        "editor": make_editor,
        "writer": make_writer,
        "physician": make_physician,
    }[request.param]()


# --- Review ------------------------------------------------------------------------------


def test_review_changelist_is_viewable(client, signed, staff):
    _, review = signed
    client.force_login(staff)
    response = client.get(reverse("admin:articles_review_changelist"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [review.pk]
    html = response.content.decode()
    assert reverse("admin:articles_review_add") not in html


def test_review_change_page_is_read_only(client, signed, staff):
    _, review = signed
    client.force_login(staff)
    response = client.get(reverse("admin:articles_review_change", args=[review.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert reverse("admin:articles_review_delete", args=[review.pk]) not in html


def test_review_change_post_is_403_and_changes_nothing(client, signed, staff):
    s, review = signed
    client.force_login(staff)
    before, rows = snapshot(s.article), review_rows()
    response = client.post(
        reverse("admin:articles_review_change", args=[review.pk]),
        {"decision": "request_changes", "comment": "rewritten", "_save": "Save"},
    )
    assert response.status_code == 403
    assert snapshot(s.article) == before
    assert review_rows() == rows


def test_review_delete_and_add_are_403(client, signed, staff):
    s, review = signed
    client.force_login(staff)
    before, rows = snapshot(s.article), review_rows()
    delete = reverse("admin:articles_review_delete", args=[review.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    add = reverse("admin:articles_review_add")
    assert client.get(add).status_code == 403
    assert (
        client.post(
            add,
            {
                "revision": s.revision.pk,
                "reviewer": review.reviewer_id,
                "decision": "approve",
                "revision_hash": s.revision.content_hash,
            },
        ).status_code
        == 403
    )
    assert snapshot(s.article) == before
    assert review_rows() == rows


def test_review_bulk_delete_deletes_nothing(client, signed):
    s, review = signed
    client.force_login(make_superuser())
    rows = review_rows()
    response = client.post(
        reverse("admin:articles_review_changelist"),
        {"action": "delete_selected", "_selected_action": [review.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert review_rows() == rows
    assert s.revision.approval_id == review.pk


def test_review_model_admin_permissions_for_a_superuser(rf, signed):
    _, review = signed
    model_admin = admin.site._registry[Review]
    request = rf.get("/")
    request.user = make_superuser()
    assert model_admin.has_view_permission(request, review)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, review)
    assert not model_admin.has_delete_permission(request, review)


def test_reviews_are_signed_records_below_the_admin(signed):
    _, review = signed
    with pytest.raises(ValueError, match="signed record"):
        review.delete()
    review.comment = "changed"
    with pytest.raises(ValueError, match="signed record"):
        review.save()


# --- Reviewer profiles -------------------------------------------------------------------


def reviewer_form(user, **changes) -> dict:
    data = {
        "user": user.pk,
        "display_name": "Jane Roe",
        "credentials": "D.O.",
        "title": "Staff Psychiatrist",
        "board_certifications": "General Psychiatry",
        "specialties": "Anxiety",
        "bio": "",
        "photo_alt": "",
        "slug": "jane-roe",
        "active": "on",
        "_save": "Save",
    }
    data.update(changes)
    return data


def test_editor_adds_a_reviewer_profile(client):
    doctor = make_writer("jane")
    client.force_login(make_editor())
    response = client.post(reverse("admin:reviewers_reviewer_add"), reviewer_form(doctor))
    assert response.status_code == 302
    profile = Reviewer.objects.get(user=doctor)
    assert profile.byline_name == "Jane Roe, D.O."
    assert profile.active


def test_editor_deactivates_a_reviewer_who_then_cannot_approve(client):
    s = article_in("pending")
    profile = s.physician.reviewer_profile
    client.force_login(s.editor)
    url = reverse("admin:reviewers_reviewer_change", args=[profile.pk])
    data = reviewer_form(
        s.physician,
        display_name=profile.display_name,
        credentials=profile.credentials,
        slug=profile.slug,
    )
    data.pop("active")
    assert client.post(url, data).status_code == 302
    assert not Reviewer.objects.get(pk=profile.pk).active
    from tests.builders import approve_data, step_url

    client.force_login(s.physician)
    before = snapshot(s.article)
    response = client.post(step_url("approve", s.revision), approve_data(s.revision))
    assert response.status_code == 403
    assert snapshot(s.article) == before


@pytest.mark.parametrize("role", ["writer", "physician"])
def test_writers_and_physicians_cannot_change_reviewer_profiles(client, role):
    s = article_in("draft")
    profile = s.physician.reviewer_profile
    client.force_login(s.author if role == "writer" else s.physician)
    url = reverse("admin:reviewers_reviewer_change", args=[profile.pk])
    assert client.get(url).status_code == 200  # view only
    response = client.post(
        url,
        reviewer_form(
            s.physician, display_name="Dr. Impostor", credentials="M.D.", slug=profile.slug
        ),
    )
    assert response.status_code == 403
    assert Reviewer.objects.get(pk=profile.pk).display_name == profile.display_name
    assert client.get(reverse("admin:reviewers_reviewer_add")).status_code == 403


def test_a_profile_change_does_not_rewrite_a_signed_review(client, signed):
    s, review = signed
    profile = s.physician.reviewer_profile
    client.force_login(s.editor)
    data = reviewer_form(
        s.physician, display_name="Renamed Doctor", credentials="D.O.", slug=profile.slug
    )
    assert (
        client.post(reverse("admin:reviewers_reviewer_change", args=[profile.pk]), data).status_code
        == 302
    )
    review = Review.objects.get(pk=review.pk)
    assert review.byline_name != "Renamed Doctor, D.O."
    assert review.reviewer_name == profile.display_name


# --- Choosing the profile's account --------------------------------------------------------


def test_the_add_page_picks_the_account_by_name_not_by_id(client):
    client.force_login(make_editor())
    response = client.get(reverse("admin:reviewers_reviewer_add"))
    assert response.status_code == 200
    html = response.content.decode()
    # Django's autocomplete (select2) widget over the User admin's search, not a raw id box.
    assert 'class="admin-autocomplete' in html
    assert 'data-field-name="user"' in html
    assert f'data-ajax--url="{reverse("admin:autocomplete")}"' in html
    assert "vForeignKeyRawIdAdminField" not in html


def test_the_autocomplete_finds_the_account_by_name_for_an_editor(client):
    doctor = make_writer("jroe")
    doctor.first_name, doctor.last_name = "Jane", "Roe"
    doctor.save()
    make_writer("someone-else")
    client.force_login(make_editor())
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "Roe", "app_label": "reviewers", "model_name": "reviewer", "field_name": "user"},
    )
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(doctor.pk), "text": "jroe"}]


def test_a_profile_saved_with_the_chosen_account_keeps_it_read_only(client):
    doctor, other = make_writer("jane"), make_writer("john")
    client.force_login(make_editor())
    response = client.post(reverse("admin:reviewers_reviewer_add"), reviewer_form(doctor))
    assert response.status_code == 302
    profile = Reviewer.objects.get(user=doctor)

    url = reverse("admin:reviewers_reviewer_change", args=[profile.pk])
    html = client.get(url).content.decode()
    assert 'name="user"' not in html  # shown, not editable
    assert "jane" in html
    response = client.post(url, reviewer_form(other, display_name="Jane Roe"))
    assert response.status_code == 302
    assert Reviewer.objects.get(pk=profile.pk).user_id == doctor.pk
