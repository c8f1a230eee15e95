"""A physician's decision: approval (password + attestation + the hash they read) and
requests for changes, including the races between a reviewer and a writer."""

from __future__ import annotations

import pytest

from articles import workflow
from articles.models import AuditAction, AuditEvent, Decision, Review, RevisionStatus
from articles.workflow import (
    ATTESTATION_TEXT,
    WorkflowError,
    WorkflowPermissionDenied,
    WrongPasswordError,
)
from tests.builders import (
    PASSWORD,
    approve,
    article_in,
    edit,
    fresh,
    make_article,
    make_physician,
    make_reviewer_profile,
    make_user,
    make_writer,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


def _refused(article, call, refusal=WorkflowError, match=None):
    """`call` is refused with exactly `refusal`, and nothing in the database changed."""
    before = snapshot(article)
    with pytest.raises(refusal, match=match) as caught:
        call()
    assert type(caught.value) is refusal
    assert snapshot(article) == before
    return caught.value


def test_approval_records_the_signed_review():
    scenario = article_in("pending")
    doctor = make_physician(display_name="Mark Hrymoc", credentials="M.D.", title="CMO")
    revision = scenario.revision

    review = approve(
        revision, doctor, comment="  Accurate.  ", conflict_of_interest="  Speaker fees.  "
    )

    revision = fresh(revision)
    assert revision.status == RevisionStatus.APPROVED
    assert revision.approval == review
    assert review.decision == Decision.APPROVE
    assert review.revision == revision
    assert review.revision_hash == revision.content_hash
    assert review.attestation == ATTESTATION_TEXT
    assert (review.comment, review.conflict_of_interest) == ("Accurate.", "Speaker fees.")
    assert workflow.approval_is_current(revision)
    event = AuditEvent.objects.get(action=AuditAction.APPROVED)
    assert event.comment == "Accurate.\nConflicts of interest: Speaker fees."


def test_wrong_password_is_refused_and_nothing_is_written():
    scenario = article_in("pending")
    error = _refused(
        scenario.article,
        lambda: approve(scenario.revision, scenario.physician, password="wrong"),
        refusal=WrongPasswordError,
    )
    assert "password" in str(error)
    assert fresh(scenario.revision).status == RevisionStatus.PENDING
    # Only the attempt itself is on record, so repeated guessing shows.
    attempt = AuditEvent.objects.get(action=AuditAction.APPROVAL_REFUSED)
    assert attempt.actor_id == scenario.physician.pk and "password" in attempt.comment


def test_unaccepted_attestation_is_refused():
    scenario = article_in("pending")
    error = _refused(
        scenario.article,
        lambda: approve(scenario.revision, scenario.physician, attestation_accepted=False),
    )
    assert "attestation" in str(error)


def test_seen_hash_of_other_content_is_refused():
    scenario = article_in("pending")
    error = _refused(
        scenario.article,
        lambda: approve(scenario.revision, scenario.physician, seen_hash="0" * 64),
    )
    assert "not the one on file" in str(error)


def test_approving_twice_is_refused():
    scenario = article_in("pending")
    approve(scenario.revision, scenario.physician)
    second = make_physician()
    _refused(
        scenario.article,
        lambda: approve(fresh(scenario.revision), second),
        match="already approved",
    )
    assert Review.objects.count() == 1


def test_approving_a_superseded_revision_is_refused_even_though_it_was_approved_once():
    scenario = article_in("superseded")
    _refused(
        scenario.article,
        lambda: approve(scenario.revision, make_physician()),
        match="superseded by a newer",
    )


@pytest.mark.parametrize("relation", ["article_author", "revision_submitter"])
def test_nobody_approves_their_own_revision_not_even_a_superuser_reviewer(relation):
    boss = make_user(is_superuser=True, reviewer="active")
    if relation == "article_author":
        # The superuser wrote the article; a writer submitted this revision of it.
        article = make_article(boss)
        revision = submit(article, by=make_writer())
    else:
        # A writer's article; the superuser froze and submitted this revision of it.
        article = make_article(make_writer())
        revision = submit(article, by=boss)

    for call in (
        lambda: approve(revision, boss),
        lambda: workflow.request_changes(revision=revision, actor=boss, comment="Mine."),
    ):
        error = _refused(article, call, WorkflowPermissionDenied)
        assert "they wrote" in str(error)


def test_the_reviewer_snapshot_survives_editing_the_profile():
    scenario = article_in("pending")
    doctor = make_user(None, "Physician reviewer")
    profile = make_reviewer_profile(
        doctor, display_name="Mark Hrymoc", credentials="M.D.", title="Chief Medical Officer"
    )
    review = approve(scenario.revision, doctor)

    profile.display_name = "Mark A. Hrymoc"
    profile.credentials = "M.D., Ph.D."
    profile.title = "Medical Director Emeritus"
    profile.save()

    stored = Review.objects.get(pk=review.pk)
    assert (stored.reviewer_name, stored.reviewer_credentials, stored.reviewer_title) == (
        "Mark Hrymoc",
        "M.D.",
        "Chief Medical Officer",
    )
    assert stored.byline_name == "Mark Hrymoc, M.D."
    assert stored.reviewer == profile


def test_a_deactivated_reviewer_cannot_decide():
    scenario = article_in("pending")
    doctor = make_physician()
    profile = doctor.reviewer_profile
    profile.active = False
    profile.save()
    _refused(scenario.article, lambda: approve(scenario.revision, doctor), WorkflowPermissionDenied)


@pytest.mark.parametrize("comment", ["", "   ", "\n\t"])
def test_requesting_changes_needs_a_comment(comment):
    scenario = article_in("pending")
    error = _refused(
        scenario.article,
        lambda: workflow.request_changes(
            revision=scenario.revision, actor=scenario.physician, comment=comment
        ),
    )
    assert "comment is required" in str(error)


def test_request_changes_records_the_review_and_sends_it_back():
    scenario = article_in("pending")
    review = workflow.request_changes(
        revision=scenario.revision, actor=scenario.physician, comment="  Cite the trial.  "
    )
    revision = fresh(scenario.revision)
    assert revision.status == RevisionStatus.CHANGES_REQUESTED
    assert revision.approval is None
    assert (review.decision, review.comment) == (Decision.REQUEST_CHANGES, "Cite the trial.")
    assert review.revision_hash == revision.content_hash
    assert not workflow.approval_is_current(revision)
    with pytest.raises(WorkflowError):
        workflow.publish(revision=revision, actor=scenario.editor)


# --- Races between a reviewer and a writer ----------------------------------------------


def test_approving_a_revision_superseded_while_the_reviewer_read_it_is_refused():
    scenario = article_in("pending")
    doctor = scenario.physician
    loaded = fresh(scenario.revision)  # the reviewer opens revision N ...
    seen = loaded.content_hash

    edit(scenario.article)  # ... while the writer submits N+1
    newer = submit(scenario.article)
    assert fresh(loaded).status == RevisionStatus.SUPERSEDED

    _refused(scenario.article, lambda: approve(loaded, doctor, seen_hash=seen), match="superseded")
    # Nor can the hash read on N approve N+1.
    _refused(scenario.article, lambda: approve(newer, doctor, seen_hash=seen), match="not the one")
    assert fresh(newer).approval is None


def test_an_approval_that_commits_first_does_not_carry_over_to_the_next_revision():
    scenario = article_in("pending")
    doctor, editor = scenario.physician, scenario.editor
    old = scenario.revision
    review = approve(old, doctor)

    edit(scenario.article)
    newer = submit(scenario.article)

    old = fresh(old)
    assert old.status == RevisionStatus.SUPERSEDED
    assert old.approval == review  # the record of what was signed stays
    for revision in (old, fresh(newer)):
        with pytest.raises(WorkflowError):
            workflow.publish(revision=revision, actor=editor)
    assert fresh(scenario.article).live_revision_id is None
    assert fresh(newer).approval is None

    second = approve(newer, doctor)
    assert second != review
    workflow.publish(revision=newer, actor=editor)
    assert fresh(scenario.article).live_revision_id == newer.pk


def test_changes_requested_on_a_superseded_revision_are_refused():
    scenario = article_in("pending")
    loaded = fresh(scenario.revision)
    edit(scenario.article)
    submit(scenario.article)
    _refused(
        scenario.article,
        lambda: workflow.request_changes(
            revision=loaded, actor=scenario.physician, comment="Too late."
        ),
        match="superseded",
    )


def test_approval_checks_the_password_of_the_actor_not_of_the_author():
    scenario = article_in("pending")
    doctor = make_physician()
    doctor.set_password("the-doctors-own-password")
    doctor.save()
    _refused(
        scenario.article,
        lambda: approve(scenario.revision, doctor, password=PASSWORD),
        refusal=WrongPasswordError,
    )
    approve(scenario.revision, doctor, password="the-doctors-own-password")
    assert fresh(scenario.revision).status == RevisionStatus.APPROVED
