"""What a refused step must leave alone: one snapshot of the database, compared before and
after (``assert snapshot(article) == before``).

It holds the row counts of what a workflow step or an import may write, every reference
row, and, given an article, that article's workflow fields and its revisions' rows. A
refused approval is itself recorded (an `approval_refused` audit event, which throttling
counts), so that one event is left out of the count; nothing else may change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from articles.models import Article, AuditEvent, Revision
from references.models import Reference

# Reviews (approvals and requests for changes), found through `Revision.approval`: this
# module needs no import of whichever app holds the Review model.
Review = Revision._meta.get_field("approval").related_model

# The revision columns a workflow step may change.
REVISION_FIELDS = (
    "number",
    "status",
    "approval_id",
    "publish_at",
    "published_at",
    "scheduled_by_id",
    "content_hash",
)


@dataclass
class DbState:
    counts: dict
    references: list  # every reference, every field, by key
    # The article's own fields and its revisions (empty without an article).
    live_revision_id: int | None = None
    first_published_at: object = None
    working_hash: str = ""
    version: int | None = None
    body: str = ""
    revisions: dict = field(default_factory=dict)  # pk -> {field: value}

    def copy(self) -> DbState:
        return copy.deepcopy(self)

    @property
    def statuses(self) -> dict:
        """pk -> status of the article's revisions."""
        return {pk: row["status"] for pk, row in self.revisions.items()}


def snapshot(article: Article | None = None) -> DbState:
    state = DbState(
        counts={
            "articles": Article.objects.count(),
            "revisions": Revision.objects.count(),
            "reviews": Review.objects.count(),
            "audit_events": AuditEvent.objects.exclude(action="approval_refused").count(),
            "references": Reference.objects.count(),
        },
        references=list(Reference.objects.order_by("key").values()),
    )
    if article is not None:
        article = Article.objects.get(pk=article.pk)
        state.live_revision_id = article.live_revision_id
        state.first_published_at = article.first_published_at
        state.working_hash = article.working_hash
        state.version = article.version
        state.body = article.body
        state.revisions = {
            row["pk"]: {name: row[name] for name in REVISION_FIELDS}
            for row in Revision.objects.filter(article=article).values("pk", *REVISION_FIELDS)
        }
    return state


def latest_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()
