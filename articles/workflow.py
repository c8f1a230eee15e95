"""The review workflow: the only code that changes an article's workflow state.

Each step is one transaction that checks the actor's permission and the current state,
changes the state, writes an append-only AuditEvent and queues its e-mail on commit.
The admin, the management commands and the tests call these functions; none of them
re-implements a rule. A refused step raises WorkflowError (or its permission subclass,
which is also Django's PermissionDenied) and changes nothing.

One lock order for every step, so no two steps can wait on each other (a deadlock):
  1. the article's row,
  2. then its revision rows,
  3. then the audit chain (an advisory lock taken when the event is written, last).
`_lock_article_then_revision` is how a step on a revision takes 1 and 2; `submit`,
`save_working_copy` and `unpublish` start from the article.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from references.citations import normalize_newlines
from reviewers.models import Reviewer

from . import independence, notifications, rules
from .expiry import approval_is_current as approval_is_current  # re-exported
from .models import (
    Article,
    AuditAction,
    AuditEvent,
    ContributionKind,
    Decision,
    Review,
    Revision,
    RevisionStatus,
)
from .rendering import PandocError
from .snapshot import freeze, normalize_markdown, refresh_working_copy

logger = logging.getLogger(__name__)

ATTESTATION_TEXT = (
    "I have read this revision in full, including every cited reference, and I attest that "
    "it is medically accurate, reflects current evidence and is appropriate for our readers."
)


class WorkflowError(Exception):
    """A step that is not allowed in the current state. The message is for the user."""


class WorkflowPermissionDenied(WorkflowError, PermissionDenied):
    """The actor lacks the permission or role for this step."""


class WrongPasswordError(WorkflowError):
    """The approving physician's password was not correct (throttled by the caller)."""


class StaleEditError(WorkflowError):
    """Someone else saved the article since this form was loaded."""


ARTICLE_CONTENT_FIELDS = (
    "slug",
    "category",
    "title",
    "summary",
    "body",
    "hero_image",
    "hero_image_alt",
)

# Approved, or published once and since taken down (it can go back up on a schedule).
SCHEDULABLE_STATUSES = (RevisionStatus.APPROVED, RevisionStatus.PUBLISHED)

OPEN_STATUSES = (RevisionStatus.PENDING, RevisionStatus.APPROVED, RevisionStatus.CHANGES_REQUESTED)


def _require(actor: User, permission: str, doing: str) -> None:
    _enforce(rules.role_refusal(actor, permission, doing))


def _enforce(refusal: rules.Refusal | None) -> None:
    """Raise the rule's refusal, if any: permission refusals are also PermissionDenied."""
    if refusal is None:
        return
    raise (WorkflowPermissionDenied if refusal.permission else WorkflowError)(refusal.reason)


def _notify(send, revision_id: int) -> None:
    """Mail after commit; a mail server that is down must not undo or hide a done step."""

    def deliver() -> None:
        send(revision_id)

    # Django logs a robust callback's failure by its __qualname__ (a partial has none).
    deliver.__qualname__ = f"notifications.{send.__name__}"
    transaction.on_commit(deliver, robust=True)


def _audit(
    *, actor, action: str, article: Article, revision: Revision | None = None, comment: str = ""
) -> AuditEvent:
    return AuditEvent.objects.append(
        actor=actor,
        action=action,
        article=article,
        revision=revision,
        content_hash=revision.content_hash if revision else "",
        comment=comment,
    )


def _lock_article_then_revision(revision: Revision) -> Revision:
    """Lock the article's row, then the revision's, then read them as they are now.

    Separate statements on purpose: a statement that waited for a lock sees the locked
    row's new version but joined rows from its own, older snapshot, so an approval committed
    by the transaction it waited for would look absent (and a second approval would pass).
    """
    article_id = Revision.objects.filter(pk=revision.pk).values_list("article_id", flat=True).get()
    Article.objects.select_for_update().filter(pk=article_id).values_list("pk").get()
    Revision.objects.select_for_update().filter(pk=revision.pk).values_list("pk").get()
    return Revision.objects.select_related("article", "category", "approval").get(pk=revision.pk)


