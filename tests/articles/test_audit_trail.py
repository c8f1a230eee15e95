"""Invariant 4: every workflow step leaves exactly one append-only audit event, and neither
audit events nor signed reviews can be changed or deleted, by the ORM or by raw SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from articles import workflow
from articles.models import AuditAction, AuditEvent, Review
from tests.builders import approve, article_in, edit, fresh, latest_event, submit

pytestmark = pytest.mark.django_db


def _one_event(step, *, actor, action, revision, comment):
    """Run `step`; exactly one audit event appears and it records who, what, which
    revision (by id and by content hash) and the comment."""
    before = AuditEvent.objects.count()
    started = timezone.now()
    result = step()
    assert AuditEvent.objects.count() == before + 1
    event = latest_event()
    revision = revision() if callable(revision) else revision
    assert event.actor_id == (actor.pk if actor else None)
    assert event.action == action
    assert event.revision_id == revision.pk
    assert event.article_id == revision.article_id
    assert event.content_hash == fresh(revision).content_hash
    assert len(event.content_hash) == 64
    assert event.comment == comment
    assert started <= event.created_at <= timezone.now()
    return result


def test_every_step_of_a_lifecycle_writes_exactly_one_event():
    scenario = article_in("draft")
    author, doctor, editor = scenario.author, scenario.physician, scenario.editor
    article = scenario.article

    rev1 = _one_event(
        lambda: submit(article, note="First."),
        actor=author,
        action=AuditAction.SUBMITTED,
        revision=lambda: article.revisions.get(number=1),
        comment="First.",
    )
    _one_event(
        lambda: workflow.request_changes(revision=rev1, actor=doctor, comment="Add a source."),
        actor=doctor,
        action=AuditAction.CHANGES_REQUESTED,
        revision=rev1,
        comment="Add a source.",
    )
    edit(article)
    rev2 = _one_event(
        lambda: submit(article, note="Source added."),
        actor=author,
        action=AuditAction.SUBMITTED,
        revision=lambda: article.revisions.get(number=2),
        comment="Source added.\n(Supersedes unpublished revision 1.)",
    )
    _one_event(
        lambda: approve(rev2, doctor, comment="Good.", conflict_of_interest="None."),
        actor=doctor,
        action=AuditAction.APPROVED,
        revision=rev2,
        comment="Good.\nConflicts of interest: None.",
    )
    when = timezone.now() + timedelta(days=2)
    _one_event(
        lambda: workflow.schedule(revision=rev2, actor=editor, publish_at=when),
        actor=editor,
        action=AuditAction.SCHEDULED,
        revision=rev2,
        comment=f"To publish at {timezone.localtime(when):%Y-%m-%d %H:%M %Z}.",
    )
    _one_event(
        lambda: workflow.unschedule(revision=rev2, actor=editor),
        actor=editor,
        action=AuditAction.UNSCHEDULED,
        revision=rev2,
        comment="",
    )
    _one_event(
        lambda: workflow.publish(revision=rev2, actor=editor, comment="Go."),
        actor=editor,
        action=AuditAction.PUBLISHED,
        revision=rev2,
        comment="Go.",
    )
    edit(article)
    rev3 = _one_event(
        lambda: submit(article),
        actor=author,
        action=AuditAction.SUBMITTED,
        revision=lambda: article.revisions.get(number=3),
        comment="",
    )
    _one_event(
        lambda: workflow.withdraw(revision=rev3, actor=author, comment="Not yet."),
        actor=author,
        action=AuditAction.WITHDRAWN,
        revision=rev3,
        comment="Not yet.",
    )
    _one_event(
        lambda: workflow.unpublish(article=article, actor=editor, comment="Outdated."),
        actor=editor,
        action=AuditAction.UNPUBLISHED,
        revision=rev2,
        comment="Outdated.",
    )
    _one_event(
        lambda: workflow.publish(revision=rev2, actor=editor),
        actor=editor,
        action=AuditAction.PUBLISHED,
        revision=rev2,
        comment="",
    )
    assert list(
        AuditEvent.objects.filter(article=article).order_by("pk").values_list("action", flat=True)
    ) == [
        "submitted",
        "changes_requested",
        "submitted",
        "approved",
        "scheduled",
        "unscheduled",
        "published",
        "submitted",
        "withdrawn",
        "unpublished",
        "published",
    ]


def test_a_scheduled_publication_is_recorded_with_no_actor():
    scenario = article_in("scheduled")
    revision = scenario.revision
    _one_event(
        lambda: workflow.publish_due(now=revision.publish_at + timedelta(seconds=1)),
        actor=None,
        action=AuditAction.PUBLISHED,
        revision=revision,
        comment=f"Scheduled by {scenario.editor.username}.",
    )


def test_events_keep_the_hash_of_the_revision_they_describe():
    scenario = article_in("live_pending")
    hashes = dict(
        AuditEvent.objects.filter(article=scenario.article).values_list(
            "revision__number", "content_hash"
        )
    )
    assert hashes == {1: scenario.live.content_hash, 2: scenario.revision.content_hash}
    assert hashes[1] != hashes[2]


# --- Append-only, in the ORM ---------------------------------------------------------------


@pytest.fixture
def event():
    article_in("pending")
    return latest_event()


def test_saving_an_existing_event_raises(event):
    event.comment = "Rewritten history."
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.save(update_fields=["comment"])
    assert fresh(event).comment != "Rewritten history."


def test_deleting_an_event_raises(event):
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_of_events_raises(event):
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.update(comment="Rewritten.")
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(actor=None)
    event.comment = "Rewritten."
    with pytest.raises(ValueError, match="append-only"), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["comment"])
    assert fresh(event).comment != "Rewritten."


# --- Append-only, in the database ----------------------------------------------------------


def _raw(sql, params):
    """Run raw SQL in a savepoint, so a refusal leaves the test's transaction usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_a_raw_update_of_an_event(event):
    with pytest.raises(DatabaseError):
        _raw("UPDATE articles_auditevent SET comment = %s WHERE id = %s", ["Forged.", event.pk])
    with pytest.raises(DatabaseError):
        _raw("UPDATE articles_auditevent SET actor_id = NULL WHERE id = %s", [event.pk])
    assert fresh(event).comment == event.comment
    assert fresh(event).actor_id == event.actor_id


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Migration 0004 blocks raw DELETE on PostgreSQL only (SQLite's test flush "
    "deletes rows); on SQLite the ORM guard stands alone.",
)
def test_postgresql_refuses_a_raw_delete_of_an_event(event):
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM articles_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Signed reviews are not changed either -------------------------------------------------


