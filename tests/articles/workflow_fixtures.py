"""Builders for the review-workflow tests: people in each role, articles taken to each
workflow state through the real workflow functions, and a snapshot of everything a
workflow step may change (so a refused step can be shown to have changed nothing).

Import explicitly: ``from tests.articles.workflow_fixtures import …``.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, Group, User
from django.test import override_settings
from django.utils import timezone

from articles import workflow
from articles.models import Article, AuditEvent, Category, Revision
from articles.snapshot import refresh_working_copy
from references.models import Reference
from reviewers.models import Review, Reviewer

PASSWORD = "wf-correct-horse-battery-staple"
WRITER, REVIEWER, EDITOR = "Writer", "Physician reviewer", "Editor"

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


# --- People ------------------------------------------------------------------------------


def make_user(
    username: str | None = None,
    *groups: str,
    is_active: bool = True,
    is_staff: bool | None = None,
    is_superuser: bool = False,
    reviewer: str | None = None,
    **extra,
) -> User:
    """A user in the given groups (created by migration 0003), with an optional reviewer
    profile: ``reviewer="active"`` or ``reviewer="inactive"``."""
    username = username or unique("user")
    user = User(
        username=username,
        email=f"{username}@clinic.invalid",
        is_active=is_active,
        is_staff=(bool(groups) or is_superuser) if is_staff is None else is_staff,
        is_superuser=is_superuser,
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if reviewer is not None:
        make_reviewer_profile(user, active=reviewer == "active")
    return user


def make_reviewer_profile(user: User, *, active: bool = True, **fields) -> Reviewer:
    defaults = {
        "display_name": f"Dr. {user.username.title()}",
        "credentials": "M.D.",
        "title": "Staff Physician",
        "slug": unique(f"dr-{user.username}-").lower(),
    }
    defaults.update(fields)
    return Reviewer.objects.create(user=user, active=active, **defaults)


def writer(username: str | None = None) -> User:
    return make_user(username or unique("writer"), WRITER)


def physician(username: str | None = None, **profile) -> User:
    user = make_user(username or unique("physician"), REVIEWER)
    make_reviewer_profile(user, **profile)
    return user


def editor(username: str | None = None) -> User:
    return make_user(username or unique("editor"), EDITOR)


# Every role of the permission table. `author=True`: the actor writes the article and
# every revision of it in the scenario (so "nobody reviews what they wrote" applies).
@dataclass(frozen=True)
class Role:
    id: str
    description: str
    author: bool = False


ROLES = {
    role.id: role
    for role in (
        Role("anonymous", "AnonymousUser (not logged in)"),
        Role("inactive", "inactive staff user holding every group and a reviewer profile"),
        Role("staff", "active staff user with no group"),
        Role("writer", "Writer who wrote the article", author=True),
        Role("other_writer", "Writer who did not write the article"),
        Role("reviewer", "Physician reviewer with an active profile"),
        Role("reviewer_no_profile", "Physician reviewer group, no reviewer profile"),
        Role("reviewer_author", "Writer + Physician reviewer who wrote the revision", author=True),
        Role("reviewer_inactive", "Physician reviewer whose profile is inactive"),
        Role("editor", "Editor"),
        Role("superuser", "superuser without reviewer profile"),
        Role("superuser_author", "superuser, active reviewer, and the author", author=True),
    )
}


def make_actor(role_id: str):
    name = unique(role_id.replace("_", "-") + "-")
    match role_id:
        case "anonymous":
            return AnonymousUser()
        case "inactive":
            return make_user(name, WRITER, REVIEWER, EDITOR, is_active=False, reviewer="active")
        case "staff":
            return make_user(name, is_staff=True)
        case "writer" | "other_writer":
            return make_user(name, WRITER)
        case "reviewer":
            return make_user(name, REVIEWER, reviewer="active")
        case "reviewer_no_profile":
            return make_user(name, REVIEWER)
        case "reviewer_author":
            return make_user(name, WRITER, REVIEWER, reviewer="active")
        case "reviewer_inactive":
            return make_user(name, REVIEWER, reviewer="inactive")
        case "editor":
            return make_user(name, EDITOR)
        case "superuser":
            return make_user(name, is_superuser=True)
        case "superuser_author":
            return make_user(name, is_superuser=True, reviewer="active")
    raise ValueError(role_id)


# --- Content -----------------------------------------------------------------------------


def make_category(**fields) -> Category:
    slug = unique("category-")
    defaults = {"name": slug.title(), "slug": slug}
    defaults.update(fields)
    return Category.objects.create(**defaults)


def make_reference(key: str | None = None, **fields) -> Reference:
    key = key or unique("parker20")
    defaults = {
        "type": "article-journal",
        "authors": [{"family": "Parker", "given": "S. J."}, {"family": "Lee", "given": "K."}],
        "issued_year": 2019,
        "title": f"Emotional intimacy and sexual satisfaction ({key})",
        "container_title": "The Journal of Sex Research",
        "volume": "56",
        "issue": "4",
        "pages": "540-552",
        "doi": f"10.1000/{key}",
    }
    defaults.update(fields)
    return Reference.objects.create(key=key, **defaults)


def make_article(author: User, *, body: str | None = None, category=None, **fields) -> Article:
    """An article's working copy, saved directly (no permission needed) and refreshed."""
    article = Article.objects.create(
        slug=unique("article-"),
        category=category or make_category(),
        author=author,
        title=fields.pop("title", "Couples therapy and intimacy"),
        summary=fields.pop("summary", "How couples therapy helps partners reconnect."),
        body=body if body is not None else "## Why it matters\n\nIntimacy matters.\n",
        **fields,
    )
    refresh_working_copy(article)
    return article


