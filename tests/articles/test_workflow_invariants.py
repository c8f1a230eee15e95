"""Invariants 1, 3 and 5 of DESIGN.md: the public sees only approved text; a live article
stays live while its next revision is reviewed and is replaced atomically; reviews expire.
(Invariant 2 is in test_revisions_immutable.py, invariant 4 in test_audit_trail.py.)"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import override_settings
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditAction, AuditEvent, Category, Review, RevisionStatus
from articles.workflow import WorkflowError, approval_is_current
from tests.builders import (
    approvals_expired,
    approve,
    article_in,
    edit,
    fresh,
    make_physician,
    make_user,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


def _publishers(scenario):
    return {
        "editor": scenario.editor,
        "superuser": make_user(is_superuser=True),
        "superuser_reviewer": make_user(is_superuser=True, reviewer="active"),
    }


# --- 1. The public only ever sees approved text ------------------------------------------


@pytest.mark.parametrize(
    "state", ["pending", "changes_requested", "withdrawn", "superseded", "expired"]
)
@pytest.mark.parametrize("who", ["editor", "superuser", "superuser_reviewer"])
def test_publish_refuses_a_revision_without_current_approval(state, who):
    scenario = article_in(state)
    actor = _publishers(scenario)[who]
    before = snapshot(scenario.article)

    with scenario.clock(), pytest.raises(WorkflowError) as caught:
        workflow.publish(revision=scenario.revision, actor=actor)

    assert type(caught.value) is WorkflowError
    assert snapshot(scenario.article) == before
    assert not Article.objects.published().filter(pk=scenario.article.pk).exists()


def test_a_superuser_cannot_approve_and_publish_their_own_text():
    boss = make_user(is_superuser=True, reviewer="active")
    scenario = article_in("pending", author=boss)
    with pytest.raises(workflow.WorkflowPermissionDenied):
        approve(scenario.revision, boss)
    with pytest.raises(WorkflowError):
        workflow.publish(revision=scenario.revision, actor=boss)
    assert not Article.objects.published().exists()


def test_the_public_sees_exactly_the_approved_text_not_the_working_copy():
    scenario = article_in("live")
    approved = scenario.live
    edit(scenario.article, "\n\nUnreviewed claim: cures everything.\n")
    article = fresh(scenario.article)
    article.title = "Unreviewed title"
    workflow.save_working_copy(article=article, actor=scenario.author, expected_version=None)

    public = Article.objects.published().get(pk=scenario.article.pk)
    shown = public.live_revision
    assert shown.pk == approved.pk
    assert (shown.title, shown.summary, shown.body) == (
        approved.title,
        approved.summary,
        approved.body,
    )
    assert "Unreviewed" not in shown.rendered_html + shown.title
    assert shown.approval.revision_hash == shown.content_hash
    assert approval_is_current(shown)


def test_the_public_queryset_hides_articles_that_are_only_approved_or_scheduled():
    for state in ("draft", "pending", "approved", "scheduled", "unpublished", "superseded"):
        article_in(state)
    assert not Article.objects.published().exists()
    live = article_in("live")
    assert list(Article.objects.published()) == [live.article]


# --- 3. A live article stays live while its next revision is reviewed ---------------------


def test_live_revision_stays_while_the_next_is_written_reviewed_and_sent_back():
    scenario = article_in("live")
    live = scenario.live
    article_id = scenario.article.pk

    def shown():
        return Article.objects.published().get(pk=article_id).live_revision_id

    edit(scenario.article)
    second = submit(scenario.article)
    assert shown() == live.pk
    workflow.request_changes(revision=second, actor=scenario.physician, comment="No.")
    assert shown() == live.pk
    edit(scenario.article)
    third = submit(scenario.article)
    assert shown() == live.pk
    approve(third, scenario.physician)
    assert shown() == live.pk
    assert fresh(live).status == RevisionStatus.PUBLISHED


def test_publishing_the_new_revision_replaces_the_live_one():
    scenario = article_in("live_pending")
    old, new = scenario.live, scenario.revision
    old_published_at = fresh(old).published_at
    first_published_at = fresh(scenario.article).first_published_at
    approve(new, scenario.physician)

    workflow.publish(revision=new, actor=scenario.editor)

    article = fresh(scenario.article)
    assert article.live_revision_id == new.pk
    assert article.first_published_at == first_published_at
    old, new = fresh(old), fresh(new)
    assert old.status == RevisionStatus.PUBLISHED
    assert old.published_at == old_published_at
    assert new.status == RevisionStatus.PUBLISHED
    assert new.published_at > old_published_at
    # The superseded live revision cannot be brought back over the newer approved one.
    workflow.unpublish(article=article, actor=scenario.editor, comment="Pause.")
    with pytest.raises(WorkflowError, match="newer approved revision"):
        workflow.publish(revision=old, actor=scenario.editor)


def test_a_failure_while_publishing_leaves_the_old_revision_live():
    scenario = article_in("live_pending")
    approve(scenario.revision, scenario.physician)
    before = snapshot(scenario.article)

    with (
        mock.patch.object(workflow, "_audit", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        workflow.publish(revision=scenario.revision, actor=scenario.editor)

    assert snapshot(scenario.article) == before
    assert fresh(scenario.article).live_revision_id == scenario.live.pk


# --- 5. Reviews expire ---------------------------------------------------------------------


def test_approval_is_current_for_exactly_the_review_interval():
    scenario = article_in("approved")
    revision = scenario.revision
    signed = revision.approval.created_at
    year = timedelta(days=365)

    assert approval_is_current(revision, now=signed)
    assert approval_is_current(revision, now=signed + year - timedelta(seconds=1))
    assert not approval_is_current(revision, now=signed + year)
    assert not approval_is_current(revision, now=signed + year + timedelta(days=30))


def test_the_interval_comes_from_the_setting_and_the_category_overrides_it():
    scenario = article_in("approved")
    revision = scenario.revision
    signed = revision.approval.created_at
    at_100_days = signed + timedelta(days=100)

    with override_settings(REVIEW_INTERVAL_DAYS=90):
        assert not approval_is_current(fresh(revision), now=at_100_days)
    with override_settings(REVIEW_INTERVAL_DAYS=120):
        assert approval_is_current(fresh(revision), now=at_100_days)

    category = scenario.article.category
    category.review_interval_days = 30
    category.save()
    assert not approval_is_current(fresh(revision), now=signed + timedelta(days=31))
    assert approval_is_current(fresh(revision), now=signed + timedelta(days=29))


def test_no_approval_and_a_changes_request_are_never_current():
    pending = article_in("pending").revision
    assert not approval_is_current(pending)
    sent_back = article_in("changes_requested").revision
    assert not approval_is_current(sent_back)


@pytest.mark.parametrize("step", ["publish", "schedule"])
def test_an_expired_approval_cannot_be_published_or_scheduled(step):
    scenario = article_in("approved")
    before = snapshot(scenario.article)
    with approvals_expired(), pytest.raises(WorkflowError, match="no current physician"):
        if step == "publish":
            workflow.publish(revision=scenario.revision, actor=scenario.editor)
        else:
            workflow.schedule(
                revision=scenario.revision,
                actor=scenario.editor,
                publish_at=timezone.now() + timedelta(days=1),
            )
    assert snapshot(scenario.article) == before


def test_a_category_with_a_short_interval_expires_its_approvals():
    scenario = article_in("approved")
    # Shortening the interval of the revision's own category applies at once.
    Category.objects.filter(pk=scenario.revision.category_id).update(review_interval_days=1)
    signed = scenario.revision.approval.created_at
    assert approval_is_current(fresh(scenario.revision), now=signed + timedelta(hours=23))
    assert not approval_is_current(fresh(scenario.revision), now=signed + timedelta(days=2))


def test_re_review_of_an_expired_approval_records_a_new_review():
    scenario = article_in("expired")
    revision = scenario.revision
    old_review = revision.approval
    reviewer = make_physician()

    with approvals_expired():
        assert not approval_is_current(fresh(revision))
        new_review = approve(revision, reviewer, comment="Still accurate.")

    revision = fresh(revision)
    assert new_review.pk != old_review.pk
    assert revision.approval_id == new_review.pk
    assert revision.status == RevisionStatus.APPROVED
    assert Review.objects.filter(revision=revision).count() == 2
    assert Review.objects.filter(pk=old_review.pk).exists()
    assert approval_is_current(revision)
    events = AuditEvent.objects.filter(revision=revision, action=AuditAction.APPROVED)
    assert events.count() == 2
    workflow.publish(revision=revision, actor=scenario.editor)
    assert fresh(scenario.article).live_revision_id == revision.pk


def test_re_review_of_a_live_article_keeps_it_live_and_updates_last_reviewed():
    scenario = article_in("live")
    live = scenario.live
    old_review = live.approval

    with approvals_expired():
        new_review = approve(live, make_physician(display_name="Second Opinion"))

    public = Article.objects.published().get(pk=scenario.article.pk)
    assert public.live_revision_id == live.pk
    assert public.live_revision.status == RevisionStatus.PUBLISHED
    # The public "Last reviewed" date is the real date of the sign-off shown.
    assert public.live_revision.approval == new_review
    assert public.live_revision.approval.created_at >= old_review.created_at
    assert public.live_revision.approval.reviewer_name == "Second Opinion"


def test_a_current_approval_cannot_be_re_reviewed():
    scenario = article_in("approved")
    before = snapshot(scenario.article)
    with pytest.raises(WorkflowError, match="already approved"):
        approve(scenario.revision, make_physician())
    assert snapshot(scenario.article) == before