@pytest.fixture
def reviews():
    scenario = article_in("approved")
    approval = scenario.revision.approval
    other = article_in("changes_requested")
    changes = Review.objects.get(revision=other.revision)
    return approval, changes


def test_saving_or_deleting_a_review_raises(reviews):
    for review in reviews:
        review.comment = "Edited after signing."
        with pytest.raises(ValueError, match="signed record"):
            review.save()
        with pytest.raises(ValueError, match="signed record"):
            review.delete()
        assert fresh(review).comment != "Edited after signing."


def test_queryset_update_of_reviews_is_refused(reviews):
    for review in reviews:
        with pytest.raises((ValueError, DatabaseError)), transaction.atomic():
            Review.objects.filter(pk=review.pk).update(comment="Edited after signing.")
        with pytest.raises((ValueError, DatabaseError)), transaction.atomic():
            Review.objects.filter(pk=review.pk).update(revision_hash="0" * 64)
        assert fresh(review).comment != "Edited after signing."


def test_the_database_refuses_a_raw_update_of_a_review(reviews):
    for review in reviews:
        with pytest.raises(DatabaseError):
            _raw("UPDATE reviewers_review SET decision = %s WHERE id = %s", ["approve", review.pk])
        assert fresh(review).decision == review.decision


def test_queryset_delete_of_a_review_is_refused(reviews):
    _, changes = reviews
    with pytest.raises((ValueError, DatabaseError)), transaction.atomic():
        Review.objects.filter(pk=changes.pk).delete()
    assert Review.objects.filter(pk=changes.pk).exists()


def test_a_refused_step_writes_no_event():
    scenario = article_in("pending")
    before = AuditEvent.objects.count()
    for step in (
        lambda: workflow.publish(revision=scenario.revision, actor=scenario.editor),
        lambda: workflow.withdraw(revision=scenario.revision, actor=scenario.physician),
        lambda: approve(scenario.revision, scenario.physician, password="wrong"),
        lambda: workflow.unpublish(
            article=scenario.article, actor=scenario.editor, comment="Pause."
        ),
    ):
        with pytest.raises(workflow.WorkflowError):
            step()
    # Only the refused approval attempt itself is on record (so guessing shows).
    assert AuditEvent.objects.exclude(action="approval_refused").count() == before
    assert AuditEvent.objects.filter(action="approval_refused").count() == 1
