"""What waits for a writer on the admin home: their drafts with unreviewed changes, their
submissions waiting for a physician, and what a physician sent back to them (with why)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q

from .models import Article, Decision, Review, Revision, RevisionStatus

LIMIT = 50


@dataclass
class SentBack:
    article: Article
    revision: Revision
    review: Review | None


@dataclass
class WriterWorklist:
    drafts: list[Article] = field(default_factory=list)
    waiting: list[Revision] = field(default_factory=list)
    sent_back: list[SentBack] = field(default_factory=list)


def writer_worklist(user: AbstractBaseUser) -> WriterWorklist:
    """The articles this person wrote or edited, sorted by where each one stands now."""
    articles = (
        Article.objects.filter(Q(author=user) | Q(contributions__user=user))
        .distinct()
        .only("pk", "title", "working_hash", "updated_at", "live_revision_id")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=Revision.objects.only(
                    "id", "article_id", "number", "status", "content_hash", "created_at"
                ).order_by("-number"),
                to_attr="newest_first",
            )
        )
        .order_by("-updated_at")[:LIMIT]
    )
    worklist = WriterWorklist()
    returned: list[tuple[Article, Revision]] = []
    for article in articles:
        latest = article.newest_first[0] if article.newest_first else None
        if latest is not None and latest.status == RevisionStatus.PENDING:
            latest.article = article
            worklist.waiting.append(latest)
        elif latest is not None and latest.status == RevisionStatus.CHANGES_REQUESTED:
            returned.append((article, latest))
        elif latest is None or latest.content_hash != article.working_hash:
            worklist.drafts.append(article)
    reviews = {
        review.revision_id: review
        for review in Review.objects.filter(
            revision__in=[revision for _, revision in returned],
            decision=Decision.REQUEST_CHANGES,
        ).order_by("created_at")
    }
    worklist.sent_back = [
        SentBack(article, revision, reviews.get(revision.pk)) for article, revision in returned
    ]
    return worklist
