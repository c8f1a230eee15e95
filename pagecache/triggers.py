"""The database triggers that replace the public version's token (pagecache.models).

Every write a public page can show goes through one of the tables below, so the token
changes in the same transaction as the write, whatever made it: a workflow step, the
admin, a management command, a data migration or hand-written SQL. Nothing in Python has
to remember to invalidate anything.

What the public pages read, and so what is watched:
- an article's slug, live revision and first publication date (not its working copy:
  saving a draft changes nothing readers see, and leaves the cache alone);
- a revision's status, approval and publication time (its content is frozen);
- categories and reviewer profiles, whole;
- whether a reviewer's user account is active (a profile is public while it is).
Frozen records (reviews, stored images, the audit trail) and references (frozen into each
revision) cannot change a public page.

Locks: on PostgreSQL the version row stays locked from a transaction's first watched
write to its commit, so public changes commit one after another (they are rare). The lock
order of the workflow stays article → version → audit chain: every step locks its article,
then writes what readers see, then appends to the audit trail. A transaction that changed
several articles' public state would lock all of them before its first such write.

SQLite drops a table's triggers when a migration rebuilds the table (adding a column,
say). A migration that does so calls `install()` again afterwards;
tests/pagecache/test_triggers.py fails until it does.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION_TABLE = "pagecache_publicversion"


PUBLISHED_ROW = "OLD.status = 'published' OR NEW.status = 'published'"


@dataclass(frozen=True)
class Watch:
    table: str
    # Updates of these columns count; None: every update does.
    columns: tuple[str, ...] | None = None
    # Inserts count: all (True), none (False), or those whose NEW row meets this condition.
    inserts: bool | str = True
    # And only updates of rows meeting this condition (SQL both databases read).
    only_when: str = ""


WATCHED = (
    # A new article is a draft, unless written live (a restore, a bulk load).
    Watch(
        "articles_article",
        columns=("slug", "live_revision_id", "first_published_at"),
        inserts="NEW.live_revision_id IS NOT NULL",
    ),
    # Only revisions going live or leaving it: submitting, approving or scheduling one does
    # not change what readers see; publishing it does, and updates a row watched here.
    Watch(
        "articles_revision",
        columns=("status", "approval_id", "published_at"),
        inserts=False,
        only_when=PUBLISHED_ROW,
    ),
    Watch("articles_category"),
    Watch("reviewers_reviewer"),
    Watch("auth_user", columns=("is_active",), inserts=False),
)


def trigger_names(watch: Watch) -> list[str]:
    operations = ["update", "delete"] + (["insert"] if watch.inserts else [])
    return [f"pagecache_{watch.table}_{operation}" for operation in operations]


def _condition(watch: Watch, *, distinct: str) -> str:
    changed = " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in watch.columns or ())
    return f"({changed}) AND ({watch.only_when})" if watch.only_when else changed


# --- PostgreSQL --------------------------------------------------------------------------

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION pagecache_bump() RETURNS trigger AS $$
BEGIN
    -- Once per statement: a bulk write of many rows replaces the token once.
    UPDATE {VERSION_TABLE}
       SET token = md5(random()::text || clock_timestamp()::text || txid_current()::text),
           changed_at = clock_timestamp(),
           changed_by_statement = txid_current()::text || '@' || statement_timestamp()::text
     WHERE id = 1
       AND changed_by_statement IS DISTINCT FROM
           txid_current()::text || '@' || statement_timestamp()::text;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608 - a constant table name, no input


def _pg_statements(watch: Watch) -> list[str]:
    update, delete, *insert = trigger_names(watch)
    # Row-level where a condition picks the columns; statement-level otherwise, so a bulk
    # write replaces the token once rather than once per row.
    if watch.columns:
        update_sql = (
            f"CREATE TRIGGER {update} AFTER UPDATE ON {watch.table} FOR EACH ROW "
            f"WHEN ({_condition(watch, distinct='IS DISTINCT FROM')}) "
            "EXECUTE FUNCTION pagecache_bump();"
        )
    else:
        update_sql = (
            f"CREATE TRIGGER {update} AFTER UPDATE ON {watch.table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION pagecache_bump();"
        )
    statements = [
        update_sql,
        f"CREATE TRIGGER {delete} AFTER DELETE ON {watch.table} FOR EACH STATEMENT "
        "EXECUTE FUNCTION pagecache_bump();",
    ]
    if insert and isinstance(watch.inserts, str):
        statements.append(
            f"CREATE TRIGGER {insert[0]} AFTER INSERT ON {watch.table} FOR EACH ROW "
            f"WHEN ({watch.inserts}) EXECUTE FUNCTION pagecache_bump();"
        )
    elif insert:
        statements.append(
            f"CREATE TRIGGER {insert[0]} AFTER INSERT ON {watch.table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION pagecache_bump();"
        )
    return statements


# --- SQLite ------------------------------------------------------------------------------

# Django stores SQLite datetimes as UTC text in this shape.
_SQLITE_BUMP = (
    f"UPDATE {VERSION_TABLE} SET token = lower(hex(randomblob(16))), "  # noqa: S608
    "changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1;"
)


def _sqlite_statements(watch: Watch) -> list[str]:
    update, delete, *insert = trigger_names(watch)
    when = f" WHEN {_condition(watch, distinct='IS NOT')}" if watch.columns else ""
    statements = [
        f"CREATE TRIGGER {update} AFTER UPDATE ON {watch.table} FOR EACH ROW{when} "
        f"BEGIN {_SQLITE_BUMP} END;",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {watch.table} FOR EACH ROW "
        f"BEGIN {_SQLITE_BUMP} END;",
    ]
    if insert:
        insert_when = f" WHEN {watch.inserts}" if isinstance(watch.inserts, str) else ""
        statements.append(
            f"CREATE TRIGGER {insert[0]} AFTER INSERT ON {watch.table} FOR EACH ROW"
            f"{insert_when} BEGIN {_SQLITE_BUMP} END;"
        )
    return statements


# --- Installing --------------------------------------------------------------------------


def install(schema_editor, watches: tuple[Watch, ...] = WATCHED) -> None:
    """(Re)install the triggers; safe to run again after a migration rebuilt a table.

    A migration passes the watches as they stood when it was written, so migrating a new
    database never names a table that does not exist yet.
    """
    uninstall(schema_editor, watches)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION)
        for watch in watches:
            for statement in _pg_statements(watch):
                schema_editor.execute(statement)
    elif vendor == "sqlite":
        for watch in watches:
            for statement in _sqlite_statements(watch):
                schema_editor.execute(statement)
    else:  # pragma: no cover - the project runs on PostgreSQL and SQLite only
        raise NotImplementedError(f"No public-version triggers for {vendor}.")


def uninstall(schema_editor, watches: tuple[Watch, ...] = WATCHED) -> None:
    vendor = schema_editor.connection.vendor
    for watch in watches:
        for name in trigger_names(watch):
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {watch.table};")
            else:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS pagecache_bump();")
