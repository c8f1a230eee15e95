"""Invariant 2: an approval belongs to one immutable revision. Content cannot be changed
once frozen, and a change to the article or to a reference it cites makes a new revision
that needs its own approval."""

from __future__ import annotations

import pytest
from django.db import transaction

from articles import workflow
from articles.models import Article, Revision, RevisionStatus
from articles.snapshot import content_hash, refresh_working_copy
from articles.workflow import WorkflowError
from tests.builders import (
    approve,
    article_in,
    edit,
    fresh,
    make_article,
    make_physician,
    make_reference,
    make_writer,
    submit,
)

pytestmark = pytest.mark.django_db

CONTENT_FIELDS = {
    "title": "Edited title",
    "summary": "Edited summary.",
    "body": "Edited body.",
    "references_csl": [{"id": "forged", "type": "book", "title": "Forged"}],
    "rendered_html": "<p>Edited</p>",
    "references_html": "<ul></ul>",
    "content_hash": "f" * 64,
    "number": 99,
    "created_by": None,  # replaced with a user in the test
}


@pytest.fixture
def approved_revision():
    return article_in("approved").revision


@pytest.mark.parametrize("name", sorted(CONTENT_FIELDS))
def test_saving_a_changed_content_field_raises(approved_revision, name):
    revision = fresh(approved_revision)
    value = CONTENT_FIELDS[name] if name != "created_by" else make_writer()
    setattr(revision, name, value)

    with pytest.raises(ValueError, match="immutable"):
        revision.save()
    with pytest.raises(ValueError, match="immutable"):
        revision.save(update_fields=[name])
    with pytest.raises(ValueError, match="immutable"):
        revision.save(update_fields=["status", name])

    stored = fresh(approved_revision)
    assert getattr(stored, name) == getattr(approved_revision, name)


@pytest.mark.parametrize("name", sorted(set(CONTENT_FIELDS) - {"created_by"}))
def test_queryset_update_of_content_raises(approved_revision, name):
    with pytest.raises(ValueError, match="immutable"):
        Revision.objects.filter(pk=approved_revision.pk).update(**{name: CONTENT_FIELDS[name]})
    with pytest.raises(ValueError, match="immutable"):
        Revision.objects.update(status=RevisionStatus.PUBLISHED, **{name: CONTENT_FIELDS[name]})
    assert fresh(approved_revision).status == RevisionStatus.APPROVED


def test_bulk_update_of_content_raises(approved_revision):
    revision = fresh(approved_revision)
    revision.body = "Edited in bulk."
    # bulk_update opens an atomic block without a savepoint; give it one of its own.
    with pytest.raises(ValueError, match="immutable"), transaction.atomic():
        Revision.objects.bulk_update([revision], ["body"])
    assert fresh(approved_revision).body == approved_revision.body


def test_revisions_cannot_be_deleted(approved_revision):
    with pytest.raises(ValueError):
        fresh(approved_revision).delete()
    with pytest.raises(ValueError):
        Revision.objects.filter(pk=approved_revision.pk).delete()
    with pytest.raises(ValueError):
        Revision.objects.all().delete()
    assert Revision.objects.filter(pk=approved_revision.pk).exists()


def test_the_approved_content_hash_is_the_hash_of_the_frozen_content(approved_revision):
    revision = fresh(approved_revision)
    assert revision.content_hash == content_hash(
        title=revision.title,
        summary=revision.summary,
        body=revision.body,
        references=revision.references_csl,
        hero_image=revision.hero_image.name or "",
        hero_image_alt=revision.hero_image_alt,
        category={"id": revision.category_id, "name": revision.category.name},
        author_name=revision.author_name,
        images=revision.images,
    )
    assert revision.approval.revision_hash == revision.content_hash


def _cited_scenario():
    ref = make_reference("parker2019", title="Emotional intimacy, original title")
    make_reference("uncited2020", title="Never cited")
    author = make_writer()
    article = make_article(author, body="Intimacy matters [@parker2019].\n")
    doctor = make_physician()
    revision = submit(article)
    approve(revision, doctor)
    return ref, fresh(article), fresh(revision), doctor


