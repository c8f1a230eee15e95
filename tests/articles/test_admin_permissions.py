"""Every workflow button of the admin, forged or not: the permitted user succeeds, anyone
else gets 403 (or a clear message when the state forbids the step), and a refused step
changes nothing in the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles import workflow
from articles.models import AuditAction, AuditEvent, RevisionStatus
from reviewers.models import Reviewer
from tests.builders import (
    EDITOR,
    REVIEWER,
    WRITER,
    Story,
    approve_data,
    article_in,
    edit,
    fresh,
    hidden_inputs,
    make_superuser,
    make_user,
    make_writer,
    messages_of,
    review_url,
    snapshot,
    step_url,
    submit,
)

pytestmark = pytest.mark.django_db


# --- The table: who may take which step --------------------------------------------------


def actor(role: str, s: Story):
    match role:
        case "author" | "reviewer_author":
            return s.author
        case "physician":
            return s.physician
        case "editor":
            return s.editor
        case "other_writer":
            return make_writer()
        case "staff":
            return make_user(None, is_staff=True)
        case "reviewer_no_profile":
            return make_user(None, REVIEWER)
        case "reviewer_inactive":
            user = make_user(None, REVIEWER, reviewer="active")
            Reviewer.objects.filter(user=user).update(active=False)
            return user
        case "superuser":
            return make_superuser()
        case "superuser_reviewer":
            return make_superuser(reviewer="active")
    raise ValueError(role)


def scenario(state: str, role: str) -> Story:
    author = None
    if role == "reviewer_author":
        # Writes and reviews: still may not approve what they wrote.
        author = make_user(None, WRITER, REVIEWER, reviewer="active")
    if state == "scheduled":
        s = article_in("approved", author=author)
        workflow.schedule(
            revision=s.revision, actor=s.editor, publish_at=timezone.now() + timedelta(days=2)
        )
        return s.refresh()
    return article_in(state, author=author)


def _article_url(name: str):
    return lambda s: reverse(f"admin:articles_article_{name}", args=[s.article.pk])


def _revision_url(name: str):
    return lambda s: step_url(name, s.revision)


@dataclass(frozen=True)
class Step:
    name: str
    state: str
    url: object
    data: object
    allowed: tuple[str, ...]
    denied: tuple[str, ...]
    success: str

    def check_done(self, s: Story) -> None:
        s.refresh()
        expected = {
            "approve": lambda: s.revision.status == RevisionStatus.APPROVED,
            "request_changes": lambda: s.revision.status == RevisionStatus.CHANGES_REQUESTED,
            "publish": lambda: s.article.live_revision_id == s.revision.pk,
            "schedule": lambda: s.revision.publish_at is not None,
            "unschedule": lambda: s.revision.publish_at is None,
            "withdraw": lambda: s.revision.status == RevisionStatus.WITHDRAWN,
            "submit": lambda: s.article.revisions.count() == 1,
            "unpublish": lambda: s.article.live_revision_id is None,
        }[self.name]
        assert expected(), f"{self.name} did not happen"


STEPS = [
    Step(
        "approve",
        "pending",
        _revision_url("approve"),
        lambda s: approve_data(s.revision),
        ("physician", "superuser_reviewer"),
        (
            "author",
            "other_writer",
            "editor",
            "staff",
            "superuser",
            "reviewer_no_profile",
            "reviewer_inactive",
            "reviewer_author",
        ),
        "You approved revision 1.",
    ),
    Step(
        "request_changes",
        "pending",
        _revision_url("request_changes"),
        lambda s: {"comment": "Cite a source for the dose."},
        ("physician", "superuser_reviewer"),
        (
            "author",
            "other_writer",
            "editor",
            "staff",
            "superuser",
            "reviewer_no_profile",
            "reviewer_inactive",
            "reviewer_author",
        ),
        "Changes requested; the writer has been told.",
    ),
    Step(
        "publish",
        "approved",
        _revision_url("publish"),
        lambda s: {},
        ("editor", "superuser"),
        ("author", "other_writer", "physician", "staff"),
        "Revision 1 is live.",
    ),
    Step(
        "schedule",
        "approved",
        _revision_url("schedule"),
        lambda s: {"publish_at": "2999-06-01T09:00"},
        ("editor", "superuser"),
        ("author", "other_writer", "physician", "staff"),
        "Scheduled.",
    ),
    Step(
        "unschedule",
        "scheduled",
        _revision_url("unschedule"),
        lambda s: {},
        ("editor", "superuser"),
        ("author", "other_writer", "physician", "staff"),
        "Schedule cancelled.",
    ),
    Step(
        "withdraw",
        "pending",
        _revision_url("withdraw"),
        lambda s: {"comment": "Not ready."},
        ("author", "editor", "superuser"),
        ("other_writer", "physician", "staff"),
        "Submission withdrawn.",
    ),
    Step(
        "submit",
        "draft",
        _article_url("submit"),
        lambda s: {"change_note": "First version."},
        ("author", "other_writer", "superuser"),
        ("physician", "editor", "staff"),
        "Submitted for medical review.",
    ),
    Step(
        "unpublish",
        "live",
        _article_url("unpublish"),
        lambda s: {"reason": "Pause."},
        ("editor", "superuser"),
        ("author", "other_writer", "physician", "staff"),
        "Unpublished: the article is no longer on the public site; the writer and the editors "
        "have been told why.",
    ),
]
STEP_BY_NAME = {step.name: step for step in STEPS}

ALLOWED = [(step.name, role) for step in STEPS for role in step.allowed]
DENIED = [(step.name, role) for step in STEPS for role in step.denied]


@pytest.mark.parametrize(("step_name", "role"), ALLOWED)
def test_permitted_user_takes_the_step(client, step_name, role):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, role)
    user = actor(role, s)
    client.force_login(user)
    events_before = AuditEvent.objects.count()
    response = client.post(step.url(s), step.data(s), follow=True)
    assert response.status_code == 200
    assert step.success in messages_of(response)
    step.check_done(s)
    assert AuditEvent.objects.count() == events_before + 1
    assert AuditEvent.objects.order_by("-pk").first().actor == user


@pytest.mark.parametrize(("step_name", "role"), DENIED)
def test_user_without_permission_gets_403_and_nothing_changes(client, step_name, role):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, role)
    client.force_login(actor(role, s))
    before = snapshot(s.article)
    response = client.post(step.url(s), step.data(s))
    assert response.status_code == 403
    assert snapshot(s.article) == before


# --- Forged and malformed requests -------------------------------------------------------


@pytest.mark.parametrize("step_name", [step.name for step in STEPS])
def test_anonymous_post_redirects_to_login_and_changes_nothing(client, step_name):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, step.allowed[0])
    before = snapshot(s.article)
    url = step.url(s)
    response = client.post(url, step.data(s))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]
    assert snapshot(s.article) == before


@pytest.mark.parametrize("step_name", [step.name for step in STEPS])
def test_logged_in_non_staff_user_is_sent_to_login_and_changes_nothing(client, step_name):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, step.allowed[0])
    # Holds every role but is not staff: the admin is closed to them.
    outsider = make_user(None, WRITER, REVIEWER, EDITOR, is_staff=False, reviewer="active")
    client.force_login(outsider)
    before = snapshot(s.article)
    response = client.post(step.url(s), step.data(s))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert snapshot(s.article) == before


@pytest.mark.parametrize(
    "step_name", ["approve", "request_changes", "publish", "schedule", "unschedule", "withdraw"]
)
def test_get_on_a_revision_step_url_is_405(client, step_name):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, step.allowed[0])
    client.force_login(actor(step.allowed[0], s))
    before = snapshot(s.article)
    response = client.get(step.url(s), step.data(s))
    assert response.status_code == 405
    assert snapshot(s.article) == before


@pytest.mark.parametrize("step_name", ["submit", "unpublish"])
def test_get_on_an_article_step_url_changes_nothing(client, step_name):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, step.allowed[0])
    client.force_login(actor(step.allowed[0], s))
    before = snapshot(s.article)
    response = client.get(step.url(s), step.data(s))
    # A GET never takes a step: submit redirects, unpublish shows its confirmation page.
    assert response.status_code in (200, 302, 405)
    assert snapshot(s.article) == before


@pytest.mark.parametrize("step_name", [step.name for step in STEPS])
def test_post_without_csrf_token_is_403_and_changes_nothing(step_name):
    step = STEP_BY_NAME[step_name]
    s = scenario(step.state, step.allowed[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(actor(step.allowed[0], s))
    before = snapshot(s.article)
    response = client.post(step.url(s), step.data(s))
    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert snapshot(s.article) == before


def test_post_with_the_pages_csrf_token_is_accepted():
    """The 403 above is the CSRF check, not something else: with the token it works."""
    s = article_in("pending")
    client = Client(enforce_csrf_checks=True)
    client.force_login(s.physician)
    page = client.get(review_url(s.revision))
    token = hidden_inputs(page.content.decode())["csrfmiddlewaretoken"]
    response = client.post(
        step_url("approve", s.revision),
        {**approve_data(s.revision), "csrfmiddlewaretoken": token},
        follow=True,
    )
    assert "You approved revision 1." in messages_of(response)
    assert fresh(s.revision).status == RevisionStatus.APPROVED


def test_unknown_revision_is_404(client):
    client.force_login(make_superuser(reviewer="active"))
    response = client.post(reverse("admin:articles_revision_approve", args=[999999]), {})
    assert response.status_code == 404


# --- Approve: password, attestation, what was read ---------------------------------------


def approve_refused(client, s: Story, data: dict) -> list[str]:
    """A refused approval: an invalid form goes back to the review page; a refusal by the
    workflow shows the review page again at once (400), keeping what was entered."""
    client.force_login(s.physician)
    before = snapshot(s.article)
    response = client.post(step_url("approve", s.revision), data, follow=True)
    if response.redirect_chain:
        assert response.redirect_chain[-1][0] == review_url(s.revision)
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "<title>Review: " in response.content.decode()  # the review page again
    assert snapshot(s.article) == before
    return messages_of(response)


def test_entries_survive_a_wrong_password(client):
    s = article_in("pending")
    client.force_login(s.physician)
    data = approve_data(
        s.revision,
        password="not-my-password",
        comment="Accurate; see the dosing table.",
        conflict_of_interest="I consult for a sleep clinic.",
    )
    page = client.post(step_url("approve", s.revision), data).content.decode()
    assert "Accurate; see the dosing table." in page
    assert "I consult for a sleep clinic." in page
    assert re.search(r'name="attestation"[^>]*checked', page)
    assert "not-my-password" not in page


def test_approve_with_wrong_password_shows_an_error_and_writes_nothing(client):
    s = article_in("pending")
    shown = approve_refused(client, s, approve_data(s.revision, password="not-my-password"))
    assert "Your password was not correct; the revision was not approved." in shown
    assert fresh(s.revision).status == RevisionStatus.PENDING


def test_approve_without_password_is_a_form_error(client):
    s = article_in("pending")
    shown = approve_refused(client, s, approve_data(s.revision, password=None))
    assert any(m.startswith("Your password:") and "required" in m for m in shown), shown


def test_approve_without_attestation_is_refused(client):
    s = article_in("pending")
    shown = approve_refused(client, s, approve_data(s.revision, attestation=None))
    assert "Approval needs the attestation to be accepted." in shown


def test_approve_of_a_revision_other_than_the_one_read_is_refused(client):
    s = article_in("pending")
    shown = approve_refused(client, s, approve_data(s.revision, seen_hash="0" * 64))
    assert "The revision you read is not the one on file; reload and read it again." in shown


def test_approve_without_seen_hash_is_a_form_error(client):
    s = article_in("pending")
    shown = approve_refused(client, s, approve_data(s.revision, seen_hash=None))
    assert shown and "required" in shown[0]


def test_approve_twice_is_refused_the_second_time(client):
    s = article_in("approved")
    shown = approve_refused(client, s, approve_data(s.revision))
    assert "Revision 1 is already approved." in shown


def test_approve_of_a_superseded_revision_is_refused(client):
    s = article_in("pending")
    edit(s.article)
    newer = submit(fresh(s.article), note="Second.")
    shown = approve_refused(client, s, approve_data(s.revision))
    assert any("superseded" in m for m in shown), shown
    assert fresh(newer).status == RevisionStatus.PENDING


def test_author_who_is_also_a_reviewer_gets_403_approving_their_own_revision(client):
    doctor_writer = make_user(None, WRITER, REVIEWER, reviewer="active")
    s = article_in("pending", author=doctor_writer)
    client.force_login(doctor_writer)
    before = snapshot(s.article)
    response = client.post(step_url("approve", s.revision), approve_data(s.revision))
    assert response.status_code == 403
    assert snapshot(s.article) == before


def test_reviewer_who_submitted_someone_elses_article_may_not_approve_it(client):
    """ "Nobody may approve a revision they wrote": the submitter counts as a writer."""
    doctor_writer = make_user(None, WRITER, REVIEWER, reviewer="active")
    s = article_in("draft")
    revision = workflow.submit_for_review(article=s.article, actor=doctor_writer)
    client.force_login(doctor_writer)
    before = snapshot(s.article)
    response = client.post(step_url("approve", revision), approve_data(revision))
    assert response.status_code == 403
    assert snapshot(s.article) == before


def test_request_changes_without_a_comment_is_refused(client):
    s = article_in("pending")
    client.force_login(s.physician)
    before = snapshot(s.article)
    response = client.post(step_url("request_changes", s.revision), {"comment": ""}, follow=True)
    assert any("What needs to change" in m for m in messages_of(response))
    assert snapshot(s.article) == before


def test_request_changes_on_an_approved_revision_is_refused(client):
    s = article_in("approved")
    client.force_login(s.physician)
    before = snapshot(s.article)
    response = client.post(
        step_url("request_changes", s.revision), {"comment": "Late thought."}, follow=True
    )
    assert "Revision 1 is already approved." in messages_of(response)
    assert snapshot(s.article) == before


# --- Publish: only approved revisions, whoever asks --------------------------------------


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_publishing_an_unapproved_revision_is_refused_with_a_message(client, who):
    s = article_in("pending")
    client.force_login(s.editor if who == "editor" else make_superuser())
    before = snapshot(s.article)
    response = client.post(step_url("publish", s.revision), follow=True)
    assert response.status_code == 200
    assert (
        "Revision 1 is waiting for review; only an approved revision can be published."
        in messages_of(response)
    )
    assert snapshot(s.article) == before
    assert fresh(s.article).live_revision_id is None


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_scheduling_an_unapproved_revision_is_refused_with_a_message(client, who):
    s = article_in("pending")
    client.force_login(s.editor if who == "editor" else make_superuser())
    before = snapshot(s.article)
    response = client.post(
        step_url("schedule", s.revision), {"publish_at": "2999-06-01T09:00"}, follow=True
    )
    assert any("only an approved revision can be published" in m for m in messages_of(response))
    assert snapshot(s.article) == before


def test_publishing_a_revision_whose_approval_expired_is_refused(client, settings):
    s = article_in("approved")
    settings.REVIEW_INTERVAL_DAYS = 0
    client.force_login(s.editor)
    before = snapshot(s.article)
    response = client.post(step_url("publish", s.revision), follow=True)
    assert "Revision 1 has no current physician approval; it needs review first." in (
        messages_of(response)
    )
    assert snapshot(s.article) == before


def test_publishing_the_live_revision_again_is_refused(client):
    s = article_in("live")
    client.force_login(s.editor)
    before = snapshot(s.article)
    response = client.post(step_url("publish", s.revision), follow=True)
    assert "Revision 1 is already live." in messages_of(response)
    assert snapshot(s.article) == before


def test_publishing_a_changes_requested_revision_is_refused(client):
    s = article_in("pending")
    workflow.request_changes(revision=s.revision, actor=s.physician, comment="Fix the dose.")
    client.force_login(s.editor)
    before = snapshot(s.article)
    response = client.post(step_url("publish", s.revision), follow=True)
    assert any("only an approved revision" in m for m in messages_of(response))
    assert snapshot(s.article) == before


def test_unpublishing_an_unpublished_article_is_refused_with_a_message(client):
    s = article_in("approved")
    client.force_login(s.editor)
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_unpublish", args=[s.article.pk]),
        {"reason": "Forged."},
        follow=True,
    )
    assert "This article is not published." in response.content.decode()
    assert snapshot(s.article) == before


def test_unscheduling_what_is_not_scheduled_is_refused_with_a_message(client):
    s = article_in("approved")
    client.force_login(s.editor)
    before = snapshot(s.article)
    response = client.post(step_url("unschedule", s.revision), follow=True)
    assert "Revision 1 is not scheduled." in messages_of(response)
    assert snapshot(s.article) == before


def test_withdrawing_a_decided_revision_is_refused_with_a_message(client):
    s = article_in("approved")
    client.force_login(s.author)
    before = snapshot(s.article)
    response = client.post(step_url("withdraw", s.revision), follow=True)
    assert any("only a submission waiting for review" in m for m in messages_of(response))
    assert snapshot(s.article) == before


def test_submitting_unchanged_content_twice_is_refused_with_a_message(client):
    s = article_in("pending")
    client.force_login(s.author)
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_submit", args=[s.article.pk]),
        {"change_note": "Again."},
        follow=True,
    )
    assert "Revision 1 with this content is already waiting for review." in messages_of(response)
    assert snapshot(s.article) == before


def test_overlong_change_note_is_refused_with_a_message(client):
    s = article_in("draft")
    client.force_login(s.author)
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_submit", args=[s.article.pk]),
        {"change_note": "x" * 501},
        follow=True,
    )
    assert any("500 characters" in m for m in messages_of(response))
    assert snapshot(s.article) == before


# --- Who sees what on the review page ----------------------------------------------------


def test_review_page_needs_the_view_permission(client):
    s = article_in("pending")
    client.force_login(make_user(None, is_staff=True))
    assert client.get(review_url(s.revision)).status_code == 403


def test_review_page_for_anonymous_redirects_to_login(client):
    s = article_in("pending")
    response = client.get(review_url(s.revision))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_writer_sees_the_review_page_without_decision_or_publish_forms(client):
    s = article_in("pending")
    client.force_login(make_writer())
    response = client.get(review_url(s.revision))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("approve", "request_changes", "publish", "schedule", "withdraw"):
        assert step_url(name, s.revision) not in html, name


def test_revisions_cannot_be_added_changed_or_deleted_in_the_admin(client):
    s = article_in("approved")
    client.force_login(make_superuser())
    before = snapshot(s.article)
    assert client.get(reverse("admin:articles_revision_add")).status_code == 403
    delete = reverse("admin:articles_revision_delete", args=[s.revision.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:articles_revision_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [s.revision.pk]}
    )
    assert response.status_code in (200, 302, 403)
    assert snapshot(s.article) == before
    assert AuditEvent.objects.filter(article=s.article, action=AuditAction.APPROVED).count() == 1


# --- The article form itself -------------------------------------------------------------


def test_physician_sees_the_article_read_only_and_cannot_save_it(client):
    s = article_in("pending")
    client.force_login(s.physician)
    page = client.get(reverse("admin:articles_article_change", args=[s.article.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_change", args=[s.article.pk]),
        {
            "title": "Hijacked",
            "slug": s.article.slug,
            "category": s.article.category_id,
            "summary": "x",
            "body": "x",
            "loaded_version": s.article.version,
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    assert snapshot(s.article) == before
    assert fresh(s.article).title != "Hijacked"


@pytest.mark.parametrize("role", ["physician", "editor"])
def test_only_writers_create_articles(client, role):
    s = article_in("draft")
    client.force_login(s.physician if role == "physician" else s.editor)
    before = snapshot(s.article)
    url = reverse("admin:articles_article_add")
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "title": "T",
            "slug": "no-way",
            "category": s.article.category_id,
            "summary": "S",
            "body": "B",
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    assert snapshot(s.article) == before


@pytest.mark.parametrize("role", ["author", "editor"])
def test_nobody_but_a_superuser_may_delete_an_article(client, role):
    s = article_in("live")
    client.force_login(s.author if role == "author" else s.editor)
    url = reverse("admin:articles_article_delete", args=[s.article.pk])
    before = snapshot(s.article)
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert snapshot(s.article) == before


def test_superuser_cannot_delete_an_article_that_has_a_review_record(client):
    s = article_in("live")
    client.force_login(make_superuser())
    before = snapshot(s.article)
    response = client.post(
        reverse("admin:articles_article_delete", args=[s.article.pk]), {"post": "yes"}
    )
    assert response.status_code in (200, 403)  # "protected objects" page, or refused
    assert snapshot(s.article) == before
