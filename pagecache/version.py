"""The one place the current public version is read (pagecache.models.PublicVersion)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .triggers import VERSION_TABLE


@dataclass(frozen=True)
class PublicState:
    token: str
    changed_at: datetime  # aware, UTC


def current() -> PublicState:
    """The token and time of the last change the public can see.

    One indexed read of one row over the connection the request already holds: no ORM,
    so a cache hit costs no query compilation.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, changed_at FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return _recreate()
    return PublicState(token=row[0], changed_at=_aware(row[1]))


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite without declared-type conversion
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"Unreadable public version time {value!r}.")
        value = parsed
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)  # Django keeps SQLite datetimes in UTC
    return value.astimezone(UTC)


# The database's clock, as the triggers use it: an app server's may differ.
_NOW = {"postgresql": "clock_timestamp()", "sqlite": "strftime('%Y-%m-%d %H:%M:%f', 'now')"}


def _write_new_token(*, insert: bool) -> None:
    now = _NOW[connection.vendor]
    with connection.cursor() as cursor:
        if insert:  # only where the row is missing; a concurrent insert wins
            cursor.execute(
                f"INSERT INTO {VERSION_TABLE} (id, token, changed_at, changed_by_statement) "  # noqa: S608
                f"SELECT 1, %s, {now}, '' WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE})",
                [secrets.token_hex(16)],
            )
        else:
            cursor.execute(
                f"UPDATE {VERSION_TABLE} SET token = %s, changed_at = {now} WHERE id = 1",  # noqa: S608
                [secrets.token_hex(16)],
            )


def _recreate() -> PublicState:
    """The row is gone (a test database flush, a hand-emptied table): start a new version.

    A fresh random token, so nothing cached before can match it.
    """
    with transaction.atomic():
        _write_new_token(insert=True)
    return current()


def retire_all_pages() -> PublicState:
    """Replace the token by hand (`manage.py clear_page_cache`): for a change the triggers
    cannot see, such as a template edited in place on a running server."""
    with transaction.atomic():
        _write_new_token(insert=False)
        _write_new_token(insert=True)
    return current()
