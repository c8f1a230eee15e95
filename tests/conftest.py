"""Fixtures: the builders of tests/builders, wrapped for pytest. Nothing is defined here
that a test could import; tests import builders from `tests.builders`.

The named people (`writer`, `editor`, `physician` with the chief physician's full profile)
and `published_article` are the public pages' cast: fixed usernames and names, so a test
can look for them on a page.
"""

from __future__ import annotations

import itertools

import pytest

from tests import builders

pytest_plugins = ["tests.db_role_plugin"]  # DATABASE_APP_ROLE: run as the app role


@pytest.fixture
def writer(db):
    return builders.make_writer("writer", first_name="Wendy", last_name="Writer")


@pytest.fixture
def editor(db):
    return builders.make_editor("editor", first_name="Ed", last_name="Editor")


@pytest.fixture
def physician(db):
    return builders.make_chief_physician("physician")


@pytest.fixture
def admin_user(db):
    """pytest-django's `admin_user` (and so `admin_client`), with the one test password."""
    return builders.make_superuser("admin")


@pytest.fixture
def reviewer_profile(physician):
    return physician.reviewer_profile


@pytest.fixture
def category(db):
    return builders.make_category(
        name="Relationships", slug="relationships", description="Couples, intimacy and family."
    )


@pytest.fixture
def make_reference(db):
    """`builders.make_reference`, with the database."""
    return builders.make_reference


@pytest.fixture
def make_article(db, writer, category):
    """A new article by `writer` in `category` (`builders.make_article`); with `article=`,
    that article's working copy rewritten (`builders.save`)."""

    def factory(*, article=None, **fields):
        if article is not None:
            return builders.save(article, by=writer, **fields)
        fields.setdefault("category", category)
        return builders.make_article(writer, **fields)

    return factory


@pytest.fixture
def make_published(make_article, physician, editor):
    """`make_article`, then submit → approve (`physician`) → publish (`editor`). Pass
    `article=` to publish a new revision of an existing article."""

    def factory(*, change_note: str = "", **fields):
        article = make_article(**fields)
        return builders.publish_through_workflow(
            article, physician=physician, editor=editor, note=change_note
        )

    return factory


@pytest.fixture
def published_article(make_published):
    """One published article with two cited references and three headings."""
    builders.make_reference(
        "parker2019",
        title="Emotional intimacy as the foundation of sexual satisfaction",
    )
    builders.make_reference(
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

    colors = itertools.count(1)

    def factory(name: str = "picture.png", *, actor=None):
        shade = next(colors)
        content = builders.picture("PNG", color=(shade * 37 % 256, 90, 200))
        return store_image(upload=builders.upload(name, content), actor=actor)

    return factory
