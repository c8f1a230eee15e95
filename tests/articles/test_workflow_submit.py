"""Submitting for review, and saving the working copy (which never freezes anything)."""

from __future__ import annotations

import pytest

from articles import workflow
from articles.models import Article, AuditEvent, Review, Revision, RevisionStatus
from articles.workflow import StaleEditError, WorkflowError, WorkflowPermissionDenied
from tests.builders import (
    article_in,
    edit,
    fresh,
    make_article,
    make_reference,
    make_writer,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


def test_first_submission_freezes_the_working_copy_with_its_references():
    ref = make_reference("parker2019")
    author = make_writer()
    article = make_article(author, body="Intimacy matters [@parker2019].\n")

    revision = submit(article, note="  First version.  ")

    assert (revision.number, revision.status) == (1, RevisionStatus.PENDING)
    assert (revision.title, revision.summary, revision.body) == (
        article.title,
        article.summary,
        article.body,
    )
    assert revision.references_csl == [ref.to_csl()]
    assert 'href="#ref-parker2019"' in revision.rendered_html
    assert "Emotional intimacy and sexual satisfaction" in revision.references_html
    assert revision.content_hash == fresh(article).working_hash
    assert revision.change_note == "First version."
    assert revision.created_by == author
    assert revision.approval is None


def test_unknown_citation_key_is_refused_naming_the_key_and_line():
    make_reference("parker2019")
    article = make_article(
        make_writer(),
        body="## Intro\n\nKnown [@parker2019].\n\nUnknown [@nosuch2020, p. 4] here.\n",
    )
    before = snapshot(article)

    with pytest.raises(WorkflowError) as caught:
        submit(article)

    assert type(caught.value) is WorkflowError
    message = str(caught.value)
    assert "nosuch2020" in message
    assert "line 5" in message
    assert "parker2019" not in message
    assert snapshot(article) == before


def test_every_unknown_key_is_named_with_its_own_line():
    article = make_article(make_writer(), body="First [@ghost1].\n\nSecond [@real; @ghost2].\n")
    make_reference("real")
    before = snapshot(article)

    with pytest.raises(WorkflowError) as caught:
        submit(article)
    assert snapshot(article) == before

    message = str(caught.value)
    assert "“ghost1” on line 1" in message
    assert "“ghost2” on line 3" in message
    assert Revision.objects.count() == 0


@pytest.mark.parametrize("state", ["pending", "approved", "live", "scheduled"])
def test_submitting_unchanged_content_is_refused(state):
    scenario = article_in(state)
    before = snapshot(scenario.article)

    with pytest.raises(WorkflowError) as caught:
        submit(scenario.article)

    assert type(caught.value) is WorkflowError
    assert f"revision {scenario.revision.number}" in str(caught.value).lower()
    assert snapshot(scenario.article) == before


def test_submission_needs_the_submit_permission():
    scenario = article_in("draft")
    with pytest.raises(WorkflowPermissionDenied):
        submit(scenario.article, by=scenario.editor)
    assert Revision.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("state", ["pending", "approved", "scheduled", "live", "changes_requested"])
def test_saving_without_a_change_creates_no_revision_and_cancels_nothing(state):
    scenario = article_in(state)
    before = snapshot(scenario.article)
    article = fresh(scenario.article)

    saved = workflow.save_working_copy(
        article=article, actor=scenario.author, expected_version=article.version
    )

    after = snapshot(scenario.article)
    assert saved.version == article.version
    # Same revisions, statuses, approvals, schedule, live revision; only the version moved.
    expected = before.copy()
    expected.version += 1
    assert after == expected
    assert fresh(scenario.article).working_hash == scenario.revision.content_hash


def test_saving_a_change_creates_no_revision_and_cancels_no_review():
    scenario = article_in("approved")
    before = snapshot(scenario.article)

    edit(scenario.article, "\n\nA new paragraph.\n")

    after = snapshot(scenario.article)
    assert after.revisions == before.revisions
    assert after.counts == before.counts
    assert after.working_hash != scenario.revision.content_hash
    assert fresh(scenario.revision).status == RevisionStatus.APPROVED


def test_stale_save_is_refused_and_keeps_the_other_persons_text():
    scenario = article_in("draft")
    colleague = make_writer()
    mine = fresh(scenario.article)
    theirs = fresh(scenario.article)
    loaded = mine.version

    theirs.body = "Their text.\n"
    workflow.save_working_copy(article=theirs, actor=colleague, expected_version=loaded)

    mine.body = "My text.\n"
    with pytest.raises(StaleEditError):
        workflow.save_working_copy(article=mine, actor=scenario.author, expected_version=loaded)

    stored = fresh(scenario.article)
    assert stored.body == "Their text."  # stored normalized: LF, no trailing blank
    assert stored.version == loaded + 1
    assert Revision.objects.count() == 0


def test_saving_needs_the_change_permission():
    scenario = article_in("draft")
    article = fresh(scenario.article)
    before = snapshot(scenario.article)
    body, version = article.body, article.version
    article.body = "Changed by a physician."
    with pytest.raises(WorkflowPermissionDenied):
        workflow.save_working_copy(
            article=article, actor=scenario.physician, expected_version=article.version
        )
    stored = fresh(scenario.article)
    assert (stored.body, stored.version) == (body, version)
    assert snapshot(scenario.article) == before


def test_saving_a_stale_instance_does_not_undo_a_publish():
    scenario = article_in("approved")
    loaded = fresh(scenario.article)  # the writer's form, opened before the publish
    workflow.publish(revision=scenario.revision, actor=scenario.editor)
    events = AuditEvent.objects.count()

    loaded.body += "\n\nA writer's edit.\n"
    workflow.save_working_copy(
        article=loaded, actor=scenario.author, expected_version=loaded.version
    )

    article = fresh(scenario.article)
    assert article.live_revision_id == scenario.revision.pk
    assert article.first_published_at is not None
    assert Article.objects.published().filter(pk=article.pk).exists()
    assert AuditEvent.objects.count() == events


def test_saving_a_stale_instance_does_not_undo_an_unpublish():
    scenario = article_in("live")
    loaded = fresh(scenario.article)
    workflow.unpublish(article=scenario.article, actor=scenario.editor, comment="Pause.")

    loaded.body += "\n\nA writer's edit.\n"
    workflow.save_working_copy(
        article=loaded, actor=scenario.author, expected_version=loaded.version
    )

    assert fresh(scenario.article).live_revision_id is None


def test_submitting_supersedes_every_open_revision_and_keeps_the_live_one():
    scenario = article_in("live_pending")
    live, pending = scenario.live, scenario.revision
    edit(scenario.article)

    newest = submit(scenario.article, note="Third version.")

    assert fresh(pending).status == RevisionStatus.SUPERSEDED
    assert fresh(live).status == RevisionStatus.PUBLISHED
    assert fresh(scenario.article).live_revision_id == live.pk
    assert (newest.number, newest.status) == (3, RevisionStatus.PENDING)
    event = AuditEvent.objects.get(revision=newest)
    assert event.comment == "Third version.\n(Supersedes unpublished revision 2.)"


def test_resubmission_after_changes_requested_makes_a_new_revision():
    scenario = article_in("changes_requested")
    edit(scenario.article, "\n\nNow with a source.\n")

    second = submit(scenario.article)

    assert fresh(scenario.revision).status == RevisionStatus.SUPERSEDED
    assert second.number == 2
    assert second.approval is None
    assert Review.objects.filter(revision=second).count() == 0
