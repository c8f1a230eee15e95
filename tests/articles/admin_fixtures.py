"""Builders for the staff-side (admin) tests: people in each role, content taken to each
workflow state through the real workflow functions, the admin's own form data, and a
snapshot of everything a refused step must leave unchanged.

Import explicitly: ``from tests.articles.admin_fixtures import …``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.db.models.fields.files import FieldFile
from django.urls import reverse

from articles import workflow
from articles.models import Article, AuditEvent, Category, Revision
from references.models import Reference
from reviewers.models import Review, Reviewer

PASSWORD = "admin-tests-correct-horse-battery-staple"
WRITER, REVIEWER, EDITOR = "Writer", "Physician reviewer", "Editor"

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


# --- People ------------------------------------------------------------------------------


def make_user(
    username: str | None = None,
    *groups: str,
    superuser: bool = False,
    reviewer: bool = False,
    is_staff: bool | None = None,
    **extra,
) -> User:
    """A staff user in the given groups (created by the roles migration); `reviewer=True`
    also gives them an active reviewer profile."""
    username = username or unique("user")
    user = User(
        username=username,
        email=f"{username}@clinic.invalid",
        is_staff=(bool(groups) or superuser) if is_staff is None else is_staff,
        is_superuser=superuser,
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if reviewer:
        make_reviewer_profile(user)
    return user


def make_reviewer_profile(user: User, **fields) -> Reviewer:
    defaults = {
        "display_name": f"Dr. {user.username.title()}",
        "credentials": "M.D.",
        "title": "Staff Physician",
        "slug": unique(f"dr-{user.username}-").lower().replace("_", "-"),
    }
    defaults.update(fields)
    return Reviewer.objects.create(user=user, **defaults)


def writer(username: str | None = None) -> User:
    return make_user(username or unique("writer"), WRITER)


def physician(username: str | None = None) -> User:
    return make_user(username or unique("physician"), REVIEWER, reviewer=True)


def editor(username: str | None = None) -> User:
    return make_user(username or unique("editor"), EDITOR)


def superuser(username: str | None = None, *, reviewer: bool = False) -> User:
    return make_user(username or unique("admin"), superuser=True, reviewer=reviewer)


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
    """An article's working copy, saved through the workflow as its author."""
    article = Article(
        slug=fields.pop("slug", None) or unique("article-"),
        category=category or make_category(),
        author=author,
        title=fields.pop("title", "Couples therapy and intimacy"),
        summary=fields.pop("summary", "How couples therapy helps partners reconnect."),
        body=body if body is not None else "## Why it matters\n\nIntimacy matters.\n",
        **fields,
    )
    return workflow.save_working_copy(article=article, actor=author, expected_version=None)


def edit(article: Article, extra: str | None = None) -> Article:
    """Append to the body through the workflow, as the article's author."""
    article = Article.objects.get(pk=article.pk)
    article.body += extra or f"\n\nAnother sentence ({unique('edit')}).\n"
    return workflow.save_working_copy(
        article=article, actor=article.author, expected_version=article.version
    )


def submit(article: Article, note: str = "") -> Revision:
    return workflow.submit_for_review(article=article, actor=article.author, change_note=note)


def approve(revision: Revision, by: User) -> Review:
    return workflow.approve(
        revision=revision,
        actor=by,
        password=PASSWORD,
        attestation_accepted=True,
        seen_hash=revision.content_hash,
    )


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@dataclass
class Story:
    """One article and the people around it."""

    author: User
    physician: User
    editor: User
    article: Article
    revision: Revision | None = None

    def refresh(self) -> Story:
        self.article = fresh(self.article)
        if self.revision is not None:
            self.revision = fresh(self.revision)
        return self


