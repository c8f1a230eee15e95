"""Each person sees only what they may do, decided by the same rules the workflow
enforces (articles/rules.py), and every refusal is a styled page that says why."""

from __future__ import annotations

import pytest

from articles import workflow
from tests.builders import approve_data, article_in, edit, make_user, review_url, step_url, submit

pytestmark = pytest.mark.django_db


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_editor_sees_no_publish_button_on_an_unapproved_revision_but_the_reason(client):
    s = article_in("pending")
    html = page(client, s.editor, review_url(s.revision))
    assert step_url("publish", s.revision) not in html
    assert "Not publishable: Revision 1 is waiting for review" in html


def test_an_editor_sees_no_publish_button_on_the_live_revision(client):
    s = article_in("live")
    html = page(client, s.editor, review_url(s.revision))
    assert step_url("publish", s.revision) not in html
    assert "Revision 1 is already live." in html


def test_an_editor_sees_the_buttons_on_an_approved_revision(client):
    s = article_in("approved")
    html = page(client, s.editor, review_url(s.revision))
    assert step_url("publish", s.revision) in html and step_url("schedule", s.revision) in html


def test_a_physician_who_wrote_it_sees_why_instead_of_the_form(client):
    doctor_writer = make_user(None, "Writer", "Physician reviewer", reviewer="active")
    s = article_in("pending", author=doctor_writer)
    html = page(client, doctor_writer, review_url(s.revision))
    assert 'class="approve-form"' not in html
    assert "Nobody may review a revision they wrote or edited" in html


def test_a_forged_approval_gets_a_styled_page_that_says_why(client):
    doctor_writer = make_user(None, "Writer", "Physician reviewer", reviewer="active")
    s = article_in("pending", author=doctor_writer)
    client.force_login(doctor_writer)
    response = client.post(step_url("approve", s.revision), approve_data(s.revision))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert "Nobody may review a revision they wrote or edited" in html


def test_the_physician_sees_what_changed_since_the_revision_they_sent_back(client):
    s = article_in("pending")
    workflow.request_changes(revision=s.revision, actor=s.physician, comment="Add a source.")
    answer = submit(edit(s.article, "\n\nA new sourced sentence.\n"))
    html = page(client, s.physician, review_url(answer))
    assert "Changes since revision 1, which was sent back with requested changes" in html
    assert "<ins>A</ins>" in html or "A new sourced sentence" in html
