"""Backups round-trip: the demo database, backed up and restored into a fresh database,
is the same row for row, its audit chain verifies, and on PostgreSQL its triggers and the
application role's grants work as before.

Each test builds its own databases in subprocesses (`manage.py migrate`, `load_demo`,
`backup_db`, `restore_db`, `verify_audit`), as an operator would, and drops them after.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.servers import POSTGRES_RUN, manage

APP_ROLE = os.environ.get("DATABASE_APP_ROLE") or "clinic_app"


def make(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """The Makefile's own target, with this venv and its install step taken as done."""
    venv = Path(sys.executable).parent.parent
    command = ("make", "-s", "-o", f"{venv}/.installed", f"VENV={venv}")
    return manage(*args, database_url=database_url, check=False, command=command)


def sqlite_contents(path: Path) -> dict[str, list]:
    """Every table's rows (and every schema object's SQL, triggers included)."""
    db = sqlite3.connect(path)
    try:
        contents = {
            "schema": db.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
            ).fetchall()
        }
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            contents[table] = db.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()  # noqa: S608
        return contents
    finally:
        db.close()


@pytest.mark.skipif(POSTGRES_RUN, reason="the SQLite run of the suite covers it")
def test_sqlite_round_trip(tmp_path):
    source, restored = tmp_path / "source.sqlite3", tmp_path / "restored.sqlite3"
    source_url, restored_url = f"sqlite:///{source}", f"sqlite:///{restored}"
    manage("migrate", "--noinput", database_url=source_url)
    manage("load_demo", database_url=source_url)

    backup_file = tmp_path / "backups" / "demo.sqlite3"
    made = make("backup", f"BACKUP_FILE={backup_file}", database_url=source_url)
    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_mode & 0o077 == 0, "a backup is readable by its owner only"
    assert not list(backup_file.parent.glob("*.partial"))

    done = make("restore", f"BACKUP_FILE={backup_file}", database_url=restored_url)
    assert done.returncode == 0, done.stderr

    before, after = sqlite_contents(source), sqlite_contents(restored)
    assert before.keys() == after.keys()
    assert "articles_auditevent" in after and len(after["articles_auditevent"]) >= 3
    for table in before:
        assert before[table] == after[table], table
    verified = manage("verify_audit", database_url=restored_url)
    assert "Audit trail intact" in verified.stdout
    db = sqlite3.connect(restored)  # the append-only trigger came back with the schema
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE articles_auditevent SET comment = 'rewritten'")
    db.close()

    # A second restore would overwrite a database that has data: refused unless asked for.
    again = make("restore", f"BACKUP_FILE={backup_file}", database_url=restored_url)
    assert again.returncode != 0
    assert "already has" in again.stderr and "REPLACE=1" in again.stderr
    replaced = make("restore", f"BACKUP_FILE={backup_file}", "REPLACE=1", database_url=restored_url)
    assert replaced.returncode == 0, replaced.stderr

    # A file that is not a backup of this kind is refused before anything is touched.
    bogus = tmp_path / "bogus.pgdump"
    bogus.write_bytes(b"PGDMP not for sqlite")
    refused = manage(
        "restore_db", str(bogus), database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", check=False
    )
    assert refused.returncode != 0 and "is not a SQLite database" in refused.stderr

    assert make("restore", database_url=restored_url).returncode == 2  # BACKUP_FILE required


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def _pg(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def pg_contents(url: str) -> dict[str, list]:
    """Every table's rows, the sequences, triggers and functions, and what the
    application role may do to each table."""
    with _pg(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        contents: dict[str, list] = {}
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
            contents[table] = sorted(rows, key=repr)
        contents["sequences"] = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        contents["triggers"] = conn.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid) "
            "FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
        ).fetchall()
        contents["functions"] = conn.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1"
        ).fetchall()
        contents["grants"] = conn.execute(
            "SELECT t, p, has_table_privilege(%s, t, p) FROM unnest(%s::text[]) t, "
            "unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES',"
            "'TRIGGER']) p ORDER BY 1, 2",
            (APP_ROLE, [f'public."{t}"' for t in tables]),
        ).fetchall()
        return contents


@pytest.mark.skipif(_postgres_url() is None, reason="PostgreSQL suite only (DATABASE_URL)")
def test_postgresql_round_trip_keeps_triggers_and_grants(tmp_path):
    import dj_database_url
    import psycopg

    parsed = dj_database_url.parse(_postgres_url())
    host_port = f"{parsed['HOST'] or '127.0.0.1'}:{parsed['PORT'] or 5432}"
    server = f"postgres://{parsed['USER']}@{host_port}"
    source_name, restored_name = (f"clinic_backup_{kind}_{os.getpid()}" for kind in ("a", "b"))
    source_url, restored_url = f"{server}/{source_name}", f"{server}/{restored_name}"
    with _pg(f"{server}/postgres") as admin:
        for name in (source_name, restored_name):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        manage("migrate", "--noinput", database_url=source_url)
        manage("load_demo", database_url=source_url)
        manage("create_app_role", APP_ROLE, database_url=source_url)

        backup_file = tmp_path / "demo.pgdump"
        made = make("backup", f"BACKUP_FILE={backup_file}", database_url=source_url)
        assert made.returncode == 0, made.stderr
        assert backup_file.read_bytes().startswith(b"PGDMP")

        # Restored as the owner; the role's grants come from its plan, not the backup.
        done = make(
            "restore",
            f"BACKUP_FILE={backup_file}",
            f"APP_DB_ROLE={APP_ROLE}",
            database_url=restored_url,
        )
        assert done.returncode == 0, done.stderr
        assert f"Role '{APP_ROLE}'" in done.stdout

        before, after = pg_contents(source_url), pg_contents(restored_url)
        assert before.keys() == after.keys()
        assert len(after["articles_auditevent"]) >= 3
        assert len(after["triggers"]) >= 2
        for name in before:
            assert before[name] == after[name], name

        # The site's role, on the restored database: the chain verifies (reading the
        # events, recording the run), and the audit trail is still out of its reach.
        role_url = f"postgres://{APP_ROLE}@{host_port}/{restored_name}"
        verified = manage("verify_audit", database_url=role_url)
        assert "Audit trail intact" in verified.stdout
        with _pg(role_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE articles_auditevent SET comment = 'rewritten'")
        # Even the owner meets the append-only trigger.
        with _pg(restored_url) as conn, pytest.raises(psycopg.errors.RaiseException):
            conn.execute("DELETE FROM articles_auditevent")
        assert pg_contents(restored_url)["articles_auditevent"] == after["articles_auditevent"]

        # Restoring over data is refused unless asked for; a SQLite file is refused.
        again = make("restore", f"BACKUP_FILE={backup_file}", database_url=restored_url)
        assert again.returncode != 0 and "already has" in again.stderr
        sqlite_file = tmp_path / "not-a-pgdump.sqlite3"
        sqlite_file.write_bytes(b"SQLite format 3\x00" + bytes(100))
        refused = manage("restore_db", str(sqlite_file), database_url=restored_url, check=False)
        assert refused.returncode != 0 and "not a pg_dump custom-format archive" in refused.stderr
    finally:
        with _pg(f"{server}/postgres") as admin:
            for name in (source_name, restored_name):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
