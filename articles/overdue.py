"""Invariant 5: approvals expire. Which live articles are overdue for medical review."""

from __future__ import annotations

from datetime import datetime

from django.db.models import DateTimeField, ExpressionWrapper
from django.utils import timezone

from . import expiry
from .models import Article, ArticleQuerySet


def review_due_at(article: Article) -> datetime | None:
    """When the live revision's approval expires (the rule is in articles.expiry)."""
    return expiry.review_due_at(article.live_revision)


def overdue(*, now: datetime | None = None) -> ArticleQuerySet:
    """Published articles whose live revision's approval is past its interval, decided by
    the database (articles.expiry.review_due_expression), oldest due first."""
    now = now or timezone.now()
    return (
        Article.objects.for_lists()
        .alias(review_due=ExpressionWrapper(expiry.review_due_expression(), DateTimeField()))
        .filter(review_due__lte=now)
    )


def overdue_articles(*, now: datetime | None = None) -> list[Article]:
    """Published articles whose live revision's latest approval is older than its interval."""
    return list(overdue(now=now))
