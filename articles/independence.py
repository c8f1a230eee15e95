"""Who may review a revision: the one home of the independence rule.

A physician may decide on a revision only if they changed nothing it freezes: the
article's fields, the references it cites, its images. Every change is logged as a
`Contribution` when it is made; submission freezes the contributors since the last approved
revision onto the revision. The workflow's approve and request-changes steps, the admin's
review queue and buttons, and the "review requested" mail all ask the functions below.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from reviewers.models import Reviewer

from .models import Article, Contribution, Revision, RevisionStatus

REVIEW_PERMISSION = "articles.review_article"


def record_contribution(
    *, article: Article, user: User | None, kind: str, detail: str = ""
) -> Contribution:
    return Contribution.objects.create(
        article=article,
        user=user,
        username=user.get_username() if user is not None else "",
        kind=kind,
        detail=detail[:300],
    )


def contributor_ids_for_submission(article: Article, *, submitter: User) -> set[int]:
    """Everyone who changed what the next revision freezes since the last approved one.

    Changes made after that revision was frozen are not in it, so they count, whenever the
    approval came. The article's author and the submitter always count.
    """
    last_approved = (
        article.revisions.filter(approval__isnull=False).order_by("-number").only("created_at")
    ).first()
    contributions = Contribution.objects.filter(article=article, user__isnull=False)
    if last_approved is not None:
        contributions = contributions.filter(created_at__gt=last_approved.created_at)
    ids = set(contributions.values_list("user_id", flat=True))
    ids.update({article.author_id, submitter.pk})
    return ids


def _is_physician(user: User) -> bool:
    return bool(user.is_active and user.has_perm(REVIEW_PERMISSION))


def active_profile(user: User) -> Reviewer | None:
    return Reviewer.objects.active().filter(user=user).first()


def refusal_to_review(user: User, revision: Revision) -> str | None:
    """Why this user may not decide on this revision, or None if they may."""
    if not _is_physician(user):
        return "You do not have permission to review articles."
    if active_profile(user) is None:
        return "Only an active physician reviewer with a reviewer profile may decide on a revision."
    if has_contributed(user, revision):
        return (
            "Nobody may review a revision they wrote or edited, or whose cited references "
            "they changed."
        )
    return None


def has_contributed(user: User, revision: Revision) -> bool:
    if user.pk in (revision.created_by_id, revision.article.author_id):
        return True
    return revision.contributors.filter(pk=user.pk).exists()


def may_review(user: User, revision: Revision) -> bool:
    return refusal_to_review(user, revision) is None


def independent_of(user: User, revisions: QuerySet[Revision]) -> QuerySet[Revision]:
    """The revisions in `revisions` this user changed nothing of (the queryset form of
    `has_contributed`; tests check the two agree)."""
    return (
        revisions.exclude(created_by=user).exclude(article__author=user).exclude(contributors=user)
    )


def awaiting_decision_by(user: User, revisions: QuerySet[Revision] | None = None):
    """Submissions this user may decide on now: the physician's review queue."""
    revisions = revisions if revisions is not None else Revision.objects.all()
    if not _is_physician(user) or active_profile(user) is None:
        return revisions.none()
    return independent_of(user, revisions.filter(status=RevisionStatus.PENDING))


def reviewers_who_may_review(revision: Revision) -> list[Reviewer]:
    """The physicians to ask for a review of this revision."""
    candidates = Reviewer.objects.active().select_related("user")
    return [reviewer for reviewer in candidates if may_review(reviewer.user, revision)]
