"""The one place the current public version is read (pagecache.models.PublicVersion)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
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


def _recreate() -> PublicState:
    """The row is gone (a test database flush, a hand-emptied table): start a new version.

    A fresh random token, so nothing cached before can match it.
    """
    from .models import PublicVersion

    row, _ = PublicVersion.objects.get_or_create(
        id=1, defaults={"token": secrets.token_hex(16), "changed_at": timezone.now()}
    )
    return PublicState(token=row.token, changed_at=_aware(row.changed_at))


def retire_all_pages() -> PublicState:
    """Replace the token by hand (`manage.py clear_page_cache`): for a change the triggers
    cannot see, such as a template edited in place on a running server."""
    from .models import PublicVersion

    PublicVersion.objects.update_or_create(
        id=1, defaults={"token": secrets.token_hex(16), "changed_at": timezone.now()}
    )
    return current()
