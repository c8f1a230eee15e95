"""Review, the physician's signature on a revision, moves from `reviewers` into `articles`.

State only (`SeparateDatabaseAndState` with no database operations): the model keeps its
table `reviewers_review` (`db_table`), and with it every row, constraint, index and the
append-only triggers of articles.0004 and 0011. Revision.approval is pointed at the new
model in state; in the database it is the same foreign key to the same table.

Order: this migration creates articles.Review and re-points Revision.approval, then
reviewers.0004 removes reviewers.Review (`run_before`, so that migration needs to name
nothing of `articles`). The other way round the state would hold, between the two, a
foreign key to a model that no longer exists, which Django cannot load; and reviewers.0004,
depending on no articles migration, could be planned before the articles migrations that
still use reviewers.Review.

Permissions: the content type `reviewers | review` is renamed `articles | review`, so its
permission rows (and every group, user and admin log entry that refers to them) become
`articles.*_review` with their ids unchanged. The role groups of articles.0003 and 0009
therefore hold `articles.view_review`, as `articles.roles` now lists it.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _move_review_content_type(apps, schema_editor, *, source: str, target: str) -> None:
    """Make the `review` content type (and its permissions) belong to `target`."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    old = ContentType.objects.using(db).filter(app_label=source, model="review").first()
    if old is not None:
        new = ContentType.objects.using(db).filter(app_label=target, model="review").first()
        if new is None:
            # The usual case: one row renamed, so ids, grants and log entries stay valid.
            old.app_label = target
            old.save(using=db, update_fields=["app_label"])
        else:
            # Both exist (content types were recreated from the models after a flush): the
            # grants move to the target's permissions, the source's permissions go. The
            # empty source type is left for `remove_stale_contenttypes`.
            for permission in Permission.objects.using(db).filter(content_type=old):
                twin = (
                    Permission.objects.using(db)
                    .filter(content_type=new, codename=permission.codename)
                    .first()
                )
                if twin is None:
                    permission.content_type = new
                    permission.save(using=db, update_fields=["content_type"])
                    continue
                for group in permission.group_set.all():
                    group.permissions.add(twin)
                for user in permission.user_set.all():
                    user.user_permissions.add(twin)
                permission.delete()
    # Both managers cache content types by id and by name; neither may keep the old name.
    ContentType.objects.clear_cache()
    from django.contrib.contenttypes.models import ContentType as CurrentContentType

    CurrentContentType.objects.clear_cache()


def forwards(apps, schema_editor) -> None:
    _move_review_content_type(apps, schema_editor, source="reviewers", target="articles")


def backwards(apps, schema_editor) -> None:
    _move_review_content_type(apps, schema_editor, source="articles", target="reviewers")


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0012_audit_action_approval_refused"),
        ("reviewers", "0003_review_card"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    run_before = [("reviewers", "0004_review_moves_to_articles")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Review",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("decision", models.CharField(choices=[("approve", "Approved"), ("request_changes", "Changes requested")], max_length=20)),
                        ("comment", models.TextField(blank=True)),
                        ("attestation", models.TextField(blank=True, help_text="The attestation text accepted.")),
                        ("conflict_of_interest", models.TextField(blank=True, help_text="Declared conflicts of interest; empty when none.")),
                        ("revision_hash", models.CharField(max_length=64)),
                        ("reviewer_name", models.CharField(max_length=200)),
                        ("reviewer_credentials", models.CharField(max_length=100)),
                        ("reviewer_title", models.CharField(blank=True, max_length=200)),
                        ("reviewer_certifications", models.TextField(blank=True, help_text="One per line, as signed.")),
                        ("reviewer_specialties", models.TextField(blank=True, help_text="One per line, as signed.")),
                        ("reviewer_photo", models.CharField(blank=True, max_length=255)),
                        ("reviewer_photo_alt", models.CharField(blank=True, max_length=300)),
                        ("signed_by_username", models.CharField(blank=True, max_length=150)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("revision", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="reviews", to="articles.revision")),
                        ("reviewer", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="reviews", to="reviewers.reviewer")),
                        ("signed_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "reviewers_review", "ordering": ["-created_at"]},
                ),
                migrations.AlterField(
                    model_name="revision",
                    name="approval",
                    field=models.ForeignKey(blank=True, help_text="The latest approving review of this exact revision.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="articles.review"),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
