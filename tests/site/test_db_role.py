"""The database defends itself: the application's PostgreSQL role cannot rewrite history.

`manage.py create_app_role` sets up a role that owns nothing. Acting as that role (SET ROLE
inside the test's transaction, and once by logging in as it), these tests prove that it
cannot TRUNCATE, disable or drop the append-only triggers, UPDATE or DELETE audit events or
signed reviews, or change a revision's content, while the ordinary workflow still works.
Every refusal must be PostgreSQL's privilege check (SQLSTATE 42501), not a trigger or the
ORM, and after each one the data must be exactly as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from clinic_site import db_privileges
from tests.db_role_plugin import acting_as, owner_privileges
from tests.db_role_plugin import app_role as app_role_name

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="create_app_role sets up PostgreSQL roles and privileges, which SQLite does not "
    "have; run the suite with DATABASE_URL=postgres://… to prove them.",
)

REPO = Path(__file__).resolve().parents[2]
APPEND_ONLY_TABLES = ("articles_auditevent", "reviewers_review")
# The tables whose rows the database guards with triggers (migrations 0004 and 0010 on).
GUARDED_TABLES = (*APPEND_ONLY_TABLES, "articles_revision")


def _new_role_name() -> str:
    # Unique per test: the suite may run beside another one on the same server.
    return f"clinic_app_test_{uuid.uuid4().hex[:10]}"


def _run_command(*args, **options) -> str:
    out = StringIO()
    with owner_privileges():
        call_command("create_app_role", *args, stdout=out, **options)
    return out.getvalue()


def _compose(statement: sql.Composable) -> str:
    return statement.as_string(connection.connection)


def _refused(statement: str, params=None) -> None:
    """`statement` fails on a missing privilege, in a savepoint that leaves the test usable."""
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as c:
        c.execute(statement, params)
    sqlstate = getattr(info.value.__cause__, "sqlstate", None)
    assert sqlstate == "42501", f"{statement!r} failed, but not on privileges: {info.value}"


def _triggers() -> list[tuple[str, str, str]]:
    """(table, trigger, enabled) for the guarded tables' own triggers, whatever their names."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s) ORDER BY 1, 2",
            [list(GUARDED_TABLES)],
        )
        return cursor.fetchall()


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            _compose(sql.SQL("SELECT * FROM {} ORDER BY id").format(sql.Identifier(table)))
        )
        return cursor.fetchall()


def _history() -> dict[str, list[tuple]]:
    return {table: _rows(table) for table in (*APPEND_ONLY_TABLES, "articles_revision")}


