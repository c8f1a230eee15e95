"""`manage.py restore_db FILE`: restore a backup made by `backup_db` into the database.

Into an empty database unless --replace. On PostgreSQL run it as the owner of the tables
(the role that runs `migrate`): the restore is one transaction, owned by that role, without
the backup's grants; `--app-role ROLE` then runs `create_app_role ROLE` to grant the
application's least-privilege role exactly its plan again. See clinic_site/backups.py;
`make restore BACKUP_FILE=…` runs this.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from clinic_site.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_db into the (empty) database; on PostgreSQL, "
        "--app-role ROLE re-runs create_app_role afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop what the target database holds (what the backup holds too) first.",
        )
        parser.add_argument(
            "--app-role",
            metavar="ROLE",
            help="PostgreSQL: run `create_app_role ROLE` after the restore.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, replace, app_role, database, **options):
        vendor = connections[database].vendor
        if app_role and vendor != "postgresql":
            raise CommandError("--app-role is for PostgreSQL: SQLite has no roles.")
        try:
            outcome = restore(file.resolve(), alias=database, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored {outcome.path} into the {vendor} database in {outcome.seconds:.2f} s."
        )
        if vendor != "postgresql":
            return
        if app_role:
            call_command("create_app_role", app_role, database=database, stdout=self.stdout)
        else:
            self.stdout.write(
                "The backup's grants were not restored. If the site connects as a "
                "least-privilege role, run `manage.py create_app_role ROLE` now."
            )