def test_editing_a_cited_reference_changes_the_working_hash():
    ref, article, revision, _ = _cited_scenario()
    assert article.working_hash == revision.content_hash

    ref.title = "Emotional intimacy, corrected title"
    ref.save()
    refresh_working_copy(article)

    assert fresh(article).working_hash != revision.content_hash
    # The frozen revision still carries the reference as it was approved.
    assert fresh(revision).references_csl[0]["title"] == "Emotional intimacy, original title"


def test_editing_an_uncited_reference_changes_nothing():
    from references.models import Reference

    _, article, revision, _ = _cited_scenario()
    uncited = Reference.objects.get(key="uncited2020")
    uncited.title = "Still never cited"
    uncited.save()
    refresh_working_copy(article)
    assert fresh(article).working_hash == revision.content_hash
    with pytest.raises(WorkflowError, match="already approved"):
        submit(article)


@pytest.mark.parametrize("published", [False, True], ids=["approved", "live"])
def test_a_changed_reference_needs_a_new_approval(published):
    ref, article, revision, doctor = _cited_scenario()
    editor_user = article_in("draft").editor
    if published:
        workflow.publish(revision=revision, actor=editor_user)
    old_references_html = fresh(revision).references_html

    ref.title = "Emotional intimacy, corrected title"
    ref.save()
    refresh_working_copy(article)
    newer = submit(article, note="Reference corrected.")

    newer = fresh(newer)
    assert newer.number == 2
    assert newer.status == RevisionStatus.PENDING
    assert newer.approval is None
    assert newer.content_hash == fresh(article).working_hash != revision.content_hash
    assert newer.references_csl[0]["title"] == "Emotional intimacy, corrected title"
    assert "corrected title" in newer.references_html

    old = fresh(revision)
    assert old.references_csl[0]["title"] == "Emotional intimacy, original title"
    assert old.references_html == old_references_html
    assert old.status == (RevisionStatus.PUBLISHED if published else RevisionStatus.SUPERSEDED)

    # The old approval cannot publish the new revision ...
    with pytest.raises(WorkflowError, match="only an approved revision"):
        workflow.publish(revision=newer, actor=editor_user)
    # ... even if someone points the new revision at it behind the workflow's back.
    Revision.objects.filter(pk=newer.pk).update(
        approval=old.approval, status=RevisionStatus.APPROVED
    )
    assert not workflow.approval_is_current(fresh(newer))
    with pytest.raises(WorkflowError, match="no current physician approval"):
        workflow.publish(revision=fresh(newer), actor=editor_user)
    live = fresh(article).live_revision_id
    assert live == (revision.pk if published else None)


def test_submit_recomputes_the_hash_even_if_the_working_copy_was_not_refreshed():
    ref, article, revision, _ = _cited_scenario()
    ref.title = "Changed without refreshing any article"
    ref.save()  # nothing calls refresh_working_copy

    newer = submit(Article.objects.get(pk=article.pk))

    assert newer.content_hash != revision.content_hash
    assert newer.references_csl[0]["title"] == "Changed without refreshing any article"


def test_an_edit_to_the_body_makes_a_new_revision_the_approval_does_not_cover():
    scenario = article_in("approved")
    edit(scenario.article, "\n\nA new claim.\n")
    newer = submit(scenario.article)
    assert fresh(scenario.revision).status == RevisionStatus.SUPERSEDED
    assert not workflow.approval_is_current(fresh(newer))
    with pytest.raises(WorkflowError):
        workflow.publish(revision=scenario.revision, actor=scenario.editor)


@pytest.mark.parametrize("column", ["body", "rendered_html", "content_hash", "title"])
def test_the_database_refuses_raw_sql_that_changes_revision_content(column):
    """Invariant 2 holds even for code that goes around the model."""
    from django.db import DatabaseError, connection, transaction

    scenario = article_in("pending")
    revision = scenario.revision
    before = getattr(fresh(revision), column)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE articles_revision SET {column} = %s WHERE id = %s",  # noqa: S608
            ["tampered", revision.pk],
        )
    assert getattr(fresh(revision), column) == before


def test_the_database_still_lets_the_workflow_change_status():
    from django.db import connection

    scenario = article_in("pending")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_revision SET status = %s WHERE id = %s",
            ["withdrawn", scenario.revision.pk],
        )
    assert fresh(scenario.revision).status == "withdrawn"
