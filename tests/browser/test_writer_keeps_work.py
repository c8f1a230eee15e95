"""In Chromium, as a writer would: after a physician sent a revision back, edit the body,
write a change note and press the one submit button. The new revision holds the edits."""

from __future__ import annotations

import pytest

from tests.browser.pages import log_in
from tests.builders import submit_new_demo_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edits_typed_after_changes_were_requested_are_what_gets_submitted(page, shot):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from articles import workflow
    from articles.models import Revision

    revision = submit_new_demo_article(
        slug="sent-back", title="Talking about intimacy", body="Talk openly.\n"
    )
    workflow.request_changes(
        revision=revision,
        actor=get_user_model().objects.get(username="reviewer"),
        comment="Add a sentence on listening.",
    )
    log_in(page, "writer")
    page.goto(f"/admin/articles/article/{revision.article_id}/change/")
    body = page.locator("textarea#id_body")
    body.fill("Talk openly.\n\nListen before you answer.\n")
    page.fill("#id_change_note", "Added a sentence on listening.")
    shot(page, "writer-edited")
    page.get_by_role("button", name="Save and submit for medical review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted")
    shot(page, "writer-submitted")
    newest = Revision.objects.filter(article_id=revision.article_id).order_by("-number").first()
    assert newest.number == 2
    assert "Listen before you answer." in newest.body
    assert newest.change_note == "Added a sentence on listening."
