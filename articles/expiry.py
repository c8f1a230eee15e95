"""Invariant 5, in one place: when a physician's approval of a revision expires.

The interval is the shorter of the one frozen with the revision at submission and the
one its category (or the site) sets now. A setting can shorten an approval's life, never
lengthen it: moving an article to a category with a longer interval is a new revision,
and clearing or raising an interval turns no expired approval current again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
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