def edit(article: Article, text: str | None = None, *, by: User | None = None) -> Article:
    """Change the working copy through `save_working_copy`, as the article's author."""
    article = Article.objects.get(pk=article.pk)
    article.body += text or f"\n\nAnother sentence ({unique('edit')}).\n"
    return workflow.save_working_copy(
        article=article, actor=by or article.author, expected_version=article.version
    )


def submit(article: Article, by: User | None = None, note: str = "") -> Revision:
    return workflow.submit_for_review(article=article, actor=by or article.author, change_note=note)


def approve(revision: Revision, by: User, **kwargs) -> Review:
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("attestation_accepted", True)
    kwargs.setdefault("seen_hash", revision.content_hash)
    return workflow.approve(revision=revision, actor=by, **kwargs)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@contextlib.contextmanager
def approvals_expired():
    """Every approval is older than the review interval: the site interval is 0 days and
    the categories in these tests set none, so `created_at + 0 days > now` is false for
    any approval written before this moment."""
    with override_settings(REVIEW_INTERVAL_DAYS=0):
        yield


# --- The states of the table -------------------------------------------------------------

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
class Cast:
    """Everyone a scenario needs besides the actor under test."""

    author: User
    physician: User
    editor: User

    @classmethod
    def create(cls, author: User | None = None) -> Cast:
        return cls(
            author=author or writer(unique("wanda-")),
            physician=physician(unique("dr-default-")),
            editor=editor(unique("eddie-")),
        )


@dataclass
class Scenario:
    state: str
    article: Article
    cast: Cast
    # The revision the table's revision-level actions act on (None for a draft).
    target: Revision | None
    live: Revision | None = None
    notes: dict = field(default_factory=dict)

    def refresh(self) -> None:
        self.article = fresh(self.article)
        if self.target is not None:
            self.target = fresh(self.target)
        if self.live is not None:
            self.live = fresh(self.live)

    @property
    def expired(self) -> bool:
        return self.state == "expired"

    def clock(self):
        """The context an action of this scenario runs in."""
        return approvals_expired() if self.expired else contextlib.nullcontext()


def build(state: str, *, author: User | None = None, body: str | None = None) -> Scenario:
    """Take a new article to `state` through the workflow. The working copy always equals
    the latest revision's content afterwards (except for `draft`, which has none)."""
    cast = Cast.create(author)
    article = make_article(cast.author, body=body)
    target = live = None
    if state == "draft":
        return Scenario(state, article, cast, None)
    rev1 = submit(article, note="First version.")
    target = rev1
    if state == "pending":
        pass
    elif state == "changes_requested":
        workflow.request_changes(revision=rev1, actor=cast.physician, comment="Cite a source.")
    elif state == "withdrawn":
        workflow.withdraw(revision=rev1, actor=cast.author, comment="Not ready.")
    else:
        approve(rev1, cast.physician)
        if state == "scheduled":
            workflow.schedule(
                revision=rev1, actor=cast.editor, publish_at=timezone.now() + timedelta(days=7)
            )
        elif state in ("live", "live_pending", "unpublished"):
            workflow.publish(revision=rev1, actor=cast.editor)
            live = rev1
            if state == "live_pending":
                edit(article)
                target = submit(article, note="Second version.")
            elif state == "unpublished":
                workflow.unpublish(article=article, actor=cast.editor, comment="Pause.")
                live = None
        elif state == "superseded":
            edit(article)
            submit(article, note="Second version.")
        elif state not in ("approved", "expired"):
            raise ValueError(state)
    scenario = Scenario(state, article, cast, target, live=live)
    scenario.refresh()
    return scenario


# --- Snapshot of what a step may change --------------------------------------------------

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
    live_revision_id: int | None
    first_published_at: object
    working_hash: str
    revisions: dict  # pk -> {field: value}

    def copy(self) -> DbState:
        return copy.deepcopy(self)


def db_state(article: Article) -> DbState:
    article = Article.objects.get(pk=article.pk)
    return DbState(
        counts={
            "revisions": Revision.objects.count(),
            "reviews": Review.objects.count(),
            # A refused approval is itself recorded (throttling shows); nothing else may change.
            "audit_events": AuditEvent.objects.exclude(action="approval_refused").count(),
            "articles": Article.objects.count(),
        },
        live_revision_id=article.live_revision_id,
        first_published_at=article.first_published_at,
        working_hash=article.working_hash,
        revisions={
            row["pk"]: {name: row[name] for name in REVISION_FIELDS}
            for row in Revision.objects.filter(article=article).values("pk", *REVISION_FIELDS)
        },
    )


def latest_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-pk").first()
