"""The article change page: stale-edit refusal (no lost edits), saves that never touch the
review workflow, the reviewer's comments, and unknown citation keys."""

from __future__ import annotations

import pytest
from django.urls import reverse

from articles import workflow
from articles.models import Article, AuditEvent, Review, Revision, RevisionStatus
from tests.builders import (
    approve_data,
    article_form_data,
    article_in,
    change_url,
    fresh,
    hidden_inputs,
    make_article,
    make_category,
    make_reference,
    make_superuser,
    make_writer,
    messages_of,
    snapshot,
    step_url,
)

pytestmark = pytest.mark.django_db

STALE = "Someone else saved this article after you opened it"


def load(client, user, article):
    """Open the change page as `user`; return the page and the version it was loaded at
    (the value of the form's hidden `loaded_version` field)."""
    client.force_login(user)
    page = client.get(change_url(article))
    assert page.status_code == 200
    return page, page.context["adminform"].form["loaded_version"].value()


def save(client, user, page, loaded_version, **changes):
    client.force_login(user)
    data = article_form_data(page, loaded_version=loaded_version, **changes)
    return client.post(change_url(page.context["original"]), data)


# --- Stale forms -------------------------------------------------------------------------


def test_change_page_carries_the_loaded_version(client):
    s = article_in("draft")
    _, loaded = load(client, s.author, s.article)
    assert loaded == fresh(s.article).version


def test_second_save_from_a_stale_form_is_refused_and_keeps_the_first_text(client):
    s = article_in("draft")
    other = make_writer()
    first_page, first_version = load(client, s.author, s.article)
    second_page, second_version = load(client, other, s.article)
    assert first_version == second_version

    response = save(client, s.author, first_page, first_version, body="The writer's text.")
    assert response.status_code == 302
    saved = fresh(s.article)
    assert saved.body == "The writer's text."

    response = save(client, other, second_page, second_version, body="The colleague's text.")
    assert response.status_code == 200  # the form re-renders
    html = response.content.decode()
    assert STALE in html
    assert "not saved" in html
    assert STALE in " ".join(response.context["adminform"].form.non_field_errors())
    after = fresh(s.article)
    assert after.body == "The writer's text."
    assert after.version == saved.version
    assert after.working_hash == saved.working_hash


def test_a_fresh_reload_after_the_refusal_saves(client):
    s = article_in("draft")
    page, version = load(client, s.author, s.article)
    save(client, s.author, page, version, body="First.")
    assert save(client, s.author, page, version, body="Second.").status_code == 200
    page, version = load(client, s.author, s.article)
    assert save(client, s.author, page, version, body="Second.").status_code == 302
    assert fresh(s.article).body == "Second."


def test_a_post_without_loaded_version_is_refused(client):
    s = article_in("draft")
    page, _ = load(client, s.author, s.article)
    data = article_form_data(page, body="Forged.")
    data.pop("loaded_version", None)
    response = client.post(change_url(s.article), data)
    assert response.status_code == 200
    assert STALE in response.content.decode()
    assert fresh(s.article).body != "Forged."


def test_a_save_from_the_page_as_a_browser_submits_it_succeeds(client):
    s = article_in("draft")
    client.force_login(s.author)
    page = client.get(change_url(s.article))
    rendered = hidden_inputs(page.content.decode())
    assert rendered.get("loaded_version") == str(fresh(s.article).version)
    # Only what the page rendered (no loaded_version unless the page printed it).
    data = article_form_data(page, body="Edited in the browser.")
    response = client.post(change_url(s.article), data)
    assert response.status_code == 302
    assert fresh(s.article).body == "Edited in the browser."


# --- Saving never touches the review -----------------------------------------------------


