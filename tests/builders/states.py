"""Take a new article to any workflow state, through the workflow steps.

STATES, in the order an article meets them:

* ``draft``: a working copy, never submitted (no revision).
* ``pending``: revision 1 submitted, awaiting a physician's review.
* ``changes_requested``: the physician sent revision 1 back.
* ``withdrawn``: the author withdrew revision 1 before a decision.
* ``approved``: the physician approved revision 1; not live.
* ``expired``: approved, and run under `approvals_expired()` (`Story.clock()`).
* ``scheduled``: approved and scheduled to go live in a week.
* ``live``: revision 1 published.
* ``live_pending``: revision 1 live, revision 2 submitted and awaiting review.
* ``unpublished``: revision 1 was published, then unpublished.
* ``superseded``: revision 1 approved, then revision 2 submitted (which supersedes it).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from articles import workflow
from articles.models import Article, Revision

from .content import approvals_expired, approve, edit, fresh, make_article, submit
from .people import make_editor, make_physician, make_writer

STATES = (
    "draft",
    "pending",
    "changes_requested",
    "approved",
    "scheduled",
    "live",
    "live_pending",
    "superseded",
    "withdrawn",
    "expired",
    "unpublished",
)


@dataclass
class Story:
    """One article, the people around it, and the revision a test acts on."""

    state: str
    article: Article
    author: User
    physician: User
    editor: User
    # The revision the revision-level steps act on (None for a draft): the latest one.
    revision: Revision | None = None
    # The live revision, if any.
    live: Revision | None = None
    notes: dict = field(default_factory=dict)

    def refresh(self) -> Story:
        self.article = fresh(self.article)
        if self.revision is not None:
            self.revision = fresh(self.revision)
        if self.live is not None:
            self.live = fresh(self.live)
        return self

    @property
    def expired(self) -> bool:
        return self.state == "expired"

    def clock(self):
        """The context a step of this story runs in."""
        return approvals_expired() if self.expired else contextlib.nullcontext()


def article_in(
    state: str = "pending", *, author: User | None = None, body: str | None = None
) -> Story:
    """A new article taken to `state` (one of STATES) through the workflow, with a new
    writer (unless `author` is given), physician and editor. Afterwards the working copy
    equals the latest revision's content (a draft has no revision)."""
    if state not in STATES:
        raise ValueError(f"{state!r} is not one of {STATES}")
    author = author or make_writer()
    fields = {} if body is None else {"body": body}
    story = Story(
        state=state,
        article=make_article(author, **fields),
        author=author,
        physician=make_physician(),
        editor=make_editor(),
    )
    if state == "draft":
        return story.refresh()
    article, physician, editor = story.article, story.physician, story.editor
    story.revision = rev1 = submit(article, note="First version.")
    if state == "changes_requested":
        workflow.request_changes(revision=rev1, actor=physician, comment="Cite a source.")
    elif state == "withdrawn":
        workflow.withdraw(revision=rev1, actor=author, comment="Not ready.")
    elif state != "pending":
        approve(rev1, physician)
        if state == "scheduled":
            workflow.schedule(
                revision=rev1, actor=editor, publish_at=timezone.now() + timedelta(days=7)
            )
        elif state in ("live", "live_pending", "unpublished"):
            workflow.publish(revision=rev1, actor=editor)
            story.live = rev1
            if state == "live_pending":
                edit(article)
                story.revision = submit(article, note="Second version.")
            elif state == "unpublished":
                workflow.unpublish(article=article, actor=editor, comment="Pause.")
                story.live = None
        elif state == "superseded":
            edit(article)
            submit(article, note="Second version.")
    return story.refresh()