# --- Writers -----------------------------------------------------------------------------


def save_working_copy(*, article: Article, actor: User, expected_version: int | None) -> Article:
    """Save the article's working copy; refuse if someone saved it since the form loaded.

    Saving never creates a revision and never cancels a review: only `submit_for_review`
    freezes content.
    """
    with transaction.atomic():
        if article.pk is None:
            _require(actor, "articles.add_article", "create articles")
            article.version = 1
        else:
            _require(actor, "articles.change_article", "edit articles")
            current = Article.objects.select_for_update().only("version").get(pk=article.pk)
            if expected_version is not None and current.version != expected_version:
                raise StaleEditError(
                    "Someone else saved this article after you opened it. Your changes were "
                    "not saved: reload the page, then apply them again."
                )
            article.version = current.version + 1
        article.body = normalize_markdown(article.body)
        article.summary = normalize_newlines(article.summary).strip()
        if article._state.adding:
            article.save()
        else:
            # Only what the editor edits: workflow fields (live revision, first publication)
            # belong to the workflow steps, and a form loaded earlier must not undo them.
            article.save(update_fields=[*ARTICLE_CONTENT_FIELDS, "version", "updated_at"])
        refresh_working_copy(article)
        independence.record_contribution(article=article, user=actor, kind=ContributionKind.ARTICLE)
    return article


def submit_for_review(*, article: Article, actor: User, change_note: str = "") -> Revision:
    """Freeze the working copy as a new revision and ask the physicians to review it."""
    _require(actor, "articles.submit_article", "submit articles for review")
    with transaction.atomic():
        article = (
            Article.objects.select_for_update(of=("self",))
            .select_related("category")
            .get(pk=article.pk)
        )
        # The style is frozen with the revision: what was approved is how it reads.
        style = settings.CITATION_STYLE
        try:
            snapshot = freeze(article, style=style)
        except PandocError as error:
            raise WorkflowError(f"Cannot submit: {error}") from None
        _refuse_unfreezable(article, snapshot)
        latest = article.revisions.order_by("-number").first()
        if latest is not None and latest.content_hash == snapshot.content_hash:
            if latest.status == RevisionStatus.PENDING:
                raise WorkflowError(
                    f"Revision {latest.number} with this content is already waiting for review."
                )
            if latest.status in (RevisionStatus.APPROVED, RevisionStatus.PUBLISHED):
                raise WorkflowError(
                    f"Nothing changed since revision {latest.number}, which is already approved."
                )
        returned = (
            article.revisions.filter(
                reviews__decision=Decision.REQUEST_CHANGES, content_hash=snapshot.content_hash
            )
            .order_by("-number")
            .first()
        )
        if returned is not None:
            raise WorkflowError(
                f"This is exactly revision {returned.number}, which a physician sent back with "
                "requested changes: make the changes, save, then submit."
            )
        superseded = list(article.revisions.select_for_update().filter(status__in=OPEN_STATUSES))
        rendered = snapshot.rendered
        revision = Revision.objects.create(
            article=article,
            number=(latest.number + 1) if latest else 1,
            title=article.title,
            summary=article.summary,
            body=article.body,
            category=article.category,
            review_interval_days=snapshot.review_interval_days,
            author_name=snapshot.author_name,
            images=snapshot.images,
            references_csl=snapshot.references_csl,
            hero_image=article.hero_image.name or "",
            hero_image_alt=article.hero_image_alt.strip(),
            rendered_html=rendered.html,
            references_html=rendered.references_html,
            toc=rendered.toc,
            word_count=rendered.word_count,
            citation_style=style,
            content_hash=snapshot.content_hash,
            change_note=change_note.strip()[:500],
            created_by=actor,
        )
        revision.contributors.set(
            independence.contributor_ids_for_submission(article, submitter=actor)
        )
        for old in superseded:
            old.status = RevisionStatus.SUPERSEDED
            old.publish_at = None
            old.save(update_fields=["status", "publish_at"])
        comment = change_note.strip()
        if superseded:
            numbers = ", ".join(str(old.number) for old in superseded)
            comment = f"{comment}\n(Supersedes unpublished revision {numbers}.)".strip()
        _audit(
            actor=actor,
            action=AuditAction.SUBMITTED,
            article=article,
            revision=revision,
            comment=comment,
        )
        _notify(notifications.revision_submitted, revision.pk)
    return revision


