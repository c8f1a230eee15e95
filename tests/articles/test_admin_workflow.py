"""The whole sign-off through the admin over HTTP, as staff would click it: a writer creates
and submits an article, a physician finds it in their queue, reads and approves it with
their password, an editor publishes it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import (
    Article,
    AuditAction,
    AuditEvent,
    Decision,
    Review,
    Revision,
    RevisionStatus,
)
from tests.builders import (
    EDITOR,
    REVIEWER,
    WRITER,
    approve,
    approve_data,
    article_form_data,
    article_in,
    change_url,
    edit,
    fresh,
    make_category,
    make_editor,
    make_physician,
    make_reference,
    make_user,
    make_writer,
    messages_of,
    review_url,
    snapshot,
    step_url,
    submit,
)

pytestmark = pytest.mark.django_db

BODY = (
    "## Understanding intimacy\n\n"
    "Emotional intimacy is the foundation of satisfaction [@parker2019].\n\n"
    "## The role of couples therapy\n\n"
    "Closeness helps couples resolve conflicts [@rauer2015; @parker2019].\n"
)


@pytest.fixture
def library():
    return [
        make_reference("parker2019", title="Emotional intimacy as the foundation"),
        make_reference(
            "rauer2015",
            authors=[{"family": "Rauer", "given": "A."}],
            issued_year=2015,
            title="Closeness and conflict resolution in marriage",
        ),
    ]


def create_through_admin(client, author, category, **fields) -> Article:
    client.force_login(author)
    add_url = reverse("admin:articles_article_add")
    page = client.get(add_url)
    assert page.status_code == 200
    data = article_form_data(
        page,
        title=fields.get("title", "How Couples Therapy Can Address Intimacy Issues"),
        slug=fields.get("slug", "couples-therapy-intimacy"),
        category=category.pk,
        summary=fields.get("summary", "Couples therapy helps partners rebuild closeness."),
        body=fields.get("body", BODY),
    )
    response = client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Article.objects.get(slug=data["slug"])


def submit_through_admin(client, article, note="First version."):
    return client.post(
        reverse("admin:articles_article_submit", args=[article.pk]),
        {"change_note": note},
        follow=True,
    )


def home(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def queue_section(html: str) -> str:
    """The "Waiting for my review" list of the admin home."""
    match = re.search(r"<h2>Waiting for my review</h2>\s*<ul>(.*?)</ul>", html, re.S)
    assert match, "no 'Waiting for my review' section"
    return match.group(1)


def overdue_section(html: str) -> str:
    match = re.search(r"<h2>Review overdue</h2>\s*<ul>(.*?)</ul>", html, re.S)
    assert match, "no 'Review overdue' section"
    return match.group(1)


# --- The happy path ----------------------------------------------------------------------


def test_writer_creates_an_article_in_the_admin(client, library):
    author = make_writer()
    article = create_through_admin(client, author, make_category())
    assert article.author == author
    assert article.version == 1
    assert set(article.cited_references.values_list("key", flat=True)) == {
        "parker2019",
        "rauer2015",
    }
    assert article.unknown_citation_keys == []
    assert article.working_hash
    assert article.live_revision_id is None
    assert Revision.objects.count() == 0  # saving never freezes a revision
    page = client.get(change_url(article)).content.decode()
    assert "2 references cited: parker2019, rauer2015." in page
    # Submitting is a button of the article form itself: it saves the page first.
    assert 'name="_submit" value="Save and submit for medical review"' in page


def test_the_add_form_ignores_a_forged_author(client, library):
    author, other = make_writer(), make_writer()
    client.force_login(author)
    add_url = reverse("admin:articles_article_add")
    data = article_form_data(
        client.get(add_url),
        title="T",
        slug="forged-author",
        category=make_category().pk,
        summary="S",
        body="B",
        author=other.pk,
    )
    assert client.post(add_url, data).status_code == 302
    assert Article.objects.get(slug="forged-author").author == author


def test_full_sign_off_through_the_admin(client, library):
    author, doctor, publisher = make_writer(), make_physician(), make_editor()

    # 1. The writer creates and submits the article.
    article = create_through_admin(client, author, make_category())
    response = submit_through_admin(client, article, note="First version.")
    assert response.redirect_chain[-1][0] == change_url(article)
    assert "Submitted for medical review." in messages_of(response)
    revision = Revision.objects.get(article=article)
    assert (revision.number, revision.status) == (1, RevisionStatus.PENDING)
    assert revision.created_by == author
    assert revision.change_note == "First version."
    assert revision.content_hash == fresh(article).working_hash
    assert {item["id"] for item in revision.references_csl} == {"parker2019", "rauer2015"}
    submitted = AuditEvent.objects.get(article=article)
    assert (submitted.action, submitted.actor, submitted.revision) == (
        AuditAction.SUBMITTED,
        author,
        revision,
    )

    # 2. The physician finds it waiting on the admin home.
    queue = queue_section(home(client, doctor))
    assert review_url(revision) in queue
    assert revision.title in queue

    # 3. The review page: the rendered text, the diff, the decision forms.
    page = client.get(review_url(revision))
    assert page.status_code == 200
    html = page.content.decode()
    assert "As the public will see it" in html
    # The revision itself is in a sandboxed frame of the staff preview, in the public
    # page's own layout, out of reach of the admin's stylesheet.
    frame = re.search(
        r'<iframe class="public-frame" src="([^"]+)" sandbox="allow-same-origin"', html
    )
    assert frame and frame.group(1) == revision.preview_url()
    framed = client.get(frame.group(1))
    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    framed_html = framed.content.decode()
    assert "Emotional intimacy is the foundation of satisfaction" in framed_html
    assert 'href="#ref-parker2019"' in framed_html
    assert 'id="ref-rauer2015"' in framed_html
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', framed_html)
    assert sheets and all(sheet.endswith("css/site.css") for sheet in sheets)
    assert 'class="review-diff"' in html
    assert "No approved revision to compare with" in html
    assert "<ins>" in html
    assert step_url("approve", revision) in html
    assert 'name="password"' in html
    assert f'value="{revision.content_hash}"' in html  # seen_hash
    assert step_url("request_changes", revision) in html
    assert step_url("publish", revision) not in html  # physicians do not publish

    # 4. Approve, confirmed with the password.
    response = client.post(step_url("approve", revision), approve_data(revision), follow=True)
    assert response.redirect_chain[-1][0] == review_url(revision)
    assert "You approved revision 1." in messages_of(response)
    revision = fresh(revision)
    assert revision.status == RevisionStatus.APPROVED
    review = Review.objects.get(revision=revision)
    assert revision.approval == review
    assert review.decision == Decision.APPROVE
    assert review.reviewer.user == doctor
    assert review.revision_hash == revision.content_hash
    assert fresh(article).live_revision_id is None  # approved is not live
    assert review_url(revision) not in queue_section(home(client, doctor))

    # 5. The editor publishes it.
    client.force_login(publisher)
    page = client.get(review_url(revision)).content.decode()
    assert step_url("publish", revision) in page
    assert step_url("approve", revision) not in page  # editors do not approve
    response = client.post(step_url("publish", revision), follow=True)
    assert "Revision 1 is live." in messages_of(response)
    article = fresh(article)
    assert article.live_revision_id == revision.pk
    assert fresh(revision).status == RevisionStatus.PUBLISHED
    assert Article.objects.published().filter(pk=article.pk).exists()

    trail = AuditEvent.objects.filter(article=article).order_by("created_at", "pk")
    assert [(e.action, e.actor) for e in trail] == [
        (AuditAction.SUBMITTED, author),
        (AuditAction.APPROVED, doctor),
        (AuditAction.PUBLISHED, publisher),
    ]
    assert {e.content_hash for e in trail} == {revision.content_hash}


def test_request_changes_then_resubmit_shows_the_diff_against_the_live_revision(client):
    s = article_in("live", body="Dosage is 10 mg daily.\n")
    # The writer edits through the admin and resubmits.
    client.force_login(s.author)
    page = client.get(change_url(s.article))
    form = page.context["adminform"].form
    data = article_form_data(
        page, body="Dosage is 100 mg daily.\n", loaded_version=form["loaded_version"].value()
    )
    assert client.post(change_url(s.article), data).status_code == 302
    submit_through_admin(client, s.article, note="Corrected the dose.")
    second = Revision.objects.get(article=s.article, number=2)

    client.force_login(s.physician)
    html = client.get(review_url(second)).content.decode()
    assert "Changes since revision 1, the live one" in html
    assert "<del>10</del><ins>100</ins>" in html
    assert "Corrected the dose." in html

    response = client.post(
        step_url("request_changes", second), {"comment": "Cite the dosing guideline."}, follow=True
    )
    assert "Changes requested; the writer has been told." in messages_of(response)
    assert fresh(second).status == RevisionStatus.CHANGES_REQUESTED
    # The live revision is untouched while the new one is under review.
    assert fresh(s.article).live_revision_id == s.revision.pk


def test_schedule_and_unschedule_through_the_admin(client):
    s = article_in("approved")
    client.force_login(s.editor)
    response = client.post(
        step_url("schedule", s.revision), {"publish_at": "2999-01-02T08:30"}, follow=True
    )
    assert "Scheduled." in messages_of(response)
    revision = fresh(s.revision)
    assert revision.publish_at is not None
    assert revision.publish_at.year == 2999
    assert revision.scheduled_by == s.editor
    page = client.get(review_url(revision)).content.decode()
    assert step_url("unschedule", revision) in page

    response = client.post(step_url("unschedule", revision), follow=True)
    assert "Schedule cancelled." in messages_of(response)
    assert fresh(revision).publish_at is None
    assert fresh(s.article).live_revision_id is None


def test_schedule_in_the_past_is_refused_with_a_message(client):
    s = article_in("approved")
    client.force_login(s.editor)
    before = AuditEvent.objects.count()
    response = client.post(
        step_url("schedule", s.revision), {"publish_at": "2001-01-01T08:30"}, follow=True
    )
    assert "Choose a time in the future, or publish now." in messages_of(response)
    assert fresh(s.revision).publish_at is None
    assert AuditEvent.objects.count() == before


def test_unpublish_through_the_admin(client, django_capture_on_commit_callbacks):
    s = article_in("live")
    client.force_login(s.editor)
    page = client.get(change_url(s.article)).content.decode()
    url = reverse("admin:articles_article_unpublish", args=[s.article.pk])
    assert url in page
    confirm = client.get(url).content.decode()  # a page that asks why, and to confirm
    assert "Why does it come down?" in confirm and "Yes, unpublish it" in confirm
    before = snapshot(s.article)
    refused = client.post(url, {"reason": "  "})  # no reason: nothing happens
    assert refused.status_code == 200 and "Give the reason" in refused.content.decode()
    assert snapshot(s.article) == before
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Pending a new guideline."}, follow=True)
    assert any(m.startswith("Unpublished: the article is no longer") for m in messages_of(response))
    assert fresh(s.article).live_revision_id is None
    told = [m for m in mail.outbox if m.subject.startswith("Unpublished:")]
    assert told and s.author.email in told[0].to and s.editor.email in told[0].to
    assert "Pending a new guideline." in told[0].body
    state = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert "Published earlier, now off the public site" in state
    event = AuditEvent.objects.filter(article=s.article).order_by("-pk").first()
    assert (event.action, event.actor, event.comment) == (
        AuditAction.UNPUBLISHED,
        s.editor,
        "Pending a new guideline.",
    )


def test_writer_withdraws_their_submission(client):
    s = article_in("pending")
    client.force_login(s.author)
    page = client.get(review_url(s.revision)).content.decode()
    assert step_url("withdraw", s.revision) in page
    response = client.post(step_url("withdraw", s.revision), {"comment": "Not ready."}, follow=True)
    assert "Submission withdrawn." in messages_of(response)
    assert fresh(s.revision).status == RevisionStatus.WITHDRAWN


# --- The admin home's work lists ---------------------------------------------------------


def test_queue_lists_pending_submissions_of_others_only(client):
    doctor_writer = make_user(None, WRITER, REVIEWER, reviewer="active")
    own = article_in("pending", author=doctor_writer)
    others = article_in("pending")
    queue = queue_section(home(client, doctor_writer))
    assert review_url(others.revision) in queue
    assert review_url(own.revision) not in queue


def test_queue_leaves_out_decided_and_withdrawn_submissions(client):
    doctor = make_physician()
    approved = article_in("approved")
    live = article_in("live")
    pending = article_in("pending")
    withdrawn = article_in("pending")
    workflow.withdraw(revision=withdrawn.revision, actor=withdrawn.author)
    queue = queue_section(home(client, doctor))
    assert review_url(pending.revision) in queue
    for s in (approved, live, withdrawn):
        assert review_url(s.revision) not in queue


def test_empty_queue_says_so(client):
    assert "Nothing is waiting for your review." in queue_section(home(client, make_physician()))


def test_writers_and_editors_have_no_review_queue(client):
    article_in("pending")
    assert "Waiting for my review" not in home(client, make_writer())
    assert "Waiting for my review" not in home(client, make_editor())


def test_editor_home_lists_approved_and_scheduled_revisions(client):
    ready = article_in("approved")
    later = article_in("approved")
    workflow.schedule(
        revision=later.revision,
        actor=later.editor,
        publish_at=timezone.now() + timedelta(days=3),
    )
    html = home(client, make_editor())
    assert "Approved, ready to publish" in html
    assert "Scheduled" in html
    ready_part = html.split("Approved, ready to publish", 1)[1].split("<h2>", 1)[0]
    assert review_url(ready.revision) in ready_part
    assert review_url(later.revision) not in ready_part


def test_home_lists_overdue_reviews(client, settings):
    s = article_in("live")
    fine = overdue_section(home(client, make_editor()))
    assert "No published article is overdue for review." in fine
    settings.REVIEW_INTERVAL_DAYS = 0  # every approval is now expired
    overdue = overdue_section(home(client, make_physician()))
    assert change_url(s.article) in overdue
    assert s.revision.title in overdue


def test_revision_changelist_filter_waiting_for_my_review(client):
    doctor_writer = make_user(None, WRITER, REVIEWER, reviewer="active")
    own = article_in("pending", author=doctor_writer)
    others = article_in("pending")
    client.force_login(doctor_writer)
    response = client.get(reverse("admin:articles_revision_changelist"), {"queue": "mine"})
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert others.revision.pk in shown
    assert own.revision.pk not in shown


def test_article_changelist_shows_workflow_state(client):
    s = article_in("live")
    article_in("pending")
    client.force_login(make_user(None, EDITOR))
    response = client.get(reverse("admin:articles_article_changelist"))
    assert response.status_code == 200
    assert "Revision 1: Published" in response.content.decode()
    response = client.get(reverse("admin:articles_article_changelist"), {"workflow": "live"})
    assert [a.pk for a in response.context["cl"].result_list] == [s.article.pk]


def test_review_page_of_the_live_revision_compares_with_the_previous_published_one(client):
    s = article_in("live", body="Dosage is 10 mg daily.\n")
    edit(s.article, "\nTake it with food.\n")
    second = submit(fresh(s.article), note="Food.")
    approve(second, s.physician)
    workflow.publish(revision=second, actor=s.editor)
    client.force_login(s.physician)
    html = client.get(review_url(second)).content.decode()
    assert "<ins>" in html and "food" in html
    assert "No approved revision to compare with" not in html


def test_review_diff_of_an_unpublished_article_compares_with_the_last_approved_revision(client):
    s = article_in("live", body="Dosage is 10 mg daily.\n")
    workflow.unpublish(article=s.article, actor=s.editor, comment="Dose under review.")
    article = fresh(s.article)
    article.body = "Dosage is 100 mg daily.\n"
    workflow.save_working_copy(article=article, actor=s.author, expected_version=article.version)
    second = submit(fresh(s.article), note="Corrected the dose.")
    client.force_login(s.physician)
    html = client.get(review_url(second)).content.decode()
    assert "No approved revision to compare with" not in html
    assert "<del>10</del><ins>100</ins>" in html
