"""Every watched table carries its triggers after all migrations, on either database.

SQLite drops a table's triggers when a migration rebuilds it; this fails until that
migration reinstalls them (pagecache.triggers.install)."""

from __future__ import annotations

import pytest
from django.db import connection

from pagecache.triggers import WATCHED, trigger_names

pytestmark = pytest.mark.django_db


def _installed() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("watch", WATCHED, ids=lambda watch: watch.table)
def test_each_watched_table_has_its_triggers(watch):
    missing = set(trigger_names(watch)) - _installed()
    assert not missing, f"{watch.table} lost {sorted(missing)}: reinstall them in a migration"


def test_the_latest_migration_installed_what_the_code_watches():
    from importlib import import_module

    from django.db.migrations.loader import MigrationLoader

    names = sorted(
        name
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
        if app == "pagecache"
    )
    modules = [import_module(f"pagecache.migrations.{name}") for name in names]
    installed = [module.WATCHES for module in modules if hasattr(module, "WATCHES")][-1]
    assert installed == WATCHED, (
        "pagecache.triggers.WATCHED changed: add a migration that calls install() with it"
    )