def test_saving_without_changes_creates_no_revision_and_cancels_no_review(client):
    s = article_in("pending")
    before = snapshot(s.article)
    page, version = load(client, s.author, s.article)
    response = save(client, s.author, page, version)
    assert response.status_code == 302
    after = snapshot(s.article)
    assert after.counts["revisions"] == before.counts["revisions"]
    assert after.counts["reviews"] == before.counts["reviews"]
    assert after.counts["audit_events"] == before.counts["audit_events"]
    assert after.statuses == before.statuses
    assert fresh(s.revision).status == RevisionStatus.PENDING
    # And the physician can still approve it.
    client.force_login(s.physician)
    response = client.post(step_url("approve", s.revision), approve_data(s.revision), follow=True)
    assert "You approved revision 1." in messages_of(response)


def as_a_browser_sends_it(text: str) -> str:
    """A <textarea> is submitted with CRLF line breaks (HTML's form serialization)."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


@pytest.mark.parametrize(
    ("body", "browser"),
    [
        ("## Why it matters\n\nIntimacy matters.\n", False),  # trailing newline
        ("## Why it matters\n\nIntimacy matters.", True),  # LF text, CRLF from the browser
    ],
    ids=["trailing-newline", "crlf"],
)
def test_saving_without_changes_keeps_the_working_copy_equal_to_the_reviewed_revision(
    client, body, browser
):
    """Regression: the form strips the last newline and a browser posts CRLF; neither may
    look like an unreviewed change (text from load_demo, the workflow or an import)."""
    s = article_in("pending", body=body)
    page, version = load(client, s.author, s.article)
    changes = {"body": as_a_browser_sends_it(body)} if browser else {}
    assert save(client, s.author, page, version, **changes).status_code == 302
    article = fresh(s.article)
    assert article.working_hash == s.revision.content_hash
    page, _ = load(client, s.author, s.article)
    assert "The working copy matches the latest revision." in page.content.decode()


def test_a_save_while_the_article_was_published_meanwhile_keeps_it_live(client):
    s = article_in("approved")
    page, version = load(client, s.author, s.article)
    workflow.publish(revision=s.revision, actor=s.editor)  # publishing bumps no version
    assert save(client, s.author, page, version, summary="A new summary.").status_code == 302
    article = fresh(s.article)
    assert article.live_revision_id == s.revision.pk
    assert article.summary == "A new summary."
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_saving_changes_creates_no_revision_and_keeps_the_pending_review(client):
    s = article_in("pending")
    before = snapshot(s.article)
    page, version = load(client, s.author, s.article)
    response = save(client, s.author, page, version, body="A changed body.")
    assert response.status_code == 302
    after = snapshot(s.article)
    assert after.counts["revisions"] == before.counts["revisions"]
    assert after.counts["audit_events"] == before.counts["audit_events"]
    assert after.statuses == before.statuses
    assert fresh(s.article).working_hash != s.revision.content_hash
    page, _ = load(client, s.author, s.article)
    assert "The working copy has changes no physician has reviewed yet." in (page.content.decode())


def test_saving_a_live_article_leaves_the_public_revision_alone(client):
    s = article_in("live")
    page, version = load(client, s.author, s.article)
    save(client, s.author, page, version, title="A new title nobody approved")
    article = Article.objects.published().get(pk=s.article.pk)
    assert article.live_revision_id == s.revision.pk
    assert article.live_revision.title == s.revision.title
    assert fresh(s.article).title == "A new title nobody approved"


def test_workflow_panel_links_each_revision_and_marks_the_live_one(client):
    s = article_in("live")
    page, _ = load(client, s.editor, s.article)
    html = page.content.decode()
    assert reverse("admin:articles_revision_change", args=[s.revision.pk]) in html
    assert "Revision 1: Published</a> — live" in html
    assert "The working copy matches the latest revision." in html


# --- Reviewer comments -------------------------------------------------------------------


def test_writer_sees_the_reviewers_comments_after_request_changes(client):
    s = article_in("pending")
    client.force_login(s.physician)
    client.post(
        step_url("request_changes", s.revision),
        {"comment": "Please cite the 2021 dosing guideline."},
    )
    assert fresh(s.revision).status == RevisionStatus.CHANGES_REQUESTED
    page, _ = load(client, s.author, s.article)
    html = page.content.decode()
    assert "Please cite the 2021 dosing guideline." in html
    review = Review.objects.get(revision=s.revision)
    assert f"Revision 1 — Changes requested by {review.byline_name}" in html
    assert "Revision 1: Changes requested" in html


def test_reviewer_comment_is_escaped_on_the_change_page(client):
    s = article_in("pending")
    workflow.request_changes(
        revision=s.revision, actor=s.physician, comment="<script>alert('x')</script> fix it"
    )
    page, _ = load(client, s.author, s.article)
    html = page.content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;" in html


def test_change_page_without_reviews_says_so(client):
    s = article_in("draft")
    page, _ = load(client, s.author, s.article)
    assert "No reviews yet." in page.content.decode()


# --- Unknown citation keys ---------------------------------------------------------------


BODY_WITH_UNKNOWN = "## Evidence\n\nKnown claim [@known2019].\n\nUnknown claim [@nosuchkey2020].\n"


def test_change_page_lists_unknown_citation_keys(client):
    make_reference("known2019")
    s = article_in("draft", body=BODY_WITH_UNKNOWN)
    assert fresh(s.article).unknown_citation_keys == ["nosuchkey2020"]
    page, _ = load(client, s.author, s.article)
    html = page.content.decode()
    assert "Unknown citation keys (submission is blocked): nosuchkey2020" in html


def test_submit_with_an_unknown_key_names_the_key_and_line_and_writes_nothing(client):
    make_reference("known2019")
    s = article_in("draft", body=BODY_WITH_UNKNOWN)
    client.force_login(s.author)
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_submit", args=[s.article.pk]),
        {"change_note": "First."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == change_url(s.article)
    shown = messages_of(response)
    assert len(shown) == 1
    assert "nosuchkey2020" in shown[0]
    assert "line 5" in shown[0]
    assert "known2019" not in shown[0]
    assert snapshot(s.article) == before
    assert Revision.objects.filter(article=s.article).count() == 0
    assert AuditEvent.objects.filter(article=s.article).count() == 0


def test_importing_the_missing_reference_unblocks_submission(client):
    make_reference("known2019")
    s = article_in("draft", body=BODY_WITH_UNKNOWN)
    make_reference("nosuchkey2020")
    # The working copy is recomputed when saved again.
    page, version = load(client, s.author, s.article)
    assert save(client, s.author, page, version).status_code == 302
    assert fresh(s.article).unknown_citation_keys == []
    response = client.post(
        reverse("admin:articles_article_submit", args=[s.article.pk]),
        {"change_note": "First."},
        follow=True,
    )
    assert "Submitted for medical review." in messages_of(response)
    revision = Revision.objects.get(article=s.article)
    assert [item["id"] for item in revision.references_csl] == ["known2019", "nosuchkey2020"]


@pytest.mark.django_db
def test_the_article_list_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    """The state column must not cost a query per article."""
    boss = make_superuser("boss")
    category = make_category(name="General", slug="general")
    for n in range(12):
        make_article(boss, slug=f"a-{n}", category=category, title=f"A {n}", summary="S", body="B")
    client.force_login(boss)
    with django_assert_max_num_queries(8):  # 7 today; one per row would be 19
        response = client.get("/admin/articles/article/")
    assert response.status_code == 200
    assert response.content.decode().count("Draft (never submitted)") == 12


def test_a_published_articles_address_cannot_be_changed(client):
    s = article_in("live")
    page, version = load(client, s.author, s.article)
    assert 'name="slug"' not in page.content.decode()
    data = article_form_data(page)
    data["slug"] = "a-new-address"
    data["title"] = "A retitled working copy"
    response = client.post(change_url(s.article), data)
    assert response.status_code == 302  # the rest of the form saved
    assert fresh(s.article).slug == s.article.slug
    assert fresh(s.article).title == "A retitled working copy"
