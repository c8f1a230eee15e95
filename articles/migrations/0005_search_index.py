"""A GIN index for full-text search on PostgreSQL; SQLite searches without one."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS articles_revision_search_gin "
            "ON articles_revision USING gin (search_vector);"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS articles_revision_search_gin;")


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_append_only_audit")]

    operations = [migrations.RunPython(forwards, backwards)]