def _refuse_unfreezable(article: Article, snapshot) -> None:
    """Refuse a submission whose content the revision could not hold exactly."""
    problems = []
    problems += [
        f"unknown citation key “{key}” on line {line}" for key, line in snapshot.unknown_keys
    ]
    problems += [
        f"the image “{src}” is not a picture uploaded to this site (upload it in the editor)"
        for src in snapshot.unresolved_images
    ]
    if snapshot.hero_unresolved:
        problems.append(
            f"the hero image “{article.hero_image.name}” is not in the site's image store "
            "(upload it again)"
        )
    if problems:
        hint = " Import the reference or correct the key." if snapshot.unknown_keys else ""
        raise WorkflowError("Cannot submit: " + "; ".join(problems) + "." + hint)


def withdraw(*, revision: Revision, actor: User, comment: str = "") -> Revision:
    """Take a submission back before a physician decides on it."""
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        _enforce(rules.withdraw_refusal(actor, revision))
        revision.status = RevisionStatus.WITHDRAWN
        revision.save(update_fields=["status"])
        _audit(
            actor=actor,
            action=AuditAction.WITHDRAWN,
            article=revision.article,
            revision=revision,
            comment=comment,
        )
    return revision


# --- Physician reviewers -----------------------------------------------------------------


def _reviewer_for(actor: User, revision: Revision) -> Reviewer:
    refusal = independence.refusal_to_review(actor, revision)
    if refusal is not None:
        raise WorkflowPermissionDenied(refusal)
    profile = independence.active_profile(actor)
    if profile is None:  # refusal_to_review refuses this already; never reached
        raise WorkflowPermissionDenied("You have no active reviewer profile.")
    return profile


def _decidable(revision: Revision) -> None:
    _enforce(rules.decidable_refusal(revision))


def _sign(
    *,
    revision: Revision,
    reviewer: Reviewer,
    actor: User,
    decision: str,
    comment: str,
    **extra: str,
) -> Review:
    """Record a decision bound to the revision's hash and to the reviewer as they are now."""
    return Review.objects.create(
        revision=revision,
        reviewer=reviewer,
        decision=decision,
        comment=comment.strip(),
        revision_hash=revision.content_hash,
        reviewer_name=reviewer.display_name,
        reviewer_credentials=reviewer.credentials,
        reviewer_title=reviewer.title,
        reviewer_certifications="\n".join(reviewer.certification_list()),
        reviewer_specialties="\n".join(reviewer.specialty_list()),
        reviewer_photo=reviewer.photo.name or "",
        reviewer_photo_alt=reviewer.photo_alt,
        signed_by=actor,
        signed_by_username=actor.get_username(),
        **extra,
    )


def approve(
    *,
    revision: Revision,
    actor: User,
    password: str,
    attestation_accepted: bool,
    seen_hash: str,
    conflict_of_interest: str = "",
    comment: str = "",
) -> Review:
    """Sign off exactly the revision the reviewer read (identified by its content hash).

    A refused attempt changes nothing but the audit trail: every refusal is recorded there,
    so repeated guessing of a physician's password shows.
    """
    try:
        return _approve(
            revision=revision,
            actor=actor,
            password=password,
            attestation_accepted=attestation_accepted,
            seen_hash=seen_hash,
            conflict_of_interest=conflict_of_interest,
            comment=comment,
        )
    except WorkflowError as refusal:
        record_refused_approval(revision=revision, actor=actor, reason=str(refusal))
        raise


