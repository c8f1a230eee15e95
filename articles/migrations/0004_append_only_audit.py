"""Make the audit trail append-only in the database itself, not only in the ORM.

UPDATE is refused on both databases. DELETE is refused on PostgreSQL; its test-database
flush uses TRUNCATE, which these row triggers do not see. On SQLite the ORM guard stands
alone for DELETE, because SQLite's flush deletes rows one table at a time.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION articles_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER articles_auditevent_no_update BEFORE UPDATE OR DELETE ON articles_auditevent
    FOR EACH ROW EXECUTE FUNCTION articles_auditevent_append_only();
CREATE TRIGGER reviewers_review_no_update BEFORE UPDATE OR DELETE ON reviewers_review
    FOR EACH ROW EXECUTE FUNCTION articles_auditevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS articles_auditevent_no_update ON articles_auditevent;
DROP TRIGGER IF EXISTS reviewers_review_no_update ON reviewers_review;
DROP FUNCTION IF EXISTS articles_auditevent_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER articles_auditevent_no_update BEFORE UPDATE ON articles_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    """CREATE TRIGGER reviewers_review_no_update BEFORE UPDATE ON reviewers_review
       BEGIN SELECT RAISE(ABORT, 'reviews are signed records'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS articles_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS reviewers_review_no_update;",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the % in RAISE's format string is not a query placeholder.
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UP:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("articles", "0003_roles"), ("reviewers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
