"""`manage.py backup_db`: a consistent backup of the site's database, while it runs.

PostgreSQL: pg_dump's custom format (run as the owner of the tables: the application's
least-privilege role cannot read every table). SQLite: the online backup API.
See clinic_site/backups.py; `make backup` runs this.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from clinic_site.backups import BackupError, backup, default_backup_path


class Command(BaseCommand):
    help = (
        "Back up the database to --output (default: $BACKUP_FILE, else "
        "backups/clinic-<time>.pgdump or .sqlite3). The file is readable by its owner only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None, metavar="FILE")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, output, database, **options):
        vendor = connections[database].vendor
        path = output or Path(os.environ.get("BACKUP_FILE") or default_backup_path(vendor))
        try:
            outcome = backup(path.resolve(), alias=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up the {vendor} database to {outcome.path} "
            f"({outcome.size / 1024:.0f} KiB in {outcome.seconds:.2f} s)."
        )
