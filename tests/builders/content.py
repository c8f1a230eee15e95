"""Content made through the workflow steps (articles/workflow.py): categories, references,
articles and their working copies, and the steps themselves with test defaults.

Nothing here writes a workflow state directly: an article is saved with
`save_working_copy`, submitted with `submit_for_review`, and so on, so every builder
passes the same permission checks, independence records and audit events as the site.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.contrib.auth.models import User
from django.test import override_settings

from articles import workflow
from articles.models import Article, Category, Revision
from references.models import Reference

from .people import PASSWORD, unique


def make_category(**fields) -> Category:
    slug = unique("category-")
    defaults = {"name": slug.title(), "slug": slug}
    defaults.update(fields)
    return Category.objects.create(**defaults)


def make_reference(key: str | None = None, **fields) -> Reference:
    """A reference in the library; keyword arguments override the defaults."""
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
        "pmid": str(30000000 + int(unique(""))),
    }
    defaults.update(fields)
    return Reference.objects.create(key=key, **defaults)


# What a new article holds unless a test says otherwise.
ARTICLE_DEFAULTS = {
    "title": "Couples therapy and intimacy",
    "summary": "How couples therapy helps partners reconnect.",
    "body": "## Why it matters\n\nIntimacy matters.\n",
    "hero_image": "",
    "hero_image_alt": "",
}


def make_article(
    author: User, *, slug: str | None = None, category: Category | None = None, **fields
) -> Article:
    """A new article's working copy, saved through `save_working_copy` as its author.
    `fields` (title, summary, body, hero_image, hero_image_alt) override ARTICLE_DEFAULTS."""
    article = Article(
        slug=slug or unique("article-"),
        category=category or make_category(),
        author=author,
        **{**ARTICLE_DEFAULTS, **fields},
    )
    return workflow.save_working_copy(article=article, actor=author, expected_version=None)


def save(article: Article, *, by: User | None = None, category=None, **fields) -> Article:
    """Replace the working copy's content through `save_working_copy` (as the article's
    author unless `by` says otherwise): each field not given goes back to ARTICLE_DEFAULTS.
    Saves over whatever version is stored, like a form that was loaded just now."""
    if category is not None:
        article.category = category
    for name, value in {**ARTICLE_DEFAULTS, **fields}.items():
        setattr(article, name, value)
    return workflow.save_working_copy(
        article=article, actor=by or article.author, expected_version=None
    )


def edit(article: Article, text: str | None = None, *, by: User | None = None) -> Article:
    """Append `text` (or a new sentence) to the body through `save_working_copy`, as the
    article's author unless `by` says otherwise."""
    article = Article.objects.get(pk=article.pk)
    article.body += text or f"\n\nAnother sentence ({unique('edit')}).\n"
    return workflow.save_working_copy(
        article=article, actor=by or article.author, expected_version=article.version
    )


def submit(article: Article, *, by: User | None = None, note: str = "") -> Revision:
    return workflow.submit_for_review(article=article, actor=by or article.author, change_note=note)


def approve(revision: Revision, by: User, **kwargs):
    """Approve as `by`, who confirms with PASSWORD and accepts the attestation for the
    content they saw; any keyword overrides that. Returns the approving Review."""
    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("attestation_accepted", True)
    kwargs.setdefault("seen_hash", revision.content_hash)
    return workflow.approve(revision=revision, actor=by, **kwargs)


def publish_through_workflow(
    article: Article, *, physician: User, editor: User, note: str = ""
) -> Article:
    """Submit the working copy, approve it as `physician` and publish it as `editor`;
    returns the article as the public sees it."""
    revision = submit(article, note=note)
    approve(revision, physician)
    workflow.publish(revision=revision, actor=editor)
    return Article.objects.published().get(pk=article.pk)


def fresh(obj):
    """The object as the database holds it now."""
    return type(obj).objects.get(pk=obj.pk)


@contextlib.contextmanager
def approvals_expired():
    """Every approval is older than the review interval: the site interval is 0 days and
    the categories these builders make set none, so `created_at + 0 days > now` is false
    for any approval written before this moment."""
    with override_settings(REVIEW_INTERVAL_DAYS=0):
        yield


def file_writer(folder: Path, default_name: str):
    """A function that writes text or bytes to a file in `folder` and returns its path."""

    def write(text: str | bytes, name: str = default_name) -> str:
        path = folder / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# --- The demo clinic (`manage.py load_demo`) ------------------------------------------------


def submit_new_demo_article(*, slug: str, title: str, body: str) -> Revision:
    """The demo writer's new article in the demo category, saved and submitted through the
    workflow (the demo must be loaded)."""
    writer = User.objects.get(username="writer")
    article = make_article(
        writer,
        slug=slug,
        category=Category.objects.get(slug="relationships-and-intimacy"),
        title=title,
        summary="Open conversations help couples reconnect.",
        body=body,
    )
    return submit(article, note="New article.")