def record_refused_approval(*, revision: Revision, actor: User, reason: str) -> None:
    """An approval attempt that was refused, as an audit event of its own transaction."""
    with transaction.atomic():
        revision = Revision.objects.select_related("article").get(pk=revision.pk)
        _audit(
            actor=actor if actor.pk else None,
            action=AuditAction.APPROVAL_REFUSED,
            article=revision.article,
            revision=revision,
            comment=reason,
        )


def _approve(
    *,
    revision: Revision,
    actor: User,
    password: str,
    attestation_accepted: bool,
    seen_hash: str,
    conflict_of_interest: str = "",
    comment: str = "",
) -> Review:
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        reviewer = _reviewer_for(actor, revision)
        if seen_hash != revision.content_hash:
            raise WorkflowError(
                "The revision you read is not the one on file; reload and read it again."
            )
        _decidable(revision)
        if not attestation_accepted:
            raise WorkflowError("Approval needs the attestation to be accepted.")
        if not actor.check_password(password):
            raise WrongPasswordError(
                "Your password was not correct; the revision was not approved."
            )
        review = _sign(
            revision=revision,
            reviewer=reviewer,
            actor=actor,
            decision=Decision.APPROVE,
            comment=comment,
            attestation=ATTESTATION_TEXT,
            conflict_of_interest=conflict_of_interest.strip(),
        )
        revision.approval = review
        fields = ["approval"]
        if revision.status == RevisionStatus.PENDING:
            revision.status = RevisionStatus.APPROVED
            fields.append("status")
        revision.save(update_fields=fields)
        coi = conflict_of_interest.strip() or "none declared"
        _audit(
            actor=actor,
            action=AuditAction.APPROVED,
            article=revision.article,
            revision=revision,
            comment=f"{comment.strip()}\nConflicts of interest: {coi}".strip(),
        )
        _notify(notifications.revision_decided, revision.pk)
    return review


def request_changes(*, revision: Revision, actor: User, comment: str) -> Review:
    """Send a submission back to its writer with the reviewer's comments."""
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        reviewer = _reviewer_for(actor, revision)
        if not comment.strip():
            raise WorkflowError("Say what needs to change: a comment is required.")
        if revision.status != RevisionStatus.PENDING:
            _decidable(revision)
            raise WorkflowError(f"Revision {revision.number} is not waiting for review.")
        review = _sign(
            revision=revision,
            reviewer=reviewer,
            actor=actor,
            decision=Decision.REQUEST_CHANGES,
            comment=comment,
        )
        revision.status = RevisionStatus.CHANGES_REQUESTED
        revision.save(update_fields=["status"])
        _audit(
            actor=actor,
            action=AuditAction.CHANGES_REQUESTED,
            article=revision.article,
            revision=revision,
            comment=comment.strip(),
        )
        _notify(notifications.revision_decided, revision.pk)
    return review


# --- Editors -----------------------------------------------------------------------------


def _check_publishable(revision: Revision, now: datetime) -> None:
    _enforce(rules.publishable_refusal(revision, now=now))


def _make_live(revision: Revision, *, actor, now: datetime, comment: str = "") -> None:
    article = Article.objects.select_for_update().get(pk=revision.article_id)
    revision.article = article
    article.live_revision = revision
    if article.first_published_at is None:
        article.first_published_at = now
    article.save(update_fields=["live_revision", "first_published_at"])
    revision.status = RevisionStatus.PUBLISHED
    revision.published_at = revision.published_at or now
    revision.publish_at = None
    revision.save(update_fields=["status", "published_at", "publish_at"])
    _update_search_vector(revision)
    _audit(
        actor=actor,
        action=AuditAction.PUBLISHED,
        article=article,
        revision=revision,
        comment=comment,
    )
    _notify(notifications.revision_published, revision.pk)


def publish(*, revision: Revision, actor: User, comment: str = "") -> Revision:
    """Make an approved revision the live one, replacing the previous live revision atomically."""
    _require(actor, "articles.publish_article", "publish articles")
    now = timezone.now()
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        _check_publishable(revision, now)
        _make_live(revision, actor=actor, now=now, comment=comment)
    return revision


