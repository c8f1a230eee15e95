"""The migrations that move category, images, byline and reviewer card into revisions, and
chain the audit trail, tested on a database built by the code before them.

The database is migrated back to the schema before this change, filled through the
historical models as the old code left it (a published, approved revision; audit events; a
contributor), then migrated forward. The published page must show exactly the approved
text and HTML, and every record must keep what it recorded.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.db_role_plugin import owner_privileges

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _as_the_owner(transactional_db):
    """Migrating is the owner's job: under DATABASE_APP_ROLE this test acts as the owner."""
    with owner_privileges():
        yield


BEFORE = [
    ("articles", "0010_frozen_revision_content"),
    ("reviewers", "0002_review_signed_by"),
    ("references", "0002_doi_unique_ignoring_case"),
    ("images", None),
]
APPROVED_HTML = '<p>Approved text, exactly as <a href="#ref-parker2019">signed</a>.</p>'


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _build_old_database(apps):
    User = apps.get_model("auth", "User")
    Category = apps.get_model("articles", "Category")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    AuditEvent = apps.get_model("articles", "AuditEvent")
    Reviewer = apps.get_model("reviewers", "Reviewer")
    Review = apps.get_model("reviewers", "Review")

    author = User.objects.create(username="old-writer", first_name="Wendy", last_name="Writer")
    helper = User.objects.create(username="old-helper")
    doctor = User.objects.create(username="old-doctor", first_name="Mark", last_name="Hrymoc")
    editor = User.objects.create(username="old-editor")
    profile = Reviewer.objects.create(
        user=doctor,
        display_name="Mark Hrymoc",
        credentials="M.D.",
        title="Chief Medical Officer",
        board_certifications="General Psychiatry\nAddiction Psychiatry",
        specialties="Couples therapy",
        slug="mark-hrymoc",
    )
    category = Category.objects.create(name="Relationships", slug="relationships")
    article = Article.objects.create(
        slug="old-article",
        category=category,
        author=author,
        title="Working copy title",
        summary="Working copy summary.",
        body="Working copy body.",
    )
    article.contributors.set([author, helper])
    digest = "a" * 64
    revision = Revision.objects.create(
        article=article,
        number=1,
        title="Approved title",
        summary="Approved summary.",
        body="Approved text.",
        rendered_html=APPROVED_HTML,
        references_html="",
        content_hash=digest,
        created_by=author,
        status="published",
        published_at=timezone.now(),
    )
    review = Review.objects.create(
        revision=revision,
        reviewer=profile,
        signed_by=doctor,
        decision="approve",
        revision_hash=digest,
        reviewer_name="Mark Hrymoc",
        reviewer_credentials="M.D.",
        reviewer_title="Chief Medical Officer",
    )
    Revision.objects.filter(pk=revision.pk).update(approval=review)
    Article.objects.filter(pk=article.pk).update(
        live_revision=revision, first_published_at=timezone.now()
    )
    for actor, action in ((author, "submitted"), (doctor, "approved"), (editor, "published")):
        AuditEvent.objects.create(
            actor=actor, action=action, article=article, revision=revision, content_hash=digest
        )
    return article.pk, revision.pk, {u.username: u.pk for u in (author, helper, doctor)}


def test_published_page_and_records_survive_the_migration(client):
    old_apps = _migrate(BEFORE)
    article_pk, revision_pk, users = _build_old_database(old_apps)
    _migrate(_latest())

    from articles.audit_chain import check_chain
    from articles.models import Article, AuditEvent, Contribution, Revision

    article = Article.objects.published().get(pk=article_pk)
    revision = Revision.objects.get(pk=revision_pk)
    assert revision.rendered_html == APPROVED_HTML
    assert revision.content_hash == "a" * 64
    html = client.get(article.get_absolute_url()).content.decode()
    assert APPROVED_HTML in html
    assert "Approved title" in html and "Working copy" not in html
    assert "Medically reviewed by" in html and "Mark Hrymoc, M.D." in html
    assert "Board certified in General Psychiatry, Addiction Psychiatry" in html
    assert "Relationships" in html and "Written by Wendy Writer" in html

    # Frozen from what it was published under.
    assert revision.category.slug == "relationships"
    assert revision.author_name == "Wendy Writer"
    card = revision.approval
    assert card.specialty_list() == ["Couples therapy"]
    assert card.signed_by_username == "old-doctor"
    # Everyone who ever saved the working copy still may not approve the next revision.
    assert set(revision.contributors.values_list("username", flat=True)) == {
        "old-writer",
        "old-helper",
    }
    assert set(Contribution.objects.filter(article=article).values_list("username", flat=True)) == {
        "old-writer",
        "old-helper",
    }
    # The audit trail is a verified chain, with names as they were.
    assert list(AuditEvent.objects.order_by("pk").values_list("actor_username", flat=True)) == [
        "old-writer",
        "old-doctor",
        "old-editor",
    ]
    assert check_chain().ok
    call_command("verify_audit")


def test_the_database_guards_are_back_after_the_migration():
    _migrate(BEFORE)
    _migrate(_latest())
    with connection.cursor() as cursor:
        for statement in (
            "UPDATE articles_auditevent SET comment = 'x'",
            "UPDATE reviewers_review SET comment = 'x'",
            "UPDATE articles_contribution SET username = 'x'",
            "UPDATE articles_revision SET title = 'x'",
        ):
            # Empty tables do not fire row triggers: check the trigger is installed instead.
            table = statement.split()[1]
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
            else:
                cursor.execute(
                    "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE c.relname = %s AND NOT t.tgisinternal",
                    [table],
                )
            assert cursor.fetchone()[0] >= 1, table
