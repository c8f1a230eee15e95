"""A writer's edits are never lost on submission: "Save and submit" saves the page first,
through the stale-edit check, and a submission identical to a revision a physician sent
back is refused with a message."""

from __future__ import annotations

import pytest

from articles import workflow
from articles.models import Revision, RevisionStatus
from tests.builders import admin_form_data, article_in, change_url, fresh, messages_of, snapshot

pytestmark = pytest.mark.django_db


def sent_back():
    s = article_in("pending")
    workflow.request_changes(
        revision=s.revision, actor=s.physician, comment="Cite a source for the claim."
    )
    return s.refresh()


def test_save_and_submit_freezes_the_text_on_the_page(client):
    s = sent_back()
    client.force_login(s.author)
    page = client.get(change_url(s.article))
    body = s.article.body + "\n\nNow with a source.\n"
    response = client.post(
        change_url(s.article),
        admin_form_data(page, body=body, change_note="Added the source.", _submit="1"),
        follow=True,
    )
    assert "Saved and submitted for medical review." in messages_of(response)
    newest = Revision.objects.filter(article=s.article).order_by("-number").first()
    assert newest.number == 2 and newest.status == RevisionStatus.PENDING
    assert newest.body.endswith("Now with a source.")
    assert newest.change_note == "Added the source."


def test_a_stale_page_is_neither_saved_nor_submitted_and_keeps_the_typing(client):
    s = sent_back()
    client.force_login(s.author)
    page = client.get(change_url(s.article))
    workflow.save_working_copy(  # someone else saves in between
        article=fresh(s.article), actor=s.author, expected_version=fresh(s.article).version
    )
    before = snapshot(s.article)
    typed = s.article.body + "\n\nMy unsaved paragraph.\n"
    response = client.post(
        change_url(s.article), admin_form_data(page, body=typed, _submit="1", change_note="N")
    )
    assert response.status_code == 200  # the form again, with what was typed
    assert "My unsaved paragraph." in response.content.decode()
    assert snapshot(s.article) == before


def test_resubmitting_the_sent_back_text_unchanged_is_refused(client):
    s = sent_back()
    client.force_login(s.author)
    page = client.get(change_url(s.article))
    before = snapshot(s.article)
    response = client.post(change_url(s.article), admin_form_data(page, _submit="1"), follow=True)
    shown = " ".join(messages_of(response))
    assert "exactly revision 1, which a physician sent back" in shown
    after = snapshot(s.article)
    assert after.counts["revisions"] == before.counts["revisions"]
    assert after.statuses == before.statuses


def test_the_physicians_comment_is_at_the_top_of_the_edit_page(client):
    s = sent_back()
    client.force_login(s.author)
    html = client.get(change_url(s.article)).content.decode()
    comment = html.index("Cite a source for the claim.")
    assert comment < html.index('name="title"')  # above the form's first field
    assert "asked for changes to revision 1" in html
