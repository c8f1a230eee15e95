"""The audit trail in the admin: viewable, never added, changed or deleted, by anyone,
superusers included (invariant 4)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles.models import AuditEvent
from tests.builders import (
    article_in,
    make_editor,
    make_physician,
    make_superuser,
    make_writer,
    snapshot,
)

pytestmark = pytest.mark.django_db


def event_rows() -> list[tuple]:
    return list(
        AuditEvent.objects.order_by("pk").values_list(
            "pk", "action", "actor_id", "revision_id", "content_hash", "comment", "created_at"
        )
    )


@pytest.fixture
def trail():
    s = article_in("live")
    return s, AuditEvent.objects.filter(article=s.article).order_by("pk").first()


@pytest.fixture(params=["superuser", "editor", "writer", "physician"])
def staff(request):
    return {
        "superuser": make_superuser,
        "editor": make_editor,
        "writer": make_writer,
        "physician": make_physician,
    }[request.param]()


def test_changelist_is_viewable_and_lists_every_step(client, trail, staff):
    s, _ = trail
    client.force_login(staff)
    response = client.get(reverse("admin:articles_auditevent_changelist"))
    assert response.status_code == 200
    shown = {e.pk for e in response.context["cl"].result_list}
    assert shown == set(AuditEvent.objects.values_list("pk", flat=True))
    html = response.content.decode()
    assert reverse("admin:articles_auditevent_add") not in html
    assert 'name="_selected_action"' not in html  # no bulk actions, delete included
    assert response.context["cl"].model_admin.get_actions(response.wsgi_request) == {}


def test_change_page_is_read_only(client, trail, staff):
    _, event = trail
    client.force_login(staff)
    response = client.get(reverse("admin:articles_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert reverse("admin:articles_auditevent_delete", args=[event.pk]) not in html
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


def test_posting_a_change_is_403_and_changes_nothing(client, trail, staff):
    s, event = trail
    client.force_login(staff)
    before, rows = snapshot(s.article), event_rows()
    response = client.post(
        reverse("admin:articles_auditevent_change", args=[event.pk]),
        {
            "action": "approved",
            "comment": "rewritten history",
            "content_hash": "0" * 64,
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    assert snapshot(s.article) == before
    assert event_rows() == rows


def test_delete_page_and_delete_post_are_403(client, trail, staff):
    s, event = trail
    client.force_login(staff)
    url = reverse("admin:articles_auditevent_delete", args=[event.pk])
    before, rows = snapshot(s.article), event_rows()
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert snapshot(s.article) == before
    assert event_rows() == rows


def test_add_page_and_add_post_are_403(client, trail, staff):
    s, event = trail
    client.force_login(staff)
    url = reverse("admin:articles_auditevent_add")
    before = snapshot(s.article)
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "action": "published",
            "article": s.article.pk,
            "revision": event.revision_id,
            "content_hash": event.content_hash,
            "comment": "forged",
        },
    )
    assert response.status_code == 403
    assert snapshot(s.article) == before


def test_forged_bulk_delete_deletes_nothing(client, trail):
    s, event = trail
    client.force_login(make_superuser())
    before, rows = snapshot(s.article), event_rows()
    response = client.post(
        reverse("admin:articles_auditevent_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [e.pk for e in AuditEvent.objects.all()],
            "post": "yes",
        },
    )
    assert response.status_code in (200, 302, 403)
    assert snapshot(s.article) == before
    assert event_rows() == rows


def test_model_admin_permissions_are_all_false_even_for_a_superuser(rf, trail):
    from django.contrib import admin

    _, event = trail
    model_admin = admin.site._registry[AuditEvent]
    request = rf.get("/")
    request.user = make_superuser()
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)


def test_audit_events_are_append_only_below_the_admin(trail):
    _, event = trail
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(comment="x")
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    original = AuditEvent.objects.get(pk=event.pk).comment
    event.comment = "x"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).comment == original


def test_anonymous_is_sent_to_login(client, trail):
    _, event = trail
    for url in (
        reverse("admin:articles_auditevent_changelist"),
        reverse("admin:articles_auditevent_change", args=[event.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
