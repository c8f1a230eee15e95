"""The editorial story in a real browser: a writer drafts with the live preview and
submits, a physician reviews and signs off with their password, an editor publishes,
and a reader follows a citation to the reference list and back.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from articles.models import Article, Review, RevisionStatus
from tests.browser.pages import log_in, log_out
from tests.builders import submit_new_demo_article

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

TITLE = "Emotional Closeness and a Satisfying Sex Life"
SLUG = "emotional-closeness-and-a-satisfying-sex-life"
SUMMARY = "Why feeling emotionally connected matters for intimacy, and what research shows."
HEADING = "Why emotional closeness matters"
BODY = (
    f"## {HEADING}\n\n"
    "Partners who feel emotionally connected report more satisfying intimacy and talk more "
    "openly about their needs [@parker2019].\n\n"
    "## Talking about it\n\n"
    "- Name what you feel.\n"
    "- Listen before you answer.\n"
)
CHANGE_NOTE = "First draft, citing Parker et al. on emotional intimacy."
IN_TEXT = "(Parker et al., 2019)"


def test_write_review_publish_and_follow_a_citation(browser, page, shot, demo_site):
    from playwright.sync_api import expect

    # --- The writer drafts the article and watches the live preview. ---------------------
    log_in(page, "writer", shot)
    shot(page, "writer-admin-home")
    page.goto("/admin/articles/article/add/")
    page.fill("#id_title", TITLE)
    page.locator("#id_title").blur()
    # The admin's prepopulated-field script derives the slug from the title.
    expect(page.locator("#id_slug")).to_have_value(SLUG)
    page.select_option("#id_category", label="Relationships & Intimacy")
    page.fill("#id_summary", SUMMARY)
    page.locator("#id_body").fill(BODY)

    preview = page.locator(".markdownx-preview")
    # The preview is the public renderer: the citation becomes an author–year link...
    expect(preview).to_contain_text(IN_TEXT)
    citation = preview.locator('a.citation[href="#ref-parker2019"]')
    expect(citation).to_have_text("Parker et al., 2019")
    # ...the heading is a heading, and the reference list follows the text.
    expect(preview.get_by_role("heading", name=HEADING)).to_be_visible()
    entry = preview.locator("#ref-parker2019")
    expect(entry).to_contain_text("Parker")
    expect(entry).to_contain_text("Emotional intimacy and sexual satisfaction")
    expect(entry.locator("a.backlink")).to_have_attribute("href", "#cite-parker2019-1")
    shot(page, "writer-live-preview")

    page.locator("input[name=_continue]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    shot(page, "writer-saved")
    article = Article.objects.get(slug=SLUG)
    assert article.title == TITLE
    assert article.author.username == "writer"

    # --- Submit for medical review with a change note. -------------------------------------
    page.fill("#id_change_note", CHANGE_NOTE)
    page.get_by_role("button", name="Save and submit for medical review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted for medical review.")
    shot(page, "writer-submitted")
    revision = article.revisions.get()
    assert revision.status == RevisionStatus.PENDING
    assert revision.change_note == CHANGE_NOTE
    log_out(page, shot)

    # --- The physician finds it in their queue, reads it and signs it off. ----------------
    log_in(page, "reviewer", shot)
    queue = page.locator(".staff-dashboard h2", has_text="Waiting for my review").locator(
        "xpath=following-sibling::ul[1]"
    )
    expect(queue).to_contain_text(TITLE)
    shot(page, "reviewer-queue")
    queue.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(re.escape(f"/admin/articles/revision/{revision.pk}/")))
    expect(page.locator(".review-meta")).to_contain_text(CHANGE_NOTE)

    diff = page.locator("details.review-diff")
    expect(diff.locator("summary")).to_contain_text("No approved revision to compare with")
    diff.locator("summary").click()
    expect(diff).to_have_attribute("open", "")
    expect(diff.locator("pre.diff").first).to_contain_text("[@parker2019]")
    # The revision in the public layout, inside a sandboxed frame no admin style reaches.
    rendered = page.frame_locator("iframe.public-frame")
    expect(rendered.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(rendered.get_by_role("heading", name=HEADING)).to_be_visible()
    expect(rendered.locator(".article-body")).to_contain_text(IN_TEXT)
    expect(rendered.locator("#ref-parker2019")).to_contain_text("Parker")
    frame = page.locator("iframe.public-frame")
    wide = frame.bounding_box()["width"]
    page.get_by_label("Phone width (390 px)").check()
    expect(frame).to_have_css("width", "390px")
    assert wide > 390
    shot(page, "reviewer-review-page-phone")
    page.get_by_label("Desktop width").check()
    shot(page, "reviewer-review-page")

    approve_form = page.locator("form.approve-form")
    approve_form.locator("input[name=attestation]").check()
    approve_form.locator("textarea[name=comment]").fill("Accurate and well sourced.")
    approve_form.locator("input[name=password]").fill("demo-password")
    shot(page, "reviewer-approval-filled")
    approve_form.get_by_role("button", name="Approve this revision").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"You approved revision {revision.number}."
    )
    shot(page, "reviewer-approved")
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.APPROVED
    assert revision.approval.reviewer.slug == "mark-hrymoc"
    assert revision.approval.revision_hash == revision.content_hash
    log_out(page, shot)

    # --- The editor opens the approved revision and publishes it. -------------------------
    log_in(page, "editor", shot)
    page.goto("/admin/articles/article/")
    page.get_by_role("link", name=TITLE).click()
    shot(page, "editor-article")
    page.get_by_role("link", name=f"Revision {revision.number}: Approved").click()
    expect(page.locator(".publish-actions")).to_contain_text("Approved by Mark Hrymoc")
    shot(page, "editor-revision")
    page.get_by_role("button", name="Publish now").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"Revision {revision.number} is live."
    )
    shot(page, "editor-published")
    article.refresh_from_db()
    assert article.live_revision_id == revision.pk
    log_out(page, shot)

    # --- A reader follows a citation to the reference list and back. ----------------------
    reader = browser.new_context(base_url=demo_site, viewport={"width": 1280, "height": 900})
    try:
        public = reader.new_page()
        response = public.goto(reverse("articles:detail", args=[SLUG]))
        assert response is not None and response.status == 200
        expect(public.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(public.locator("main")).to_contain_text(IN_TEXT)
        shot(public, "reader-article")

        public.locator('main a.citation[href="#ref-parker2019"]').first.click()
        expect(public).to_have_url(re.compile(r"#ref-parker2019$"))
        entry = public.locator("#ref-parker2019")
        expect(entry).to_be_visible()
        expect(entry).to_be_in_viewport()
        assert entry.evaluate("element => element.matches(':target')")
        expect(entry).to_contain_text("Emotional intimacy and sexual satisfaction")
        shot(public, "reader-reference-entry")

        entry.locator("a.backlink").first.click()
        expect(public).to_have_url(re.compile(r"#cite-parker2019-1$"))
        back = public.locator("#cite-parker2019-1")
        expect(back).to_be_in_viewport()
        assert back.evaluate("element => element.matches(':target')")
        expect(back).to_have_text("Parker et al., 2019")
        shot(public, "reader-back-at-citation")
    finally:
        reader.close()


def test_approval_with_a_wrong_password_is_refused(page, shot):
    from playwright.sync_api import expect

    revision = submit_new_demo_article(
        slug="talking-about-intimacy",
        title="Talking About Intimacy",
        body="## Start small\n\nEmotional connection comes first [@parker2019].\n",
    )
    article = revision.article

    log_in(page, "reviewer", shot)
    page.goto(reverse("admin:articles_revision_change", args=[revision.pk]))
    shot(page, "review-page")
    approve_form = page.locator("form.approve-form")
    approve_form.locator("input[name=attestation]").check()
    approve_form.locator("input[name=password]").fill("not-my-password")
    approve_form.get_by_role("button", name="Approve this revision").click()

    expect(page.locator(".messagelist .error")).to_contain_text(
        "Your password was not correct; the revision was not approved."
    )
    expect(page.locator(".messagelist .success")).to_have_count(0)
    shot(page, "wrong-password-refused")

    revision.refresh_from_db()
    article.refresh_from_db()
    assert revision.status == RevisionStatus.PENDING
    assert revision.approval_id is None
    assert not Review.objects.filter(revision=revision).exists()
    assert article.live_revision_id is None
    assert not Article.objects.published().filter(pk=article.pk).exists()

    response = page.goto(reverse("articles:detail", args=[article.slug]))
    assert response is not None and response.status == 404
    shot(page, "still-not-public")
