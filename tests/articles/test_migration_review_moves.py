"""articles.0013 / reviewers.0004: Review moves from `reviewers` to `articles` in Django's
state only, tested on a database built as the code before it left one.

The database is migrated back to the last migrations before the move, filled through the
historical models (a published revision with its approving review, a review that asked for
changes, the role groups as articles.0003 and 0009 made them, a group and a user granted
review permissions by hand, an admin log entry about a review), then migrated forward. The
table `reviewers_review` must keep every row, trigger, index and constraint exactly; the
`reviewers.*_review` permissions must have become `articles.*_review` wherever they were
held; and the published page must still show the physician's signature.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.management import create_permissions
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.db_role_plugin import owner_privileges

# Migrations need a real transaction (schema state, SQLite's foreign-key checks).
pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("articles", "0012_audit_action_approval_refused"),
    ("reviewers", "0003_review_card"),
    # Not changed here; named so the historical state includes LogEntry.
    ("admin", "0003_logentry_add_action_flag_choices"),
]
TABLE = "reviewers_review"


@pytest.fixture(autouse=True)
def _as_the_owner(transactional_db):
    """Migrating is the owner's job: under DATABASE_APP_ROLE this test acts as the owner."""
    with owner_privileges():
        yield


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())


def _schema() -> list[tuple[Any, ...]]:
    """Everything the database attaches to the table: triggers, indexes, constraints."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s ORDER BY name",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT 'trigger', t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = %s "
                "UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid = %s::regclass "
                "UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes "
                "WHERE tablename = %s ORDER BY 1, 2",
                [TABLE, TABLE, TABLE],
            )
        return cursor.fetchall()


def _rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {TABLE} ORDER BY id")  # noqa: S608 - a constant
        return cursor.fetchall()


def _granted(holder) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in holder.permissions.all()}


def _build_old_database(apps) -> dict[str, int]:
    """Rows as the code before the move wrote them, through its historical models."""
    from articles.migrations._roles_0009 import ROLE_PERMISSIONS_0009
    from articles.roles import apply_role_permissions

    # Content types and permissions of that state, as articles.0003 creates them (a flush
    # by an earlier test may have left only today's).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    apply_role_permissions(Group, Permission, table=ROLE_PERMISSIONS_0009)

    User = apps.get_model("auth", "User")
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    Category = apps.get_model("articles", "Category")
    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    Reviewer = apps.get_model("reviewers", "Reviewer")
    Review = apps.get_model("reviewers", "Review")

    author = User.objects.create(username="old-writer", first_name="Wendy", last_name="Writer")
    doctor = User.objects.create(username="old-doctor", first_name="Mark", last_name="Hrymoc")
    auditor = User.objects.create(username="old-auditor", is_staff=True)
    profile = Reviewer.objects.create(
        user=doctor,
        display_name="Mark Hrymoc",
        credentials="M.D.",
        board_certifications="General Psychiatry",
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
    digest = "b" * 64
    revision = Revision.objects.create(
        article=article,
        number=1,
        title="Approved title",
        summary="Approved summary.",
        body="Approved text.",
        rendered_html="<p>Approved text.</p>",
        content_hash=digest,
        created_by=author,
        category=category,
        author_name="Wendy Writer",
        status="published",
        published_at=timezone.now(),
    )
    card = {
        "reviewer": profile,
        "signed_by": doctor,
        "revision_hash": digest,
        "reviewer_name": "Mark Hrymoc",
        "reviewer_credentials": "M.D.",
        "reviewer_certifications": "General Psychiatry",
        "signed_by_username": "old-doctor",
    }
    Review.objects.create(
        revision=revision, decision="request_changes", comment="Cite the 2019 trial.", **card
    )
    approval = Review.objects.create(
        revision=revision, decision="approve", attestation="I attest.", **card
    )
    Revision.objects.filter(pk=revision.pk).update(approval=approval)
    Article.objects.filter(pk=article.pk).update(
        live_revision=revision, first_published_at=timezone.now()
    )

    # Review permissions held outside the role table: a group of its own and a user.
    review_type = ContentType.objects.get(app_label="reviewers", model="review")
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(
        Permission.objects.get(content_type=review_type, codename="view_review")
    )
    auditor.user_permissions.add(
        Permission.objects.get(content_type=review_type, codename="change_review")
    )
    entry = LogEntry.objects.create(
        user=auditor,
        content_type=review_type,
        object_id=str(approval.pk),
        object_repr="Approved by Mark Hrymoc",
        action_flag=2,
        change_message="[]",
    )
    return {
        "article": article.pk,
        "revision": revision.pk,
        "approval": approval.pk,
        "auditor": auditor.pk,
        "entry": entry.pk,
        "review_type": review_type.pk,
    }


def test_reviews_keep_their_table_rows_and_guards(client):
    old = _build_old_database(_migrate(BEFORE))
    schema, rows = _schema(), _rows()
    assert len(rows) == 2 and schema

    _migrate_to_latest()

    assert _schema() == schema
    assert _rows() == rows

    from articles.models import Article, Review, Revision

    assert Review._meta.db_table == TABLE
    revision = Revision.objects.get(pk=old["revision"])
    assert isinstance(revision.approval, Review)
    assert revision.approval.pk == old["approval"]
    assert list(revision.reviews.values_list("decision", flat=True)) == [
        "approve",
        "request_changes",
    ]
    article = Article.objects.published().get(pk=old["article"])
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Medically reviewed by" in html and "Mark Hrymoc, M.D." in html

    # The append-only trigger still guards the rows (a row exists, so it fires).
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET comment = 'rewritten'")  # noqa: S608
    assert _rows() == rows


def test_review_permissions_become_articles_permissions_wherever_held():
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType

    from articles.models import Review
    from articles.roles import ROLE_PERMISSIONS

    old = _build_old_database(_migrate(BEFORE))
    _migrate_to_latest()

    # The same content type row, renamed: its id, and so everything that names it, is kept.
    review_type = ContentType.objects.get_for_model(Review)
    assert review_type.pk == old["review_type"]
    assert not ContentType.objects.filter(app_label="reviewers", model="review").exists()
    assert not Permission.objects.filter(
        content_type__app_label="reviewers", codename__endswith="_review"
    ).exists()

    for role, expected in ROLE_PERMISSIONS.items():
        assert _granted(Group.objects.get(name=role)) == set(expected), role
    assert _granted(Group.objects.get(name="Auditors")) == {"articles.view_review"}
    auditor = User.objects.get(pk=old["auditor"])
    assert auditor.has_perm("articles.change_review")
    assert not auditor.has_perm("reviewers.change_review")
    entry = LogEntry.objects.get(pk=old["entry"])
    assert entry.get_edited_object() == Review.objects.get(pk=old["approval"])


def test_the_move_can_be_undone_and_redone():
    from django.contrib.contenttypes.models import ContentType

    old = _build_old_database(_migrate(BEFORE))
    rows = _rows()
    _migrate_to_latest()
    _migrate(BEFORE)

    restored = ContentType.objects.get(pk=old["review_type"])
    assert (restored.app_label, restored.model) == ("reviewers", "review")
    assert _rows() == rows

    _migrate_to_latest()
    assert ContentType.objects.get(pk=old["review_type"]).app_label == "articles"
    assert _rows() == rows


def test_grants_move_when_both_content_types_exist():
    """A flush recreates content types from today's models: `articles | review` may already
    exist beside the old one. The grants then move to its permissions; none is lost."""
    from django.contrib.auth.models import Group, User

    apps = _migrate(BEFORE)
    old = _build_old_database(apps)
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    recreated = ContentType.objects.create(app_label="articles", model="review")
    Permission.objects.create(
        content_type=recreated, codename="view_review", name="Can view review"
    )

    _migrate_to_latest()

    assert _granted(Group.objects.get(name="Physician reviewer")) >= {"articles.view_review"}
    assert _granted(Group.objects.get(name="Auditors")) == {"articles.view_review"}
    assert User.objects.get(pk=old["auditor"]).has_perm("articles.change_review")
    assert not Permission.objects.filter(
        content_type__app_label="reviewers", codename__endswith="_review"
    ).exists()
