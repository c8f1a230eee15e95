"""Shared fixtures: the three roles, a physician's reviewer profile, and published content
made through the real workflow (save → submit → approve → publish)."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group, User

pytest_plugins = ["tests.db_role_plugin"]  # DATABASE_APP_ROLE: run as the app role

PASSWORD = "correct-horse-battery-staple"

_counter = itertools.count(1)


def make_user(username: str, *roles: str, **extra) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@clinic.invalid",
        is_staff=bool(roles),
        **extra,
    )
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def writer(db) -> User:
    return make_user("writer", "Writer", first_name="Wendy", last_name="Writer")


@pytest.fixture
def editor(db) -> User:
    return make_user("editor", "Editor", first_name="Ed", last_name="Editor")


@pytest.fixture
def physician(db) -> User:
    from reviewers.models import Reviewer

    user = make_user("physician", "Physician reviewer", first_name="Mark", last_name="Hrymoc")
    Reviewer.objects.create(
        user=user,
        display_name="Mark Hrymoc",
        credentials="M.D.",
        title="Chief Medical Officer",
        board_certifications="General Psychiatry\nAddiction Psychiatry",
        specialties="Couples therapy\nAddiction medicine",
        bio="Dr. Hrymoc is double-board certified in general and addiction psychiatry.",
        slug="mark-hrymoc",
    )
    return user


@pytest.fixture
def reviewer_profile(physician):
    return physician.reviewer_profile


@pytest.fixture
def category(db):
    from articles.models import Category

    return Category.objects.create(
        name="Relationships", slug="relationships", description="Couples, intimacy and family."
    )


@pytest.fixture
def make_reference(db):
    """Create a Reference in the library; keyword arguments override the defaults."""
    from references.models import Reference

    def factory(key: str, **fields) -> Reference:
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
            "pmid": str(30000000 + next(_counter)),
        }
        defaults.update(fields)
        return Reference.objects.create(key=key, **defaults)

    return factory


@pytest.fixture
def make_article(db, writer, category):
    """Create (or edit) an article's working copy through the workflow."""
    from articles.models import Article
    from articles.workflow import save_working_copy

    default_category = category

    def factory(
        *,
        title: str = "Couples therapy and intimacy",
        summary: str = "How couples therapy helps partners reconnect.",
        body: str = "## Why it matters\n\nIntimacy matters.",
        slug: str | None = None,
        category=None,
        article: Article | None = None,
        hero_image: str = "",
        hero_image_alt: str = "",
    ) -> Article:
        if article is None:
            article = Article(
                slug=slug or f"article-{next(_counter)}",
                category=category or default_category,
                author=writer,
            )
        elif category is not None:
            article.category = category
        article.title = title
        article.summary = summary
        article.body = body
        article.hero_image = hero_image
        article.hero_image_alt = hero_image_alt
        return save_working_copy(article=article, actor=writer, expected_version=None)

    return factory


@pytest.fixture
def submit(writer):
    from articles.workflow import submit_for_review

    def step(article, change_note: str = ""):
        return submit_for_review(article=article, actor=writer, change_note=change_note)

    return step


@pytest.fixture
def approve_revision(physician):
    from articles.workflow import approve

    def step(revision):
        return approve(
            revision=revision,
            actor=physician,
            password=PASSWORD,
            attestation_accepted=True,
            seen_hash=revision.content_hash,
        )

    return step


@pytest.fixture
def publish_revision(editor):
    from articles.workflow import publish

    def step(revision):
        return publish(revision=revision, actor=editor)

    return step


@pytest.fixture
def make_published(make_article, submit, approve_revision, publish_revision):
    """Create an article and take it through submit → approve → publish.

    Pass `article=` to publish a new revision of an existing article.
    """
    from articles.models import Article

    def factory(*, change_note: str = "", **fields) -> Article:
        article = make_article(**fields)
        revision = submit(article, change_note=change_note)
        approve_revision(revision)
        publish_revision(revision)
        return Article.objects.published().get(pk=article.pk)

    return factory


@pytest.fixture
def published_article(make_published, make_reference):
    """One published article with two cited references and three headings."""
    make_reference(
        "parker2019",
        title="Emotional intimacy as the foundation of sexual satisfaction",
    )
    make_reference(
        "rauer2015",
        authors=[{"family": "Rauer", "given": "A."}, {"family": "Volling", "given": "B."}],
        issued_year=2015,
        title="Closeness and conflict resolution in marriage",
        container_title="Journal of Marriage and Family",
    )
    body = (
        "## Understanding intimacy issues\n\n"
        "Emotional intimacy is the foundation of satisfaction [@parker2019].\n\n"
        "## The role of couples therapy\n\n"
        "Closeness helps couples resolve conflicts [@rauer2015; @parker2019].\n\n"
        "## Seeking help\n\n"
        "Talk to a professional about intimacy struggles.\n"
    )
    return make_published(
        title="How Couples Therapy Can Address Intimacy Issues",
        summary="Couples therapy and sex therapy help partners rebuild closeness.",
        body=body,
        slug="couples-therapy-intimacy",
        change_note="First version.",
    )


@pytest.fixture
def media_root(settings, tmp_path):
    """A fresh MEDIA_ROOT for the test: nothing is ever written into the repository."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def stored_picture(media_root, db):
    """Store a small picture through the real upload path; returns the StoredImage."""
    from images.services import store_image
    from tests.images.pictures import picture, upload

    colors = itertools.count(1)

    def factory(name: str = "picture.png", *, actor=None):
        shade = next(colors)
        content = picture("PNG", color=(shade * 37 % 256, 90, 200))
        return store_image(upload=upload(name, content), actor=actor)

    return factory
