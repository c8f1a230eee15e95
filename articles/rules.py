"""Who may do what, and when: one home for each rule of the workflow.

Each rule answers with the reason it refuses (a sentence for the person) or None. The
workflow steps enforce them (`articles.workflow`), and the admin asks the same functions
to decide which buttons to show and what to say instead. Independence (who may review) has
its own module, `articles.independence`, which these rules call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.utils import timezone

from . import independence
from .expiry import approval_is_current
from .models import Article, Revision, RevisionStatus

PUBLISH_PERMISSION = "articles.publish_article"
SUBMIT_PERMISSION = "articles.submit_article"
EDIT_PERMISSION = "articles.change_article"


@dataclass(frozen=True)
class Refusal:
    reason: str
    # True when the person lacks the role (an HTTP 403), False when the state forbids it.
    permission: bool = False


def role_refusal(user: User, permission: str, doing: str) -> Refusal | None:
    """The permission check every step starts with: active, and holding the permission."""
    if user.is_active and user.has_perm(permission):
        return None
    return Refusal(f"You do not have permission to {doing}.", permission=True)


# --- Physicians ---------------------------------------------------------------------------


def decidable_refusal(revision: Revision) -> Refusal | None:
    """Whether the revision's state lets a physician decide on it now."""
    if revision.status == RevisionStatus.PENDING:
        return None
    if revision.status in (RevisionStatus.APPROVED, RevisionStatus.PUBLISHED):
        if approval_is_current(revision):
            return Refusal(f"Revision {revision.number} is already approved.")
        return None  # an expired approval: this is a re-review
    if revision.status == RevisionStatus.SUPERSEDED:
        return Refusal(
            f"Revision {revision.number} was superseded by a newer submission; review that one."
        )
    return Refusal(
        f"Revision {revision.number} is {revision.get_status_display().lower()} and cannot be "
        "decided on."
    )


def decide_refusal(user: User, revision: Revision) -> Refusal | None:
    """Whether this user may approve or send back this revision now."""
    reason = independence.refusal_to_review(user, revision)
    if reason is not None:
        return Refusal(reason, permission=True)
    return decidable_refusal(revision)


# --- Writers ------------------------------------------------------------------------------


def withdraw_refusal(user: User, revision: Revision) -> Refusal | None:
    wrote_it = user.pk in (revision.created_by_id, revision.article.author_id)
    if not (
        user.is_active
        and ((wrote_it and user.has_perm(SUBMIT_PERMISSION)) or user.has_perm(PUBLISH_PERMISSION))
    ):
        return Refusal("Only its writer or an editor may withdraw a submission.", permission=True)
    if revision.status != RevisionStatus.PENDING:
        return Refusal(
            f"Revision {revision.number} is {revision.get_status_display().lower()}; "
            "only a submission waiting for review can be withdrawn."
        )
    return None


def edit_refusal(user: User) -> Refusal | None:
    return role_refusal(user, EDIT_PERMISSION, "edit articles")


def submit_refusal(user: User) -> Refusal | None:
    return role_refusal(user, SUBMIT_PERMISSION, "submit articles for review")


# --- Editors ------------------------------------------------------------------------------


def publishable_refusal(revision: Revision, *, now: datetime | None = None) -> Refusal | None:
    """Whether the revision's state lets it go live (now, or on a schedule)."""
    now = now or timezone.now()
    if revision.status not in (RevisionStatus.APPROVED, RevisionStatus.PUBLISHED):
        return Refusal(
            f"Revision {revision.number} is {revision.get_status_display().lower()}; only an "
            "approved revision can be published."
        )
    if revision.article.live_revision_id == revision.pk:
        return Refusal(f"Revision {revision.number} is already live.")
    if not approval_is_current(revision, now=now):
        return Refusal(
            f"Revision {revision.number} has no current physician approval; it needs review first."
        )
    newer = revision.article.revisions.filter(
        number__gt=revision.number, status__in=(RevisionStatus.APPROVED, RevisionStatus.PUBLISHED)
    )
    if newer.exists():
        return Refusal(f"A newer approved revision of this article exists than {revision.number}.")
    return None


def publish_refusal(
    user: User, revision: Revision, *, now: datetime | None = None
) -> Refusal | None:
    return role_refusal(user, PUBLISH_PERMISSION, "publish articles") or publishable_refusal(
        revision, now=now
    )


def unpublish_refusal(user: User, article: Article) -> Refusal | None:
    role = role_refusal(user, PUBLISH_PERMISSION, "unpublish articles")
    if role is not None:
        return role
    if article.live_revision_id is None:
        return Refusal("This article is not published.")
    return None


def may(refusal: Refusal | None) -> bool:
    return refusal is None
