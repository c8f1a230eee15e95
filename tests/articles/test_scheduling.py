"""Scheduled publication: `schedule`, `unschedule` and `publish_due` (run by
`manage.py publish_scheduled`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditAction, AuditEvent, RevisionStatus
from articles.workflow import WorkflowError, publish_due
from tests.builders import approvals_expired, approve, article_in, edit, fresh, snapshot, submit

pytestmark = pytest.mark.django_db


def _scheduled(days: float):
    scenario = article_in("approved")
    when = timezone.now() + timedelta(days=days)
    workflow.schedule(revision=scenario.revision, actor=scenario.editor, publish_at=when)
    scenario.refresh()
    return scenario


def test_schedule_records_when_and_who():
    scenario = _scheduled(3)
    revision = scenario.revision
    assert revision.status == RevisionStatus.APPROVED
    assert revision.scheduled_by == scenario.editor
    assert revision.publish_at > timezone.now()
    assert fresh(scenario.article).live_revision_id is None


def test_schedule_refuses_a_time_in_the_past():
    scenario = article_in("approved")
    before = snapshot(scenario.article)
    with pytest.raises(WorkflowError, match="future"):
        workflow.schedule(
            revision=scenario.revision,
            actor=scenario.editor,
            publish_at=timezone.now() - timedelta(minutes=1),
        )
    assert snapshot(scenario.article) == before


def test_publish_due_publishes_due_revisions_and_leaves_future_ones():
    due = _scheduled(1)
    future = _scheduled(10)
    at = timezone.now() + timedelta(days=2)

    published = publish_due(now=at)

    assert [revision.pk for revision in published] == [due.revision.pk]
    assert fresh(due.article).live_revision_id == due.revision.pk
    revision = fresh(due.revision)
    assert revision.status == RevisionStatus.PUBLISHED
    assert revision.published_at == at
    assert revision.publish_at is None
    assert fresh(due.article).first_published_at == at
    assert fresh(future.article).live_revision_id is None
    assert fresh(future.revision).status == RevisionStatus.APPROVED
    assert fresh(future.revision).publish_at == future.revision.publish_at

    event = AuditEvent.objects.get(revision=due.revision, action=AuditAction.PUBLISHED)
    assert event.actor is None
    assert event.content_hash == due.revision.content_hash
    assert event.comment == f"Scheduled by {due.editor.username}."


def test_publish_due_twice_publishes_once():
    due = _scheduled(1)
    at = timezone.now() + timedelta(days=2)

    assert len(publish_due(now=at)) == 1
    assert publish_due(now=at) == []
    assert publish_due(now=at + timedelta(days=1)) == []

    assert AuditEvent.objects.filter(action=AuditAction.PUBLISHED).count() == 1
    assert fresh(due.article).live_revision_id == due.revision.pk


def test_publish_due_before_any_time_has_come_does_nothing():
    scenario = _scheduled(1)
    before = snapshot(scenario.article)
    assert publish_due() == []
    assert snapshot(scenario.article) == before


def test_publish_due_skips_a_revision_whose_approval_expired():
    scenario = _scheduled(1)
    before = snapshot(scenario.article)
    signed = scenario.revision.approval.created_at

    assert publish_due(now=signed + timedelta(days=366)) == []

    assert snapshot(scenario.article) == before
    assert fresh(scenario.revision).status == RevisionStatus.APPROVED


def test_publish_due_skips_a_revision_whose_approval_expired_by_setting():
    scenario = _scheduled(1)
    before = snapshot(scenario.article)
    with approvals_expired():
        assert publish_due(now=timezone.now() + timedelta(days=2)) == []
    assert snapshot(scenario.article) == before


def test_publish_due_replaces_the_live_revision():
    scenario = article_in("live_pending")
    approve(scenario.revision, scenario.physician)
    workflow.schedule(
        revision=scenario.revision,
        actor=scenario.editor,
        publish_at=timezone.now() + timedelta(hours=1),
    )
    old_published_at = fresh(scenario.live).published_at

    publish_due(now=timezone.now() + timedelta(hours=2))

    assert fresh(scenario.article).live_revision_id == scenario.revision.pk
    assert fresh(scenario.live).status == RevisionStatus.PUBLISHED
    assert fresh(scenario.live).published_at == old_published_at


def test_a_new_submission_cancels_the_schedule_of_the_superseded_revision():
    scenario = _scheduled(1)
    edit(scenario.article)
    newer = submit(scenario.article)

    old = fresh(scenario.revision)
    assert old.status == RevisionStatus.SUPERSEDED
    assert old.publish_at is None
    assert publish_due(now=timezone.now() + timedelta(days=2)) == []
    assert fresh(scenario.article).live_revision_id is None
    assert fresh(newer).status == RevisionStatus.PENDING


def test_unschedule_cancels_publication():
    scenario = _scheduled(1)
    workflow.unschedule(revision=scenario.revision, actor=scenario.editor)
    assert fresh(scenario.revision).publish_at is None
    assert publish_due(now=timezone.now() + timedelta(days=2)) == []
    assert not Article.objects.published().exists()


def test_unscheduling_an_unscheduled_revision_is_refused():
    scenario = article_in("approved")
    before = snapshot(scenario.article)
    with pytest.raises(WorkflowError, match="not scheduled"):
        workflow.unschedule(revision=scenario.revision, actor=scenario.editor)
    assert snapshot(scenario.article) == before


def test_rescheduling_moves_the_time():
    scenario = _scheduled(1)
    later = timezone.now() + timedelta(days=5)
    workflow.schedule(revision=scenario.revision, actor=scenario.editor, publish_at=later)
    assert publish_due(now=timezone.now() + timedelta(days=2)) == []
    assert [r.pk for r in publish_due(now=later)] == [scenario.revision.pk]


def test_a_scheduled_republication_of_an_unpublished_revision_happens():
    scenario = article_in("unpublished")
    when = timezone.now() + timedelta(hours=1)
    workflow.schedule(revision=scenario.revision, actor=scenario.editor, publish_at=when)

    published = publish_due(now=when + timedelta(minutes=1))

    assert [r.pk for r in published] == [scenario.revision.pk]
    assert fresh(scenario.article).live_revision_id == scenario.revision.pk


def test_the_schedule_of_an_unpublished_revision_can_be_cancelled():
    scenario = article_in("unpublished")
    when = timezone.now() + timedelta(hours=1)
    workflow.schedule(revision=scenario.revision, actor=scenario.editor, publish_at=when)

    workflow.unschedule(revision=scenario.revision, actor=scenario.editor)

    assert fresh(scenario.revision).publish_at is None
