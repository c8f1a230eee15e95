"""Create or update the least-privilege PostgreSQL role the application connects as.

Run by the role that owns the tables (the one that runs `migrate`), after every `migrate`:
grants are given table by table, so a table created by a later migration is out of the
app role's reach until this command runs again. That is on purpose; ALTER DEFAULT
PRIVILEGES would hand a new append-only table UPDATE and DELETE before anyone listed it in
clinic_site.db_privileges.APPEND_ONLY_MODELS.

The privileges are planned in clinic_site.db_privileges. Every run first revokes
everything the role holds in the schema and the database, then grants the plan, then reads
the effective privileges back (PUBLIC's included) and refuses, rolling back, if they are
not exactly the plan. All in one transaction.
"""

from __future__ import annotations

import os
from collections import Counter

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from psycopg import sql

from clinic_site import db_privileges
from clinic_site.db_privileges import TableGrant

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")

# The role's attributes, as pg_roles names them, and the value each must have.
ROLE_ATTRIBUTES = {
    "rolcanlogin": ("LOGIN", True),
    "rolsuper": ("SUPERUSER", False),
    "rolcreatedb": ("CREATEDB", False),
    "rolcreaterole": ("CREATEROLE", False),
    "rolreplication": ("REPLICATION", False),
    "rolbypassrls": ("BYPASSRLS", False),
    # It is a member of nothing; NOINHERIT keeps it so if someone grants it a role later.
    "rolinherit": ("INHERIT", False),
}


