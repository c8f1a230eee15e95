"""The public version: one row that names the current state of everything readers see."""

from __future__ import annotations

from django.db import models


class PublicVersion(models.Model):
    """A random token replaced, by database triggers, in the same transaction as any write
    that changes a public page (pagecache/triggers.py). Cached pages are stored under the
    token current when they were rendered, so a committed change retires every one of them
    at once, for every worker and every app server sharing the database.

    A token rather than a counter: a rolled-back transaction or a database restored from a
    backup goes back to an earlier state, and a counter would go back to a number whose
    pages, rendered from a different state, may still sit in the cache.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=64)
    changed_at = models.DateTimeField()
    # On PostgreSQL, the transaction and statement of the last change, so that one statement
    # replaces the token once however many rows it writes.
    changed_by_statement = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_public_version")]

    def __str__(self) -> str:
        return f"public version {self.token[:8]} of {self.changed_at:%Y-%m-%d %H:%M:%S}"
