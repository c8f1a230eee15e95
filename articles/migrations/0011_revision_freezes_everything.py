"""A revision freezes everything a public page shows; records keep names as they were;
the audit trail becomes a hash chain.

- Revision gains its category, the review interval in force, the author's byline name,
  the images it shows and its contributors (who may not approve it). Existing revisions
  keep their text, HTML and hash untouched; the new columns are filled from what they
  were published under (the article's category and author now, the best record there is).
- Article.contributors (everyone who ever saved) becomes a log of Contributions. Existing
  contributors are logged as of this migration, so each still counts as a contributor to
  the next revision.
- Review gains the reviewer's whole card; older reviews take it from the profile now.
- AuditEvent gains the actor's username and name as recorded, and the chain hashes,
  computed here in id order for the events already written.
- The database guards (append-only and frozen-content triggers) are lifted for the
  backfill and reinstalled with the new columns and tables. On SQLite adding columns
  rebuilds a table, which drops its triggers; reinstalling here covers that too.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

REVISION_CONTENT_COLUMNS = [
    "article_id", "number", "title", "summary", "body", "category_id",
    "review_interval_days", "author_name", "images", "references_csl", "hero_image",
    "hero_image_alt", "rendered_html", "references_html", "toc", "word_count",
    "citation_style", "content_hash", "change_note", "created_by_id", "created_at",
]  # fmt: skip
# Tables whose rows are records: never updated (both databases) nor deleted (PostgreSQL;
# SQLite's test flush deletes rows, so there the ORM's refusal stands alone for DELETE).
RECORD_TABLES = [
    "articles_auditevent",
    "reviewers_review",
    "articles_contribution",
    "articles_auditverification",
    "articles_revision_contributors",
]


def _pg_guards():
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in REVISION_CONTENT_COLUMNS)
    statements = [
        """CREATE OR REPLACE FUNCTION articles_revision_frozen() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'revision content is immutable; submit a new revision instead';
        END;
        $$ LANGUAGE plpgsql;""",
        f"""CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
            FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION articles_revision_frozen();""",
        """CREATE OR REPLACE FUNCTION articles_auditevent_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
        END;
        $$ LANGUAGE plpgsql;""",
    ]
    for table in RECORD_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION articles_auditevent_append_only();"
        )
    return statements


def _sqlite_guards():
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in REVISION_CONTENT_COLUMNS)
    statements = [
        f"""CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
        WHEN {changed}
        BEGIN SELECT RAISE(ABORT, 'revision content is immutable; submit a new revision instead'); END;"""
    ]
    for table in RECORD_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;"
        )
    return statements


def _drop_guards(connection, tables):
    vendor = connection.vendor
    names = [
        ("articles_revision_frozen", "articles_revision"),
        # The names the earlier migrations used (0004, 0010).
        ("articles_auditevent_no_update", "articles_auditevent"),
        ("reviewers_review_no_update", "reviewers_review"),
    ] + [(f"{table}_append_only", table) for table in tables]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for trigger, table in names:
            if table not in existing:
                continue
            if vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            elif vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def lift_guards(apps, schema_editor):
    _drop_guards(schema_editor.connection, RECORD_TABLES)


def install_guards(apps, schema_editor):
    connection = schema_editor.connection
    _drop_guards(connection, RECORD_TABLES)
    if connection.vendor == "postgresql":
        for statement in _pg_guards():
            schema_editor.execute(statement, params=None)
    elif connection.vendor == "sqlite":
        for statement in _sqlite_guards():
            schema_editor.execute(statement, params=None)


def reinstall_old_guards(apps, schema_editor):
    """Backwards: the guards of 0004 and 0010, as they were."""
    connection = schema_editor.connection
    _drop_guards(connection, RECORD_TABLES)
    old_revision_columns = [
        c for c in REVISION_CONTENT_COLUMNS
        if c not in {"category_id", "review_interval_days", "author_name", "images"}
    ]  # fmt: skip
    if connection.vendor == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in old_revision_columns)
        schema_editor.execute(
            f"""CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
            FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION articles_revision_frozen();""",
            params=None,
        )
        for table, name in (
            ("articles_auditevent", "articles_auditevent_no_update"),
            ("reviewers_review", "reviewers_review_no_update"),
        ):
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION articles_auditevent_append_only();",
                params=None,
            )
    elif connection.vendor == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in old_revision_columns)
        schema_editor.execute(
            f"""CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
            WHEN {changed}
            BEGIN SELECT RAISE(ABORT, 'revision content is immutable; submit a new revision instead'); END;""",
            params=None,
        )
        for table, name in (
            ("articles_auditevent", "articles_auditevent_no_update"),
            ("reviewers_review", "reviewers_review_no_update"),
        ):
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END;",
                params=None,
            )


def _full_name(user):
    return f"{user.first_name} {user.last_name}".strip()


def backfill(apps, schema_editor):
    from articles.audit_chain import GENESIS, event_digest

    Article = apps.get_model("articles", "Article")
    Revision = apps.get_model("articles", "Revision")
    Contribution = apps.get_model("articles", "Contribution")
    AuditEvent = apps.get_model("articles", "AuditEvent")
    Review = apps.get_model("reviewers", "Review")
    site_interval = settings.REVIEW_INTERVAL_DAYS
    now = django.utils.timezone.now()

    for article in Article.objects.select_related("category", "author"):
        interval = article.category.review_interval_days or site_interval
        contributors = list(article.contributors.all())
        for user in contributors:
            Contribution.objects.create(
                article=article, user=user, username=user.username, kind="article", created_at=now
            )
        for revision in Revision.objects.filter(article=article):
            Revision.objects.filter(pk=revision.pk).update(
                category=article.category,
                review_interval_days=interval,
                author_name=_full_name(article.author),
            )
            ids = {u.pk for u in contributors} | {revision.created_by_id, article.author_id}
            revision.contributors.set(ids)

    for review in Review.objects.select_related("reviewer", "signed_by"):
        profile = review.reviewer
        Review.objects.filter(pk=review.pk).update(
            reviewer_certifications=profile.board_certifications.strip(),
            reviewer_specialties=profile.specialties.strip(),
            reviewer_photo=profile.photo.name or "",
            reviewer_photo_alt=profile.photo_alt,
            signed_by_username=review.signed_by.username if review.signed_by else "",
        )

    prev = GENESIS
    for event in AuditEvent.objects.select_related("actor").order_by("pk"):
        if event.actor is not None:
            event.actor_username = event.actor.username
            event.actor_name = _full_name(event.actor)
        event.prev_hash = prev
        event.entry_hash = event_digest(event, prev)
        AuditEvent.objects.filter(pk=event.pk).update(
            actor_username=event.actor_username,
            actor_name=event.actor_name,
            prev_hash=event.prev_hash,
            entry_hash=event.entry_hash,
        )
        prev = event.entry_hash


def restore_contributors(apps, schema_editor):
    """Backwards: every logged article contributor is an all-time contributor again."""
    Contribution = apps.get_model("articles", "Contribution")
    Article = apps.get_model("articles", "Article")
    for article in Article.objects.all():
        ids = set(
            Contribution.objects.filter(article=article, kind="article", user__isnull=False)
            .values_list("user_id", flat=True)
        )
        article.contributors.set(ids)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0010_frozen_revision_content"),
        ("reviewers", "0003_review_card"),
        ("references", "0003_reference_edited_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(lift_guards, reinstall_old_guards),
        migrations.AddField(
            model_name="revision",
            name="category",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="revisions", to="articles.category"),
        ),
        migrations.AddField(
            model_name="revision",
            name="review_interval_days",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="revision",
            name="author_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="revision",
            name="images",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="revision",
            name="contributors",
            field=models.ManyToManyField(blank=True, editable=False, related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_username",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="actor_name",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="entry_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.CreateModel(
            name="Contribution",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("username", models.CharField(blank=True, max_length=150)),
                ("kind", models.CharField(choices=[("article", "Edited the article"), ("reference", "Edited a cited reference")], max_length=20)),
                ("detail", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("article", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="contributions", to="articles.article")),
                ("user", models.ForeignKey(blank=True, help_text="Empty when the change came from outside any account (a shell or script).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-created_at", "-pk"]},
        ),
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checked_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("ok", models.BooleanField()),
                ("events_checked", models.PositiveIntegerField(default=0)),
                ("head_event_id", models.BigIntegerField(blank=True, null=True)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                ("problem", models.TextField(blank=True)),
            ],
            options={"ordering": ["-checked_at", "-pk"]},
        ),
        migrations.RunPython(backfill, restore_contributors),
        migrations.RemoveField(model_name="article", name="contributors"),
        migrations.RunPython(install_guards, lift_guards),
    ]
