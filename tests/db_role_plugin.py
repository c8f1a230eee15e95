"""Run the suite with the application role's privileges on PostgreSQL (opt-in).

With DATABASE_APP_ROLE=clinic_app (and DATABASE_URL on PostgreSQL) the test database is
created and migrated by the owner, as in production; then `manage.py create_app_role`
sets the role up on it, and every connection opened from then on runs `SET ROLE
clinic_app` (Django's own OPTIONS["assume_role"]). So every test runs with exactly the
privileges production grants, and one the app role may not do fails here as it would
there. Without the variable, or on SQLite, this plugin does nothing.

SET ROLE needs the connecting role (postgres in CI) to be a superuser or a member of the
app role. It is not a security boundary (RESET ROLE undoes it); production logs in as the
app role instead, and tests/site/test_db_role.py proves that path too.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from django.db import connections
from psycopg import sql

ROLE_ENV = "DATABASE_APP_ROLE"


def app_role() -> str:
    return os.environ.get(ROLE_ENV, "").strip()


def _postgres_aliases() -> list[str]:
    return [alias for alias in connections if connections[alias].vendor == "postgresql"]


@contextlib.contextmanager
def acting_as(role: str | None, using: str = "default"):
    """Run the block with `role`'s privileges (None: the login role, the owner), then as before.

    SET ROLE on the test's own connection, so the block sees the test's uncommitted rows.
    Inside a transaction that rolls back, PostgreSQL itself restores the role the
    transaction started with.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return

    def set_role(name: str | None) -> None:
        with connection.cursor() as cursor:
            if name is None:
                cursor.execute("RESET ROLE")
            else:
                statement = sql.SQL("SET ROLE {}").format(sql.Identifier(name))
                cursor.execute(statement.as_string(connection.connection))

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        previous = cursor.fetchone()[0]
    set_role(role)
    try:
        yield
    finally:
        set_role(previous)


def owner_privileges(using: str = "default"):
    """Act as the owner for the block: what set-up and tear-down need and the app may not."""
    return acting_as(None, using)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's set-up (as the owner), then the app role for everything after it."""
    role = app_role()
    postgres = _postgres_aliases() if role else []
    if not postgres:
        yield
        return

    from django.core.management import call_command
    from django.test import TransactionTestCase

    saved_options = {}
    with django_db_blocker.unblock():
        for alias in postgres:
            call_command("create_app_role", role, database=alias, verbosity=0)
            settings_dict = connections[alias].settings_dict
            saved_options[alias] = settings_dict["OPTIONS"]
            settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "assume_role": role}
            # Open connections are the owner's; the next one runs SET ROLE on connect.
            connections[alias].close()

    # TransactionTestCase empties the database after each test with TRUNCATE, which the
    # app role must never hold (it is how an owner wipes the audit trail without firing
    # its row triggers). The flush is test scaffolding, not application code, so it alone
    # runs as the owner; the test body before it ran as the app role. A transactional
    # test may also have migrated (as the owner), re-creating tables without the role's
    # grants, so the grants are renewed after the flush, as a deploy does after migrate.
    original_teardown = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        aliases = [a for a in self._databases_names(include_mirrors=False) if a in postgres]
        with contextlib.ExitStack() as stack:
            for alias in aliases:
                stack.enter_context(owner_privileges(alias))
            original_teardown(self)
            for alias in aliases:
                call_command("create_app_role", role, database=alias, verbosity=0)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    try:
        yield
    finally:
        TransactionTestCase._fixture_teardown = original_teardown
        # pytest-django drops the test database next, as the owner: no SET ROLE on the
        # connection it opens for that.
        for alias in postgres:
            connections[alias].settings_dict["OPTIONS"] = saved_options[alias]
            connections[alias].close()
