"""E-mails the workflow sends. Queued with transaction.on_commit, so a step that rolls
back never tells anyone it happened."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from .independence import reviewers_who_may_review
from .models import Revision

logger = logging.getLogger(__name__)


def _admin_url(revision: Revision) -> str:
    return settings.SITE_URL + reverse("admin:articles_revision_change", args=[revision.pk])


def _send(subject: str, message: str, recipients: list[str]) -> None:
    recipients = [address for address in recipients if address]
    if not recipients:
        logger.info("No recipients with an e-mail address for %r", subject)
        return
    send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)


def revision_submitted(revision_id: int) -> None:
    revision = Revision.objects.select_related("article", "created_by").get(pk=revision_id)
    # Only the physicians who may decide on it: the rule is in articles.independence.
    reviewers = reviewers_who_may_review(revision)
    _send(
        f"Review requested: {revision.title}",
        f"{revision.created_by.get_full_name() or revision.created_by.username} submitted "
        f"revision {revision.number} of “{revision.title}” for medical review.\n\n"
        f"Change note: {revision.change_note or '(none)'}\n\nReview it: {_admin_url(revision)}\n",
        [r.user.email for r in reviewers],
    )


def revision_decided(revision_id: int) -> None:
    revision = Revision.objects.select_related("article__author").get(pk=revision_id)
    review = revision.reviews.order_by("-created_at").first()
    if review is None:
        return
    _send(
        f"{review.get_decision_display()}: {revision.title}",
        f"{review.byline_name} decided on revision {revision.number} of “{revision.title}”: "
        f"{review.get_decision_display()}.\n\n{review.comment}\n\n{_admin_url(revision)}\n",
        [revision.article.author.email, revision.created_by.email]
        if revision.created_by_id != revision.article.author_id
        else [revision.article.author.email],
    )


def revision_published(revision_id: int) -> None:
    revision = Revision.objects.select_related("article__author").get(pk=revision_id)
    _send(
        f"Published: {revision.title}",
        f"Revision {revision.number} of “{revision.title}” is now live at "
        f"{settings.SITE_URL}{revision.article.get_absolute_url()}\n",
        [revision.article.author.email],
    )


def article_unpublished(revision_id: int) -> None:
    """The writer and every editor learn that an article left the public site, and why."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from .models import AuditAction, AuditEvent

    revision = Revision.objects.select_related("article__author").get(pk=revision_id)
    event = (
        AuditEvent.objects.filter(revision=revision, action=AuditAction.UNPUBLISHED)
        .order_by("-pk")
        .first()
    )
    editors = (
        get_user_model()
        .objects.filter(
            Q(groups__permissions__codename="publish_article") | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
    )
    recipients = [revision.article.author.email, *(u.email for u in editors)]
    _send(
        f"Unpublished: {revision.title}",
        f"{event.actor_label if event else 'An editor'} took “{revision.title}” off the public "
        f"site.\n\nReason: {event.comment if event else '(none recorded)'}\n\n"
        f"{_admin_url(revision)}\n",
        list(dict.fromkeys(recipients)),
    )
