"""Make a revision's content immutable in the database itself (invariant 2).

The ORM already refuses; these triggers also refuse raw SQL, fixtures and any code that
goes around the model. Workflow columns (status, approval, schedule, publication, search
vector) stay writable.
"""

from django.db import migrations

CONTENT_COLUMNS = [
    "article_id",
    "number",
    "title",
    "summary",
    "body",
    "references_csl",
    "hero_image",
    "hero_image_alt",
    "rendered_html",
    "references_html",
    "toc",
    "word_count",
    "citation_style",
    "content_hash",
    "change_note",
    "created_by_id",
    "created_at",
]

_changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in CONTENT_COLUMNS)
POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION articles_revision_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'revision content is immutable; submit a new revision instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
    FOR EACH ROW WHEN ({_changed}) EXECUTE FUNCTION articles_revision_frozen();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS articles_revision_frozen ON articles_revision;
DROP FUNCTION IF EXISTS articles_revision_frozen();
"""
_sqlite_changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in CONTENT_COLUMNS)
SQLITE_UP = f"""
CREATE TRIGGER articles_revision_frozen BEFORE UPDATE ON articles_revision
WHEN {_sqlite_changed}
BEGIN SELECT RAISE(ABORT, 'revision content is immutable; submit a new revision instead'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS articles_revision_frozen;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [("articles", "0009_editor_role_without_editing")]

    operations = [migrations.RunPython(forwards, backwards)]