def _privileges(role: str) -> dict:
    """Everything `role` holds: attributes, table, column and sequence grants, memberships.

    Read from the catalogs, which any role may read (information_schema shows only the
    grants of the roles the current user has enabled).
    """
    queries = {
        "attributes": "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
        "rolbypassrls, rolinherit FROM pg_roles WHERE rolname = %s",
        "tables": "SELECT c.relname, a.privilege_type FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "CROSS JOIN aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE r.rolname = %s AND c.relkind <> 'S' ORDER BY 1, 2",
        "columns": "SELECT c.relname, t.attname, a.privilege_type FROM pg_attribute t "
        "JOIN pg_class c ON c.oid = t.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "CROSS JOIN aclexplode(t.attacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE r.rolname = %s ORDER BY 1, 2, 3",
        "sequences": "SELECT c.relname, a.privilege_type FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "CROSS JOIN aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE r.rolname = %s AND c.relkind = 'S' ORDER BY 1, 2",
        "database": "SELECT a.privilege_type FROM pg_database d "
        "CROSS JOIN aclexplode(d.datacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE d.datname = current_database() AND r.rolname = %s ORDER BY 1",
        "members": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "WHERE r.rolname = %s",
        "owned": "SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid "
        "WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o' AND r.rolname = %s",
    }
    found = {}
    with connection.cursor() as cursor:
        for name, query in queries.items():
            cursor.execute(query, [role])
            found[name] = cursor.fetchall()
    return found


def _by_table(rows) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for table, privilege in rows:
        tables.setdefault(table, set()).add(privilege)
    return tables


@pytest.fixture
def app_role(db) -> str:
    """A new role, set up by the command inside the test's transaction (rolled back after)."""
    role = _new_role_name()
    _run_command(role)
    return role


# --- What the command plans (any database) -------------------------------------------------


def test_model_labels_resolve_to_their_tables():
    audit = apps.get_model("articles.AuditEvent")
    article = apps.get_model("articles.Article")
    assert db_privileges.table_for_label("articles.AuditEvent") == audit._meta.db_table
    through = article._meta.get_field("cited_references").remote_field.through
    assert db_privileges.table_for_label("articles.Article.cited_references") == (
        through._meta.db_table
    )
    for bad in ("articles", "articles.NoSuchModel", "articles.Article.title", "a.b.c.d", ".x"):
        with pytest.raises(ImproperlyConfigured):
            db_privileges.table_for_label(bad)


def test_the_plan_gives_append_only_tables_select_and_insert_only():
    tables = connection.introspection.django_table_names(include_views=False)
    plan = {grant.table: grant for grant in db_privileges.privilege_plan(tables)}
    for label in db_privileges.APPEND_ONLY_MODELS:
        grant = plan[db_privileges.table_for_label(label)]
        assert grant.privileges == ("SELECT", "INSERT")
        assert grant.update_columns == ()
    from articles.models import REVISION_WORKFLOW_FIELDS, Revision

    revision = plan[Revision._meta.db_table]
    assert revision.privileges == ("SELECT", "INSERT")
    assert set(revision.update_columns) == {
        Revision._meta.get_field(name).column for name in REVISION_WORKFLOW_FIELDS
    }
    assert "title" not in revision.update_columns
    for grant in plan.values():
        assert not {"TRUNCATE", "REFERENCES", "TRIGGER"} & set(grant.privileges)


def test_the_command_is_postgresql_only_and_says_so():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="clinic_site.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "create_app_role", "clinic_app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "PostgreSQL-only" in result.stderr
    assert "Traceback" not in result.stderr


# --- The role the command sets up -----------------------------------------------------------


@postgres_only
def test_the_role_is_a_plain_login_role_that_owns_nothing(app_role):
    held = _privileges(app_role)
    # LOGIN, and NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT.
    assert held["attributes"] == [(True, False, False, False, False, False, False)]
    assert held["owned"] == [(0,)]
    assert held["members"] == [(0,)]
    tables = _by_table(held["tables"])
    assert not {p for privileges in tables.values() for p in privileges} & {
        "TRUNCATE",
        "REFERENCES",
        "TRIGGER",
    }
    for table in APPEND_ONLY_TABLES:
        assert tables[table] == {"SELECT", "INSERT"}
    assert tables["articles_revision"] == {"SELECT", "INSERT"}
    assert tables["articles_article"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert tables["django_migrations"] == {"SELECT"}
    # Column grants: UPDATE of the revision's workflow columns, nothing else anywhere.
    assert {(t, p) for t, _c, p in held["columns"]} == {("articles_revision", "UPDATE")}
    assert {c for _t, c, _p in held["columns"]} == set(db_privileges.revision_update_columns())
    sequences = _by_table(held["sequences"])
    assert sequences
    assert all(privileges == {"USAGE", "SELECT"} for privileges in sequences.values())
    assert held["database"] == [("CONNECT",)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_schema_privilege(%s, current_schema(), 'CREATE'), "
            "has_database_privilege(%s, current_database(), 'CREATE')",
            [app_role, app_role],
        )
        assert cursor.fetchone() == (False, False)


@postgres_only
def test_the_app_role_cannot_truncate(published_article, app_role):
    before = _history()
    with acting_as(app_role):
        for table in (*APPEND_ONLY_TABLES, "articles_revision", "articles_article"):
            _refused(f"TRUNCATE {table} CASCADE")
        _refused("TRUNCATE articles_auditevent")
    assert _history() == before
    assert before["articles_auditevent"], "the fixture should have written audit events"


@postgres_only
def test_the_app_role_cannot_disable_or_drop_the_triggers(published_article, app_role):
    before, triggers = _history(), _triggers()
    assert {table for table, _name, _enabled in triggers} == set(GUARDED_TABLES)
    assert {enabled for _table, _name, enabled in triggers} == {"O"}
    with acting_as(app_role):
        for table in GUARDED_TABLES:
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for table, trigger, _enabled in triggers:
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            _refused(f"DROP TRIGGER {trigger} ON {table}")
        _refused("ALTER TABLE articles_auditevent OWNER TO CURRENT_USER")
        _refused("DROP TABLE articles_auditevent")
        # The other way to silence triggers, for a session.
        _refused("SET session_replication_role = replica")
        # Nor can it hand itself more: without grant options PostgreSQL grants nothing.
        with connection.cursor() as cursor:
            cursor.execute("GRANT UPDATE, DELETE, TRUNCATE ON articles_auditevent TO CURRENT_USER")
            cursor.execute(
                "SELECT has_table_privilege('articles_auditevent', 'UPDATE, DELETE, TRUNCATE')"
            )
            assert cursor.fetchone() == (False,)
    assert _triggers() == triggers
    assert _history() == before


@postgres_only
def test_the_app_role_cannot_update_or_delete_audit_events_or_reviews(published_article, app_role):
    before = _history()
    with acting_as(app_role):
        event_id = before["articles_auditevent"][0][0]
        review_id = before["reviewers_review"][0][0]
        for statement, params in (
            ("UPDATE articles_auditevent SET comment = 'Forged.' WHERE id = %s", [event_id]),
            ("UPDATE articles_auditevent SET comment = comment", None),
            ("DELETE FROM articles_auditevent WHERE id = %s", [event_id]),
            ("DELETE FROM articles_auditevent", None),
            ("UPDATE reviewers_review SET decision = 'approve' WHERE id = %s", [review_id]),
            ("UPDATE reviewers_review SET comment = comment", None),
            ("DELETE FROM reviewers_review WHERE id = %s", [review_id]),
            ("DELETE FROM reviewers_review", None),
            # Locking rows for update needs UPDATE too.
            ("SELECT id FROM articles_auditevent FOR UPDATE", None),
            ("SELECT id FROM reviewers_review FOR UPDATE", None),
        ):
            _refused(statement, params)
        assert _history() == before
    assert _history() == before


@postgres_only
def test_the_app_role_updates_a_revisions_status_but_not_its_content(published_article, app_role):
    revision_id = published_article.live_revision_id
    before = _history()
    with acting_as(app_role):
        _refused("UPDATE articles_revision SET title = 'Forged' WHERE id = %s", [revision_id])
        _refused("UPDATE articles_revision SET body = 'Forged' WHERE id = %s", [revision_id])
        _refused("DELETE FROM articles_revision WHERE id = %s", [revision_id])
        assert _history() == before
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE articles_revision SET status = 'superseded' WHERE id = %s", [revision_id]
            )
            assert cursor.rowcount == 1
            cursor.execute(
                "SELECT title, status FROM articles_revision WHERE id = %s", [revision_id]
            )
            assert cursor.fetchone() == (published_article.live_revision.title, "superseded")


@postgres_only
def test_the_app_role_runs_the_workflow_and_ordinary_writes(app_role, make_published):
    from articles.models import Article, AuditEvent, Category

    with acting_as(app_role):
        article = make_published(title="Written as the app role", slug="as-app-role")
        assert AuditEvent.objects.filter(article=article).count() >= 3
        Article.objects.filter(pk=article.pk).update(title="Working copy renamed")
        assert Article.objects.get(pk=article.pk).title == "Working copy renamed"
        spare = Category.objects.create(name="Spare", slug="spare")
        spare.delete()
        assert not Category.objects.filter(slug="spare").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app_role


# --- The command itself --------------------------------------------------------------------


@postgres_only
def test_print_sql_shows_the_quoted_sql_and_changes_nothing(monkeypatch, db):
    role = f'Clinic "App" {uuid.uuid4().hex[:6]}'
    monkeypatch.setenv("CLINIC_TEST_ROLE_PASSWORD", "never-printed-3141")
    out = _run_command(role, print_sql=True, password_env="CLINIC_TEST_ROLE_PASSWORD")
    quoted = '"' + role.replace('"', '""') + '"'
    lines = out.splitlines()
    assert lines[0].startswith("-- ")
    assert "BEGIN;" in lines and "COMMIT;" in lines
    assert "never-printed-3141" not in out
    assert f"CREATE ROLE {quoted} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in out
    assert "NOBYPASSRLS" in out
    assert f'GRANT SELECT, INSERT ON TABLE "public"."articles_auditevent" TO {quoted};' in out
    assert f'GRANT SELECT, INSERT ON TABLE "public"."reviewers_review" TO {quoted};' in out
    columns = ", ".join(f'"{c}"' for c in db_privileges.revision_update_columns())
    assert f'GRANT UPDATE ({columns}) ON TABLE "public"."articles_revision" TO {quoted};' in out
    grants = [line for line in lines if line.startswith("GRANT")]
    assert not [g for g in grants if any(p in g for p in ("TRUNCATE", "REFERENCES", "TRIGGER"))]
    assert f'GRANT CONNECT ON DATABASE "{connection.settings_dict["NAME"]}"' in out
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone()[0] == 0
    # The printed name is the one the command creates.
    _run_command(role)
    assert _privileges(role)["attributes"]


@postgres_only
def test_running_the_command_twice_changes_nothing(app_role):
    first = _privileges(app_role)
    out = _run_command(app_role)
    assert "updated" in out
    assert _privileges(app_role) == first
    # A role already right needs no ALTER ROLE.
    assert "ALTER ROLE" not in _run_command(app_role, print_sql=True)


@postgres_only
def test_a_rerun_takes_back_what_the_plan_no_longer_gives(app_role, monkeypatch):
    monkeypatch.setattr(
        db_privileges,
        "APPEND_ONLY_MODELS",
        [
            *db_privileges.APPEND_ONLY_MODELS,
            "articles.Category",
            "articles.Article.cited_references",
        ],
    )
    through = db_privileges.table_for_label("articles.Article.cited_references")
    _run_command(app_role)
    tables = _by_table(_privileges(app_role)["tables"])
    assert tables["articles_category"] == {"SELECT", "INSERT"}
    assert tables[through] == {"SELECT", "INSERT"}


@postgres_only
def test_a_rerun_repairs_a_role_someone_widened(app_role):
    with owner_privileges(), connection.cursor() as cursor:
        cursor.execute(
            _compose(
                sql.SQL("ALTER ROLE {} CREATEDB; GRANT ALL ON articles_auditevent TO {}").format(
                    sql.Identifier(app_role), sql.Identifier(app_role)
                )
            )
        )
    out = _run_command(app_role, print_sql=True)
    assert "NOCREATEDB" in out
    _run_command(app_role)
    held = _privileges(app_role)
    assert held["attributes"] == [(True, False, False, False, False, False, False)]
    assert _by_table(held["tables"])["articles_auditevent"] == {"SELECT", "INSERT"}


@postgres_only
def test_the_command_refuses_the_owner_and_roles_that_own_or_inherit(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="owner of the tables"):
        _run_command(owner)

    owning, member = _new_role_name(), _new_role_name()
    with owner_privileges(), connection.cursor() as cursor:
        cursor.execute(
            _compose(
                sql.SQL(
                    "CREATE ROLE {owning}; CREATE TABLE {table} (id int); "
                    "ALTER TABLE {table} OWNER TO {owning}; "
                    "CREATE ROLE {member}; GRANT {owning} TO {member}"
                ).format(
                    owning=sql.Identifier(owning),
                    member=sql.Identifier(member),
                    table=sql.Identifier(f"{owning}_table"),
                )
            )
        )
    with pytest.raises(CommandError, match=r"owns \d+ object"):
        _run_command(owning)
    with pytest.raises(CommandError, match="is a member of"):
        _run_command(member)


@postgres_only
def test_the_command_refuses_privileges_granted_to_public(app_role):
    with owner_privileges(), connection.cursor() as cursor:
        cursor.execute("GRANT UPDATE, TRUNCATE ON articles_auditevent TO PUBLIC")
    with pytest.raises(CommandError, match="articles_auditevent: holds TRUNCATE, UPDATE beyond"):
        _run_command(app_role)


@postgres_only
def test_the_command_needs_its_password_variable(db, monkeypatch):
    monkeypatch.delenv("CLINIC_TEST_NO_SUCH_VARIABLE", raising=False)
    with pytest.raises(CommandError, match="CLINIC_TEST_NO_SUCH_VARIABLE"):
        _run_command(_new_role_name(), password_env="CLINIC_TEST_NO_SUCH_VARIABLE")


# --- Logging in as the role, as production does ---------------------------------------------


@pytest.fixture
def roles_after_flush(transactional_db):
    """An earlier transactional test's flush emptied the role groups migration 0003 made."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    from articles.roles import apply_role_permissions

    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    apply_role_permissions(Group, Permission)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_logged_in_as_the_role_history_cannot_be_rewritten(
    roles_after_flush, published_article, monkeypatch
):
    import psycopg

    role = _new_role_name()
    password = uuid.uuid4().hex
    monkeypatch.setenv("CLINIC_TEST_ROLE_PASSWORD", password)
    settings = connection.settings_dict
    _run_command(role, password_env="CLINIC_TEST_ROLE_PASSWORD")
    try:
        before, triggers = _history(), _triggers()
        _table, trigger, _enabled = next(t for t in triggers if t[0] == "articles_auditevent")
        with psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            dbname=settings["NAME"],
            user=role,
            password=password,
        ) as login:
            assert login.execute("SELECT session_user").fetchone()[0] == role
            for statement in (
                "TRUNCATE articles_auditevent",
                "ALTER TABLE articles_auditevent DISABLE TRIGGER ALL",
                f"DROP TRIGGER {trigger} ON articles_auditevent",
                "UPDATE articles_auditevent SET comment = 'Forged.'",
                "DELETE FROM reviewers_review",
                "UPDATE articles_revision SET title = 'Forged'",
                "SET ROLE postgres",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    login.execute(statement)
                login.rollback()
            count = login.execute("SELECT count(*) FROM articles_auditevent").fetchone()[0]
            assert count == len(before["articles_auditevent"])
            renamed = login.execute(
                "UPDATE articles_article SET title = 'Renamed' WHERE id = %s",
                [published_article.pk],
            )
            assert renamed.rowcount == 1
            login.rollback()
        assert _history() == before
        assert _triggers() == triggers
    finally:
        with owner_privileges(), connection.cursor() as cursor:
            role_sql = sql.Identifier(role)
            cursor.execute(_compose(sql.SQL("DROP OWNED BY {}").format(role_sql)))
            cursor.execute(_compose(sql.SQL("DROP ROLE {}").format(role_sql)))


# --- The suite itself, under DATABASE_APP_ROLE (tests/db_role_plugin.py) ---------------------


@postgres_only
@pytest.mark.skipif(not app_role_name(), reason="DATABASE_APP_ROLE is not set")
def test_the_suite_runs_with_the_app_roles_privileges(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        current_user, session_user = cursor.fetchone()
    assert current_user == app_role_name()
    assert session_user != current_user
    _refused("TRUNCATE articles_auditevent")
