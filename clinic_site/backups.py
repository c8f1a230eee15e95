"""Back up and restore the site's database: `manage.py backup_db` and `manage.py restore_db`.

PostgreSQL: `pg_dump --format=custom`, restored by `pg_restore` in one transaction (all or
nothing) with `--no-owner --no-acl`: the restoring role (the owner, the one that runs
`migrate`) owns what it restores, and the application role's grants are not copied from the
backup but planned again by `manage.py create_app_role` (restore_db runs it with
`--app-role`), so a backup taken on one server restores on another whose roles differ.
Triggers are part of the schema and come back with it, created after the data are loaded.

SQLite: the online backup API, consistent while the site keeps writing; the backup is a
plain SQLite file in rollback-journal mode, checked with `PRAGMA integrity_check`.

Backups are written under a temporary name, readable by their owner only, and renamed
into place when complete, so a failed run never leaves a file that looks like a backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    size: int
    seconds: float


def default_backup_path(vendor: str) -> Path:
    suffix = "pgdump" if vendor == "postgresql" else "sqlite3"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(settings.BASE_DIR) / "backups" / f"clinic-{stamp}.{suffix}"


def backup(path: Path, *, alias: str = "default") -> Outcome:
    connection = connections[alias]
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    _create_private(partial)
    try:
        if connection.vendor == "postgresql":
            _pg_dump(connection.settings_dict, partial)
        elif connection.vendor == "sqlite":
            _sqlite_backup(connection.settings_dict["NAME"], partial)
        else:
            raise BackupError(f"No backup method for {connection.display_name}.")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(path, path.stat().st_size, time.monotonic() - started)


def restore(path: Path, *, alias: str = "default", replace: bool = False) -> Outcome:
    connection = connections[alias]
    started = time.monotonic()
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    with path.open("rb") as file:
        head = file.read(16)
    if connection.vendor == "postgresql":
        if not head.startswith(PG_CUSTOM_MAGIC):
            raise BackupError(f"{path} is not a pg_dump custom-format archive.")
        _refuse_unless_empty(connection, replace)
        connection.close()
        _pg_restore(connection.settings_dict, path, replace=replace)
    elif connection.vendor == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{path} is not a SQLite database.")
        _refuse_unless_empty(connection, replace)
        connection.close()
        _sqlite_restore(path, connection.settings_dict["NAME"])
    else:
        raise BackupError(f"No restore method for {connection.display_name}.")
    return Outcome(path, path.stat().st_size, time.monotonic() - started)


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _pg_env(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes in the environment,
    never on a command line that `ps` shows."""
    args = ["--no-password", "--dbname", settings_dict["NAME"]]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            env[variable] = str(options[option])
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def _pg_dump(settings_dict: dict, partial: Path) -> None:
    args, env = _pg_env(settings_dict)
    _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *args], env)
    # Read the archive's table of contents back: a truncated file fails here, not at restore.
    args, env = _pg_env(settings_dict)
    _run([_pg_tool("pg_restore"), "--list", str(partial)], env)


def _pg_restore(settings_dict: dict, path: Path, *, replace: bool) -> None:
    args, env = _pg_env(settings_dict)
    command = [
        _pg_tool("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-acl",
        *args,
    ]
    if replace:
        command += ["--clean", "--if-exists"]
    _run([*command, str(path)], env)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_backup(source: str | Path, partial: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        # A backup is a file to keep and copy: one file, no -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        _check_integrity(dst, partial)
    finally:
        dst.close()
        src.close()


def _sqlite_restore(path: Path, target: str | Path) -> None:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _check_integrity(src, path)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
            _check_integrity(dst, Path(target))
        finally:
            dst.close()
    finally:
        src.close()


def _check_integrity(db: sqlite3.Connection, path: Path) -> None:
    result = db.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        raise BackupError(f"{path} failed its integrity check: {result[:5]}")


# --- Both ---------------------------------------------------------------------------------


def _refuse_unless_empty(connection, replace: bool) -> None:
    if replace:
        return
    try:
        tables = connection.introspection.table_names()
    except Exception as error:  # noqa: BLE001 - a database that cannot be read is reported
        raise BackupError(f"Cannot read the target database: {error}") from error
    if tables:
        raise BackupError(
            f"The target database already has {len(tables)} tables. Restore into an empty "
            "database, or pass --replace to drop what is there (make restore REPLACE=1)."
        )


def _create_private(path: Path) -> None:
    """Create (or truncate) the file readable and writable by its owner only: a backup
    holds password hashes and staff e-mail addresses."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