def story(state: str = "pending", *, author: User | None = None, body: str | None = None) -> Story:
    """A new article taken to `state` ("draft", "pending", "approved" or "live")."""
    author = author or writer()
    s = Story(author=author, physician=physician(), editor=editor(), article=None)  # type: ignore[arg-type]
    s.article = make_article(author, body=body)
    if state == "draft":
        return s.refresh()
    s.revision = submit(s.article, note="First version.")
    if state in ("approved", "live"):
        approve(s.revision, s.physician)
    if state == "live":
        workflow.publish(revision=s.revision, actor=s.editor)
    elif state not in ("pending", "approved"):
        raise ValueError(state)
    return s.refresh()


# --- What a refused step must leave alone ------------------------------------------------


def snapshot(article: Article) -> dict:
    article = Article.objects.get(pk=article.pk)
    return {
        "revisions": Revision.objects.count(),
        "reviews": Review.objects.count(),
        # A refused approval is itself recorded (throttling shows); nothing else may change.
        "audit_events": AuditEvent.objects.exclude(action="approval_refused").count(),
        "articles": Article.objects.count(),
        "live_revision_id": article.live_revision_id,
        "version": article.version,
        "body": article.body,
        "statuses": dict(
            Revision.objects.filter(article=article).values_list("pk", "status").order_by("pk")
        ),
        "publish_at": dict(
            Revision.objects.filter(article=article).values_list("pk", "publish_at").order_by("pk")
        ),
    }


# --- The admin's own forms ---------------------------------------------------------------


def messages_of(response) -> list[str]:
    """The messages shown to the user on this (followed) response."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(article: Article) -> str:
    return reverse("admin:articles_article_change", args=[article.pk])


def review_url(revision: Revision) -> str:
    return reverse("admin:articles_revision_change", args=[revision.pk])


def step_url(step: str, revision: Revision) -> str:
    return reverse(f"admin:articles_revision_{step}", args=[revision.pk])


_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def hidden_inputs(html: str) -> dict[str, str]:
    """name → value of every hidden <input> in a page, as a browser would submit them."""
    found = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            found[attrs["name"]] = attrs.get("value", "")
    return found


def article_form_data(response, **changes) -> dict:
    """The POST a browser sends from a loaded article add/change page: every visible field's
    current value plus the hidden inputs the page actually rendered (so a hidden field the
    template forgot to render is missing here too)."""
    form = response.context["adminform"].form
    data = {}
    for name in ("title", "slug", "category", "summary", "body", "hero_image_alt"):
        if name in form.fields:
            value = form[name].value()
            data[name] = "" if value is None else value
    page_hidden = hidden_inputs(response.content.decode())
    if "loaded_version" in page_hidden:
        data["loaded_version"] = page_hidden["loaded_version"]
    data["_save"] = "Save"
    data.update(changes)
    return data


def approve_data(revision: Revision, **changes) -> dict:
    data = {
        "seen_hash": revision.content_hash,
        "attestation": "on",
        "conflict_of_interest": "",
        "comment": "",
        "password": PASSWORD,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def admin_form_data(response, **changes) -> dict:
    """The POST a browser sends from any loaded admin add/change page: each field's current
    value as the page shows it (lists for multiple choices, split date and time parts)."""
    form = response.context["adminform"].form
    data: dict = {}
    for name, bound in form.fields.items():
        if getattr(bound, "disabled", False):
            continue
        value = form[name].value()
        widget = bound.widget
        if (
            isinstance(value, FieldFile)
            or value is None
            and getattr(widget, "input_type", "") == "file"
        ):
            continue  # a browser sends nothing for a file input left alone
        if hasattr(widget, "widgets") and isinstance(value, (list, tuple)):
            for index, part in enumerate(value):
                data[f"{name}_{index}"] = "" if part is None else part
            continue
        if hasattr(widget, "widgets"):
            parts = widget.decompress(value)
            for index, part in enumerate(parts):
                data[f"{name}_{index}"] = "" if part is None else str(part)
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value
    data.update(hidden_inputs(response.content.decode()))
    data.pop("csrfmiddlewaretoken", None)
    data["_save"] = "Save"
    data.update(changes)
    return data
