"""Invariant 5, in one place: when a physician's approval of a revision expires.

The interval is the shorter of the one frozen with the revision at submission and the
one its category (or the site) sets now. A setting can shorten an approval's life, never
lengthen it: moving an article to a category with a longer interval is a new revision,
and clearing or raising an interval turns no expired approval current again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DurationField, Expression, F, Func, Value
from django.db.models.functions import Coalesce, Least, NullIf
from django.utils import timezone

from .models import Decision, Revision


def interval_days(revision: Revision) -> int:
    category = revision.category if revision.category_id else None
    now_in_force = (
        category.effective_review_interval_days if category else settings.REVIEW_INTERVAL_DAYS
    )
    frozen = revision.review_interval_days
    return min(frozen, now_in_force) if frozen else now_in_force


def review_due_at(revision: Revision | None) -> datetime | None:
    """When the revision's approval needs a re-review; None without an approval."""
    if revision is None or revision.approval is None:
        return None
    return revision.approval.created_at + timedelta(days=interval_days(revision))


def approval_is_current(revision: Revision, *, now: datetime | None = None) -> bool:
    """A valid approval of exactly this content, younger than the review interval."""
    review = revision.approval
    if review is None or review.decision != Decision.APPROVE:
        return False
    if review.revision_hash != revision.content_hash or review.revision_id != revision.pk:
        return False
    due = review_due_at(revision)
    return due is not None and due > (now or timezone.now())


# --- The same rule in the database -------------------------------------------------------


class _Days(Func):
    """A whole number of days as a duration, in each database's form of one."""

    template = "(%(expressions)s * INTERVAL '1 day')"  # PostgreSQL
    output_field = DurationField()

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django keeps durations on SQLite as microseconds.
        extra_context["template"] = "(%(expressions)s * 86400000000)"
        return self.as_sql(compiler, connection, **extra_context)


def review_due_expression(revision: str = "live_revision") -> Expression:
    """`review_due_at` of the revision reached by `revision` (a lookup path from the rows
    queried), as an expression: the database picks out overdue articles itself instead of
    every live article coming to Python to be asked. Same rule, term for term: the shorter
    of the frozen interval and the category's (or the site's) now, a 0 or empty one not
    counting; NULL without an approval. tests/articles/test_scale.py holds the two to the
    same answers."""
    now_in_force = Coalesce(
        NullIf(F(f"{revision}__category__review_interval_days"), 0),
        Value(settings.REVIEW_INTERVAL_DAYS),
    )
    interval = Least(
        Coalesce(NullIf(F(f"{revision}__review_interval_days"), 0), now_in_force),
        now_in_force,
    )
    return F(f"{revision}__approval__created_at") + _Days(interval, output_field=DurationField())
