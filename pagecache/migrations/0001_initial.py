"""The public version row and the triggers that replace its token (pagecache/triggers.py)."""

import secrets

from django.db import migrations, models
from django.utils import timezone

from pagecache.triggers import Watch, install, uninstall

# The watched tables as of this migration (see pagecache.triggers.WATCHED).
WATCHES = (
    Watch(
        "articles_article",
        columns=("slug", "live_revision_id", "first_published_at"),
        inserts="NEW.live_revision_id IS NOT NULL",
    ),
    Watch(
        "articles_revision",
        columns=("status", "approval_id", "published_at"),
        inserts=False,
        only_when="OLD.status = 'published' OR NEW.status = 'published'",
    ),
    Watch("articles_category"),
    Watch("reviewers_reviewer"),
    Watch("auth_user", columns=("is_active",), inserts=False),
)


def create_row_and_triggers(apps, schema_editor):
    PublicVersion = apps.get_model("pagecache", "PublicVersion")
    PublicVersion.objects.using(schema_editor.connection.alias).create(
        id=1, token=secrets.token_hex(16), changed_at=timezone.now()
    )
    install(schema_editor, WATCHES)


def drop_triggers(apps, schema_editor):
    uninstall(schema_editor, WATCHES)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("articles", "0012_audit_action_approval_refused"),
        ("reviewers", "0003_review_card"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("token", models.CharField(max_length=64)),
                ("changed_at", models.DateTimeField()),
                (
                    "changed_by_statement",
                    models.CharField(blank=True, editable=False, max_length=100),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="one_public_version"
                    )
                ],
            },
        ),
        migrations.RunPython(create_row_and_triggers, drop_triggers),
    ]
