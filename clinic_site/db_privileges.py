"""What the application's PostgreSQL role may do to each table (`manage.py create_app_role`).

The application does not connect as the role that owns the tables: an owner can TRUNCATE
the audit trail, disable or drop its triggers and grant itself anything. It connects as a
role that owns nothing and holds only the privileges planned here:

- every table of an installed model: SELECT, INSERT, UPDATE, DELETE;
- the models in APPEND_ONLY_MODELS: SELECT and INSERT only, so no statement the
  application sends can change or remove a recorded row, triggers or no triggers;
- `articles.Revision`: SELECT, INSERT, and UPDATE of the workflow columns only
  (`articles.models.REVISION_WORKFLOW_FIELDS`); a revision's content is frozen;
- `django_migrations`: SELECT only (`migrate --check` and health checks read it; only the
  owner migrates);
- anything else in the schema: nothing.

Never TRUNCATE, REFERENCES or TRIGGER, and no ownership: ALTER TABLE, DROP and
DISABLE TRIGGER all require it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models

# Models whose rows, once written, are never changed or deleted. "app_label.Model" names a
# model's table; "app_label.Model.field" names the through table of a many-to-many field.
APPEND_ONLY_MODELS = [
    "articles.AuditEvent",
    "articles.AuditVerification",
    "articles.Contribution",
    "articles.Review",
    "articles.Revision.contributors",
    "images.StoredImage",
]

# The model whose table is writable column by column, and where its columns are listed.
COLUMN_LIMITED_MODEL = "articles.Revision"

FULL = ("SELECT", "INSERT", "UPDATE", "DELETE")
APPEND_ONLY = ("SELECT", "INSERT")
READ_ONLY = ("SELECT",)
MIGRATIONS_TABLE = "django_migrations"


@dataclass(frozen=True)
class TableGrant:
    """The privileges on one table; `update_columns` are granted UPDATE column by column."""

    table: str
    privileges: tuple[str, ...]
    update_columns: tuple[str, ...] = ()
    kind: str = "read-write"

    @property
    def writes_rows(self) -> bool:
        return "INSERT" in self.privileges


def table_for_label(label: str) -> str:
    """The database table of "app_label.Model" or of the through table "app_label.Model.m2m"."""
    parts = label.split(".")
    if len(parts) not in (2, 3) or not all(parts):
        raise ImproperlyConfigured(
            f"{label!r}: expected 'app_label.Model' or 'app_label.Model.many_to_many_field'."
        )
    try:
        model = apps.get_model(parts[0], parts[1])
    except (LookupError, ValueError) as exc:
        raise ImproperlyConfigured(f"{label!r}: no such model ({exc}).") from exc
    if len(parts) == 2:
        return model._meta.db_table
    try:
        field = model._meta.get_field(parts[2])
    except FieldDoesNotExist as exc:
        raise ImproperlyConfigured(f"{label!r}: {model.__name__} has no such field.") from exc
    if not isinstance(field, models.ManyToManyField):
        raise ImproperlyConfigured(
            f"{label!r}: {parts[2]} is not a many-to-many field, so it has no table of its own."
        )
    through = field.remote_field.through
    if through is None:  # not yet resolved: the app registry is not ready
        raise ImproperlyConfigured(f"{label!r}: its table is not known yet.")
    return through._meta.db_table


def append_only_tables() -> set[str]:
    return {table_for_label(label) for label in APPEND_ONLY_MODELS}


def column_limited_table() -> str:
    return apps.get_model(COLUMN_LIMITED_MODEL)._meta.db_table


def revision_update_columns() -> tuple[str, ...]:
    """The database columns of the revision's workflow fields, the only ones it may update."""
    from articles.models import REVISION_WORKFLOW_FIELDS

    model = apps.get_model(COLUMN_LIMITED_MODEL)
    return tuple(sorted(model._meta.get_field(name).column for name in REVISION_WORKFLOW_FIELDS))


def privilege_plan(existing_tables) -> list[TableGrant]:
    """The grants for the app role on `existing_tables`, the installed models' tables.

    Append-only wins over everything else: listing a model there only ever removes rights.
    """
    append_only = append_only_tables()
    column_limited = column_limited_table()
    plan = []
    for table in sorted(set(existing_tables)):
        if table in append_only:
            plan.append(TableGrant(table, APPEND_ONLY, kind="append-only"))
        elif table == column_limited:
            plan.append(
                TableGrant(
                    table,
                    APPEND_ONLY,
                    update_columns=revision_update_columns(),
                    kind="frozen-content",
                )
            )
        elif table == MIGRATIONS_TABLE:
            plan.append(TableGrant(table, READ_ONLY, kind="read-only"))
        else:
            plan.append(TableGrant(table, FULL))
    return plan
