"""Invariant 5: approvals expire. Which live articles are overdue for medical review."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from .models import Article


def review_due_at(article: Article) -> datetime | None:
    revision = article.live_revision
    if revision is None or revision.approval is None:
        return None
    return revision.approval.created_at + timedelta(days=article.review_interval_days)


def overdue_articles(*, now: datetime | None = None) -> list[Article]:
    """Published articles whose live revision's latest approval is older than its interval."""
    now = now or timezone.now()
    return [
        article
        for article in Article.objects.published()
        if (due := review_due_at(article)) is not None and due <= now
    ]
