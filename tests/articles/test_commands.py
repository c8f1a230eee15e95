"""The cron commands: `publish_scheduled` (publishes what is due, once) and
`review_overdue` (lists live articles whose approval expired; exit status 1 for monitoring)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditAction, AuditEvent, Revision, RevisionStatus
from articles.overdue import overdue_articles
from tests.builders import approve, article_in, edit, fresh, make_category, submit

pytestmark = pytest.mark.django_db


def run(name: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def scheduled(days: float = 7):
    """An approved revision scheduled `days` from now through the workflow."""
    s = article_in("approved")
    workflow.schedule(
        revision=s.revision, actor=s.editor, publish_at=timezone.now() + timedelta(days=days)
    )
    return s.refresh()


def make_due(revision: Revision, *, ago: timedelta = timedelta(minutes=5)) -> None:
    """Move a scheduled revision's time into the past (the scheduling API refuses past
    times; `publish_at` is a workflow field, so updating it is allowed)."""
    Revision.objects.filter(pk=revision.pk).update(publish_at=timezone.now() - ago)


def published_events(article: Article) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(article=article, action=AuditAction.PUBLISHED))


# --- publish_scheduled -------------------------------------------------------------------


def test_nothing_scheduled_prints_nothing_due():
    out, _ = run("publish_scheduled")
    assert out.strip() == "Nothing due."


def test_a_future_schedule_is_not_published_yet():
    s = scheduled(days=7)
    out, _ = run("publish_scheduled")
    assert out.strip() == "Nothing due."
    s.refresh()
    assert s.article.live_revision_id is None
    assert s.revision.status == RevisionStatus.APPROVED
    assert s.revision.publish_at is not None
    assert published_events(s.article) == []


def test_a_due_schedule_is_published_and_reported():
    s = scheduled(days=7)
    make_due(s.revision)
    out, _ = run("publish_scheduled")
    assert out.strip() == f"Published “{s.revision.title}” (revision {s.revision.number})."
    s.refresh()
    assert s.article.live_revision_id == s.revision.pk
    assert s.article.first_published_at is not None
    assert s.revision.status == RevisionStatus.PUBLISHED
    assert s.revision.published_at is not None
    assert s.revision.publish_at is None
    assert Article.objects.published().filter(pk=s.article.pk).exists()
    (event,) = published_events(s.article)
    assert event.actor is None  # the system took this step
    assert event.revision_id == s.revision.pk
    assert event.content_hash == s.revision.content_hash
    assert s.editor.get_username() in event.comment


def test_running_twice_publishes_once():
    s = scheduled(days=7)
    make_due(s.revision)
    first, _ = run("publish_scheduled")
    second, _ = run("publish_scheduled")
    assert first.startswith("Published")
    assert second.strip() == "Nothing due."
    assert len(published_events(s.article)) == 1
    assert fresh(s.article).live_revision_id == s.revision.pk


def test_only_due_revisions_are_published():
    due = scheduled(days=3)
    later = scheduled(days=3)
    make_due(due.revision, ago=timedelta(hours=1))
    out, _ = run("publish_scheduled")
    assert out.count("Published") == 1
    assert fresh(due.article).live_revision_id == due.revision.pk
    assert fresh(later.article).live_revision_id is None
    assert fresh(later.revision).status == RevisionStatus.APPROVED


def test_several_due_revisions_are_all_published_in_one_run():
    first, second = scheduled(days=2), scheduled(days=2)
    make_due(first.revision, ago=timedelta(hours=2))
    make_due(second.revision, ago=timedelta(hours=1))
    out, _ = run("publish_scheduled")
    assert out.count("Published") == 2
    assert fresh(first.article).live_revision_id == first.revision.pk
    assert fresh(second.article).live_revision_id == second.revision.pk


def test_publish_due_moves_time_forward():
    s = scheduled(days=2)
    assert workflow.publish_due(now=timezone.now() + timedelta(days=1)) == []
    published = workflow.publish_due(now=timezone.now() + timedelta(days=3))
    assert [r.pk for r in published] == [s.revision.pk]
    assert fresh(s.article).live_revision_id == s.revision.pk
    assert workflow.publish_due(now=timezone.now() + timedelta(days=4)) == []


def test_unscheduled_revision_is_not_published():
    s = scheduled(days=2)
    workflow.unschedule(revision=s.revision, actor=s.editor)
    assert workflow.publish_due(now=timezone.now() + timedelta(days=3)) == []
    assert fresh(s.article).live_revision_id is None


def test_a_schedule_superseded_by_a_new_submission_is_not_published():
    s = scheduled(days=2)
    edit(s.article)
    newer = submit(s.article, note="Second version.")
    assert fresh(s.revision).status == RevisionStatus.SUPERSEDED
    out, _ = run("publish_scheduled")
    assert workflow.publish_due(now=timezone.now() + timedelta(days=3)) == []
    assert out.strip() == "Nothing due."
    assert fresh(s.article).live_revision_id is None
    assert fresh(newer).status == RevisionStatus.PENDING


def test_a_due_revision_whose_approval_expired_is_not_published(settings):
    s = scheduled(days=2)
    make_due(s.revision)
    settings.REVIEW_INTERVAL_DAYS = 0  # every approval is now expired
    before = AuditEvent.objects.count()
    out, _ = run("publish_scheduled")
    assert out.strip() == "Nothing due."
    assert fresh(s.article).live_revision_id is None
    assert fresh(s.revision).status == RevisionStatus.APPROVED
    assert AuditEvent.objects.count() == before


def test_scheduled_revision_replaces_the_live_one_when_due():
    s = article_in("live")
    old_live = s.revision
    edit(s.article)
    newer = submit(s.article, note="Second version.")
    approve(newer, s.physician)
    workflow.schedule(
        revision=newer, actor=s.editor, publish_at=timezone.now() + timedelta(hours=1)
    )
    assert fresh(s.article).live_revision_id == old_live.pk
    make_due(newer)
    run("publish_scheduled")
    assert fresh(s.article).live_revision_id == newer.pk
    assert fresh(newer).status == RevisionStatus.PUBLISHED


# --- review_overdue ----------------------------------------------------------------------


def test_review_overdue_with_nothing_overdue_exits_zero_with_a_message():
    article_in("live")
    out, err = run("review_overdue")  # no SystemExit: exit status 0
    assert out.strip() == "No article is overdue for medical review."
    assert err == ""


def test_review_overdue_with_no_articles_at_all():
    out, _ = run("review_overdue")
    assert "No article is overdue" in out


def test_review_overdue_lists_an_expired_approval_and_exits_one(settings):
    s = article_in("live")
    settings.REVIEW_INTERVAL_DAYS = 0  # the approval, made a moment ago, is now too old
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("review_overdue", stdout=out, stderr=err)
    assert exit_.value.code == 1
    approved_on = fresh(s.revision).approval.created_at
    line = out.getvalue().strip()
    assert line.startswith(f"OVERDUE since {approved_on:%Y-%m-%d}: {s.revision.title}")
    assert s.article.get_absolute_url() in line
    assert "1 article(s) overdue for medical review." in err.getvalue()


def test_review_overdue_uses_the_category_interval_over_the_site_default(settings):
    settings.REVIEW_INTERVAL_DAYS = 365
    fast = make_category(review_interval_days=1)
    slow = article_in("live")
    short = article_in("draft")
    # The category is reviewed content: it must be in the revision the physician approves.
    Article.objects.filter(pk=short.article.pk).update(category=fast)
    revision = submit(fresh(short.article))
    approve(revision, short.physician)
    workflow.publish(revision=revision, actor=short.editor)
    # Not overdue today under either interval.
    out, _ = run("review_overdue")
    assert "No article is overdue" in out
    # Two days on, only the article in the one-day category is overdue.
    later = timezone.now() + timedelta(days=2)
    assert [a.pk for a in overdue_articles(now=later)] == [short.article.pk]
    assert slow.article.pk not in [a.pk for a in overdue_articles(now=later)]


def test_review_overdue_lists_only_overdue_live_articles(settings):
    live = article_in("live")
    approved_only = article_in("approved")
    unpublished = article_in("live")
    workflow.unpublish(article=unpublished.article, actor=unpublished.editor, comment="Pause.")
    settings.REVIEW_INTERVAL_DAYS = 0
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("review_overdue", stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert live.article.get_absolute_url() in lines[0]
    assert approved_only.article.get_absolute_url() not in out.getvalue()
    assert unpublished.article.get_absolute_url() not in out.getvalue()