def _attribute(keyword: str, value: bool) -> sql.SQL:
    return sql.SQL(keyword if value else f"NO{keyword}")


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL role the application connects as: it owns nothing "
        "and may only read and write rows as clinic_site/db_privileges.py plans (append-only "
        "tables get SELECT and INSERT; revisions only their workflow columns). Run it as the "
        "owner of the tables, and again after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="Name of the LOGIN role to create or update.")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Set the role's password from this environment variable (never printed).",
        )
        parser.add_argument(
            "--print-sql",
            action="store_true",
            help="Print the SQL this run would execute, for review, and change nothing.",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias to set the role up on (default: %(default)s).",
        )

    def handle(self, *args, role, password_env, print_sql, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"create_app_role is PostgreSQL-only; the {database!r} database is "
                f"{connection.display_name}, which has no roles or privileges to set up "
                "(there, the database file's permissions are the boundary)."
            )
        if not role.strip():
            raise CommandError("The role name is empty.")
        password = None
        if password_env and not print_sql:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"The environment variable {password_env} is empty or unset.")

        with transaction.atomic(using=database), connection.cursor() as cursor:
            state = self._inspect(cursor, connection, role)
            self._refuse_unsafe_role(state, role)
            try:
                plan = db_privileges.privilege_plan(state["tables"])
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            self._refuse_missing_tables(state, plan)
            sequences = self._sequences(cursor, [g.table for g in plan if g.writes_rows])
            statements = self._statements(state, role, password, plan, sequences)
            raw = connection.connection
            if print_sql:
                self._print(state, role, password_env, statements, raw)
                return
            for statement, _comment in statements:
                text = statement.as_string(raw)
                try:
                    cursor.execute(text)
                except DatabaseError as exc:
                    if password is not None and "PASSWORD" in text:
                        text = text.split(" PASSWORD ")[0] + " PASSWORD …"
                    raise CommandError(f"{text}: {str(exc).strip()} (nothing was changed)") from exc
            self._verify(cursor, state, role, plan, sequences)

        if options["verbosity"] < 1:
            return
        counts = Counter(grant.kind for grant in plan)
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role!r} {'updated' if state['role'] else 'created'} on database "
                f"{state['database']!r}, schema {state['schema']!r}: {len(plan)} tables "
                f"({kinds}), {len(sequences)} sequences. Re-run this command after every "
                "migrate: tables a migration adds are not granted until then."
            )
        )

    # --- reading the database -----------------------------------------------------------

    def _inspect(self, cursor, connection, role: str) -> dict:
        cursor.execute("SELECT current_user, session_user, current_database(), current_schema()")
        current_user, session_user, database, schema = cursor.fetchone()
        columns = ", ".join(ROLE_ATTRIBUTES)
        cursor.execute(f"SELECT oid, {columns} FROM pg_roles WHERE rolname = %s", [role])  # noqa: S608
        row = cursor.fetchone()
        existing = None
        owned = 0
        member_of: list[str] = []
        if row is not None:
            existing = dict(zip(ROLE_ATTRIBUTES, row[1:], strict=True))
            cursor.execute(
                "SELECT count(*) FROM pg_shdepend WHERE refclassid = 'pg_authid'::regclass "
                "AND refobjid = %s AND deptype = 'o'",
                [row[0]],
            )
            owned = cursor.fetchone()[0]
            cursor.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "WHERE m.member = %s ORDER BY 1",
                [row[0]],
            )
            member_of = [name for (name,) in cursor.fetchall()]
        # The installed models' tables that exist in the current schema; nothing else.
        wanted = set(connection.introspection.django_table_names(include_views=False))
        wanted.add(db_privileges.MIGRATIONS_TABLE)
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
        tables = sorted({name for (name,) in cursor.fetchall()} & wanted)
        return {
            "current_user": current_user,
            "session_user": session_user,
            "database": database,
            "schema": schema,
            "role": existing,
            "owned": owned,
            "member_of": member_of,
            "tables": tables,
        }

    def _sequences(self, cursor, tables: list[str]) -> list[str]:
        """The sequences behind the identity and serial columns of `tables`."""
        cursor.execute(
            "SELECT DISTINCT s.relname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
            "AND d.deptype IN ('a', 'i') AND n.nspname = current_schema() "
            "AND t.relname = ANY(%s) ORDER BY 1",
            [tables],
        )
        return [name for (name,) in cursor.fetchall()]

    def _refuse_unsafe_role(self, state: dict, role: str) -> None:
        if role in {state["current_user"], state["session_user"]}:
            raise CommandError(
                f"{role!r} is the role running this command, the owner of the tables. The "
                "application needs a role of its own, e.g. `create_app_role clinic_app`."
            )
        existing = state["role"]
        if existing is None:
            return
        if existing["rolsuper"]:
            raise CommandError(f"{role!r} is a superuser; refusing to turn it into the app role.")
        if state["owned"]:
            raise CommandError(
                f"{role!r} owns {state['owned']} object(s) in this cluster; an owner can "
                f"TRUNCATE, ALTER and DISABLE TRIGGER. Move them first: REASSIGN OWNED BY "
                f"{role} TO {state['current_user']}; (in each database it owns objects in)."
            )
        if state["member_of"]:
            names = ", ".join(state["member_of"])
            raise CommandError(
                f"{role!r} is a member of {names} and would hold their privileges too; "
                f"revoke the membership first (REVOKE {names} FROM {role};)."
            )

    def _refuse_missing_tables(self, state: dict, plan: list[TableGrant]) -> None:
        planned = {grant.table for grant in plan}
        protected = db_privileges.append_only_tables() | {db_privileges.column_limited_table()}
        missing = sorted(protected - planned)
        if missing:
            raise CommandError(
                f"Table(s) {', '.join(missing)} do not exist in schema {state['schema']!r} of "
                f"{state['database']!r}: run `manage.py migrate` first."
            )

    # --- the SQL ------------------------------------------------------------------------

    def _statements(
        self, state, role, password, plan, sequences
    ) -> list[tuple[sql.Composable, str]]:
        r = sql.Identifier(role)
        db = sql.Identifier(state["database"])
        schema = sql.Identifier(state["schema"])
        out: list[tuple[sql.Composable, str]] = []

        existing = state["role"]
        if existing is None:
            attributes: list[sql.Composable] = [
                _attribute(kw, value) for kw, value in ROLE_ATTRIBUTES.values()
            ]
            verb = "CREATE"
        else:
            attributes = [
                _attribute(kw, value)
                for column, (kw, value) in ROLE_ATTRIBUTES.items()
                if existing[column] != value
            ]
            verb = "ALTER"
        if password is not None:
            attributes.append(sql.SQL("PASSWORD {}").format(sql.Literal(password)))
        if existing is None or attributes:
            out.append(
                (
                    sql.SQL(verb + " ROLE {} WITH {}").format(r, sql.SQL(" ").join(attributes)),
                    "",
                )
            )

        out += [
            (sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(db, r), ""),
            (sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, r), ""),
            (sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, r), ""),
            (sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, r), ""),
            # Start from nothing, so a re-run also takes back what the plan no longer gives.
            (sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, r), ""),
            (sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, r), ""),
        ]
        for grant in plan:
            table = sql.Identifier(state["schema"], grant.table)
            privileges = sql.SQL(", ").join(sql.SQL(p) for p in grant.privileges)
            out.append(
                (
                    sql.SQL("GRANT {} ON TABLE {} TO {}").format(privileges, table, r),
                    "" if grant.kind == "read-write" else grant.kind,
                )
            )
            if grant.update_columns:
                columns = sql.SQL(", ").join(sql.Identifier(c) for c in grant.update_columns)
                out.append(
                    (
                        sql.SQL("GRANT UPDATE ({}) ON TABLE {} TO {}").format(columns, table, r),
                        "workflow columns only",
                    )
                )
        for sequence in sequences:
            name = sql.Identifier(state["schema"], sequence)
            out.append((sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(name, r), ""))
        return out

    def _print(self, state, role, password_env, statements, raw) -> None:
        self.stdout.write(
            f"-- Least-privilege role {role!r} on database {state['database']!r}, schema "
            f"{state['schema']!r}, as planned by clinic_site/db_privileges.py.\n"
            "-- Run as the owner of the tables, and again after every migrate."
        )
        if password_env:
            self.stdout.write(
                f"-- The password (from ${password_env}) is not printed: set it with "
                f"\\password {role} in psql."
            )
        if state["role"] is not None and not any(
            s.as_string(raw).startswith("ALTER ROLE") for s, _ in statements
        ):
            self.stdout.write(f"-- Role {role!r} exists with the right attributes.")
        self.stdout.write("BEGIN;")
        for statement, comment in statements:
            line = statement.as_string(raw) + ";"
            self.stdout.write(f"{line}  -- {comment}" if comment else line)
        self.stdout.write("COMMIT;")

    # --- checking the result ------------------------------------------------------------

    def _verify(self, cursor, state, role, plan, sequences) -> None:
        """Read the role's effective privileges back, PUBLIC's included; refuse any surplus."""
        problems = []
        cursor.execute("SELECT has_schema_privilege(%s, current_schema(), 'CREATE')", [role])
        if cursor.fetchone()[0]:
            problems.append(
                f"it can CREATE in schema {state['schema']!r} (through PUBLIC?): "
                f"REVOKE CREATE ON SCHEMA {state['schema']} FROM PUBLIC;"
            )
        planned = {grant.table: grant for grant in plan}
        checks = ", ".join(f"has_table_privilege(%s, c.oid, '{p}')" for p in TABLE_PRIVILEGES)
        cursor.execute(
            f"SELECT c.relname, {checks} FROM pg_class c "  # noqa: S608
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "ORDER BY 1",
            [role] * len(TABLE_PRIVILEGES),
        )
        for name, *held in cursor.fetchall():
            effective = {p for p, has in zip(TABLE_PRIVILEGES, held, strict=True) if has}
            expected = set(planned[name].privileges) if name in planned else set()
            if effective != expected:
                surplus = ", ".join(sorted(effective - expected)) or "-"
                lacking = ", ".join(sorted(expected - effective)) or "-"
                problems.append(f"table {name}: holds {surplus} beyond the plan, lacks {lacking}")
        for grant in plan:
            if "UPDATE" in grant.privileges:
                continue
            cursor.execute(
                "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relname = %s "
                "AND a.attnum > 0 AND NOT a.attisdropped "
                "AND has_column_privilege(%s, a.attrelid, a.attnum, 'UPDATE') ORDER BY 1",
                [grant.table, role],
            )
            updatable = sorted(name for (name,) in cursor.fetchall())
            if updatable != list(grant.update_columns):
                problems.append(
                    f"table {grant.table}: UPDATE on columns {updatable}, "
                    f"planned {list(grant.update_columns)}"
                )
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'S' "
            # CASE: the planner may call the function before it filters on relkind.
            "AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%s, c.oid, 'UPDATE') END "
            "ORDER BY 1",
            [role],
        )
        problems += [f"sequence {name}: UPDATE (setval)" for (name,) in cursor.fetchall()]
        if problems:
            raise CommandError(
                f"Role {role!r} would hold more than planned, so nothing was changed:\n  "
                + "\n  ".join(problems)
                + "\nPrivileges granted to PUBLIC reach every role: revoke them from PUBLIC."
            )