def schedule(*, revision: Revision, actor: User, publish_at: datetime) -> Revision:
    """Publish an approved revision later, by `manage.py publish_scheduled`."""
    _require(actor, "articles.publish_article", "schedule articles")
    now = timezone.now()
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        if publish_at <= now:
            raise WorkflowError("Choose a time in the future, or publish now.")
        _check_publishable(revision, now)
        revision.publish_at = publish_at
        revision.scheduled_by = actor
        revision.save(update_fields=["publish_at", "scheduled_by"])
        _audit(
            actor=actor,
            action=AuditAction.SCHEDULED,
            article=revision.article,
            revision=revision,
            comment=f"To publish at {timezone.localtime(publish_at):%Y-%m-%d %H:%M %Z}.",
        )
    return revision


def unschedule(*, revision: Revision, actor: User) -> Revision:
    _require(actor, "articles.publish_article", "change schedules")
    with transaction.atomic():
        revision = _lock_article_then_revision(revision)
        if revision.publish_at is None or revision.status not in SCHEDULABLE_STATUSES:
            raise WorkflowError(f"Revision {revision.number} is not scheduled.")
        revision.publish_at = None
        revision.save(update_fields=["publish_at"])
        _audit(
            actor=actor, action=AuditAction.UNSCHEDULED, article=revision.article, revision=revision
        )
    return revision


def unpublish(*, article: Article, actor: User, comment: str) -> Article:
    """Take an article off the public site, saying why. Its revisions and their reviews stay
    on record; the writer and the editors are told."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        _enforce(rules.unpublish_refusal(actor, article))
        if not comment.strip():
            raise WorkflowError("Say why the article comes down: a reason is required.")
        live_id = article.live_revision_id
        if live_id is None:  # unpublish_refusal above refuses this; never reached
            raise WorkflowError(f"Article {article.pk} has no live revision.")
        revision = Revision.objects.select_for_update().get(pk=live_id)
        article.live_revision = None
        article.save(update_fields=["live_revision"])
        _audit(
            actor=actor,
            action=AuditAction.UNPUBLISHED,
            article=article,
            revision=revision,
            comment=comment.strip(),
        )
        _notify(notifications.article_unpublished, revision.pk)
    return article


def publish_due(*, now: datetime | None = None) -> list[Revision]:
    """Publish every scheduled revision whose time has come. Safe to run concurrently:
    each article and revision is locked, then re-checked."""
    now = now or timezone.now()
    published: list[Revision] = []
    due_ids = list(
        Revision.objects.filter(status__in=SCHEDULABLE_STATUSES, publish_at__lte=now)
        .order_by("publish_at")
        .values_list("pk", flat=True)
    )
    for pk in due_ids:
        with transaction.atomic():
            # The lock order of every step: article first (waiting for another run that
            # holds it), then the revision, re-checked now that nothing can change it.
            article_id = Revision.objects.filter(pk=pk).values_list("article_id", flat=True).get()
            Article.objects.select_for_update().filter(pk=article_id).values_list("pk").get()
            claimed = (
                Revision.objects.select_for_update()
                .filter(pk=pk, status__in=SCHEDULABLE_STATUSES, publish_at__lte=now)
                .values_list("pk", flat=True)
                .first()
            )
            if claimed is None:
                continue  # another run published it, or it changed since we looked
            # Read after the lock, in a fresh statement (see _lock_article_then_revision).
            revision = Revision.objects.select_related(
                "article", "category", "approval", "scheduled_by"
            ).get(pk=pk)
            try:
                _check_publishable(revision, now)
            except WorkflowError as refusal:
                logger.warning("Not publishing scheduled revision %s: %s", pk, refusal)
                continue
            scheduler = revision.scheduled_by
            _make_live(
                revision,
                actor=None,
                now=now,
                comment=f"Scheduled by {scheduler.get_username() if scheduler else 'unknown'}.",
            )
            published.append(revision)
    return published


def _update_search_vector(revision: Revision) -> None:
    """PostgreSQL full-text: title weighs more than summary, summary more than body."""
    if connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    Revision.objects.filter(pk=revision.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body", weight="C", config="english")
    )
